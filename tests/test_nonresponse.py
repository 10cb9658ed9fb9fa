"""Non-response: outcomes fixed when a wave closes, and the per-customer answer record."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select, update

from feedback.customers.models import Contact
from feedback.dbtypes import utcnow
from feedback.extensions import db
from feedback.responses.models import Response
from feedback.risk.models import WaveOutcome
from feedback.risk.nonresponse import record_outcomes, response_stats
from feedback.surveys import dispatch
from feedback.surveys.models import Invitation
from feedback.surveys.services import create_survey, create_wave
from feedback.surveys.templates import load_templates
from tests.support.history import survey_wave


def _contact(customer, email, status="active"):
    contact = Contact(customer_id=customer.id, email=email, language="da", status=status)
    db.session.add(contact)
    db.session.commit()
    return contact


def _outcomes(wave_id) -> dict[str, str]:
    rows = db.session.execute(
        select(WaveOutcome.customer_id, WaveOutcome.outcome).where(WaveOutcome.wave_id == wave_id)
    )
    return dict(rows.all())


def test_closing_a_wave_records_answered_silent_bounced_and_opted_out(create_customer):
    answered, silent, bounced, opted, two = (create_customer() for _ in range(5))
    _contact(answered, "a@x.test")
    _contact(silent, "s@x.test")
    _contact(bounced, "b@x.test")
    opted_contact = _contact(opted, "o@x.test")
    _contact(two, "t1@x.test")  # one contact silent, the other answers: the customer answered
    _contact(two, "t2@x.test")
    customers = [answered, silent, bounced, opted, two]
    templates = load_templates()
    survey = create_survey("Q4", "nps", templates=templates, actor=None)
    wave = create_wave(
        survey, audience={"customer_external_ids": [c.external_id for c in customers]}, actor=None
    )
    db.session.commit()
    dispatch.start_wave(wave, templates=templates, now=utcnow(), quiet_days=0)
    invitations = {
        i.contact.email: i
        for i in db.session.scalars(select(Invitation).where(Invitation.wave_id == wave.id))
    }
    for email, invitation in invitations.items():
        invitation.state = {"b@x.test": "bounced"}.get(email, "delivered")
    for email in ("a@x.test", "t2@x.test"):
        invitation = invitations[email]
        invitation.state = "answered"
        db.session.add(
            Response(invitation_id=invitation.id, wave_id=wave.id,
                     customer_id=invitation.customer_id,
                     template_version_id=wave.template_version_id, score=9, language="da")
        )  # fmt: skip
    opted_contact.status = "opted_out"  # unsubscribed from this wave's mail
    db.session.commit()

    dispatch.close_wave(wave, now=utcnow())
    db.session.commit()

    assert _outcomes(wave.id) == {
        answered.id: "answered",
        silent.id: "non_response",
        bounced.id: "undelivered",
        opted.id: "opted_out",
        two.id: "answered",
    }
    assert db.session.get(WaveOutcome, (wave.id, two.id)).invited == 2
    # Recording again adds nothing; a later opt-out does not rewrite the closed wave.
    db.session.execute(update(Contact).values(status="opted_out"))
    assert record_outcomes() == 0
    assert _outcomes(wave.id)[silent.id] == "non_response"


def test_the_close_job_records_outcomes_of_every_wave_it_closes(create_customer):
    customer = create_customer()
    _contact(customer, "k@x.test")
    templates = load_templates()
    survey = create_survey("Due", "nps", templates=templates, actor=None)
    wave = create_wave(survey, audience={"customer_external_ids": [customer.external_id]},
                       actor=None)  # fmt: skip
    db.session.commit()
    dispatch.start_wave(wave, templates=templates, now=utcnow(), quiet_days=0)
    db.session.execute(update(Invitation).values(state="sent"))
    db.session.commit()

    assert dispatch.close_due_waves(wave.closes_at + timedelta(seconds=1)) == 1
    db.session.commit()
    assert _outcomes(wave.id) == {customer.id: "non_response"}
    assert db.session.get(type(wave), wave.id).outcomes_recorded_at is not None


def test_per_customer_record_counts_trailing_silence_since_the_last_answer(create_customer):
    keen, lapsed, never, mixed = (create_customer() for _ in range(4))
    k, lap = _contact(keen, "k@x.test"), _contact(lapsed, "l@x.test")
    nev, m = _contact(never, "n@x.test"), _contact(mixed, "m@x.test")
    survey_wave(date(2025, 3, 1), {k: 9, lap: 8, nev: "delivered", m: "delivered"})
    survey_wave(date(2025, 6, 1), {k: 10, lap: 4, nev: "delivered", m: "bounced"})
    survey_wave(date(2025, 9, 1), {k: 9, lap: "delivered", nev: "sent", m: 7})
    survey_wave(date(2025, 12, 1), {k: 8, lap: "delivered", nev: "delivered", m: "failed"})

    stats = response_stats()
    assert stats[keen.id].as_dict() | {"last_answered_at": None} == {
        "waves_invited": 4, "waves_answered": 4, "consecutive_non_responses": 0,
        "last_answered_at": None, "last_score": 8,
    }  # fmt: skip
    assert (stats[lapsed.id].consecutive_non_responses, stats[lapsed.id].last_score) == (2, 4)
    assert stats[lapsed.id].last_answered_at.date() == date(2025, 5, 19)
    assert (stats[never.id].waves_invited, stats[never.id].consecutive_non_responses) == (4, 4)
    assert stats[never.id].last_score is None
    # Bounced and failed waves are not silence: they neither count nor break the run.
    assert (stats[mixed.id].waves_invited, stats[mixed.id].waves_answered) == (2, 1)
    assert stats[mixed.id].consecutive_non_responses == 0

    # As of a past date only what was closed (and answered) by then counts.
    earlier = response_stats([lapsed.id, never.id], as_of=date(2025, 6, 30))
    assert (earlier[lapsed.id].consecutive_non_responses, earlier[lapsed.id].last_score) == (0, 4)
    assert earlier[never.id].waves_invited == 2
    assert response_stats([]) == {}
