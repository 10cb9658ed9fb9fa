"""A hand-made dashboard data set with known answers, shared by the query tests and the
browser test: two surveys (NPS and CSI), customers in classes A and C, answers at known
times around a month boundary in Copenhagen."""

from __future__ import annotations

import secrets
from datetime import UTC, date, datetime
from decimal import Decimal

from feedback.extensions import db


def make_world(create_customer, create_user):
    """Two surveys (NPS and CSI), customers in classes A and C, answers at known times."""
    from feedback.customers.models import Contact, CustomerSegment, SegmentRun
    from feedback.responses.models import Response
    from feedback.surveys.models import Invitation, Survey, TemplateVersion, Wave

    owner = create_user(role="agent", name="Åse Ejer", team="Nord")
    other = create_user(role="agent", name="Other Owner", team="Syd")
    version = TemplateVersion(template_key="nps", version=1, content_hash="x", content={})
    db.session.add(version)
    db.session.flush()
    run = SegmentRun(as_of=date(2025, 6, 30), thresholds="50,30,15", base_currency="EUR")
    db.session.add(run)
    db.session.flush()
    waves = {}
    for key in ("nps", "csi"):
        survey = Survey(name=f"{key} survey", template_key=key)
        db.session.add(survey)
        db.session.flush()
        wave = Wave(survey_id=survey.id, status="closed", template_version_id=version.id,
                    closes_at=datetime(2025, 12, 31, tzinfo=UTC),
                    sent_at=datetime(2025, 1, 1, tzinfo=UTC))  # fmt: skip
        db.session.add(wave)
        db.session.flush()
        waves[key] = wave

    def customer(klass, programme="grow", who=None, language="en"):
        c = create_customer(owner=who, language=language)
        segment = CustomerSegment(run_id=run.id, customer_id=c.id, abc_class=klass,
                                  programme=programme, revenue_12m=Decimal(1), rank=1)  # fmt: skip
        db.session.add(segment)
        return c

    contacts = iter(range(10_000))

    def answer(c, score, at, *, key="nps", csi=None, language="en"):
        # one invitation per wave and contact: each answer comes from a contact of its own
        contact = Contact(customer_id=c.id, email=f"{next(contacts)}@{c.external_id}.test")
        db.session.add(contact)
        db.session.flush()
        inv = Invitation(wave_id=waves[key].id, contact_id=contact.id, customer_id=c.id,
                         token=secrets.token_urlsafe(24), language=language, state="answered",
                         sent_at=at, answered_at=at)  # fmt: skip
        db.session.add(inv)
        db.session.flush()
        db.session.add(Response(invitation_id=inv.id, wave_id=waves[key].id, customer_id=c.id,
                                template_version_id=version.id, score=score, csi=csi,
                                language=language, answered_at=at, updated_at=at))  # fmt: skip

    a_owned = customer("A", "grow", owner)
    c_retain = customer("C", "retain", other, language="sv")
    jan = datetime(2025, 1, 15, 12, tzinfo=UTC)
    for score in (10, 9, 8, 3):  # January: 2 promoters, 1 passive, 1 detractor -> NPS 25
        answer(a_owned, score, jan)
    # 23:30 UTC on 31 January is 00:30 on 1 February in Copenhagen: a February answer.
    answer(c_retain, 0, datetime(2025, 1, 31, 23, 30, tzinfo=UTC), language="sv")
    feb, mar = datetime(2025, 2, 10, tzinfo=UTC), datetime(2025, 3, 10, tzinfo=UTC)
    for i in range(40):  # February: 30 promoters, 10 detractors (+ the one above)
        answer(a_owned if i % 2 else c_retain, 10 if i < 30 else 2, feb)
    for i in range(40):  # March: 10 promoters, 30 detractors -> a significant fall
        answer(a_owned, 9 if i < 10 else 5, mar)
    for value in (60.0, 70.0, 80.0):  # CSI answers in February, in the CSI survey
        answer(a_owned, 7, feb, key="csi", csi=value)
    db.session.commit()
    rebuild_answer_facts()
    return {"owner": owner, "other": other, "waves": waves, "a": a_owned, "c": c_retain}


def rebuild_answer_facts() -> None:
    """The dashboard reads answer_days and the other facts: rebuild them as the job would
    (new comments analysed first, for theme_days)."""
    from flask import current_app

    from feedback.reporting.facts import rebuild_facts

    rebuild_facts(current_app.config)
    db.session.commit()


def one_sent_wave(name: str, sent: datetime):
    """A closed NPS survey `name` with one wave sent at `sent`, committed: (survey, wave)."""
    from feedback.surveys.models import Survey, Wave

    survey = Survey(name=name, template_key="nps")
    db.session.add(survey)
    db.session.flush()
    wave = Wave(survey_id=survey.id, status="closed", audience={}, sent_at=sent,
                closes_at=sent)  # fmt: skip
    db.session.add(wave)
    db.session.commit()
    return survey, wave
