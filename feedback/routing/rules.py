"""Routing rules (survey_templates/routing.yaml): which answers need a person, who, how soon.

Plain data and functions: `load_rules` validates the file (every problem names the file and
the field), `band_of` places a response in detractor / passive / promoter, and `first_match`
returns the first rule whose conditions all hold, with the reasons, which is what
`routing explain` prints. Nothing here touches the database.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import yaml

from feedback.routing.calendar import BusinessCalendar, parse_calendar

BANDS = ("detractor", "passive", "promoter")
CLASSES = ("A", "B", "C", "D")
PROGRAMMES = ("grow", "retain")
SENTIMENTS = ("negative", "neutral", "positive")
LANGUAGES = ("en", "da", "sv", "nb")
PRIORITIES = ("urgent", "high", "normal", "low")
RULE_KINDS = ("answer", "churn_risk")
_CONDITIONS = {
    "answer": {"band", "class", "programme", "sentiment", "themes", "language", "csi_below"},
    "churn_risk": {"risk_from", "class", "programme"},
}
_DUE = re.compile(r"^(\d{1,4})\s*([mhd])$")
_UNITS = {"m": "minutes", "h": "hours", "d": "days"}


class RuleError(Exception):
    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class Conditions:
    bands: tuple[str, ...] = ()
    classes: tuple[str, ...] = ()
    programmes: tuple[str, ...] = ()
    sentiments: tuple[str, ...] = ()
    themes: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()
    csi_below: float | None = None
    risk_from: int | None = None  # churn_risk rules: a churn risk (0-100) at or above this


@dataclass(frozen=True)
class Rule:
    key: str
    title: str
    when: Conditions
    assign: str  # owner | team:<name> | user:<email>
    fallback: str | None
    priority: str
    due: timedelta
    acknowledge: bool = False
    due_days: int | None = None  # set for a deadline in days ("3d"): counted as working days
    kind: str = "answer"  # answer: routes survey answers; churn_risk: routes churn scores


@dataclass(frozen=True)
class RuleSet:
    rules: tuple[Rule, ...]
    default_queue: str
    csi_detractor_below: float = 60
    csi_promoter_from: float = 80
    # Optional business hours: None runs deadlines on the clock. Teams (lower-case name) may
    # have their own; the others use the default.
    business_hours: BusinessCalendar | None = None
    team_hours: dict[str, BusinessCalendar] = field(default_factory=dict, hash=False)
    churn_rules: tuple[Rule, ...] = ()  # `kind: churn_risk`, kept apart from answer rules

    def deadline(self, rule: Rule, start: datetime, team: str | None = None) -> datetime:
        """When a case made by `rule` at `start` is due, in the holding team's working time."""
        calendar = self.team_hours.get((team or "").lower(), self.business_hours)
        if calendar is None:
            return start + rule.due
        if rule.due_days is not None:
            return calendar.add_days(start, rule.due_days)
        return calendar.add(start, rule.due)


@dataclass(frozen=True)
class Facts:
    """What routing knows about one response."""

    score: int | None  # the NPS (0-10) if the survey asks it
    csi: float | None  # 0-100 if the survey has CSI items
    abc_class: str | None
    programme: str | None
    sentiment: str | None  # label of the comment's sentiment; None without a comment
    themes: tuple[str, ...] = ()
    language: str | None = None


@dataclass(frozen=True)
class Match:
    rule: Rule | None
    band: str | None
    reasons: list[str] = field(default_factory=list)  # why each rule tried did or did not match


def parse_due(text: str) -> timedelta:
    match = _DUE.match(str(text).strip())
    if not match:
        raise ValueError(f"{text!r} is not a deadline such as 90m, 24h or 3d")
    return timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})


def band_of(facts: Facts, rules: RuleSet) -> str | None:
    """NPS band from the score; a CSI below the detractor line makes it a detractor too (the
    worse of the two wins); without either, no band."""
    bands = []
    if facts.score is not None:
        bands.append(
            "detractor" if facts.score <= 6 else "passive" if facts.score <= 8 else "promoter"
        )
    if facts.csi is not None:
        if facts.csi < rules.csi_detractor_below:
            bands.append("detractor")
        elif facts.csi >= rules.csi_promoter_from:
            bands.append("promoter")
        else:
            bands.append("passive")
    return min(bands, key=BANDS.index) if bands else None


