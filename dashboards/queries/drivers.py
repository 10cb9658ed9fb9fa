"""View 7: what drives satisfaction, and what customers write about.

Drivers: for each driver question (a rating marked `driver:` in a template), performance is
the mean rating (1–10) and importance the Pearson correlation between that rating and the
answer's CSI (0–100), over the answers that carry both. The CSI stands for overall
satisfaction rather than its single `satisfaction` item: it is the index the other views
report, it averages three items so it is less noisy (a noisy outcome understates every
correlation alike), and it sits on the response row, so no second pass over the answers.
The sums behind both come from the driver_days facts, grouped by question; the statistics
are computed here.

Themes: each comment's sentiment and themes are stored when it is analysed (by the facts
job, feedback.analysis.store), and counted per day and theme in the theme_days facts, so
the shares and mean sentiments cover every analysed comment in the period, not a sample.
`analysed` can fall short of `total` (the comments in answer_days) only while the job has
not yet analysed new comments. Example comments are the newest per theme, found among the
newest comments in scope, or for a rare theme through an index on (theme, answered_at)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import and_, func, literal, or_, select, union_all

from dashboards import stats
from dashboards.filters import Filters
from dashboards.periods import local_midnight_utc
from dashboards.queries.scope import (
    fact_conditions,
    join_customers,
    latest_run_id,
    needs_customers,
    scoped_answer_days,
    survey_conditions,
)
from feedback.analysis.models import CommentAnalysis, CommentTheme
from feedback.analysis.sentiment import label_for
from feedback.analysis.themes import Theme, load_themes
from feedback.customers.models import CustomerSegment
from feedback.list_filters import segment_conditions
from feedback.reporting.models import ALL_COMMENTS, NO_THEME, AnswerDay, DriverDay, ThemeDay
from feedback.responses.models import Response
from feedback.surveys.models import Survey, Wave

EXAMPLES = 3  # example comments shown per theme
# The newest comments read per theme for its examples; a text repeated among them (a
# stock phrase) is shown once, so a theme may show fewer than EXAMPLES.
EXAMPLE_ROWS = 4 * EXAMPLES
NEWEST_COMMENTS = 500  # the newest comments in scope whose themes give most examples
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
    analysed: int  # comments matching the filters that have been analysed
    total: int  # comments matching the filters (more than analysed while the job lags)
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


def comment_themes(conn, filters: Filters, *, tz: ZoneInfo,
                   themes: Mapping[str, Theme] | None = None,
                   examples_for: int | None = None) -> CommentThemes:  # fmt: skip
    """Themes and sentiment of every analysed comment that matches `filters`, with example
    comments for the `examples_for` most mentioned themes (all by default)."""
    themes = themes if themes is not None else load_themes()
    t = ThemeDay
    stmt = (
        select(t.theme_key, func.sum(t.n), func.sum(t.s), func.sum(t.ss))
        .where(t.day >= filters.start, t.day <= filters.end, *fact_conditions(t, filters))
        .group_by(t.theme_key)
    )
    sums = {key: (int(n), float(s), float(ss)) for key, n, s, ss in conn.execute(stmt)}
    analysed, s_all, ss_all = sums.get(ALL_COMMENTS, (0, 0.0, 0.0))
    total = conn.scalar(scoped_answer_days([func.sum(AnswerDay.comments)], filters))
    # Keys no longer in the taxonomy are left out until the job analyses their comments again.
    order = {key: i for i, key in enumerate(themes)}
    mentioned = sorted((key for key in sums if key in order),
                       key=lambda key: (-sums[key][0], order[key]))  # fmt: skip
    shown = mentioned[:examples_for]
    examples = _examples(conn, filters, tz, {key: sums[key][0] for key in shown})
    summaries = []
    for key in mentioned:
        n, s, ss = sums[key]
        summaries.append(ThemeSummary(key, themes[key].name.get("en", key), n,
                                      stats.proportion(n, analysed),
                                      stats.mean(n, s, ss, bounds=(-1, 1)),
                                      examples.get(key, ())))  # fmt: skip
    overall = stats.mean(analysed, s_all, ss_all, bounds=(-1, 1))
    untagged = sums.get(NO_THEME, (0,))[0]
    return CommentThemes(analysed, int(total or 0), untagged, overall, tuple(summaries))


def _examples(conn, filters: Filters, tz: ZoneInfo,
              counts: Mapping[str, int]) -> dict[str, tuple[Example, ...]]:  # fmt: skip
    """The newest distinct comments of each theme in `counts` (theme key: its comments in
    scope) that match `filters`. First the themes of the newest NEWEST_COMMENTS comments in
    scope (read newest first, whatever the filters); then, for a theme too rare to fill its
    EXAMPLE_ROWS among those, its own newest (a walk down the index of its comments)."""
    if not counts:
        return {}
    ct, ca = CommentTheme, CommentAnalysis
    run_id, (start, end) = latest_run_id(conn), _window(filters, tz)
    columns = [ct.theme_key, ct.answered_at, ct.response_id, Response.comment,
               Response.language, ca.sentiment]  # fmt: skip
    newest_first = (ct.answered_at.desc(), ct.response_id.desc())
    newest = (  # with the text and language read on the way, not looked up again
        _commented([Response.id, Response.comment, Response.language], filters, run_id,
                   start, end)
        .order_by(Response.answered_at.desc(), Response.id.desc())
        .limit(NEWEST_COMMENTS)
        .subquery()
    )  # fmt: skip
    rank = func.row_number().over(partition_by=ct.theme_key, order_by=newest_first)
    ranked = (
        select(
            ct.theme_key,
            ct.answered_at,
            ct.response_id,
            newest.c.comment,
            newest.c.language,
            ca.sentiment,
            rank.label("rank"),
        )
        .select_from(newest)
        .join(ct, ct.response_id == newest.c.id)
        .join(ca, ca.response_id == newest.c.id)
        .where(ct.theme_key.in_(list(counts)))
        .subquery()
    )
    rows = conn.execute(select(ranked).where(ranked.c.rank <= EXAMPLE_ROWS)).all()
    read: dict[str, int] = defaultdict(int)
    for row in rows:
        read[row.theme_key] += 1
    rare = [key for key, n in counts.items() if read[key] < min(n, EXAMPLE_ROWS)]
    if rare:
        per_theme = [
            _commented(columns, filters, run_id, start, end)
            .join(ct, ct.response_id == Response.id)
            .join(ca, ca.response_id == Response.id)
            .where(ct.theme_key == key, ct.answered_at >= start, ct.answered_at < end)
            .order_by(*newest_first)
            .limit(EXAMPLE_ROWS)
            .subquery()
            for key in rare
        ]
        rows += conn.execute(union_all(*[select(q) for q in per_theme])).all()
    rows.sort(key=lambda row: (row.answered_at, row.response_id), reverse=True)
    found: dict[str, list[Example]] = defaultdict(list)
    seen: set[tuple[str, str]] = set()
    for row in rows:
        key, text = row.theme_key, row.comment
        if len(found[key]) < EXAMPLES and (key, text) not in seen:
            seen.add((key, text))
            found[key].append(Example(_cut(text), row.language, row.sentiment, row.answered_at))
    return {key: tuple(found[key]) for key in counts}


def _commented(columns, filters: Filters, run_id: int | None, start: datetime, end: datetime):
    """SELECT `columns` FROM the answers with a comment in scope (a comment emptied since
    its analysis is left out): scoped_answers, but joining customers only for an owner or
    team; for a class or programme the segment is enough (PostgreSQL hashed all customers
    for the join: 30 ms of a 40 ms statement)."""
    stmt = (
        select(*columns)
        .select_from(Response)
        .join(Wave, Wave.id == Response.wave_id)
        .join(Survey, Survey.id == Wave.survey_id)
        .where(Response.answered_at >= start, Response.answered_at < end)
        .where(Response.comment != "", *survey_conditions(filters))
    )
    if filters.language:
        stmt = stmt.where(Response.language == filters.language)
    if not needs_customers(filters):
        return stmt
    if filters.wave is not None and filters.owner is None and filters.team is None:
        # A class or programme in one wave: look up each answer's segment as the answers
        # are read newest first, so the read stops at the limit. A scalar subquery, since
        # PostgreSQL turns a join or EXISTS into hashing all the class's segments first
        # (25,000 for A and B: the statement took 28 ms, now 7). The look-ups stay within the
        # wave's answers even when few match.
        seg = CustomerSegment
        in_segment = select(literal(1)).where(
            seg.customer_id == Response.customer_id, seg.run_id == run_id,
            *segment_conditions(filters, seg.abc_class, seg.programme),
        ).scalar_subquery()  # fmt: skip
        return stmt.where(in_segment.is_not(None))
    return join_customers(stmt, Response.customer_id, filters, run_id, customer=False)


def _cut(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= EXAMPLE_CHARS else text[: EXAMPLE_CHARS - 1].rstrip() + "…"
