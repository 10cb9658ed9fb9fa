"""View 7: CSI drivers and comment themes. An importance/performance quadrant (how strongly
each driver's rating moves with the CSI, against how well it is rated), then what customers
write about: the themes of their comments, with sentiment and a few examples as plain text."""

from __future__ import annotations

from functools import lru_cache

from dash import html
from flask import current_app

from dashboards import figures as F
from dashboards import stats
from dashboards.queries import drivers as Q
from dashboards.views import View
from dashboards.widgets import empty_note, fmt, graph, html_json, number_table, stat_card
from feedback.analysis.sentiment import label_for

SENTIMENT_COLOURS = {"negative": F.VERMILLION, "neutral": F.GREY, "positive": F.GREEN}
SHOWN_THEMES = 6  # themes with example comments under the charts


@lru_cache(maxsize=8)
def _setup(directory: str):
    """Driver questions, their templates' names, and the theme taxonomy, from `directory`."""
    from feedback.analysis.store import themes_file
    from feedback.analysis.themes import load_themes
    from feedback.surveys.templates import load_templates

    templates = load_templates(directory)
    questions = tuple(Q.driver_questions(templates))
    names = {t: templates[t].name.get("en", t) for q in questions for t in q.templates}
    # The taxonomy the stored analyses were made with (their names and order).
    themes = load_themes(str(themes_file(directory)))
    return questions, names, themes


def _data(ctx):
    questions, names, themes = _setup(str(current_app.config["FEEDBACK_TEMPLATES_DIR"]))
    drivers = Q.driver_ratings(ctx.conn, ctx.filters, tz=ctx.tz, questions=questions)
    comments = Q.comment_themes(ctx.conn, ctx.filters, tz=ctx.tz, themes=themes,
                                examples_for=SHOWN_THEMES)  # fmt: skip
    return drivers, comments, names


# --- charts --------------------------------------------------------------------------------


def _quadrant_figure(drivers: Q.Drivers):
    data = []
    for enough in (True, False):
        rs = [r for r in drivers.ratings
              if r.enough == enough and r.importance.value is not None]  # fmt: skip
        if not rs:
            continue
        colour = F.BLUE if enough else F.FAINT
        imp, perf = [r.importance for r in rs], [r.performance for r in rs]
        data.append({
            "type": "scatter", "mode": "markers+text",
            "name": "driver" if enough else f"fewer than {stats.MIN_N} answers: too few",
            "x": [e.value for e in imp], "y": [e.value for e in perf],
            "text": [r.question.label + ("" if enough else " (too few)") for r in rs],
            "textposition": "top center", "textfont": {"size": 13},
            "marker": {"size": 12, "color": colour},
            "error_x": {"type": "data", "symmetric": False, "color": colour, "thickness": 1.2,
                        "array": [_up(e) for e in imp], "arrayminus": [_down(e) for e in imp]},
            "error_y": {"type": "data", "symmetric": False, "color": colour, "thickness": 1.2,
                        "array": [_up(e) for e in perf], "arrayminus": [_down(e) for e in perf]},
            "customdata": [_hover(r) for r in rs],
            "hovertemplate": "%{customdata}<extra></extra>",
        })  # fmt: skip
    shapes, annotations = [], []
    if drivers.importance_line is not None:
        line = {"type": "line", "line": {"color": F.GREY, "dash": "dash", "width": 1}}
        shapes = [{**line, "xref": "x", "yref": "paper", "x0": drivers.importance_line,
                   "x1": drivers.importance_line, "y0": 0, "y1": 1},
                  {**line, "xref": "paper", "yref": "y", "x0": 0, "x1": 1,
                   "y0": drivers.performance_line, "y1": drivers.performance_line}]  # fmt: skip
        corners = [(1, 0, "right", "bottom", Q.FIX_FIRST, F.VERMILLION),
                   (1, 1, "right", "top", Q.KEEP_UP, F.GREEN),
                   (0, 1, "left", "top", Q.OVERKILL, F.GREY),
                   (0, 0, "left", "bottom", Q.LOWER, F.GREY)]  # fmt: skip
        annotations = [{"xref": "paper", "yref": "paper", "x": x, "y": y, "xanchor": xa,
                        "yanchor": ya, "text": f"<b>{text}</b>", "showarrow": False,
                        "font": {"color": colour, "size": 13}}
                       for x, y, xa, ya, text, colour in corners]  # fmt: skip
    return F.figure(data, F.layout(
        "Drivers: importance against performance",
        xaxis={"title": {"text": "importance: correlation with CSI (r) →"}},
        yaxis={"title": {"text": "performance: mean rating (1–10) →"}, "zeroline": False},
        height=440, shapes=shapes, annotations=annotations, showlegend=len(data) > 1,
    ))  # fmt: skip


