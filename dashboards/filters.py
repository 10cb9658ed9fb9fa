"""The filters every view shares, kept in the page's URL so a view can be bookmarked and
sent: `?view=nps&from=2025-01-01&to=2025-12-31&grain=quarter&class=A,B&programme=grow`.

Reading a URL never fails: a value that cannot be used is dropped and named, so the page
can say what it ignored (a stale bookmark, a hand-edited link)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from datetime import date
from urllib.parse import parse_qsl, urlencode

from dashboards.periods import GRAINS
from feedback.customers.models import ABC_CLASSES, PROGRAMMES
from feedback.list_filters import NO_OWNER, shown, whole_number

LANGUAGES = ("en", "da", "sv", "nb")
DEFAULT_MONTHS = 12  # the default period: this month and the eleven before it
EARLIEST = date(2000, 1, 1)


@dataclass(frozen=True)
class Filters:
    start: date  # first local day, inclusive
    end: date  # last local day, inclusive
    grain: str = "month"
    survey: str | None = None  # a template key ("nps") or a survey id ("12")
    wave: int | None = None
    classes: tuple[str, ...] = ()
    programme: str | None = None
    language: str | None = None
    owner: int | str | None = None  # a user id, or NO_OWNER
    team: int | None = None

    @property
    def survey_id(self) -> int | None:
        return int(self.survey) if self.survey and self.survey.isdigit() else None

    @property
    def template_key(self) -> str | None:
        return self.survey if self.survey and not self.survey.isdigit() else None

    def but(self, **changes) -> Filters:
        return replace(self, **changes)


def default_filters(today: date) -> Filters:
    month = today.year * 12 + today.month - 1 - (DEFAULT_MONTHS - 1)
    return Filters(start=date(month // 12, month % 12 + 1, 1), end=today)


@dataclass
class Parsed:
    filters: Filters
    view: str | None = None
    ignored: list[str] = field(default_factory=list)


def _iso_day(text: str) -> date | None:
    try:
        day = date.fromisoformat(text)
    except ValueError:
        return None
    return day if EARLIEST <= day <= date(2999, 12, 31) else None


def parse(query: str | dict, today: date, views: tuple[str, ...] = ()) -> Parsed:
    """Filters from a query string ("?a=1&b=2", with or without "?") or a mapping."""
    if isinstance(query, str):
        pairs = parse_qsl(query.lstrip("?"), keep_blank_values=False)
    else:
        pairs = [(k, v) for k, v in query.items() if v not in (None, "")]
    values: dict[str, str] = {}
    for key, value in pairs:  # repeated keys (class=A&class=B) are joined
        values[key] = f"{values[key]},{value}" if key in values else value
    base, ignored = default_filters(today), []
    changes: dict = {}

    def take(key, convert, label=None):
        raw = values.get(key, "").strip()
        if not raw:
            return
        converted = convert(raw)
        if converted is None:
            ignored.append(f"{label or key} {shown(raw)}")
        else:
            changes[key] = converted

    take("from", _iso_day, "from date")
    take("to", _iso_day, "to date")
    take("grain", lambda v: v.lower() if v.lower() in GRAINS else None, "period")
    take("survey", lambda v: v if (whole_number(v) is not None or v.isidentifier()) else None)
    take("wave", whole_number)
    take("programme", lambda v: v.lower() if v.lower() in PROGRAMMES else None)
    take("language", lambda v: v.lower() if v.lower() in LANGUAGES else None)
    take("owner", lambda v: NO_OWNER if v.lower() == NO_OWNER else whole_number(v))
    take("team", whole_number)
    classes = []
    for value in values.get("class", "").split(","):
        value = value.strip().upper()
        if value in ABC_CLASSES:
            if value not in classes:
                classes.append(value)
        elif value:
            ignored.append(f"class {shown(value)}")
    view = values.get("view", "").strip() or None
    if view is not None and views and view not in views:
        ignored.append(f"view {shown(view)}")
        view = None

    start, end = changes.pop("from", base.start), changes.pop("to", base.end)
    if start > end:
        ignored.append("a period that ends before it starts")
        start, end = base.start, base.end
    filters = replace(base, start=start, end=end, classes=tuple(sorted(classes)), **changes)
    return Parsed(filters, view, ignored)


def offered(filters: Filters, choices: dict[str, set[str]]) -> tuple[Filters, list[str]]:
    """`filters` without a survey, wave, owner or team the page does not offer (a survey
    since deleted, a wave of another survey, someone who owns no customer now), and what was
    dropped, named as parse() names it. `choices`: {key: the values offered, as strings};
    keys not in it are not checked. A dropdown would drop such a value by itself, silently
    and after the figures were drawn for it."""
    dropped, changes = [], {}
    for key, offered_values in choices.items():
        value = getattr(filters, key)
        if value is not None and str(value) not in offered_values:
            dropped.append(f"{key} {shown(str(value))}")
            changes[key] = None
    return (filters.but(**changes) if changes else filters), dropped


def to_query(filters: Filters, view: str | None = None, today: date | None = None) -> str:
    """The query string for `filters` ("?..."), leaving out what equals the default."""
    default = default_filters(today) if today else None
    items: list[tuple[str, str]] = []
    if view:
        items.append(("view", view))
    if not default or filters.start != default.start:
        items.append(("from", filters.start.isoformat()))
    if not default or filters.end != default.end:
        items.append(("to", filters.end.isoformat()))
    for key, value in asdict(filters).items():
        if key in ("start", "end") or value in (None, (), ""):
            continue
        if key == "grain" and value == "month":
            continue
        name = "class" if key == "classes" else key
        items.append((name, ",".join(value) if isinstance(value, tuple) else str(value)))
    return "?" + urlencode(items) if items else ""
