"""The routing rules file and the first-match logic, without a database."""

from __future__ import annotations

from datetime import timedelta

import pytest

from feedback.routing.rules import Facts, RuleError, band_of, first_match, load_rules, parse_due


@pytest.fixture(scope="module")
def rules():
    return load_rules()


def _facts(score=None, csi=None, abc_class="A", programme="grow", sentiment=None, themes=()):
    return Facts(score, csi, abc_class, programme, sentiment, tuple(themes), "da")


@pytest.mark.parametrize(
    ("facts", "rule", "assign", "due"),
    [
        (_facts(score=3, abc_class="A"), "a_detractor", "owner", timedelta(hours=24)),
        (_facts(score=6, abc_class="B"), "b_detractor", "owner", timedelta(hours=48)),
        (_facts(score=0, abc_class="C", programme="grow"), "cd_grow_detractor",
         "team:Internal sales", timedelta(days=3)),
        (_facts(score=4, abc_class="D", programme="retain"), "cd_retain_detractor",
         "team:Customer support", timedelta(days=5)),
        (_facts(score=10, abc_class="B"), "ab_promoter", "owner", timedelta(days=7)),
        (_facts(score=7, abc_class="C", sentiment="negative"), "passive_negative_comment",
         "owner", timedelta(days=5)),
        (_facts(csi=55.0, abc_class="A"), "a_detractor", "owner", timedelta(hours=24)),
    ],
)  # fmt: skip
def test_each_default_rule(rules, facts, rule, assign, due):
    match = first_match(rules, facts)
    assert match.rule.key == rule
    assert (match.rule.assign, match.rule.due) == (assign, due)


def test_retain_detractors_get_an_acknowledgement_and_passives_fall_back(rules):
    retain = first_match(rules, _facts(score=2, abc_class="C", programme="retain")).rule
    assert retain.acknowledge is True
    passive = first_match(rules, _facts(score=8, sentiment="negative")).rule
    assert passive.fallback == "team:Customer support"
    assert rules.default_queue == "Customer support"


@pytest.mark.parametrize(
    "facts",
    [
        _facts(score=8, sentiment="positive"),  # a content passive
        _facts(score=9, abc_class="C"),  # a promoter outside A/B
        _facts(),  # no score, no CSI
    ],
)
def test_answers_that_need_nobody_match_no_rule(rules, facts):
    assert first_match(rules, facts).rule is None


def test_the_worse_band_wins_and_the_csi_lines_hold(rules):
    assert band_of(_facts(score=9, csi=40.0), rules) == "detractor"
    assert band_of(_facts(score=5, csi=90.0), rules) == "detractor"
    assert band_of(_facts(csi=60.0), rules) == "passive"
    assert band_of(_facts(csi=80.0), rules) == "promoter"
    assert band_of(_facts(score=7), rules) == "passive"


def test_explain_says_why_each_rule_did_or_did_not_match(rules):
    match = first_match(rules, _facts(score=5, abc_class="C", programme="retain"))
    assert match.band == "detractor"
    assert match.reasons == [
        "a_detractor: no, class is C, not A",
        "b_detractor: no, class is C, not B",
        "cd_grow_detractor: no, programme is retain, not grow",
        "cd_retain_detractor: matches",
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [("90m", timedelta(minutes=90)), ("24h", timedelta(hours=24)), ("3d", timedelta(days=3))],
)
def test_deadlines(text, expected):
    assert parse_due(text) == expected


def test_a_bad_rules_file_lists_every_problem(tmp_path):
    path = tmp_path / "routing.yaml"
    path.write_text(
        "default_queue: ''\n"
        "bands: {csi_detractor_below: 160}\n"
        "rules:\n"
        "  - key: Bad Key\n"
        "    title: x\n"
        "    when: {band: grumpy, class: [A, E], colour: red}\n"
        "    assign: boss\n"
        "    priority: asap\n"
        "    due: tomorrow\n"
        "  - key: ok\n"
        "    title: fine\n"
        "    assign: team:Support\n"
        "    due: 2d\n"
        "  - key: ok\n"
        "    title: again\n"
        "    assign: user:someone@example.com\n"
        "    due: 1d\n"
    )
    with pytest.raises(RuleError) as error:
        load_rules(path)
    problems = error.value.problems
    assert "routing.yaml: default_queue: the name of a team is required" in problems
    assert "routing.yaml: bands.csi_detractor_below: a number from 0 to 100" in problems
    assert (
        "routing.yaml: rules[1].key: lower-case letters, digits and _ (got 'Bad Key')" in problems
    )
    assert (
        "routing.yaml: rules[1].when.band: grumpy not one of detractor, passive, promoter"
        in problems
    )
    assert "routing.yaml: rules[1].when.class: E not one of A, B, C, D" in problems
    assert any(
        p.startswith("routing.yaml: rules[1].when.colour: unknown condition") for p in problems
    )
    assert (
        "routing.yaml: rules[1].assign: owner, team:<team name> or user:<e-mail> (got 'boss')"
        in problems
    )
    assert (
        "routing.yaml: rules[1].priority: one of urgent, high, normal, low (got 'asap')" in problems
    )
    assert any(p.startswith("routing.yaml: rules[1].due:") for p in problems)
    assert "routing.yaml: rules[3].key: ok is used twice" in problems


def test_an_unreadable_rules_file(tmp_path):
    path = tmp_path / "routing.yaml"
    path.write_text("rules: [\n")
    with pytest.raises(RuleError, match="routing.yaml: cannot be read"):
        load_rules(path)