def first_match(rules: RuleSet, facts: Facts) -> Match:
    band = band_of(facts, rules)
    reasons = []
    for rule in rules.rules:
        failed = _failed_condition(rule.when, facts, band)
        if failed is None:
            reasons.append(f"{rule.key}: matches")
            return Match(rule, band, reasons)
        reasons.append(f"{rule.key}: no, {failed}")
    return Match(None, band, reasons)


def _failed_condition(when: Conditions, facts: Facts, band: str | None) -> str | None:
    checks = (
        (when.bands, band, "band"),
        (when.classes, facts.abc_class, "class"),
        (when.programmes, facts.programme, "programme"),
        (when.sentiments, facts.sentiment, "comment sentiment"),
        (when.languages, facts.language, "language"),
    )
    for wanted, actual, what in checks:
        if wanted and actual not in wanted:
            return f"{what} is {actual or 'unknown'}, not {' or '.join(wanted)}"
    if when.themes and not set(when.themes) & set(facts.themes):
        return f"the comment mentions none of {', '.join(when.themes)}"
    if when.csi_below is not None and (facts.csi is None or facts.csi >= when.csi_below):
        shown = "none" if facts.csi is None else f"{facts.csi:.0f}"
        return f"CSI is {shown}, not below {when.csi_below:g}"
    return None


def default_path() -> Path:
    return Path(__file__).resolve().parents[2] / "survey_templates" / "routing.yaml"


