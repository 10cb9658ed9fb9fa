"""A customer's path in a real browser: the e-mail the outbox backend wrote, one tap on a
score, the score recorded by the page itself, then a comment."""

from __future__ import annotations

import email
import email.policy
import re

import pytest
from sqlalchemy import select

from feedback.customers.models import Contact
from feedback.dbtypes import utcnow
from feedback.delivery.backends.outbox import OutboxBackend
from feedback.extensions import db
from feedback.jobs.invitations import send_due_invitations
from feedback.responses.models import Response
from feedback.surveys import dispatch
from feedback.surveys.services import create_survey, create_wave
from feedback.surveys.templates import load_templates

pytestmark = pytest.mark.browser


def _wait_for(driver, condition, timeout=10):
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, timeout).until(condition)


def _response() -> Response | None:
    db.session.remove()
    return db.session.scalar(select(Response))


@pytest.fixture
def emailed_link(app, live_server, create_customer, tmp_path):
    """Send a Danish NPS wave through the outbox; return the e-mail's link for score 8."""
    templates = load_templates()
    customer = create_customer(language="da", name="Østergaard Byg ApS")
    db.session.add(Contact(customer_id=customer.id, email="soren@kunde.test",
                           name="Søren", language="da"))  # fmt: skip
    survey = create_survey("Browser NPS", "nps", templates=templates, actor=None)
    wave = create_wave(survey, audience={}, actor=None)
    db.session.commit()
    dispatch.start_wave(wave, templates=templates, now=utcnow(), quiet_days=90)
    db.session.commit()
    outbox = tmp_path / "outbox"
    config = {**app.config, "FEEDBACK_BASE_URL": live_server}
    report = send_due_invitations(config, OutboxBackend(outbox, ("s@nordlys.test", "Nordlys")))
    assert report.sent == 1
    (eml,) = outbox.glob("*.eml")
    message = email.message_from_bytes(eml.read_bytes(), policy=email.policy.default)
    html = message.get_body(("html",)).get_content()
    links = re.findall(r'href="([^"]+\?score=\d+)"', html)
    assert len(links) == 11
    return links[8]


def test_one_tap_in_the_email_records_the_score_then_a_comment(page, emailed_link):
    from selenium.webdriver.common.by import By

    assert emailed_link.endswith("?score=8")
    page.get(emailed_link)
    _wait_for(
        page, lambda d: "Tak! Din vurdering er gemt" in d.find_element(By.ID, "autosave").text
    )
    assert page.find_element(By.CSS_SELECTOR, "input[name=recommend][value='8']").is_selected()
    stored = _response()
    assert stored is not None and stored.score == 8

    page.find_element(By.ID, "comment").send_keys("Hurtig levering, men fakturaen var forkert.")
    page.find_element(By.CSS_SELECTOR, "button.send").click()
    _wait_for(page, lambda d: "saved=all" in d.current_url)
    assert "Tak! Dine svar er gemt." in page.find_element(By.ID, "autosave").text
    stored = _response()
    assert (stored.score, stored.comment) == (8, "Hurtig levering, men fakturaen var forkert.")
