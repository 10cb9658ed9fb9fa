"""Comment sentiment and themes in four languages, evaluated on labelled comments written for
this project (tests/data/sentiment/*.csv)."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from feedback.analysis.sentiment import analyse_sentiment
from feedback.analysis.themes import ThemeError, load_themes, tag_themes

DATA = Path(__file__).parent / "data" / "sentiment"
LANGUAGES = ("en", "da", "sv", "nb")


def _labelled(language: str) -> list[tuple[str, str]]:
    with (DATA / f"{language}.csv").open(encoding="utf-8", newline="") as file:
        return [(row["text"], row["label"]) for row in csv.DictReader(file)]


def polarity_accuracy(language: str) -> tuple[float, float, int]:
    """(accuracy on clear positive/negative comments, accuracy on all three labels, size)."""
    rows = _labelled(language)
    predicted = [(analyse_sentiment(text, language).label, label) for text, label in rows]
    polar = [(p, label) for p, label in predicted if label != "neutral"]
    clear = sum(p == label for p, label in polar) / len(polar)
    overall = sum(p == label for p, label in predicted) / len(predicted)
    return clear, overall, len(rows)


@pytest.mark.parametrize("language", LANGUAGES)
def test_evaluation_set_is_big_and_balanced(language):
    labels = [label for _, label in _labelled(language)]
    assert len(labels) >= 60
    assert set(labels) == {"positive", "negative", "neutral"}
    assert abs(labels.count("positive") - labels.count("negative")) <= len(labels) // 5


# The target is 80 % for every language; Danish and Swedish are not there yet (issue 5), so
# their floor guards what has been reached. The lexicon supplements were grown partly from
# misses in these sets: the figures are in-sample.
FLOORS = {"en": 0.80, "da": 0.75, "sv": 0.75, "nb": 0.80}


@pytest.mark.parametrize("language", LANGUAGES)
def test_polarity_of_clear_comments(language):
    clear, overall, size = polarity_accuracy(language)
    print(f"{language}: {clear:.0%} on clear comments, {overall:.0%} on all {size}")
    assert clear >= FLOORS[language], f"{language}: {clear:.0%}"


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
