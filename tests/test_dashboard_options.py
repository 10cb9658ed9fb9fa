"""The choices the dashboard's filter controls offer: templates and surveys, the waves of a
survey or template, the staff who own customers, teams; on hand-made rows."""

from __future__ import annotations

from datetime import UTC, datetime

from dashboards.queries import options
from feedback.extensions import db
from feedback.surveys.models import Survey, Wave


def at(*parts) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def _surveys():
    surveys = {name: Survey(name=name, template_key=key) for name, key in (
        ("quarterly NPS", "nps"), ("Annual relationship", "relationship"),
        ("Onboarding NPS", "nps"),
    )}  # fmt: skip
    db.session.add_all(surveys.values())
    db.session.flush()
    waves = {}
    sends = [("quarterly NPS", at(2025, 3, 1)), ("quarterly NPS", at(2025, 6, 1)),
             ("Onboarding NPS", at(2025, 4, 15)), ("quarterly NPS", None)]  # fmt: skip
    for survey, sent in sends:  # None: a draft, never sent
        wave = Wave(survey_id=surveys[survey].id, status="closed" if sent else "draft",
                    audience={}, sent_at=sent, closes_at=at(2025, 12, 31))  # fmt: skip
        db.session.add(wave)
        db.session.flush()
        waves[(survey, sent)] = wave.id
    db.session.commit()
    return surveys, waves


def test_templates_first_then_surveys_by_name_whatever_the_case():
    surveys, _ = _surveys()
    ids = {name: str(s.id) for name, s in surveys.items()}
    assert options.survey_choices(db.session.connection()) == [
        ("nps", "All NPS surveys"),
        ("relationship", "All relationship surveys"),
        (ids["Annual relationship"], "Annual relationship"),
        (ids["Onboarding NPS"], "Onboarding NPS"),
        (ids["quarterly NPS"], "quarterly NPS"),
    ]


def test_waves_of_a_survey_or_of_a_template_newest_first_sent_only():
    surveys, waves = _surveys()
    conn = db.session.connection()
    quarterly = str(surveys["quarterly NPS"].id)
    assert options.wave_choices(conn, quarterly) == [
        (str(waves[("quarterly NPS", at(2025, 6, 1))]), "Wave of 1 Jun 2025"),
        (str(waves[("quarterly NPS", at(2025, 3, 1))]), "Wave of 1 Mar 2025"),
    ]
    assert options.wave_choices(conn, "nps") == [
        (str(waves[("quarterly NPS", at(2025, 6, 1))]), "quarterly NPS: wave of 1 Jun 2025"),
        (str(waves[("Onboarding NPS", at(2025, 4, 15))]), "Onboarding NPS: wave of 15 Apr 2025"),
        (str(waves[("quarterly NPS", at(2025, 3, 1))]), "quarterly NPS: wave of 1 Mar 2025"),
    ]
    assert options.wave_choices(conn, None) == []
    assert options.wave_choices(conn, "") == []
    assert options.wave_choices(conn, "no-such-template") == []


def test_owners_are_the_staff_who_own_a_customer(create_user, create_customer):
    zoe = create_user(name="Zoe")
    anna = create_user(name="anna")
    blank = create_user(email="nameless@example.com", name="")
    idle = create_user(name="Idle")  # owns no one
    for owner in (zoe, anna, blank, zoe):
        create_customer(owner=owner)
    create_customer(owner=None)
    choices = options.owner_choices(db.session.connection())
    # by the name shown, case aside: a blank name shows (and sorts by) the e-mail
    assert choices == [(str(anna.id), "anna"), (str(blank.id), "nameless@example.com"),
                       (str(zoe.id), "Zoe")]  # fmt: skip
    assert str(idle.id) not in {value for value, _ in choices}


def test_teams_by_name(create_user):
    create_user(team="support")
    create_user(team="Key accounts")
    names = [label for _, label in options.team_choices(db.session.connection())]
    assert names == ["Key accounts", "support"]