def _up(e: stats.Estimate):
    return None if e.high is None else e.high - e.value


def _down(e: stats.Estimate):
    return None if e.low is None else e.value - e.low


def _hover(r: Q.DriverRating) -> str:
    p, i = r.performance, r.importance
    return (
        f"<b>{r.question.label}</b>: {r.question.text}<br>"
        f"performance {fmt(p.value, 2)} / 10 (95 % CI {fmt(p.low, 2)} to {fmt(p.high, 2)}),"
        f" n={p.n:,}<br>importance r = {fmt(i.value, 2)} (95 % CI {fmt(i.low, 2)} to "
        f"{fmt(i.high, 2)}), n={i.n:,}<br>{r.quadrant or 'too few answers to place'}"
    )


def _themes_figure(comments: Q.CommentThemes):
    themes = list(reversed(comments.themes))  # the most mentioned on top
    labels = [f"{t.label} (n={t.comments:,})" for t in themes]
    share, mood = [t.share for t in themes], [t.sentiment for t in themes]
    mood_colours = [SENTIMENT_COLOURS[label_for(e.value)] if e.enough else F.FAINT
                    for e in mood]  # fmt: skip
    data = [{
        "type": "bar", "orientation": "h", "name": "share of comments", "y": labels,
        "x": [e.value for e in share],
        "marker": {"color": [F.SKY if e.enough else F.FAINT for e in share]},
        "error_x": {"type": "data", "symmetric": False, "color": F.INK, "thickness": 1,
                    "array": [_up(e) for e in share], "arrayminus": [_down(e) for e in share]},
        "customdata": [f"{t.label}: {fmt(t.share.value)} % of {comments.analysed:,} comments "
                       f"(95 % CI {fmt(t.share.low)} to {fmt(t.share.high)})" for t in themes],
        "hovertemplate": "%{customdata}<extra></extra>", "showlegend": False,
    }, {
        "type": "scatter", "mode": "markers", "name": "mean sentiment", "y": labels,
        "x": [e.value for e in mood], "xaxis": "x2", "showlegend": False,
        "marker": {"size": 11, "color": mood_colours},
        "error_x": {"type": "data", "symmetric": False, "color": F.INK, "thickness": 1,
                    "array": [_up(e) for e in mood], "arrayminus": [_down(e) for e in mood]},
        "customdata": [f"{t.label}: mean sentiment {fmt(t.sentiment.value, 2)} (95 % CI "
                       f"{fmt(t.sentiment.low, 2)} to {fmt(t.sentiment.high, 2)}), "
                       f"n={t.comments:,}" + ("" if t.sentiment.enough else ": too few")
                       for t in themes],
        "hovertemplate": "%{customdata}<extra></extra>",
    }]  # fmt: skip
    return F.figure(data, F.layout(
        "Comment themes: share and tone",
        height=110 + 34 * len(themes),
        xaxis={"domain": [0, 0.52], "title": {"text": "% of comments"}, "rangemode": "tozero"},
        xaxis2={"domain": [0.6, 1], "range": [-1, 1], "zeroline": True, "gridcolor": F.GRID,
                "zerolinecolor": "#9aa3b0", "title": {"text": "mean sentiment (−1 to 1)"}},
        yaxis={"automargin": True},
        margin={"l": 16, "r": 16, "t": 48, "b": 56},
    ))  # fmt: skip


# --- the view ------------------------------------------------------------------------------


