"""View 7, CSI drivers and comment themes: the quadrants, the driver and theme queries on a
hand-made data set with known answers (themes from the stored comment analyses, see also
test_comment_analysis.py), every filter, the view's render and CSV table, comments shown as
text, and empty input."""

from __future__ import annotations

import math
import secrets
import statistics
from datetime import UTC, date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from dashboards import stats
from dashboards.filters import Filters
from dashboards.queries import drivers as Q
from feedback.analysis.sentiment import analyse_sentiment
from feedback.extensions import db
from feedback.surveys.templates import load_templates
from tests.support.dash_tree import as_json, kind, prop, walk
from tests.support.dashboard_world import rebuild_answer_facts

CPH = ZoneInfo("Europe/Copenhagen")
QUESTIONS = tuple(Q.driver_questions(load_templates()))
SCRIPT = "<script>alert(1)</script> The delivery is great."

# --- pure statistics -----------------------------------------------------------------------


def test_quadrants_split_at_the_mean_of_trusted_drivers():
    def est(value, n=100):
        return stats.Estimate(value, value - 0.1, value + 0.1, 0.05, n)

    q = {x.key: x for x in QUESTIONS}
    d = Q.place_in_quadrants([
        (q["delivery"], est(6.0), est(0.8)),  # important, weak
        (q["quality"], est(8.0), est(0.7)),  # important, strong
        (q["service"], est(8.0), est(0.3)),  # less important, strong
        (q["price"], est(5.0, n=10), est(0.9, n=10)),  # too few: neither placed nor counted
    ])  # fmt: skip
    assert d.importance_line == pytest.approx(0.6) and d.performance_line == pytest.approx(22 / 3)
    assert [r.quadrant for r in d.ratings] == [Q.FIX_FIRST, Q.KEEP_UP, Q.OVERKILL, None]
    assert not d.ratings[3].enough
    assert Q.place_in_quadrants([]) == Q.Drivers((), None, None)


def test_driver_questions_come_from_the_templates():
    assert [q.key for q in QUESTIONS] == ["delivery", "quality", "service", "price"]
    assert all(q.templates == ("relationship",) for q in QUESTIONS)
    assert QUESTIONS[0].label == "Delivery" and QUESTIONS[0].text.startswith("How satisfied")


# --- a hand-made data set ------------------------------------------------------------------

JAN, FEB = datetime(2025, 1, 15, 12, tzinfo=UTC), datetime(2025, 2, 10, 12, tzinfo=UTC)