def load_rules(path: str | Path | None = None) -> RuleSet:
    file = Path(path) if path else default_path()
    try:
        data = yaml.safe_load(file.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise RuleError([f"{file.name}: cannot be read: {exc}"]) from None
    if not isinstance(data, dict):
        raise RuleError([f"{file.name}: must be a mapping with rules and default_queue"])
    problems: list[str] = []
    queue = data.get("default_queue")
    if not isinstance(queue, str) or not queue.strip():
        problems.append(f"{file.name}: default_queue: the name of a team is required")
    bands = data.get("bands") or {}
    detractor_below = _number(
        bands.get("csi_detractor_below", 60), f"{file.name}: bands.csi_detractor_below", problems
    )
    promoter_from = _number(
        bands.get("csi_promoter_from", 80), f"{file.name}: bands.csi_promoter_from", problems
    )
    raw_rules = data.get("rules")
    if not isinstance(raw_rules, list) or not raw_rules:
        problems.append(f"{file.name}: rules: a list of at least one rule is required")
        raw_rules = []
    rules, churn_rules, keys = [], [], set()
    for number, raw in enumerate(raw_rules, start=1):
        rule = _rule(raw, f"{file.name}: rules[{number}]", problems)
        if rule is not None:
            if rule.key in keys:
                problems.append(f"{file.name}: rules[{number}].key: {rule.key} is used twice")
            keys.add(rule.key)
            (churn_rules if rule.kind == "churn_risk" else rules).append(rule)
    business_hours, team_hours = _business_hours(data.get("business_hours"), file.name, problems)
    if problems:
        raise RuleError(problems)
    return RuleSet(tuple(rules), queue.strip(), detractor_below, promoter_from,  # type: ignore[arg-type]
                   business_hours, team_hours, tuple(churn_rules))  # fmt: skip


def _business_hours(raw, name: str, problems: list[str]):
    """(default calendar, {team: calendar}) from `business_hours: {default: ..., teams: ...}`."""
    if raw is None:
        return None, {}
    where = f"{name}: business_hours"
    if not isinstance(raw, dict) or "default" not in raw:
        problems.append(f"{where}: a mapping with a default calendar (and optional teams)")
        return None, {}
    for key in set(raw) - {"default", "teams"}:
        problems.append(f"{where}.{key}: unknown key (use default, teams)")
    default = parse_calendar(raw["default"], f"{where}.default", problems)
    teams = raw.get("teams") or {}
    if not isinstance(teams, dict):
        problems.append(f"{where}.teams: a mapping of team name to calendar")
        teams = {}
    team_hours = {}
    for team, spec in teams.items():
        calendar = parse_calendar(spec, f"{where}.teams.{team}", problems, base=default)
        if calendar is not None:
            team_hours[str(team).strip().lower()] = calendar
    return default, team_hours


def _number(value, where: str, problems: list[str]) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 100:
        problems.append(f"{where}: a number from 0 to 100")
        return 0.0
    return float(value)


def _rule(raw, where: str, problems: list[str]) -> Rule | None:
    if not isinstance(raw, dict):
        problems.append(f"{where}: must be a mapping")
        return None
    before = len(problems)
    key = raw.get("key")
    if not isinstance(key, str) or not re.fullmatch(r"[a-z][a-z0-9_]{0,59}", key):
        problems.append(f"{where}.key: lower-case letters, digits and _ (got {key!r})")
    title = raw.get("title")
    if not isinstance(title, str) or not title.strip():
        problems.append(f"{where}.title: required")
    kind = raw.get("kind", "answer")
    if kind not in RULE_KINDS:
        problems.append(f"{where}.kind: one of {', '.join(RULE_KINDS)} (got {kind!r})")
        kind = "answer"
    when = _conditions(raw.get("when") or {}, f"{where}.when", problems, kind)
    assign = _target(raw.get("assign"), f"{where}.assign", problems, required=True)
    fallback = _target(raw.get("fallback"), f"{where}.fallback", problems, required=False)
    priority = raw.get("priority", "normal")
    if priority not in PRIORITIES:
        problems.append(f"{where}.priority: one of {', '.join(PRIORITIES)} (got {priority!r})")
    try:
        due = parse_due(raw.get("due", ""))
    except ValueError as exc:
        problems.append(f"{where}.due: {exc}")
        due = timedelta(0)
    due_days = due.days if str(raw.get("due", "")).strip().endswith("d") else None
    acknowledge = raw.get("acknowledge", False)
    if not isinstance(acknowledge, bool):
        problems.append(f"{where}.acknowledge: true or false")
    if len(problems) > before:
        return None
    if acknowledge and kind == "churn_risk":
        problems.append(f"{where}.acknowledge: only for answers (nobody wrote to us)")
        return None
    return Rule(key, title.strip(), when, assign, fallback, priority, due, acknowledge, due_days,
                kind)  # fmt: skip


def _conditions(raw, where: str, problems: list[str], kind: str = "answer") -> Conditions:
    if not isinstance(raw, dict):
        problems.append(f"{where}: must be a mapping")
        return Conditions()
    known = _CONDITIONS[kind]
    for name in set(raw) - known:
        problems.append(f"{where}.{name}: unknown condition (use {', '.join(sorted(known))})")
    risk_from = raw.get("risk_from")
    if kind == "churn_risk" and (
        isinstance(risk_from, bool) or not isinstance(risk_from, int) or not 1 <= risk_from <= 100
    ):
        problems.append(f"{where}.risk_from: a churn risk from 1 to 100 is required")
        risk_from = None

    def choice(name: str, allowed: tuple[str, ...]) -> tuple[str, ...]:
        value = raw.get(name)
        if value is None:
            return ()
        values = value if isinstance(value, list) else [value]
        bad = [v for v in values if v not in allowed]
        if bad:
            problems.append(
                f"{where}.{name}: {', '.join(map(str, bad))} not one of {', '.join(allowed)}"
            )
        return tuple(v for v in values if v in allowed)

    themes = raw.get("themes")
    if themes is not None and (
        not isinstance(themes, list) or not all(isinstance(t, str) for t in themes)
    ):
        problems.append(f"{where}.themes: a list of theme keys")
        themes = None
    csi_below = raw.get("csi_below")
    if csi_below is not None:
        csi_below = _number(csi_below, f"{where}.csi_below", problems)
    return Conditions(
        bands=choice("band", BANDS),
        classes=choice("class", CLASSES),
        programmes=choice("programme", PROGRAMMES),
        sentiments=choice("sentiment", SENTIMENTS),
        themes=tuple(themes or ()),
        languages=choice("language", LANGUAGES),
        csi_below=csi_below,
        risk_from=risk_from if kind == "churn_risk" else None,
    )


def _target(value, where: str, problems: list[str], *, required: bool) -> str | None:
    if value is None and not required:
        return None
    if value == "owner":
        return value
    if isinstance(value, str) and value.startswith("team:") and value[5:].strip():
        return f"team:{value[5:].strip()}"
    if isinstance(value, str) and value.startswith("user:") and "@" in value:
        return f"user:{value[5:].strip().lower()}"
    problems.append(f"{where}: owner, team:<team name> or user:<e-mail> (got {value!r})")
    return None
