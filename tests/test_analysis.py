"""Comment sentiment and themes in four languages, evaluated on labelled comments written for
this project (tests/data/sentiment/).

Three sets per language, kept apart on purpose:
- tests/data/sentiment/{lang}.csv, in-sample: the domain supplements were grown partly from
  misses in these sets.
- heldout/{lang}.csv, written before the method was reworked and before looking at which
  words the lexicons know. Its misses were seen once, at the baseline run, before the general
  fixes (morphology, compounds, negation scope, topic lists); nothing was added for a single
  sentence, but the figures are not fully unseen.
- fresh/{lang}.csv, written after the method was frozen and not tuned on (one general
  in-sample rule, "still not" = negative, came after it was written and moves one comment
  per Nordic language). It is the honest estimate for new comments.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from feedback.analysis.sentiment import analyse_sentiment
from feedback.analysis.themes import ThemeError, load_themes, tag_themes

DATA = Path(__file__).parent / "data" / "sentiment"
LANGUAGES = ("en", "da", "sv", "nb")
SETS = ("in-sample", "heldout", "fresh")


def _labelled(language: str, which: str = "in-sample") -> list[tuple[str, str]]:
    path = DATA / f"{language}.csv" if which == "in-sample" else DATA / which / f"{language}.csv"
    with path.open(encoding="utf-8", newline="") as file:
        return [(row["text"], row["label"]) for row in csv.DictReader(file)]


def polarity_accuracy(language: str, which: str = "in-sample") -> tuple[float, float, int]:
    """(accuracy on clear positive/negative comments, accuracy on all three labels, size)."""
    rows = _labelled(language, which)
    predicted = [(analyse_sentiment(text, language).label, label) for text, label in rows]
    polar = [(p, label) for p, label in predicted if label != "neutral"]
    clear = sum(p == label for p, label in polar) / len(polar)
    overall = sum(p == label for p, label in predicted) / len(predicted)
    return clear, overall, len(rows)


@pytest.mark.parametrize("which", SETS)
@pytest.mark.parametrize("language", LANGUAGES)
def test_evaluation_set_is_big_and_balanced(language, which):
    labels = [label for _, label in _labelled(language, which)]
    assert len(labels) >= (45 if which == "fresh" else 60)
    assert set(labels) == {"positive", "negative", "neutral"}
    assert abs(labels.count("positive") - labels.count("negative")) <= len(labels) // 5


def test_held_out_comments_are_not_in_the_in_sample_set():
    for language in LANGUAGES:
        seen = {text for text, _ in _labelled(language)}
        for which in ("heldout", "fresh"):
            assert not seen & {text for text, _ in _labelled(language, which)}


# Accuracy on clear positive/negative comments, rounded down to 5 points from what the method
# reaches (in-sample / held-out / fresh): en 96/90/72, da 88/96/86, sv 95/94/75,
# nb 96/94/80 %. The target is 80 % everywhere; on the fresh set English and Swedish are
# below it (see the README, "Comment analysis").
FLOORS = {
    "in-sample": {"en": 0.95, "da": 0.85, "sv": 0.95, "nb": 0.95},
    "heldout": {"en": 0.90, "da": 0.95, "sv": 0.90, "nb": 0.90},
    "fresh": {"en": 0.70, "da": 0.85, "sv": 0.75, "nb": 0.80},
}


@pytest.mark.parametrize("which", SETS)
@pytest.mark.parametrize("language", LANGUAGES)
def test_polarity_of_clear_comments(language, which):
    clear, overall, size = polarity_accuracy(language, which)
    print(f"{language} {which}: {clear:.0%} on clear comments, {overall:.0%} on all {size}")
    assert clear >= FLOORS[which][language], f"{language} {which}: {clear:.0%}"


@pytest.mark.parametrize(
    ("language", "text", "label"),
    [
        ("da", "Vi er ikke tilfredse med leveringen.", "negative"),
        ("da", "Rigtig god service, tak!", "positive"),
        ("da", "Gode priser, men leveringerne er altid forsinkede.", "negative"),
        ("sv", "Vi är inte nöjda med servicen.", "negative"),
        ("sv", "Inga problem alls, allt kom i tid.", "positive"),
        ("nb", "Ikke fornøyd, altfor mange feil på fakturaene.", "negative"),
        ("nb", "Veldig fornøyd med leveransene.", "positive"),
        ("en", "Not happy with the deliveries.", "negative"),
        ("en", "Deliveries are always late.", "negative"),
        ("en", "", "neutral"),
    ],
)
def test_negation_intensifiers_and_but(language, text, label):
    assert analyse_sentiment(text, language).label == label


@pytest.mark.parametrize(
    ("language", "text", "label"),
    [
        ("da", "Mange leveringsfejl i år.", "negative"),  # compound: last known part
        ("sv", "Problemfria leveranser hela året.", "positive"),  # bad thing + -fri
        ("da", "Personalet var uhjælpsomt.", "negative"),  # u- flips the base word
        ("sv", "Supertrevlig personal på lagret.", "positive"),  # intensifying prefix
        ("nb", "Fleksible og hjelpsomme folk.", "positive"),  # contracted plural stem
        ("sv", "Fakturan stämmer inte.", "negative"),  # negation after the verb
        ("da", "Ikke en eneste forsinket levering i år.", "positive"),  # four-word scope
        ("nb", "Leveringstiden er for lang.", "negative"),  # "for" = too after a copula
        ("da", "Tak for hjælpen.", "positive"),  # ... and a preposition otherwise
        ("nb", "Pallene var dårlig sikret.", "negative"),  # "badly secured"
        ("en", "The invoices don't match our orders.", "negative"),
        ("en", "Friendly staff, but the deliveries are too slow.", "negative"),
        ("sv", "Vi köper mest kontorsmaterial.", "neutral"),
    ],
)
def test_morphology_and_clause_rules(language, text, label):
    assert analyse_sentiment(text, language).label == label


def test_scores_stay_within_minus_one_and_one():
    for language in LANGUAGES:
        for text, _ in _labelled(language):
            assert -1 <= analyse_sentiment(text, language).score <= 1


@pytest.mark.parametrize(
    ("language", "text", "themes"),
    [
        ("en", "Deliveries are late and the invoice was wrong.", {"delivery", "invoicing"}),
        ("da", "Leveringen var forsinket, og fakturaen var forkert.", {"delivery", "invoicing"}),
        ("sv", "Priserna är för höga.", {"price"}),
        ("nb", "Kundeservice svarer aldri på telefonen.", {"service"}),
        ("en", "We mostly order online.", set()),
    ],
)
def test_themes_are_tagged_per_language(language, text, themes):
    assert themes <= set(tag_themes(text, language))


def test_every_comment_in_the_evaluation_sets_can_be_tagged():
    tagged = total = 0
    for language in LANGUAGES:
        for text, label in _labelled(language):
            if label != "neutral":
                total += 1
                tagged += bool(tag_themes(text, language))
    assert tagged / total >= 0.8


def test_a_bad_theme_file_names_the_field(tmp_path):
    bad = tmp_path / "themes.yaml"
    bad.write_text("themes:\n  price:\n    name: {en: Price}\n    keywords: {en: [price*]}\n")
    with pytest.raises(ThemeError) as error:
        load_themes(str(bad))
    assert "themes.yaml: themes.price.name.da: missing" in error.value.problems
    assert (
        "themes.yaml: themes.price.keywords.sv: a non-empty list of words" in error.value.problems
    )
    broken = tmp_path / "broken.yaml"
    broken.write_text("themes: [\n")
    with pytest.raises(ThemeError, match="broken.yaml: cannot be read"):
        load_themes(str(broken))