@pytest.fixture
def world(create_customer, create_user):
    """A relationship survey with two waves and an NPS survey. Class A (owner in team Nord,
    English): 40 January answers rating delivery, quality and (5 of them) service. Class C
    (retain, team Syd, Swedish): 6 February answers in the second wave. Price: never rated."""
    from feedback.customers.models import Contact, CustomerSegment, SegmentRun
    from feedback.responses.models import Answer, Response
    from feedback.surveys.models import Invitation, Survey, TemplateVersion, Wave

    owner = create_user(role="agent", name="Åse Ejer", team="Nord")
    other = create_user(role="agent", name="Other Owner", team="Syd")
    run = SegmentRun(as_of=date(2025, 6, 30), thresholds="50,30,15", base_currency="EUR")
    db.session.add(run)
    db.session.flush()
    waves = {}
    for key, names in (("relationship", ("first", "second")), ("nps", ("nps",))):
        version = TemplateVersion(template_key=key, version=1, content_hash=key, content={})
        survey = Survey(name=f"{key} survey", template_key=key)
        db.session.add_all([version, survey])
        db.session.flush()
        for name in names:
            waves[name] = Wave(survey_id=survey.id, status="closed", template_version_id=version.id,
                               closes_at=datetime(2025, 12, 31, tzinfo=UTC),
                               sent_at=datetime(2025, 1, 1, tzinfo=UTC))  # fmt: skip
            db.session.add(waves[name])
    db.session.flush()

    def customer(klass, programme, who, language):
        c = create_customer(owner=who, language=language)
        db.session.add(
            CustomerSegment(
                run_id=run.id,
                customer_id=c.id,
                abc_class=klass,
                programme=programme,
                revenue_12m=Decimal(1),
                rank=1,
            )
        )
        return c

    def respond(c, wave, at, csi, ratings, comment="", language="en"):
        # one contact per answer: a contact is invited once per wave
        contact = Contact(customer_id=c.id, email=f"{secrets.token_hex(6)}@x.test",
                          language=language)  # fmt: skip
        db.session.add(contact)
        db.session.flush()
        inv = Invitation(wave_id=wave.id, contact_id=contact.id, customer_id=c.id,
                         token=secrets.token_urlsafe(24), language=language, state="answered",
                         sent_at=at, answered_at=at)  # fmt: skip
        db.session.add(inv)
        db.session.flush()
        response = Response(invitation_id=inv.id, wave_id=wave.id, customer_id=c.id,
                            template_version_id=wave.template_version_id, score=8, csi=csi,
                            comment=comment, language=language, answered_at=at,
                            updated_at=at)  # fmt: skip
        db.session.add(response)
        db.session.flush()
        db.session.add_all([Answer(response_id=response.id, question_key=k, score=v)
                            for k, v in ratings.items()])  # fmt: skip

    a = customer("A", "grow", owner, "en")
    c = customer("C", "retain", other, "sv")
    pairs = {"delivery": [], "quality": [], "service": []}  # (rating, csi) per driver
    for i in range(40):
        d, q = 2 + i % 8, 8 + i % 3
        csi = (d - 1) / 9 * 100 + (3 if i % 2 else -3)  # delivery moves with the CSI
        ratings = {"delivery": d, "quality": q, "satisfaction": d}
        if i < 5:
            ratings["service"] = 4 + i
        for key in pairs:
            if key in ratings:
                pairs[key].append((ratings[key], csi))
        respond(a, waves["first"], JAN, csi, ratings)
    for i in range(6):
        respond(c, waves["second"], FEB, 90.0, {"delivery": 9 + i % 2, "quality": 10},
                language="sv")  # fmt: skip
        pairs["delivery"].append((9 + i % 2, 90.0))
        pairs["quality"].append((10, 90.0))
    # An NPS answer carrying a stray "delivery" answer: not a driver there, never counted.
    respond(a, waves["nps"], JAN, 0.0, {"delivery": 1})
    db.session.commit()
    rebuild_answer_facts()  # the driver sums come from driver_days
    return {"owner": owner, "other": other, "waves": waves, "pairs": pairs, "respond": respond,
            "a": a, "c": c}  # fmt: skip


def _filters(**changes):
    return Filters(start=date(2025, 1, 1), end=date(2025, 3, 31)).but(**changes)


def _drivers(f):
    return Q.driver_ratings(db.session.connection(), f, tz=CPH, questions=QUESTIONS)


def _by_key(d):
    return {r.question.key: r for r in d.ratings}


def test_driver_ratings_with_known_answers(world):
    d = _drivers(_filters())
    rated = _by_key(d)
    assert list(rated) == ["delivery", "quality", "service"]  # price never rated
    for key in rated:
        xs = [x for x, _ in world["pairs"][key]]
        ys = [y for _, y in world["pairs"][key]]
        p, i = rated[key].performance, rated[key].importance
        assert p.n == len(xs) and i.n == len(xs)
        assert p.value == pytest.approx(statistics.fmean(xs))
        se = statistics.stdev(xs) / math.sqrt(len(xs))
        assert p.low == pytest.approx(p.value - 1.959964 * se)
        r = statistics.correlation(xs, ys)
        assert i.value == pytest.approx(r)
        if len(xs) > 3:
            z, half = math.atanh(r), 1.959964 / math.sqrt(len(xs) - 3)
            assert (i.low, i.high) == (pytest.approx(math.tanh(z - half)),
                                       pytest.approx(math.tanh(z + half)))  # fmt: skip
    assert rated["delivery"].performance.n == 46 and rated["service"].performance.n == 5
    assert rated["delivery"].quadrant == Q.FIX_FIRST  # moves with CSI, rated lower
    assert rated["quality"].quadrant == Q.OVERKILL
    assert rated["service"].quadrant is None and not rated["service"].enough
    lines = (rated["delivery"].importance.value + rated["quality"].importance.value) / 2
    assert d.importance_line == pytest.approx(lines)