def _cards(drivers: Q.Drivers, comments: Q.CommentThemes):
    trusted = [r for r in drivers.ratings if r.quadrant]
    fix = [r for r in trusted if r.quadrant == Q.FIX_FIRST]
    if fix:
        fix_card = stat_card("Fix first", ", ".join(r.question.label for r in fix),
                             "important, and rated below average")  # fmt: skip
    elif trusted:
        fix_card = stat_card("Fix first", "none", "no driver is both important and weak")
    else:
        fix_card = stat_card("Fix first", "—", "too few driver ratings", muted=True)
    cards = [fix_card]
    rated = [r for r in drivers.ratings if r.performance.n]
    if rated:
        weak = min(rated, key=lambda r: r.performance.value)
        cards.append(_estimate_card("Lowest rated (mean, 1–10)", weak.question.label,
                                    weak.performance, 1))  # fmt: skip
    with_r = [r for r in drivers.ratings if r.importance.value is not None]
    if with_r:
        top = max(with_r, key=lambda r: r.importance.value)
        cards.append(_estimate_card("Moves most with CSI (r)", top.question.label,
                                    top.importance, 2))  # fmt: skip
    if comments.themes:
        t = comments.themes[0]
        cards.append(stat_card(
            "Most mentioned theme", t.label,
            f"{fmt(t.share.value)} % of {comments.analysed:,} comments (CI {fmt(t.share.low)}"
            f"–{fmt(t.share.high)}) · {label_for(t.sentiment.value)}",
            muted=not t.share.enough))  # fmt: skip
    return html.Div(cards, className="dash-cards")


def _estimate_card(title: str, name: str, e: stats.Estimate, places: int):
    if not e.enough:
        return stat_card(title, f"{name} {fmt(e.value, places)}",
                         f"only {e.n} answers: too few to trust", muted=True)  # fmt: skip
    detail = f"95 % CI {fmt(e.low, places)} to {fmt(e.high, places)} · n={e.n:,}"
    return stat_card(title, f"{name} {fmt(e.value, places)}", detail)


def _no_drivers_note(ctx, names) -> str:
    pick = " or ".join(f"“All {t} surveys”" for t in names) or "a survey with driver questions"
    if ctx.filters.template_key and ctx.filters.template_key not in names:
        return (f"The {ctx.filters.template_key} survey asks no driver questions. "
                f"Drivers are rated in the {', '.join(names.values()) or '—'}: pick {pick} "
                "in the Survey filter.")  # fmt: skip
    return ("No driver ratings match these filters. Drivers (delivery, quality, service, "
            f"price …) are rated in the {', '.join(names.values()) or '—'}: pick {pick} in "
            "the Survey filter, or widen the period.")  # fmt: skip


def _examples(comments: Q.CommentThemes):
    blocks = []  # as html_json: a hundred elements, each a Dash component would cost 50 µs
    for t in comments.themes[:SHOWN_THEMES]:
        quotes = [html_json("Li", [
            html_json("Span", e.label, f"drivers-tone drivers-{e.label}"),
            html_json("Span", f" {e.language} · {e.answered_at:%-d %b %Y}", "drivers-when"),
            html_json("Q", e.text, "drivers-quote"),
        ]) for e in t.examples]  # fmt: skip
        blocks.append(html_json("Div", [
            html_json("H4", f"{t.label} · {t.comments:,} comment{'' if t.comments == 1 else 's'}"),
            html_json("Ul", quotes, "drivers-quotes"),
        ], "drivers-theme"))  # fmt: skip
    return html.Div([html.H3("What customers write (the newest comments per theme)"),
                     html.Div(blocks, className="drivers-themes")],
                    className="drivers-examples")  # fmt: skip


def render(ctx):
    drivers, comments, names = _data(ctx)
    out = [_cards(drivers, comments)]
    charts = []
    if any(r.importance.value is not None for r in drivers.ratings):
        charts.append(graph("drivers-quadrant", _quadrant_figure(drivers)))
    else:
        charts.append(empty_note(_no_drivers_note(ctx, names)))
    if comments.themes:
        charts.append(graph("drivers-themes", _themes_figure(comments)))
    else:
        charts.append(empty_note("No comments match these filters."))
    out.append(html.Div(charts, className="dash-grid"))
    if comments.themes:
        out.append(_examples(comments))
    driver_cols, driver_rows = _driver_rows(drivers)
    theme_cols, theme_rows = _theme_rows(comments)
    out.append(html.Details([
        html.Summary("The figures behind the charts"),
        number_table(driver_cols, driver_rows, numeric_from=2),
        number_table(theme_cols, theme_rows),
    ], className="dash-details"))  # fmt: skip
    out.append(html.P(_footnote(drivers, comments), className="dash-footnote"))
    return out


