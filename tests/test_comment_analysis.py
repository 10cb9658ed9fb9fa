"""Stored comment analysis (feedback.analysis.store) and the theme_days facts built from it:
new, edited, emptied and deleted comments, a changed taxonomy or analyser, batches and
limits, and theme_days' sums on a hand-made set with known answers."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import delete, func, select

from feedback.analysis import store
from feedback.analysis.models import CommentAnalysis, CommentTheme
from feedback.analysis.sentiment import analyse_sentiment
from feedback.analysis.themes import default_path
from feedback.extensions import db
from feedback.reporting.facts import rebuild_facts
from feedback.reporting.models import AnswerDay, ThemeDay
from feedback.responses.models import Response

JAN = datetime(2025, 1, 15, 12, tzinfo=UTC)
LATE_JAN = datetime(2025, 1, 31, 23, 30, tzinfo=UTC)  # 1 February in Copenhagen
LATE = "The delivery was late again."  # delivery, negative
PRAISE = "Great prices and friendly staff."  # price and staff, positive
BOTH = "The invoice was wrong and the delivery late."  # delivery and invoicing
NOTHING = "Nothing to add."  # no theme, neutral
SENT = "Leveransen kom för sent."  # Swedish: delivery, negative


def _analyses() -> dict[int, tuple[float, str]]:
    rows = db.session.execute(select(CommentAnalysis.response_id, CommentAnalysis.sentiment,
                                     CommentAnalysis.fingerprint))  # fmt: skip
    return {id_: (sentiment, mark) for id_, sentiment, mark in rows}


def _themes() -> set[tuple[int, str]]:
    return set(db.session.execute(select(CommentTheme.response_id, CommentTheme.theme_key)))


def _score(text: str, language: str = "en") -> float:
    return analyse_sentiment(text, language).score


def _analyse(*args, **kwargs) -> int:
    count = store.analyse_pending(*args, **kwargs)
    db.session.commit()
    return count


def test_new_comments_are_analysed_once(answer):
    late = answer(3, comment=LATE, answered_at=JAN)
    praise = answer(9, comment=PRAISE, answered_at=JAN)
    quiet = answer(7, comment=NOTHING, answered_at=JAN)
    answer(8, answered_at=JAN)  # no comment: nothing to analyse
    assert _analyse() == 3
    mark = store.fingerprint(default_path())
    assert _analyses() == {late: (_score(LATE), mark), praise: (_score(PRAISE), mark),
                           quiet: (0.0, mark)}  # fmt: skip
    assert _themes() == {(late, "delivery"), (praise, "price"), (praise, "staff")}
    assert set(db.session.scalars(select(CommentTheme.answered_at))) == {JAN}
    stamps = set(db.session.scalars(select(CommentAnalysis.analysed_at)))
    assert _analyse() == 0  # a second run finds nothing to do and changes nothing
    assert set(db.session.scalars(select(CommentAnalysis.analysed_at))) == stamps
    assert len(_analyses()) == 3 and len(_themes()) == 3


def test_an_edited_comment_is_analysed_again_and_an_emptied_one_forgotten(answer):
    edited = answer(3, comment=LATE, answered_at=JAN)
    emptied = answer(4, comment=BOTH, answered_at=JAN)
    kept = answer(9, comment=PRAISE, answered_at=JAN)
    assert _analyse() == 3
    db.session.get(Response, edited).comment = PRAISE  # saved again: updated_at moves on
    db.session.get(Response, emptied).comment = ""
    db.session.commit()
    assert _analyse() == 1
    assert set(_analyses()) == {edited, kept}
    assert _analyses()[edited][0] == _score(PRAISE)
    assert _themes() == {(edited, "price"), (edited, "staff"), (kept, "price"), (kept, "staff")}
    assert _analyse() == 0


def test_a_deleted_response_takes_its_analysis_with_it(answer):
    gone, kept = answer(3, comment=BOTH), answer(9, comment=PRAISE)
    _analyse()
    db.session.execute(delete(Response).where(Response.id == gone))
    db.session.commit()
    assert set(_analyses()) == {kept} and {r for r, _ in _themes()} == {kept}


def test_a_changed_taxonomy_or_analyser_analyses_everything_again(answer, tmp_path,
                                                                  monkeypatch):  # fmt: skip
    late, quiet = answer(3, comment=LATE), answer(7, comment=NOTHING)
    _analyse()
    taxonomy = tmp_path / "themes.yaml"
    languages = ("en", "da", "sv", "nb")
    taxonomy.write_text(
        "themes:\n  remarks:\n"
        f"    name: {{{', '.join(f'{lang}: Remarks' for lang in languages)}}}\n"
        "    keywords:\n" + "".join(f"      {lang}: [nothing]\n" for lang in languages),
        encoding="utf-8",
    )
    new_mark = store.fingerprint(taxonomy)
    assert new_mark != store.fingerprint(default_path())
    assert _analyse(taxonomy) == 2
    assert _themes() == {(quiet, "remarks")}
    assert {mark for _, mark in _analyses().values()} == {new_mark}
    assert _analyse(taxonomy) == 0
    monkeypatch.setattr(store, "SENTIMENT_VERSION", store.SENTIMENT_VERSION + 1)
    assert store.fingerprint(taxonomy) != new_mark
    assert _analyse(taxonomy) == 2
    assert set(_analyses()) == {late, quiet}


def test_batches_and_a_limit_newest_first(answer):
    ids = [answer(5, comment=f"{LATE} ({i})", answered_at=JAN) for i in range(5)]
    assert _analyse(batch=2, limit=3) == 3
    assert set(_analyses()) == set(ids[2:])  # the newest three
    assert _analyse(batch=2) == 2
    assert set(_analyses()) == set(ids)
    assert _themes() == {(id_, "delivery") for id_ in ids}


def test_the_themes_file_beside_the_templates_wins(tmp_path):
    assert store.themes_file(tmp_path) == default_path()
    (tmp_path / "themes.yaml").write_text("themes: {}\n", encoding="utf-8")
    assert store.themes_file(tmp_path) == tmp_path / "themes.yaml"
    assert store.themes_file(None) == default_path()


# --- theme_days ----------------------------------------------------------------------------


def test_theme_days_count_every_analysed_comment(app, answer):
    for text in (LATE, PRAISE, BOTH, NOTHING):
        answer(5, "A", "grow", comment=text, answered_at=JAN)
    answer(2, "C", "retain", comment=SENT, language="sv", answered_at=LATE_JAN)
    answer(8, "A", "grow", answered_at=JAN)  # no comment: in no theme row
    result = rebuild_facts(app.config)
    db.session.commit()
    assert result.rows["comment_analyses"] == 5
    assert rebuild_facts(app.config).rows["comment_analyses"] == 0
    db.session.commit()

    t = ThemeDay
    found: dict[tuple, list[float]] = defaultdict(lambda: [0, 0.0, 0.0])
    for day, language, klass, programme, template, key, n, s, ss in db.session.execute(
        select(t.day, t.language, t.abc_class, t.programme, t.template_key, t.theme_key,
               t.n, t.s, t.ss)
    ):  # fmt: skip
        sums = found[(day, language, klass, programme, template, key)]
        sums[0], sums[1], sums[2] = sums[0] + n, sums[1] + s, sums[2] + ss
    expected: dict[tuple, list[float]] = defaultdict(lambda: [0, 0.0, 0.0])
    comments = {LATE: ["delivery"], PRAISE: ["price", "staff"], BOTH: ["delivery", "invoicing"],
                NOTHING: ["-"]}  # fmt: skip
    jan = (date(2025, 1, 15), "en", "A", "grow", "nps")
    for text, keys in comments.items():
        score = _score(text)
        for key in [*keys, "*"]:
            sums = expected[(*jan, key)]
            sums[0], sums[1], sums[2] = sums[0] + 1, sums[1] + score, sums[2] + score**2
    feb = (date(2025, 2, 1), "sv", "C", "retain", "nps")  # local day of 23:30 UTC
    for key in ("delivery", "*"):
        expected[(*feb, key)] = [1, _score(SENT, "sv"), _score(SENT, "sv") ** 2]
    assert set(found) == set(expected)
    for key, (n, s, ss) in expected.items():
        assert found[key] == [n, pytest.approx(s), pytest.approx(ss)], key
    # Every comment in answer_days is analysed: the view's "n of m" agree after a build.
    analysed = db.session.scalar(select(func.sum(t.n)).where(t.theme_key == "*"))
    assert analysed == db.session.scalar(select(func.sum(AnswerDay.comments))) == 5


def test_theme_days_are_empty_without_comments(app, answer):
    answer(9)
    assert rebuild_facts(app.config).rows["theme_days"] == 0
