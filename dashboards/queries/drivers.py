"""View 7: what drives satisfaction, and what customers write about.

Drivers: for each driver question (a rating marked `driver:` in a template), performance is
the mean rating (1–10) and importance the Pearson correlation between that rating and the
answer's CSI (0–100), over the answers that carry both. The CSI stands for overall
satisfaction rather than its single `satisfaction` item: it is the index the other views
report, it averages three items so it is less noisy (a noisy outcome understates every
correlation alike), and it sits on the response row, so no second pass over the answers.
The sums behind both come from the driver_days facts, grouped by question; the statistics
are computed here.

Themes: sentiment and themes are not stored per answer (cases keep the themes of their own
comment only), so they are computed on read from the newest `COMMENT_LIMIT` comments that
match the filters: the view says how many it read out of how many."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import and_, func, or_, select

from dashboards import stats
from dashboards.filters import Filters
from dashboards.periods import local_midnight_utc
from dashboards.queries.scope import (
    fact_conditions,
    latest_run_id,
    scoped_answer_days,
    scoped_answers,
)
from feedback.analysis.sentiment import analyse_sentiment, label_for
from feedback.analysis.themes import Theme, load_themes, tag_themes
from feedback.reporting.models import AnswerDay, DriverDay
from feedback.responses.models import Response

COMMENT_LIMIT = 2000  # comments analysed per view: the newest that match the filters
EXAMPLES = 3  # example comments shown per theme
EXAMPLE_CHARS = 280  # longer comments are cut, with an ellipsis

FIX_FIRST, KEEP_UP, OVERKILL, LOWER = "fix first", "keep up", "possible overkill", "lower priority"
QUADRANTS = {(True, False): FIX_FIRST, (True, True): KEEP_UP,
             (False, True): OVERKILL, (False, False): LOWER}  # fmt: skip


@dataclass(frozen=True)
class DriverQuestion:
    key: str  # the question key answers are stored under
    driver: str  # e.g. "delivery"
    text: str  # the question in English
    templates: tuple[str, ...]  # the templates that ask it as a driver

    @property
    def label(self) -> str:
        return self.driver.replace("_", " ").capitalize()


@dataclass(frozen=True)
class DriverRating:
    question: DriverQuestion
    performance: stats.Estimate  # mean rating, 1–10
    importance: stats.Estimate  # Pearson r with the CSI; se is on Fisher's z scale
    quadrant: str | None  # None when too few answers (or no spread) to place it

    @property
    def enough(self) -> bool:
        return self.performance.enough and self.importance.enough


@dataclass(frozen=True)
class Drivers:
    ratings: tuple[DriverRating, ...]  # in template order
    importance_line: float | None  # the mean importance of the drivers with enough answers
    performance_line: float | None  # their mean performance


@dataclass(frozen=True)
class Example:
    text: str
    language: str
    sentiment: float  # −1..1
    answered_at: datetime

    @property
    def label(self) -> str:
        return label_for(self.sentiment)


@dataclass(frozen=True)
class ThemeSummary:
    key: str
    label: str  # English name from the taxonomy
    comments: int
    share: stats.Estimate  # % of the analysed comments that mention it (Wilson interval)
    sentiment: stats.Estimate  # mean sentiment of those comments, −1..1
    examples: tuple[Example, ...]  # the newest distinct ones


@dataclass(frozen=True)
class CommentThemes:
    analysed: int  # comments read (the newest, at most COMMENT_LIMIT)
    total: int  # comments matching the filters
    untagged: int  # analysed comments that mention no theme
    sentiment: stats.Estimate  # mean sentiment of every analysed comment
    themes: tuple[ThemeSummary, ...]  # most mentioned first; only those mentioned


def driver_questions(templates: Mapping) -> list[DriverQuestion]:
    """Every driver question of `templates` (SurveyTemplate by key), one per question key."""
    found: dict[str, DriverQuestion] = {}
    for template_key in sorted(templates):
        for q in templates[template_key].questions:
            if not q.driver:
                continue
            known = found.get(q.key) or DriverQuestion(q.key, q.driver,
                                                       q.text.get("en", q.key), ())  # fmt: skip
            found[q.key] = replace(known, templates=(*known.templates, template_key))
    return list(found.values())


def _window(filters: Filters, tz: ZoneInfo) -> tuple[datetime, datetime]:
    return (local_midnight_utc(filters.start, tz),
            local_midnight_utc(filters.end + timedelta(days=1), tz))  # fmt: skip


def driver_ratings(conn, filters: Filters, *, tz: ZoneInfo,
                   questions: Sequence[DriverQuestion]) -> Drivers:  # fmt: skip
    """Performance and importance of every driver question answered under `filters`."""
    if not questions:
        return Drivers((), None, None)
    keys_by_template: dict[str, list[str]] = defaultdict(list)
    for q in questions:
        for template in q.templates:
            keys_by_template[template].append(q.key)
    d = DriverDay
    asked = or_(*[and_(d.template_key == t, d.question_key.in_(keys))
                  for t, keys in sorted(keys_by_template.items())])  # fmt: skip
    stmt = (
        select(d.question_key, func.sum(d.n), func.sum(d.sx), func.sum(d.sxx), func.sum(d.m),
               func.sum(d.px), func.sum(d.pxx), func.sum(d.sy), func.sum(d.syy),
               func.sum(d.sxy))
        .where(d.day >= filters.start, d.day <= filters.end, asked, *fact_conditions(d, filters))
        .group_by(d.question_key)
    )  # fmt: skip
    sums = {row[0]: [float(v or 0) for v in row[1:]] for row in conn.execute(stmt)}
    rated = []
    for q in questions:
        if q.key not in sums:
            continue
        n, sx, sxx, m, px, pxx, sy, syy, sxy = sums[q.key]
        performance = stats.mean(int(n), sx, sxx, bounds=(1, 10))
        rated.append((q, performance, stats.correlation(int(m), px, sy, sxy, pxx, syy)))
    return place_in_quadrants(rated)


def place_in_quadrants(rated) -> Drivers:
    """Dividing lines at the mean importance and mean performance of the drivers with
    enough answers; a driver on a line counts as important, or as strong."""
    placeable = [(q, p, i) for q, p, i in rated if p.value is not None and i.value is not None]
    trusted = [(q, p, i) for q, p, i in placeable if p.enough and i.enough]
    basis = trusted or placeable
    if not basis:
        return Drivers(tuple(DriverRating(q, p, i, None) for q, p, i in rated), None, None)
    imp_line = sum(i.value for _, _, i in basis) / len(basis)
    perf_line = sum(p.value for _, p, _ in basis) / len(basis)
    out = []
    for q, p, i in rated:
        quadrant = None
        if p.enough and i.enough and i.value is not None:
            quadrant = QUADRANTS[(i.value >= imp_line, p.value >= perf_line)]
        out.append(DriverRating(q, p, i, quadrant))
    return Drivers(tuple(out), imp_line, perf_line)


def comment_themes(conn, filters: Filters, *, tz: ZoneInfo, limit: int = COMMENT_LIMIT,
                   themes: Mapping[str, Theme] | None = None) -> CommentThemes:  # fmt: skip
    """Themes and sentiment of the newest `limit` comments that match `filters`."""
    themes = themes if themes is not None else load_themes()
    run_id, window = latest_run_id(conn), _window(filters, tz)
    has_comment = Response.comment != ""
    stmt = (
        scoped_answers([Response.comment, Response.language, Response.answered_at],
                       filters, run_id, *window)
        .where(has_comment)
        .order_by(Response.answered_at.desc(), Response.id.desc())
        .limit(limit)
    )  # fmt: skip
    rows = conn.execute(stmt).all()
    total = len(rows)
    if total == limit:  # there may be more: the answer facts count them
        total = conn.scalar(scoped_answer_days([func.sum(AnswerDay.comments)], filters))
    tally: dict[str, list] = {key: [0, 0.0, 0.0, []] for key in themes}  # n, Σs, Σs², examples
    seen: dict[str, set[str]] = defaultdict(set)
    untagged, s_all, ss_all = 0, 0.0, 0.0
    for text, language, answered_at in rows:
        score = analyse_sentiment(text, language).score
        s_all, ss_all = s_all + score, ss_all + score * score
        keys = tag_themes(text, language, themes)
        untagged += not keys
        for key in keys:
            entry = tally[key]
            entry[0], entry[1], entry[2] = entry[0] + 1, entry[1] + score, entry[2] + score**2
            if len(entry[3]) < EXAMPLES and text not in seen[key]:
                seen[key].add(text)
                entry[3].append(Example(_cut(text), language, score, answered_at))
    order = {key: i for i, key in enumerate(themes)}
    summaries = [
        ThemeSummary(key, themes[key].name.get("en", key), n,
                     stats.proportion(n, len(rows)), stats.mean(n, s, ss, bounds=(-1, 1)),
                     tuple(examples))
        for key, (n, s, ss, examples) in tally.items() if n
    ]  # fmt: skip
    summaries.sort(key=lambda t: (-t.comments, order[t.key]))
    overall = stats.mean(len(rows), s_all, ss_all, bounds=(-1, 1))
    return CommentThemes(len(rows), int(total or 0), untagged, overall, tuple(summaries))


def _cut(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= EXAMPLE_CHARS else text[: EXAMPLE_CHARS - 1].rstrip() + "…"
