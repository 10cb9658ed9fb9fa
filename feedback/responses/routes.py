"""Public pages a customer reaches from an e-mail: the survey and unsubscribe. No login.

GET never records anything (mail scanners open every link in a message). The survey page
itself posts the preselected score once a real browser has loaded it, with the page's CSRF
token, so one tap in the e-mail is enough and a fetched link alone records nothing.
"""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify, redirect, render_template, request, url_for
from flask_wtf.csrf import CSRFError

from feedback.errors import NotFound
from feedback.extensions import csrf, db, limiter
from feedback.ratelimit import public_rate_limit
from feedback.responses import one_tap, services
from feedback.responses.lane import SCORE_LIMIT_SCOPE
from feedback.responses.services import BadAnswer, SurveyClosed
from feedback.responses.strings import STRINGS
from feedback.surveys.templates import render

bp = Blueprint("public", __name__)


def _words(language: str) -> dict[str, str]:
    return STRINGS.get(language, STRINGS["en"])


def local_date(value, language: str) -> str:
    if value is None:
        return ""
    formats = {"en": "%d %b %Y", "da": "%d.%m.%Y", "nb": "%d.%m.%Y", "sv": "%Y-%m-%d"}
    return value.strftime(formats.get(language, "%Y-%m-%d"))


def _texts(survey, values) -> dict:
    """Each question's text, labels and scale in the invitation's language."""
    language = survey.language
    questions = []
    for question in survey.template.questions:
        questions.append(
            {
                "key": question.key,
                "kind": question.kind,
                "primary": question.primary,
                "text": render(question.text[language], **values),
                "low_label": render(question.low_label[language], **values)
                if question.low_label
                else "",
                "high_label": render(question.high_label[language], **values)
                if question.high_label
                else "",
                "scale": list(range(question.scale[0], question.scale[1] + 1))
                if question.scale
                else [],
            }
        )
    return questions


def _not_found():
    return render_template("public/not_found.html", strings=STRINGS), 404


def _closed(survey):
    words = _words(survey.language)
    closed = survey.wave.closed_at or survey.wave.closes_at
    return (
        render_template(
            "public/message.html",
            lang=survey.language,
            words=words,
            title=words["closed_title"],
            text=words["closed_text"].format(closed=local_date(closed, survey.language)),
        ),
        410,
    )


def _survey_page(survey, *, preselected=None, saved=None, error=None, status=200):
    config = current_app.config
    invitation = survey.invitation
    values = {
        "company": config["FEEDBACK_COMPANY_NAME"],
        "contact_name": invitation.contact.name,
        "customer_name": invitation.customer.name,
    }
    answers = survey.answers()
    comment = survey.response.comment if survey.response else ""
    words = _words(survey.language)
    return (
        render_template(
            "public/survey.html",
            lang=survey.language,
            words=words,
            company=values["company"],
            questions=_texts(survey, values),
            answers=answers,
            comment=comment,
            preselected=preselected,
            record_preselected=preselected is not None
            and answers.get(survey.template.primary.key) != preselected,
            token=invitation.token,
            saved=saved,
            closes=local_date(survey.wave.closes_at, survey.language),
            error=error,
        ),
        status,
    )


@bp.get("/s/<token>")
@limiter.limit(public_rate_limit)
def survey(token: str):
    try:
        current = services.open_survey(token)
    except NotFound:
        return _not_found()
    if services.is_closed(current.wave, _now()):
        return _closed(current)
    raw_score = request.args.get("score")
    preselected = None
    if raw_score is not None:
        try:
            scores = services.parse_scores(
                current.template, {current.template.primary.key: raw_score}
            )
        except BadAnswer:
            return _survey_page(current, error=_words(current.language)["bad_score"], status=400)
        preselected = scores.get(current.template.primary.key)
    return _survey_page(current, preselected=preselected, saved=request.args.get("saved"))


@bp.post("/s/<token>")
@limiter.limit(public_rate_limit)
def answer(token: str):
    """The whole form (works without JavaScript); redirects back to the page (PRG)."""
    try:
        current = services.open_survey(token)
    except NotFound:
        return _not_found()
    scored = {q.key for q in current.template.questions if q.scale}
    scores = {key: request.form.get(key, "") for key in scored}
    try:
        services.save_answers(token, scores=scores, comment=request.form.get("comment", ""))
    except SurveyClosed:
        db.session.rollback()
        return _closed(current)
    except BadAnswer as exc:
        db.session.rollback()
        return _survey_page(current, error=str(exc), status=400)
    db.session.commit()
    return redirect(url_for("public.survey", token=token, saved="all"), code=303)


@bp.post("/s/<token>/score")
@limiter.shared_limit(public_rate_limit, scope=SCORE_LIMIT_SCOPE)  # one bucket with the lane
def record_score(token: str):
    """The page's own POST of one score (the preselected one, or a changed one)."""
    data = request.get_json(silent=True) if request.is_json else request.form
    if not isinstance(data, dict) and not hasattr(data, "get"):
        return jsonify(error="send the score as JSON or a form"), 400
    try:
        key = data.get("question") or services.PRIMARY
        if not isinstance(key, str):
            raise BadAnswer("question must be text")
        saved = one_tap.save_score(token, key, str(data.get("score", "")))
    except NotFound:
        return jsonify(error="no survey behind this link"), 404
    except SurveyClosed:
        db.session.rollback()
        return jsonify(error="this survey has closed"), 410
    except BadAnswer as exc:
        db.session.rollback()
        return jsonify(error=str(exc)), 400
    db.session.commit()
    return jsonify(saved=True, score=saved.score)


@bp.route("/u/<token>", methods=["GET", "POST"])
@limiter.limit(public_rate_limit)
@csrf.exempt  # RFC 8058 one-click POSTs come from mail providers, with no form token
def unsubscribe(token: str):
    try:
        invitation = services.find_invitation(token)
    except NotFound:
        return _not_found()
    words = _words(invitation.language)
    values = {
        "email": invitation.contact.email,
        "company": current_app.config["FEEDBACK_COMPANY_NAME"],
    }
    if request.method == "POST":
        services.unsubscribe(token)
        db.session.commit()
        return render_template(
            "public/message.html",
            lang=invitation.language,
            words=words,
            title=words["unsubscribed_title"],
            text=words["unsubscribed_text"].format(**values),
        )
    return render_template(
        "public/unsubscribe.html",
        lang=invitation.language,
        words=words,
        text=words["unsubscribe_text"].format(**values),
        token=token,
    )


@bp.errorhandler(CSRFError)
def _csrf_failed(exc):
    if request.path.endswith("/score"):
        return jsonify(
            error="the page has expired or the request could not be read; reload it"
        ), 400
    return (
        render_template(
            "public/message.html",
            lang="en",
            words=STRINGS["en"],
            title="The answer could not be read",
            text="The page may have expired, or the answer arrived garbled. "
            "Please open the link from the e-mail again.",
        ),
        400,
    )


def _now():
    from feedback.dbtypes import utcnow

    return utcnow()