@pytest.mark.parametrize("changes, n", [
    ({}, 46),
    ({"classes": ("A",)}, 40),
    ({"classes": ("C",), "programme": "retain"}, 6),
    ({"programme": "grow", "classes": ("C",)}, 0),
    ({"language": "sv"}, 6),
    ({"start": date(2025, 2, 1), "end": date(2025, 2, 28)}, 6),
    ({"start": date(2025, 3, 1)}, 0),
    ({"survey": "relationship"}, 46),
    ({"survey": "nps"}, 0),
])  # fmt: skip
def test_filters_narrow_the_driver_answers(world, changes, n):
    rated = _by_key(_drivers(_filters(**changes)))
    assert (rated["delivery"].performance.n if "delivery" in rated else 0) == n


def test_owner_team_survey_and_wave_filters(world):
    owner, other, waves = world["owner"], world["other"], world["waves"]
    n = lambda f: sum(r.performance.n for r in _drivers(f).ratings)  # noqa: E731
    assert n(_filters()) == 46 + 46 + 5
    assert n(_filters(owner=owner.id)) == 85 and n(_filters(owner="none")) == 0
    assert n(_filters(team=other.team_id)) == 12
    assert n(_filters(wave=waves["second"].id)) == 12
    assert n(_filters(survey=str(waves["first"].survey_id))) == 97
    assert n(_filters(survey=str(waves["nps"].survey_id))) == 0


def test_no_answers_at_all():
    d = _drivers(_filters())
    assert d == Q.Drivers((), None, None)
    c = Q.comment_themes(db.session.connection(), _filters(), tz=CPH)
    assert (c.analysed, c.total, c.untagged, c.themes) == (0, 0, 0, ())
    assert c.sentiment == stats.EMPTY
    assert Q.driver_ratings(db.session.connection(), _filters(), tz=CPH, questions=()) == d


# --- comment themes ------------------------------------------------------------------------

COMMENTS = [  # (text, minutes after the first)
    ("The delivery was late again.", 0),
    ("Great prices and friendly staff.", 1),
    ("Invoice errors every month.", 2),
    (SCRIPT, 3),
    ("Nothing to add.", 4),
]


@pytest.fixture
def commented(world):
    from datetime import timedelta

    for text, minutes in COMMENTS:
        world["respond"](world["a"], world["waves"]["nps"], JAN + timedelta(minutes=minutes),
                         None, {}, comment=text)  # fmt: skip
    world["respond"](world["c"], world["waves"]["nps"], FEB, None, {},
                     comment="Leveransen kom för sent.", language="sv")  # fmt: skip
    db.session.commit()
    rebuild_answer_facts()
    return world


def _themes(f, **kw):
    return Q.comment_themes(db.session.connection(), f, tz=CPH, **kw)


def test_comment_themes_with_known_answers(commented):
    c = _themes(_filters(language="en"))
    assert (c.analysed, c.total, c.untagged) == (5, 5, 1)
    counts = {t.key: t.comments for t in c.themes}
    assert counts == {"delivery": 2, "price": 1, "invoicing": 1, "staff": 1}
    assert [t.key for t in c.themes][:1] == ["delivery"]  # most mentioned first
    delivery = c.themes[0]
    assert delivery.label == "Delivery"
    assert delivery.share == stats.proportion(2, 5)
    scores = [analyse_sentiment(t, "en").score for t in (COMMENTS[0][0], SCRIPT)]
    assert delivery.sentiment.value == pytest.approx(statistics.fmean(scores))
    assert delivery.sentiment.n == 2 and not delivery.sentiment.enough
    assert [e.text for e in delivery.examples] == [SCRIPT, COMMENTS[0][0]]  # newest first
    assert delivery.examples[0].label == "positive" and delivery.examples[1].label == "negative"
    everything = [analyse_sentiment(t, "en").score for t, _ in COMMENTS]
    assert c.sentiment.value == pytest.approx(statistics.fmean(everything))