def _footnote(drivers: Q.Drivers, comments: Q.CommentThemes) -> str:
    read = (f"{comments.analysed:,} of the {comments.total:,} comments (the newest are "
            "analysed at the next refresh)"
            if comments.total > comments.analysed
            else f"all {comments.analysed:,} comments")  # fmt: skip
    return (
        "Performance is a driver's mean rating (1–10, 95 % interval mean ± 1.96 standard "
        "errors). Importance is the Pearson correlation between the driver's rating and the "
        "answer's CSI (0–100, which averages the satisfaction, expectations and ideal items), "
        "over answers that have both; its 95 % interval is Fisher's z. The dashed lines are "
        "the drivers' mean importance and mean performance; where intervals overlap, the "
        "order of the drivers is not certain. Correlation is not cause. "
        f"Drivers or themes with fewer than {stats.MIN_N} answers are grey. "
        f"Themes and sentiment cover {read} matching the filters, in every survey, as "
        "analysed when the dashboard's figures were last refreshed (keyword taxonomy; a "
        "comment can have several themes, so shares add up to more than 100 %; "
        f"{comments.untagged:,} mention none). Sentiment "
        "runs from −1 (negative) to 1 (positive), interval mean ± 1.96 standard errors; "
        "shares have Wilson intervals."
    )


def _driver_rows(drivers: Q.Drivers):
    columns = ["driver", "question", "n", "performance", "perf_ci_low", "perf_ci_high",
               "pairs_n", "importance_r", "r_ci_low", "r_ci_high", "quadrant"]  # fmt: skip
    rows = []
    for r in drivers.ratings:
        p, i = r.performance, r.importance
        rows.append([r.question.label, r.question.text, p.n, _r(p.value, 2), _r(p.low, 2),
                     _r(p.high, 2), i.n, _r(i.value, 3), _r(i.low, 3), _r(i.high, 3),
                     r.quadrant or "too few"])  # fmt: skip
    return columns, rows


def _theme_rows(comments: Q.CommentThemes):
    columns = ["theme", "comments", "share_pct", "share_ci_low", "share_ci_high",
               "sentiment", "sentiment_ci_low", "sentiment_ci_high"]  # fmt: skip
    rows = [[t.label, t.comments, _r(t.share.value, 1), _r(t.share.low, 1),
             _r(t.share.high, 1), _r(t.sentiment.value, 3), _r(t.sentiment.low, 3),
             _r(t.sentiment.high, 3)] for t in comments.themes]  # fmt: skip
    return columns, rows


def _r(value, places):
    return None if value is None else round(value, places)


def table(ctx):
    """Long format: one row per figure (section, item, measure), for a spreadsheet's pivot."""
    drivers, comments, _ = _data(ctx)
    columns = ["section", "key", "label", "measure", "value", "ci_low", "ci_high", "n",
               "quadrant"]  # fmt: skip
    rows = []
    for r in drivers.ratings:
        for measure, e, places in (("performance", r.performance, 2),
                                   ("importance_r", r.importance, 3)):  # fmt: skip
            rows.append(
                [
                    "driver",
                    r.question.key,
                    r.question.text,
                    measure,
                    _r(e.value, places),
                    _r(e.low, places),
                    _r(e.high, places),
                    e.n,
                    r.quadrant or "too few",
                ]
            )
    for t in comments.themes:
        rows.append(["theme", t.key, t.label, "comments", t.comments, None, None,
                     comments.analysed, None])  # fmt: skip
        rows.append(["theme", t.key, t.label, "share_pct", _r(t.share.value, 1),
                     _r(t.share.low, 1), _r(t.share.high, 1), comments.analysed, None])  # fmt: skip
        rows.append(
            [
                "theme",
                t.key,
                t.label,
                "mean_sentiment",
                _r(t.sentiment.value, 3),
                _r(t.sentiment.low, 3),
                _r(t.sentiment.high, 3),
                t.comments,
                None,
            ]
        )
    if comments.analysed:
        e = comments.sentiment
        rows.append(
            [
                "comments",
                "all",
                f"{comments.analysed} analysed of {comments.total}",
                "mean_sentiment",
                _r(e.value, 3),
                _r(e.low, 3),
                _r(e.high, 3),
                e.n,
                None,
            ]
        )
    return columns, rows


VIEW = View(
    key="drivers",
    label="CSI drivers & themes",
    question="What drives satisfaction, where are we weak, and what do customers write about?",
    render=render,
    table=table,
)
