"""Render invitation e-mails (HTML and plain text) in the contact's language.

Plain Jinja, no Flask request state: jobs render in workers. The content is rendered once per
(template version, language, reminder, named greeting) with substitution tags where the token
and names go; `invitation_message` adds one recipient's values. Names are HTML-escaped for
the HTML part and left as they are for the text part, so they take separate tags.

The score buttons are ordinary links to /s/<token>?score=N; opening one records nothing by
itself (mail scanners open every link), the page it shows records the score.
"""

from __future__ import annotations

from functools import lru_cache

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from markupsafe import escape

from feedback.delivery.message import MailContent, OutgoingMessage
from feedback.delivery.strings import STRINGS
from feedback.surveys.templates import SurveyTemplate, render

TOKEN = "%fb_token%"
TAGS = {
    "html": {"contact_name": "%fb_contact_h%", "customer_name": "%fb_customer_h%"},
    "text": {"contact_name": "%fb_contact_t%", "customer_name": "%fb_customer_t%"},
}


@lru_cache(maxsize=1)
def mail_environment() -> Environment:
    """The Jinja environment of every e-mail (templates/email; HTML autoescaped)."""
    return Environment(
        loader=PackageLoader("feedback", "templates/email"),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def survey_url(base_url: str, token: str, score: int | None = None) -> str:
    url = f"{base_url}/s/{token}"
    return url if score is None else f"{url}?score={score}"


def unsubscribe_url(base_url: str, token: str) -> str:
    return f"{base_url}/u/{token}"


def invitation_content(
    template: SurveyTemplate,
    *,
    language: str,
    company: str,
    base_url: str,
    reminder: bool,
    named: bool,
) -> MailContent:
    """The e-mail with tags in place of the token and names; `named=False` greets without one."""
    html_context = _context(template, language, company, base_url, reminder, named, "html")
    text_context = _context(template, language, company, base_url, reminder, named, "text")
    env = mail_environment()
    return MailContent(
        subject=text_context["subject"],
        html=env.get_template("invitation.html").render(html_context),
        text=env.get_template("invitation.txt").render(text_context),
        language=language,
    )


def _context(template, language, company, base_url, reminder, named, part) -> dict:
    tags = TAGS[part]
    values = {"company": company, "customer_name": tags["customer_name"]}
    values["contact_name"] = tags["contact_name"] if named else ""

    def text_of(mapping) -> str:
        text = render(mapping[language], **values)
        # "Hej , vi vil ..." without a name reads badly: "Hej, vi vil ..."
        return text.replace(" ,", ",").strip() if not named else text.strip()

    primary = template.primary
    low, high = primary.scale
    return {
        "lang": language,
        "subject": text_of(template.email["reminder_subject" if reminder else "subject"]),
        "intro": text_of(template.email["intro"]),
        "question": text_of(primary.text),
        "low_label": text_of(primary.low_label) if primary.low_label else "",
        "high_label": text_of(primary.high_label) if primary.high_label else "",
        "scores": [(n, survey_url(base_url, TOKEN, n)) for n in range(low, high + 1)],
        "survey_url": survey_url(base_url, TOKEN),
        "unsubscribe_url": unsubscribe_url(base_url, TOKEN),
        "company": company,
        "words": {key: render(text, **values) for key, text in STRINGS[language].items()},
    }


def invitation_message(
    content: MailContent,
    *,
    invitation_id: int,
    token: str,
    email: str,
    contact_name: str,
    customer_name: str,
    base_url: str,
) -> OutgoingMessage:
    return OutgoingMessage(
        invitation_id=invitation_id,
        to_email=email,
        to_name=contact_name,
        content=content,
        substitutions={
            TOKEN: token,
            TAGS["html"]["contact_name"]: str(escape(contact_name)),
            TAGS["html"]["customer_name"]: str(escape(customer_name)),
            TAGS["text"]["contact_name"]: contact_name,
            TAGS["text"]["customer_name"]: customer_name,
        },
        headers={
            "List-Unsubscribe": f"<{unsubscribe_url(base_url, token)}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        },
    )


def render_invitation(
    template: SurveyTemplate,
    *,
    language: str,
    token: str,
    email: str,
    contact_name: str,
    customer_name: str,
    company: str,
    base_url: str,
    reminder: bool,
    invitation_id: int,
) -> OutgoingMessage:
    """One complete message (tests, previews); jobs share content via invitation_content."""
    content = invitation_content(
        template,
        language=language,
        company=company,
        base_url=base_url,
        reminder=reminder,
        named=bool(contact_name.strip()),
    )
    return invitation_message(
        content,
        invitation_id=invitation_id,
        token=token,
        email=email,
        contact_name=contact_name.strip(),
        customer_name=customer_name,
        base_url=base_url,
    )