def test_comment_filters_narrow_counts_and_examples(commented):
    every = _themes(_filters())
    assert (every.analysed, every.total, every.untagged) == (6, 6, 1)
    (delivery,) = [t for t in every.themes if t.key == "delivery"]
    assert delivery.comments == 3 and delivery.share == stats.proportion(3, 6)
    assert [e.text for e in delivery.examples] == ["Leveransen kom för sent.", SCRIPT,
                                                   COMMENTS[0][0]]  # fmt: skip
    assert [e.language for e in delivery.examples] == ["sv", "en", "en"]
    sv = _themes(_filters(classes=("C",)))
    assert sv.analysed == 1 and [t.key for t in sv.themes] == ["delivery"]
    assert [e.text for e in sv.themes[0].examples] == ["Leveransen kom för sent."]
    assert sv.themes[0].examples[0].sentiment == analyse_sentiment(
        "Leveransen kom för sent.", "sv").score  # fmt: skip
    team = _themes(_filters(team=commented["other"].team_id))
    assert team.analysed == 1 and team.themes[0].examples[0].language == "sv"
    assert _themes(_filters(owner=commented["owner"].id)).analysed == 5
    february = _themes(_filters(start=date(2025, 2, 1)))
    assert february.analysed == 1 and len(february.themes[0].examples) == 1
    january = _themes(_filters(end=date(2025, 1, 31)))  # 23:30 UTC on 31 Jan is February's
    assert january.analysed == 5 and "Leveransen kom för sent." not in [
        e.text for t in january.themes for e in t.examples]  # fmt: skip
    assert _themes(_filters(survey="relationship")).analysed == 0
    assert _themes(_filters(wave=commented["waves"]["nps"].id)).analysed == 6
    assert _themes(_filters(wave=commented["waves"]["first"].id)).themes == ()
    # in one wave a class or programme is looked up per answer, not joined: same figures
    in_wave = {"wave": commented["waves"]["nps"].id}
    assert _themes(_filters(classes=("C",), **in_wave)) == sv
    for changes in ({"programme": "retain"}, {"programme": "grow"}, {"classes": ("A", "B")}):
        assert _themes(_filters(**changes, **in_wave)) == _themes(_filters(**changes))


def test_survey_and_wave_filters_apply_to_the_examples(commented):
    from datetime import timedelta

    waves, text = commented["waves"], "Relationship: the delivery was late."
    commented["respond"](commented["a"], waves["second"], FEB + timedelta(hours=1), 50.0,
                         {"delivery": 3}, comment=text)  # fmt: skip
    db.session.commit()
    rebuild_answer_facts()

    def delivery_examples(**changes):
        (delivery,) = [t for t in _themes(_filters(**changes)).themes if t.key == "delivery"]
        return [e.text for e in delivery.examples]

    assert delivery_examples()[0] == text  # the newest of all
    assert delivery_examples(survey="relationship") == [text]
    assert delivery_examples(wave=waves["second"].id) == [text]
    assert text not in delivery_examples(survey="nps")
    assert text not in delivery_examples(wave=waves["nps"].id)


def test_rare_themes_find_examples_beyond_the_newest_comments(commented, monkeypatch):
    in_wave = {"wave": commented["waves"]["nps"].id}
    scopes = [_filters(), _filters(language="en"), _filters(classes=("C",)),
              _filters(classes=("A", "C"), **in_wave)]  # fmt: skip
    expected = [_themes(f) for f in scopes]
    assert all(t.examples for c in expected for t in c.themes)
    monkeypatch.setattr(Q, "NEWEST_COMMENTS", 1)  # every theme but the newest one's is rare
    assert [_themes(f) for f in scopes] == expected


def test_examples_only_for_the_themes_shown(commented):
    c = _themes(_filters(), examples_for=1)
    assert [t.key for t in c.themes][:1] == ["delivery"] and len(c.themes[0].examples) == 3
    assert all(t.examples == () for t in c.themes[1:]) and len(c.themes) == 4


def test_comments_the_job_has_not_analysed_yet_are_counted_apart(commented):
    """Between a new comment and the next job run: n of m analysed, the new one in neither
    the shares nor the examples."""
    from feedback.reporting.answers import rebuild_answer_days

    commented["respond"](commented["a"], commented["waves"]["nps"], FEB, None, {},
                         comment="The delivery was late, again.")  # fmt: skip
    db.session.commit()
    rebuild_answer_days(CPH)  # answer_days sees it; the analysis has not run
    db.session.commit()
    c = _themes(_filters())
    assert (c.analysed, c.total) == (6, 7)
    assert c.themes[0].comments == 3
    assert "The delivery was late, again." not in [e.text for e in c.themes[0].examples]
    from dashboards.views.drivers import VIEW

    assert "cover 6 of the 7 comments" in as_json(VIEW.render(_context(_filters())))
    rebuild_answer_facts()  # the job catches up
    c = _themes(_filters())
    assert (c.analysed, c.total, c.themes[0].comments) == (7, 7, 4)
    assert c.themes[0].examples[0].text == "The delivery was late, again."


