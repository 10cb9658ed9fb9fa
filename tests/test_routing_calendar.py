"""Business hours: deadlines that run only while the team is at work."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from feedback.routing.calendar import BusinessCalendar, parse_calendar

CPH = ZoneInfo("Europe/Copenhagen")
OFFICE = BusinessCalendar(opens=time(8), closes=time(16), holidays=frozenset({date(2026, 12, 24),
                          date(2026, 12, 25)}))  # fmt: skip


def at(day: int, hour: int, minute: int = 0, month: int = 11) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=CPH)


@pytest.mark.parametrize("start, due, expected", [
    (at(23, 9), timedelta(hours=2), at(23, 11)),            # Monday, inside the day
    (at(23, 15), timedelta(hours=2), at(24, 9)),            # runs over into Tuesday
    (at(28, 10), timedelta(hours=1), at(30, 9)),            # Saturday: Monday 8-9
    (at(23, 6), timedelta(minutes=90), at(23, 9, 30)),      # before opening
])  # fmt: skip
def test_deadlines_skip_closed_time(start, due, expected):
    assert OFFICE.add(start, due) == expected.astimezone(UTC)


@pytest.mark.parametrize("start, days, expected", [
    (at(23, 9), 3, at(26, 9)),                      # three working days later
    (at(27, 9), 1, at(30, 9)),                      # Friday + 1 day = Monday
    (at(23, 17), 1, at(25, 8)),                     # after hours counts from the next opening
    (at(23, 10, month=12), 2, at(29, 10, month=12)),  # over Christmas and the weekend
])  # fmt: skip
def test_day_deadlines_count_working_days(start, days, expected):
    assert OFFICE.add_days(start, days) == expected.astimezone(UTC)


def test_hours_worked_add_up():
    """24 working hours from Friday 15:00 = 1 h Friday + 8 Mon + 8 Tue + 7 Wed → Wed 15:00."""
    assert OFFICE.add(at(27, 15), timedelta(hours=24)) == at(2, 15, month=12).astimezone(UTC)


def test_yaml_calendars_and_their_errors():
    problems: list[str] = []
    base = parse_calendar({"hours": "08:00-16:00", "days": ["mon", "tue", "wed", "thu", "fri"],
                           "timezone": "Europe/Oslo", "holidays": [date(2026, 12, 24)]},
                          "routing.yaml: business_hours", problems)  # fmt: skip
    assert problems == [] and base.zone == "Europe/Oslo" and base.days == frozenset(range(5))
    team = parse_calendar({"hours": "07:00-19:00"}, "x", problems, base=base)
    assert (team.opens, team.closes, team.zone) == (time(7), time(19), "Europe/Oslo")
    for spec, message in (
        ({"hours": "16:00-08:00"}, "opening before closing"),
        ({"hours": "8-16"}, "HH:MM-HH:MM"),
        ({"hours": "08:00-16:00", "days": ["monday"]}, ".days"),
        ({"hours": "08:00-16:00", "timezone": "Mars/Base"}, "unknown time zone"),
        ({"hours": "08:00-16:00", "holidays": ["christmas"]}, ".holidays"),
        ({"days": ["mon"]}, "required"),
        ({"hours": "08:00-16:00", "lunch": "12:00"}, "unknown key"),
        ("weekdays", "must be a mapping"),
    ):
        found: list[str] = []
        parse_calendar(spec, "routing.yaml: business_hours", found)
        assert any(message in p and p.startswith("routing.yaml") for p in found), (spec, found)


def test_a_calendar_without_working_time_is_refused():
    closed = BusinessCalendar(opens=time(8), closes=time(16), days=frozenset())
    with pytest.raises(ValueError, match="no working time"):
        closed.add(at(23, 9), timedelta(hours=1))


def test_routing_deadlines_follow_the_holding_teams_hours(tmp_path, answer, create_user):
    """With business hours configured, a Friday-evening A detractor is due on Monday +
    24 working hours; the support queue, open Saturdays too, counts its own days."""
    from sqlalchemy import select

    from feedback.cases.models import Case
    from feedback.extensions import db
    from feedback.routing.engine import route_responses
    from feedback.routing.rules import default_path, load_rules

    text = (
        default_path()
        .read_text(encoding="utf-8")
        .replace(
            "default_queue: Customer support\n",
            "default_queue: Customer support\nbusiness_hours:\n"
            "  default: {hours: '08:00-16:00', timezone: Europe/Copenhagen}\n"
            "  teams:\n    Customer support: {days: [mon, tue, wed, thu, fri, sat]}\n",
        )
    )
    (tmp_path / "routing.yaml").write_text(text, encoding="utf-8")
    rules = load_rules(tmp_path / "routing.yaml")
    owner = create_user("owner@nordlys.example.com", team="Key accounts")
    friday_evening = at(27, 18)
    a_case = answer(1, "A", owner=owner, answered_at=friday_evening.astimezone(UTC))
    retain = answer(2, "C", "retain", answered_at=friday_evening.astimezone(UTC))
    route_responses(rules, [a_case, retain], now=friday_evening)
    db.session.commit()
    due = dict(db.session.execute(select(Case.response_id, Case.due_at)).all())
    assert due[a_case] == at(2, 16, month=12).astimezone(UTC)  # Mon, Tue, Wed 8-16
    # Support opens Saturday 08:00; five working days on (Mon-Fri) is Friday 08:00
    assert due[retain] == at(4, 8, month=12).astimezone(UTC)


def test_bad_business_hours_name_the_file_and_field(tmp_path):
    from feedback.routing.rules import RuleError, default_path, load_rules

    text = default_path().read_text(encoding="utf-8") + (
        "business_hours:\n  default: {hours: '16:00-08:00'}\n  teams: {Support: {days: [funday]}}\n"
    )
    (tmp_path / "routing.yaml").write_text(text, encoding="utf-8")
    with pytest.raises(RuleError) as error:
        load_rules(tmp_path / "routing.yaml")
    assert any("routing.yaml: business_hours.default.hours" in p for p in error.value.problems)
    assert any("business_hours.teams.Support.days" in p for p in error.value.problems)
