"""Business hours: deadlines that only run while a team is at work.

A `BusinessCalendar` knows the working days, the opening hours, the time zone and the
holidays of one team. `add(start, due)` moves a deadline forward over closed time: the
clock runs only while the team is open, so a 24 h deadline set on Friday afternoon for a
team open 8–16 on weekdays lands on Wednesday, not on Saturday. Days ("3d") count whole
working days (`add_days`): the deadline falls at the same working moment three working days
later.

Plain functions over datetimes; routing.rules reads the calendars from routing.yaml.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
MAX_DAYS = 3660  # a calendar with no open day at all would loop for ever


@dataclass(frozen=True)
class BusinessCalendar:
    opens: time
    closes: time
    days: frozenset[int] = frozenset(range(5))  # 0 = Monday
    zone: str = "Europe/Copenhagen"
    holidays: frozenset[date] = field(default_factory=frozenset)

    def is_working_day(self, day: date) -> bool:
        return day.weekday() in self.days and day not in self.holidays

    def _window(self, day: date) -> tuple[datetime, datetime]:
        tz = ZoneInfo(self.zone)
        return (datetime.combine(day, self.opens, tz), datetime.combine(day, self.closes, tz))

    def _next_open(self, moment: datetime) -> datetime:
        """The first working moment at or after `moment` (in the calendar's zone)."""
        local = moment.astimezone(ZoneInfo(self.zone))
        day = local.date()
        for _ in range(MAX_DAYS):
            if self.is_working_day(day):
                opens, closes = self._window(day)
                if local < closes:
                    return max(local, opens)
            day += timedelta(days=1)
            local = datetime.combine(day, time(0), ZoneInfo(self.zone))
        raise ValueError("the business calendar has no working time")

    def add(self, start: datetime, due: timedelta) -> datetime:
        """`start` plus `due` of working time, in UTC."""
        moment, left = self._next_open(start), due
        for _ in range(MAX_DAYS * 2):
            _, closes = self._window(moment.date())
            if moment + left <= closes:
                return (moment + left).astimezone(UTC)
            left -= closes - moment
            moment = self._next_open(closes)
        raise ValueError("deadline too far away for the business calendar")

    def add_days(self, start: datetime, days: int) -> datetime:
        """The same working moment `days` working days later."""
        moment = self._next_open(start)
        offset = moment - self._window(moment.date())[0]  # into the working day
        day = moment.date()
        for _ in range(days):
            day += timedelta(days=1)
            while not self.is_working_day(day):
                day += timedelta(days=1)
        return (self._window(day)[0] + offset).astimezone(UTC)


def parse_calendar(spec: dict, where: str, problems: list[str],
                   base: BusinessCalendar | None = None) -> BusinessCalendar | None:  # fmt: skip
    """A calendar from YAML (`days`, `hours: "08:00-16:00"`, `timezone`, `holidays`); keys a
    team leaves out come from `base`. Problems are appended, named by `where`."""
    if not isinstance(spec, dict):
        problems.append(f"{where}: must be a mapping (days, hours, timezone, holidays)")
        return None
    unknown = set(spec) - {"days", "hours", "timezone", "holidays"}
    if unknown:
        problems.append(f"{where}: unknown key(s) {', '.join(sorted(map(str, unknown)))}")
    found = {}
    if "days" in spec:
        days = spec["days"]
        if not isinstance(days, list) or not days or any(d not in WEEKDAYS for d in days):
            problems.append(f"{where}.days: a list of {', '.join(WEEKDAYS)}")
        else:
            found["days"] = frozenset(WEEKDAYS.index(d) for d in days)
    if "hours" in spec:
        hours = _hours(spec["hours"])
        if hours is None:
            problems.append(f'{where}.hours: "HH:MM-HH:MM", opening before closing')
        else:
            found["opens"], found["closes"] = hours
    if "timezone" in spec:
        try:
            ZoneInfo(str(spec["timezone"]))
            found["zone"] = str(spec["timezone"])
        except (ValueError, KeyError):
            problems.append(f"{where}.timezone: unknown time zone {spec['timezone']!r}")
    if "holidays" in spec:
        holidays = spec["holidays"]
        if not isinstance(holidays, list) or not all(isinstance(d, date) for d in holidays):
            problems.append(f"{where}.holidays: a list of dates (YYYY-MM-DD)")
        else:
            found["holidays"] = frozenset(holidays)
    if base is None and ("opens" not in found):
        problems.append(f'{where}.hours: required, e.g. "08:00-16:00"')
        return None
    if base is not None:
        merged = {"opens": base.opens, "closes": base.closes, "days": base.days,
                  "zone": base.zone, "holidays": base.holidays}  # fmt: skip
        merged.update(found)
        found = merged
    try:
        return BusinessCalendar(**found)
    except TypeError:  # pragma: no cover - every field is set above
        return None


def _hours(text) -> tuple[time, time] | None:
    try:
        first, second = str(text).split("-")
        opens, closes = time.fromisoformat(first.strip()), time.fromisoformat(second.strip())
    except ValueError:
        return None
    return (opens, closes) if opens < closes else None
