"""The Grow–Retain follow-up programme (survey_templates/followup.yaml, DOMAIN.md §2): for
each class and programme, how often the customer must be contacted and by whom.

Plain data and functions, like routing.rules: `load_programme` validates the file (every
problem names the file and the field) and `Rule.due_after` / `Rule.cutoff` do the calendar
arithmetic. Nothing here touches the database.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import yaml

CLASSES = ("A", "B", "C", "D")
PROGRAMMES = ("grow", "retain")
UNITS = ("day", "week", "month")
_EVERY = re.compile(r"^(\d{1,3})\s*(day|week|month|year)s?$", re.IGNORECASE)
# Longest period accepted, per unit: five years.
_MAX = {"day": 1826, "week": 261, "month": 60}
_RULE_KEYS = {"every", "by", "fallback"}


class ProgrammeError(Exception):
    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


def add_months(day: date, months: int) -> date:
    """The same day `months` later; the 31st becomes the month's last day (31 Jan + 1 = 28 Feb)."""
    month0 = day.month - 1 + months
    year, month = day.year + month0 // 12, month0 % 12 + 1
    last_day = calendar.monthrange(year, month)[1]
    return day.replace(year=year, month=month, day=min(day.day, last_day))


@dataclass(frozen=True)
class Rule:
    """How one class and programme is followed up."""

    abc_class: str
    programme: str
    count: int  # every `count` `unit`s
    unit: str  # day | week | month
    by: str  # owner | team:<name> | automated
    # team:<name>, for `by: owner` when the customer has no (active) owner: the rule's own or
    # the file's top-level one; None for the other kinds of `by`.
    fallback: str | None

    @property
    def every(self) -> str:
        """'every week', 'every 3 months'."""
        return f"every {self.unit}" if self.count == 1 else f"every {self.count} {self.unit}s"

    @property
    def team(self) -> str | None:
        """The team named by `by: team:<name>`."""
        return self.by[5:] if self.by.startswith("team:") else None

    @property
    def fallback_team(self) -> str | None:
        return self.fallback[5:] if self.fallback else None

    @property
    def automated(self) -> bool:
        return self.by == "automated"

    def due_after(self, last: date) -> date:
        """The day the next contact is due when the last one was on `last`."""
        if self.unit == "month":
            return add_months(last, self.count)
        return last + timedelta(days=self.count * (7 if self.unit == "week" else 1))

    def cutoff(self, today: date) -> date:
        """The earliest last-contact day that is not overdue on `today`: a contact before it
        made the follow-up fall due before today (months are uneven, hence the nudging)."""
        if self.unit != "month":
            return today - timedelta(days=self.count * (7 if self.unit == "week" else 1))
        day = add_months(today, -self.count)
        while self.due_after(day - timedelta(days=1)) >= today:
            day -= timedelta(days=1)
        while self.due_after(day) < today:
            day += timedelta(days=1)
        return day


@dataclass(frozen=True)
class Programme:
    rules: dict[tuple[str, str], Rule]  # (class, programme) -> rule; all eight are present
    fallback: str  # team:<name>

    def rule(self, abc_class: str | None, programme: str | None) -> Rule | None:
        return self.rules.get((abc_class or "", programme or ""))

    def team_names(self) -> set[str]:
        """Every team the file names (to be looked up in the database)."""
        names = {rule.team for rule in self.rules.values()} | {
            rule.fallback_team for rule in self.rules.values()
        }
        return {name for name in names if name}


def default_path() -> Path:
    return Path(__file__).resolve().parents[2] / "survey_templates" / "followup.yaml"


def load_programme(path: str | Path | None = None) -> Programme:
    """Read and validate the file; ProgrammeError lists every problem found."""
    file = Path(path) if path else default_path()
    try:
        data = yaml.safe_load(file.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ProgrammeError([f"{file.name}: cannot be read: {exc}"]) from None
    name = file.name
    if not isinstance(data, dict):
        raise ProgrammeError([f"{name}: must be a mapping with fallback and classes"])
    problems: list[str] = []
    for key in sorted(set(map(str, data)) - {"fallback", "classes"}):
        problems.append(f"{name}.{key}: unknown key (use fallback, classes)")
    fallback = _team(data.get("fallback"), f"{name}: fallback", problems)
    if fallback is None and not any(p.startswith(f"{name}: fallback") for p in problems):
        problems.append(
            f"{name}: fallback: required: team:<team name>, who follows up customers "
            "without an owner"
        )
    classes = data.get("classes")
    rules: dict[tuple[str, str], Rule] = {}
    if not isinstance(classes, dict):
        problems.append(f"{name}: classes: a mapping of A, B, C and D to grow and retain")
        classes = {}
    for klass in sorted(set(map(str, classes)) - set(CLASSES)):
        problems.append(f"{name}: classes.{klass}: not a class (use {', '.join(CLASSES)})")
    for klass in CLASSES:
        where = f"{name}: classes.{klass}"
        entry = classes.get(klass)
        if not isinstance(entry, dict):
            problems.append(f"{where}: missing: a mapping with grow and retain")
            continue
        for programme in sorted(set(map(str, entry)) - set(PROGRAMMES)):
            problems.append(f"{where}.{programme}: not a programme (use grow, retain)")
        for programme in PROGRAMMES:
            raw = entry.get(programme)
            rule = _rule(raw, klass, programme, fallback, f"{where}.{programme}", problems)
            if rule is not None:
                rules[klass, programme] = rule
    if problems:
        raise ProgrammeError(problems)
    return Programme(rules, fallback)  # type: ignore[arg-type]


def _rule(raw, klass: str, programme: str, default_fallback: str | None, where: str,
          problems: list[str]) -> Rule | None:  # fmt: skip
    if not isinstance(raw, dict):
        problems.append(f"{where}: missing: a mapping with every and by")
        return None
    before = len(problems)
    for key in sorted(set(map(str, raw)) - _RULE_KEYS):
        problems.append(f"{where}.{key}: unknown key (use {', '.join(sorted(_RULE_KEYS))})")
    count, unit = _every(raw.get("every"), f"{where}.every", problems)
    by = raw.get("by")
    if by in ("owner", "automated"):
        pass
    elif (team := _team(by, f"{where}.by", [])) is not None:
        by = team
    else:
        problems.append(f"{where}.by: owner, team:<team name> or automated (got {by!r})")
    fallback = None
    if raw.get("fallback") is not None:
        fallback = _team(raw.get("fallback"), f"{where}.fallback", problems)
        if by != "owner":
            problems.append(f"{where}.fallback: only used with by: owner")
    if len(problems) > before:
        return None
    return Rule(klass, programme, count, unit, by, fallback or _if_owner(by, default_fallback))


def _if_owner(by: str, fallback: str | None) -> str | None:
    return fallback if by == "owner" else None


def _every(value, where: str, problems: list[str]) -> tuple[int, str]:
    match = _EVERY.match(str(value).strip()) if isinstance(value, str | int) else None
    if not match:
        problems.append(f"{where}: a period such as 1 week, 3 months or 12 months (got {value!r})")
        return 0, "day"
    count, unit = int(match.group(1)), match.group(2).lower()
    if unit == "year":
        count, unit = count * 12, "month"
    if not 1 <= count <= _MAX[unit]:
        problems.append(f"{where}: from 1 {unit} to five years (got {value!r})")
    return count, unit


def _team(value, where: str, problems: list[str]) -> str | None:
    if value is None:
        return None
    if isinstance(value, str) and value.startswith("team:") and value[5:].strip():
        return f"team:{value[5:].strip()}"
    problems.append(f"{where}: team:<team name> (got {value!r})")
    return None
