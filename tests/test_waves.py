"""Surveys, waves and the contact rules that decide who is invited."""

from datetime import UTC, date, datetime, timedelta

import pytest

from feedback.customers.models import Contact
from feedback.customers.segments import recompute_from_config
from feedback.errors import DomainError
from feedback.extensions import db
from feedback.surveys.audience import create_invitations, preview_audience
from feedback.surveys.models import Invitation
from feedback.surveys.services import (
    build_audience,
    create_survey,
    create_wave,
    template_version_for,
)
from feedback.surveys.templates import load_templates

NOW = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def templates():
    return load_templates()


@pytest.fixture
def add_contact():
    def factory(customer, email, status="active", language=None):
        contact = Contact(
            customer_id=customer.id,
            email=email,
            name=email.split("@")[0],
            language=language or customer.language,
            status=status,
        )
        db.session.add(contact)
        db.session.commit()
        return contact

    return factory


@pytest.fixture
def survey(templates):
    survey = create_survey("NPS autumn", "nps", templates=templates, actor=None)
    db.session.commit()
    return survey


def test_template_versions_follow_content(templates):
    nps = templates["nps"]
    first = template_version_for(nps)
    assert first.version == 1 and template_version_for(nps).id == first.id
    changed = load_templates()["nps"]
    object.__setattr__(changed, "name", {**changed.name, "en": "NPS (new wording)"})
    second = template_version_for(changed)
    assert second.version == 2 and second.id != first.id
    assert second.content["name"]["en"] == "NPS (new wording)"


def test_survey_names_and_templates_are_checked(templates, survey):
    with pytest.raises(DomainError, match="already exists"):
        create_survey("NPS  autumn", "nps", templates=templates, actor=None)
    with pytest.raises(DomainError, match="no template 'stars'; choose one of csi, nps"):
        create_survey("Other", "stars", templates=templates, actor=None)
    with pytest.raises(DomainError, match="needs a name"):
        create_survey("   ", "nps", templates=templates, actor=None)


def test_audience_values_are_validated(create_customer):
    create_customer(external_id="K1")
    assert build_audience(classes=["a", "B"], programme="Grow", languages=["DA"]) == {
        "classes": ["A", "B"],
        "programme": "grow",
        "languages": ["da"],
    }
    with pytest.raises(DomainError, match="unknown class E"):
        build_audience(classes=["E"])
    with pytest.raises(DomainError, match="unknown programme"):
        build_audience(programme="keep")
    with pytest.raises(DomainError, match="unknown language de"):
        build_audience(languages=["de"])
    with pytest.raises(DomainError, match="unknown owner id 999"):
        build_audience(owner_ids=[999])
    with pytest.raises(DomainError, match="1 unknown customer id"):
        build_audience(customer_external_ids=["K1", "K404"])


def test_wave_defaults_and_bad_settings(survey):
    wave = create_wave(survey, audience={}, actor=None, now=NOW)
    assert wave.reminder_offsets == [3, 7] and wave.max_reminders == 2
    assert wave.closes_at == NOW + timedelta(days=14)
    with pytest.raises(DomainError, match="at most 2 reminders"):
        create_wave(survey, audience={}, actor=None, reminder_days="1,2,3", now=NOW)
    with pytest.raises(DomainError, match="must come before the wave closes"):
        create_wave(survey, audience={}, actor=None, reminder_days="3,7", close_after_days=5)
    with pytest.raises(DomainError, match="whole days"):
        create_wave(survey, audience={}, actor=None, reminder_days="soon")
    with pytest.raises(DomainError, match="between 1 and 365"):
        create_wave(survey, audience={}, actor=None, close_after_days=0)


def test_contact_rules_skip_opted_out_bounced_and_quiet_period(
    app, survey, create_customer, add_contact, add_transaction
):
    big = create_customer(external_id="K1", language="da", potential="high")
    small = create_customer(external_id="K2", language="sv", potential="low")
    add_transaction(big, 90_000, on=date(2026, 10, 1))
    add_transaction(small, 100, on=date(2026, 10, 1))
    recompute_from_config(app.config, date(2026, 11, 1))
    fresh = add_contact(big, "anna@big.dk")
    add_contact(big, "out@big.dk", status="opted_out")
    add_contact(big, "gone@big.dk", status="bounced")
    recent = add_contact(big, "recent@big.dk")
    add_contact(small, "sven@small.se")

    earlier = create_wave(survey, audience={}, actor=None, now=NOW - timedelta(days=30))
    db.session.add(
        Invitation(
            wave=earlier,
            contact_id=recent.id,
            customer_id=big.id,
            token="t-earlier",
            language="da",
            state="sent",
            sent_at=NOW - timedelta(days=30),
        )
    )
    wave = create_wave(survey, audience=build_audience(classes=["A"]), actor=None, now=NOW)
    db.session.commit()

    preview = preview_audience(wave, now=NOW, quiet_days=90)
    assert preview.customers == 1
    assert preview.invite == 1
    assert preview.skipped == {"opted_out": 1, "bounced": 1, "quiet_period": 1}
    assert "1 contacts will be invited, 3 skipped" in preview.lines()[0]

    assert create_invitations(wave, now=NOW, quiet_days=90) == 1
    assert create_invitations(wave, now=NOW, quiet_days=90) == 0  # a second run adds nothing
    db.session.commit()
    invitation = db.session.query(Invitation).filter_by(wave_id=wave.id).one()
    assert invitation.contact_id == fresh.id and invitation.language == "da"
    assert len(invitation.token) >= 43  # 256 bits, url-safe base64
    assert preview_audience(wave, now=NOW, quiet_days=90).skipped["already_invited"] == 1

    # Once the quiet period has passed, the recently invited contact is eligible again.
    later = preview_audience(wave, now=NOW + timedelta(days=61), quiet_days=90)
    assert later.skipped.get("quiet_period") is None


def test_language_and_customer_list_filters(survey, create_customer, add_contact):
    danish = create_customer(external_id="K1", language="da")
    swedish = create_customer(external_id="K2", language="sv")
    create_customer(external_id="K3")  # no contacts
    add_contact(danish, "a@dk.dk")
    add_contact(swedish, "b@se.se")
    by_language = create_wave(survey, audience=build_audience(languages=["sv"]), actor=None)
    assert preview_audience(by_language, now=NOW, quiet_days=90).invite == 1
    listed = create_wave(
        survey, audience=build_audience(customer_external_ids=["K1", "K3"]), actor=None
    )
    preview = preview_audience(listed, now=NOW, quiet_days=90)
    assert (preview.customers, preview.invite, preview.customers_without_contact) == (2, 1, 1)