def test_long_comments_are_cut_and_examples_are_distinct(world):
    long = "The delivery " + "was late " * 60
    for _ in range(4):
        world["respond"](world["a"], world["waves"]["nps"], JAN, None, {}, comment=long)
    db.session.commit()
    rebuild_answer_facts()
    (delivery,) = _themes(_filters()).themes
    assert delivery.comments == 4 and len(delivery.examples) == 1
    assert (
        len(delivery.examples[0].text) == Q.EXAMPLE_CHARS and delivery.examples[0].text[-1] == "…"
    )


def test_examples_are_the_newest_of_many(world):
    from datetime import timedelta

    for i in range(2 * Q.EXAMPLE_ROWS):
        world["respond"](world["a"], world["waves"]["nps"], JAN + timedelta(minutes=i), None,
                         {}, comment=f"Delivery number {i} was late.")  # fmt: skip
    db.session.commit()
    rebuild_answer_facts()
    (delivery,) = _themes(_filters()).themes
    newest = 2 * Q.EXAMPLE_ROWS - 1
    assert [e.text for e in delivery.examples] == [
        f"Delivery number {i} was late." for i in range(newest, newest - Q.EXAMPLES, -1)
    ]


# --- the view ------------------------------------------------------------------------------


def _context(f):
    from dashboards.context import make_context

    return make_context(f)


def test_the_view_renders_and_tabulates(commented):
    from dashboards.views.drivers import VIEW

    body = VIEW.render(_context(_filters()))
    tree = as_json(body)
    assert "drivers-quadrant" in tree and "drivers-themes" in tree
    assert "Fix first" in tree and "Delivery" in tree and "n=46" in tree
    assert "too few" in tree  # service: five answers
    assert "cover all 6 comments" in tree
    columns, rows = VIEW.table(_context(_filters()))
    assert columns == ["section", "key", "label", "measure", "value", "ci_low", "ci_high", "n",
                       "quadrant"]  # fmt: skip
    delivery = [r for r in rows if r[:2] == ["driver", "delivery"]]
    assert [r[3] for r in delivery] == ["performance", "importance_r"]
    assert delivery[0][7] == 46 and delivery[0][8] == Q.FIX_FIRST
    (service,) = [r for r in rows if r[1] == "service" and r[3] == "performance"]
    assert service[0] == "driver" and service[8] == "too few"
    theme = {r[3]: r for r in rows if r[:2] == ["theme", "delivery"]}
    assert theme["comments"][4] == 3 and theme["share_pct"][7] == 6
    assert theme["share_pct"][4] == pytest.approx(50.0)


def test_comments_are_shown_as_text_never_markup(commented):
    from dashboards.views.drivers import VIEW

    components = list(walk(VIEW.render(_context(_filters()))))
    quotes = [c for c in components if kind(c) == "Q"]
    assert SCRIPT in [prop(q, "children") for q in quotes]  # the raw string, escaped by Dash
    assert not any(kind(c) in {"Iframe", "Markdown"} for c in components)
    assert not any(prop(c, "dangerously_allow_html") for c in components)
    assert "dangerouslySetInnerHTML" not in as_json(VIEW.render(_context(_filters())))


def test_the_view_with_no_data_says_so(app):
    from dashboards.views.drivers import VIEW

    body = VIEW.render(_context(_filters()))
    tree = as_json(body)
    assert "No driver ratings match these filters" in tree and "Survey filter" in tree
    assert "No comments match these filters" in tree
    assert "drivers-quadrant" not in tree
    assert VIEW.table(_context(_filters())) == (
        ["section", "key", "label", "measure", "value", "ci_low", "ci_high", "n", "quadrant"],
        [],
    )


def test_a_survey_without_drivers_points_to_the_relationship_survey(world):
    from dashboards.views.drivers import VIEW

    tree = as_json(VIEW.render(_context(_filters(survey="nps"))))
    assert "The nps survey asks no driver questions" in tree
    assert "All relationship surveys" in tree
