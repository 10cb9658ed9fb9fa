"""Sentiment of a survey comment, -1 (very negative) to 1 (very positive), by language.

General lexicons, all offline:
- English: TextBlob's own lexicon (PatternAnalyzer's en-sentiment.xml, as TextBlob loads it),
  with AFINN-en-165 (`afinn` package) only as a fallback for words TextBlob does not list.
- Danish: AFINN-da-32 (`afinn` package).
- Swedish: the Swedish VADER lexicon (`vadersentiment-swedish`), machine-translated and noisy,
  so short stems and topic nouns are not trusted (see `_lookup` and the lexicons module).
- Norwegian bokmål: no maintained offline lexicon exists, so AFINN-da (the written languages
  share most sentiment words: dårlig, skuffet, elendig) plus the bokmål words that differ.
Over each, a B2B supplier-feedback supplement per language (feedback/analysis/lexicons) wins:
"late", "missing", "fakturafejl", "i tide" and topic nouns that must stay neutral.

Scoring is VADER's method for every language. Each word's valence is looked up as written,
then by base form (definite/plural/adjective/verb endings stripped: "leveringerne",
"spruckna"), then for Nordic words by morphology: a negating u-/o- prefix flips the base
("uhøflig"), "-fri" after something bad is good ("problemfri"), an intensifying prefix boosts
it ("supertrevlig"), and a compound takes the valence of its last known part ("fakturafejl" ->
"fejl"). Multi-word entries ("til tiden", "i stykker") are matched first. A negator up to four
words before a word, within the clause, flips and damps it (x -0.74); a negating adverb after
the verb with nothing to negate after it flips the word before it ("stemmer ikke"); an
intensifier just before boosts it (x 1.5); within a sentence, words after "men"/"but" weigh
1.5 and before it 0.5; the sum is normalised to -1..1 by x / sqrt(x² + 15). Word valences
are cached, so a comment costs a few dictionary look-ups per word.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path

from feedback.analysis.lexicons import BOOST_PREFIXES, DOMAIN, EXACT_ONLY, PREFIXES

NEUTRAL_BAND = 0.05  # VADER's threshold: |score| below it is neutral

NEGATORS = {
    "en": {"not", "never", "no", "without", "nobody", "none", "nothing", "hardly", "barely",
           "neither", "nor", "cannot", "noone", "nowhere", "rarely", "seldom"},
    "da": {"ikke", "aldrig", "ingen", "intet", "ej", "hverken", "ingenting", "uden",
           "sjældent", "næppe", "ikk", "ik"},
    "sv": {"inte", "aldrig", "ingen", "inget", "inga", "ej", "varken", "ingenting", "utan",
           "sällan", "knappast", "int", "icke"},
    "nb": {"ikke", "aldri", "ingen", "intet", "ei", "verken", "ingenting", "ikkje", "uten",
           "sjelden", "neppe", "inga"},
}  # fmt: skip
INTENSIFIERS = {
    "en": {"very", "really", "extremely", "so", "super", "incredibly", "absolutely", "totally",
           "highly", "truly", "always", "consistently", "particularly", "especially"},
    "da": {"meget", "rigtig", "virkelig", "utrolig", "ekstremt", "særdeles", "super", "helt",
           "enormt", "vildt", "altid", "særlig", "vanvittig", "total", "totalt", "mega"},
    "sv": {"mycket", "väldigt", "riktigt", "otroligt", "extremt", "jätte", "super",
           "verkligen", "helt", "alltid", "oerhört", "särskilt", "speciellt", "sjukt",
           "grymt", "total", "totalt", "ständigt"},
    "nb": {"veldig", "svært", "kjempe", "utrolig", "ekstremt", "virkelig", "meget", "helt",
           "skikkelig", "alltid", "særdeles", "spesielt", "særlig", "sinnssykt", "total",
           "totalt", "stadig"},
}  # fmt: skip
BUT = {"en": "but", "da": "men", "sv": "men", "nb": "men"}
# Negating adverbs that follow the finite verb in a main clause; pronouns that may sit
# between the verb and the adverb when the clause is inverted ("virker den ikke").
POST_VERBAL = {
    "en": set(),  # English negates before the verb ("do not match")
    "da": {"ikke", "aldrig", "ik", "ikk", "sjældent", "næppe"},
    "sv": {"inte", "aldrig", "ej", "int", "sällan", "knappast"},
    "nb": {"ikke", "aldri", "ikkje", "ei", "sjelden", "neppe"},
}  # fmt: skip
SUBJECTS = {
    "en": set(),
    "da": {"det", "den", "de", "vi", "jeg", "han", "hun", "man", "i", "du", "der"},
    "sv": {"det", "den", "de", "dom", "vi", "jag", "han", "hon", "man", "ni", "du"},
    "nb": {"det", "den", "de", "vi", "jeg", "han", "hun", "man", "dere", "du"},
}  # fmt: skip
ENDINGS = {
    "en": ("ing", "ies", "ied", "iest", "ier", "est", "ed", "es", "er", "ly", "s", "d"),
    "da": ("erne", "ernes", "ene", "ende", "ede", "ere", "este", "est", "ets", "ens", "et",
           "er", "en", "ne", "e", "t", "s"),
    "sv": ("arna", "orna", "erna", "ernas", "ande", "ende", "ade", "are", "aste", "ast", "na",
           "en", "et", "er", "ar", "or", "de", "te", "a", "e", "t", "s"),
    "nb": ("ene", "enes", "ende", "ede", "ere", "este", "est", "et", "er", "en", "te", "de",
           "e", "t", "a", "s"),
}  # fmt: skip


@dataclass(frozen=True)
class Sentiment:
    score: float  # -1 .. 1
    label: str  # negative | neutral | positive


def label_for(score: float) -> str:
    if score >= NEUTRAL_BAND:
        return "positive"
    if score <= -NEUTRAL_BAND:
        return "negative"
    return "neutral"


def analyse_sentiment(text: str, language: str) -> Sentiment:
    text = (text or "").strip()
    if not text:
        return Sentiment(0.0, "neutral")
    score = _score(text, language if language in ENDINGS else "da")
    score = max(-1.0, min(1.0, round(score, 4)))
    return Sentiment(score, label_for(score))


def _score(text: str, language: str) -> float:
    tokens = _TOKEN.findall(text.lower().replace("’", "'"))
    valences = [0.0] * len(tokens)
    in_phrase = [False] * len(tokens)  # "uden besvær": its "uden" negates nothing else
    phrases = _phrases(language)
    index = 0
    while index < len(tokens):  # multi-word entries first ("til tiden", "gick sönder")
        for words, value in phrases.get(tokens[index], ()):
            if tuple(tokens[index : index + len(words)]) == words:
                valences[index] = value
                in_phrase[index : index + len(words)] = [True] * len(words)
                index += len(words)
                break
        else:
            if tokens[index] not in _PUNCTUATION:
                valences[index] = _word_valence(tokens[index], language)
            index += 1
    _excess_and_manner(tokens, valences, language)
    negators, intensifiers, but = NEGATORS[language], INTENSIFIERS[language], BUT[language]
    negated = [False] * len(tokens)
    for index, value in enumerate(valences):
        if not value:
            continue
        before = _clause_before(tokens, index, but)
        if before and before[-1] in intensifiers:
            valences[index] *= 1.5
        if any(word in negators or word.endswith("n't") for word in before):
            valences[index] *= -0.74  # VADER's negation scalar
            negated[index] = True
    # Main clauses put the negation after the verb ("fakturaen stemmer ikke", "det fungerer
    # inte"): a negator with nothing to negate after it flips the word just before it.
    adverbs = POST_VERBAL[language]
    for index, token in enumerate(tokens):
        if token not in adverbs or in_phrase[index]:
            continue
        if any(_clause_after(tokens, valences, index, but)):
            continue
        back = index - 1
        if back > 0 and tokens[back] in SUBJECTS[language]:  # "fungerer det ikke"
            back -= 1
        if back >= 0 and valences[back] and not negated[back]:
            valences[back] *= -0.74
            negated[back] = True
    # Within a sentence, what follows "men" weighs more than what came before (VADER).
    start = 0
    for index, token in enumerate(tokens + ["."]):
        if token in _SENTENCE_END:
            sentence = tokens[start:index]
            if but in sentence:
                cut = start + sentence.index(but)
                for i in range(start, index):
                    valences[i] *= 0.5 if i < cut else 1.5
            start = index + 1
    total = sum(valences)
    return total / math.sqrt(total * total + 15) if total else 0.0


def _excess_and_manner(tokens: list[str], valences: list[float], language: str) -> None:
    """ "Too X" is bad whatever X is ("er for smalt", "too narrow"), and so is "done badly"
    ("dårlig sikret", "poorly packed"): the adjective's own valence gives way to -2."""
    too, copulas = TOO[language], COPULAS[language]
    for index in range(1, len(tokens) - 1):
        token, after = tokens[index], tokens[index + 1]
        if after in _PUNCTUATION or after in _DETERMINERS:
            continue
        excessive = token in too and (language == "en" or tokens[index - 1] in copulas)
        if excessive or (token in BADLY[language] and valences[index + 1] > 0):
            valences[index] = 0.0
            valences[index + 1] = min(valences[index + 1], -2.0)


TOO = {"en": {"too"}, "da": {"for"}, "sv": {"för"}, "nb": {"for"}}
# After these, "for"/"för" is "too" ("er for lang"), not the preposition ("tak for hjælpen").
COPULAS = {
    "en": set(),
    "da": {"er", "var", "blevet", "bliver", "blev", "lidt", "alt", "noget", "altså"},
    "sv": {"är", "var", "blivit", "blir", "blev", "lite", "alldeles", "väl", "ju"},
    "nb": {"er", "var", "blitt", "blir", "ble", "litt", "alt", "noe", "jo"},
}
BADLY = {
    "en": {"badly", "poorly"},
    "da": {"dårligt", "dårlig", "sjusket", "elendigt"},
    "sv": {"dåligt", "illa", "slarvigt", "uselt"},
    "nb": {"dårlig", "dårligt", "slurvete", "elendig"},
}
_DETERMINERS = {
    "a", "an", "the", "us", "me", "you", "them", "en", "et", "ett", "ei", "den", "det", "de",
    "os", "oss", "jer", "er", "dere", "dem", "mig", "meg", "min", "mit", "mina", "mine",
    "vores", "vår", "vårt", "våra", "jeres", "deres",
}  # fmt: skip
_TOKEN = re.compile(r"[^\W\d_]+(?:['-][^\W\d_]+)*|[.,;:!?()]", re.UNICODE)
_PUNCTUATION = frozenset(".,;:!?()")
_SENTENCE_END = frozenset(".!?")


def _clause_before(tokens: list[str], index: int, but: str) -> list[str]:
    """Up to four words before index ("ikke en eneste forsinket"), within the clause."""
    before = []
    for token in reversed(tokens[max(0, index - 4) : index]):
        if token in _PUNCTUATION or token == but:
            break
        before.append(token)
    return before[::-1]


def _clause_after(tokens: list[str], valences: list[float], index: int, but: str):
    for i in range(index + 1, min(len(tokens), index + 4)):
        if tokens[i] in _PUNCTUATION or tokens[i] == but:
            return
        yield valences[i]


@lru_cache(maxsize=65536)
def _word_valence(word: str, language: str) -> float:
    """A word's valence: as written, inflected, u-/o-negated, boosted or as a compound."""
    if word in NEGATORS[language] or word in INTENSIFIERS[language]:
        return 0.0
    found = _lookup(word, language)
    if found is not None or language == "en":  # English compounds are written apart
        return found or 0.0
    # "problemfri", "felfria": free of something bad is good.
    for ending in ("fritt", "frit", "frie", "fria", "fri"):
        if word.endswith(ending) and len(word) > len(ending) + 3:
            head = word[: -len(ending)]
            if (_lookup(head, language) or _lookup(head.removesuffix("s"), language) or 0) < 0:
                return 2.0
    # "uhøflig", "opålitlig", "uinteresserede": the negating prefix flips the base word.
    negating = "o" if language == "sv" else "u"
    if word.startswith(negating) and len(word) >= 6:
        base = _lookup(word[1:], language)
        if base:
            return -base
    for prefix in BOOST_PREFIXES[language]:  # "supertrevlig", "kjempegreie"
        if word.startswith(prefix) and len(word) - len(prefix) >= 3:
            base = _lookup(word[len(prefix) :].removeprefix("-"), language)
            if base:
                return base * 1.5
    # Compounds: the last part that the lexicon knows ("fakturafejl" -> "fejl"), the
    # longest first; a part known to be neutral ends the search ("leveringstid" -> "tid").
    for split in range(3, len(word) - 1):
        tail = word[split:].removeprefix("-")
        if (len(tail) < 4 and tail not in _SHORT_HEADS) or tail in EXACT_ONLY[language]:
            continue  # "ordrebekræftelsen" does not end in "sen" (late)
        found = _lookup(tail, language, part=True)
        if found is not None:
            if found:
                return found
            break
    for prefix, value in PREFIXES[language].items():  # "toppkvalitet", "fejlleverance"
        if word.startswith(prefix) and len(word) - len(prefix) >= 4:
            return float(value)
    return 0.0


def _lookup(word: str, language: str, part: bool = False) -> float | None:
    """Valence of a word or its base form (definite, plural, adjective endings stripped).

    The domain list wins over the general lexicon, base forms included ("defekte" is the
    domain's "defekt", not AFINN's harsher exact entry). Short general-lexicon entries are
    not trusted as a stem (under 4 letters: "rören" is pipes, not "rör" = touch) or as the
    end of a compound (under 5: "fakturorna" is not "tur" = luck).
    """
    domain, lexicon = DOMAIN[language], _lexicon(language)
    if word in domain:
        return float(domain[word])
    candidates = []
    exact_only = EXACT_ONLY[language]
    for ending in ENDINGS[language]:
        if word.endswith(ending) and len(word) - len(ending) >= (4 if part else 3):
            stem = word[: -len(ending)]
            if stem in exact_only:  # "senaste" is not "sen" (late), nor "sent"
                continue
            candidates += [stem + tail for tail in _RESTORE[language == "en"]]
            if len(stem) > 3 and stem[-1] == stem[-2]:  # "nemmere" -> "nem", "trætte" -> "træt"
                candidates.append(stem[:-1])
            if stem[-1] in "lnr" and stem[-2] not in _VOWELS:  # "fleksible" -> "fleksibel"
                candidates.append(f"{stem[:-1]}e{stem[-1]}")
    candidates = [c for c in candidates if c not in exact_only]
    for candidate in candidates:
        if candidate in domain:
            return float(domain[candidate])
    shortest = 5 if part else 4
    if word in lexicon and (not part or len(word) >= shortest):
        return lexicon[word]
    stems = _stem_lexicon(language)
    for candidate in candidates:
        if candidate in stems and len(candidate) >= shortest:
            return stems[candidate]
    return None


_SHORT_HEADS = frozenset({"fel", "kö", "kø"})  # "fakturafel", "telefonkø"
_RESTORE = (
    ("", "e", "t", "en", "et", "a", "d"),
    ("", "e", "y"),
)  # base-form endings: Nordic, English
_VOWELS = frozenset("aeiouyæøåäö")


@cache
def _phrases(language: str) -> dict[str, list[tuple[tuple[str, ...], float]]]:
    """Multi-word domain entries by first word, longest first."""
    phrases: dict[str, list[tuple[tuple[str, ...], float]]] = {}
    for entry, value in DOMAIN[language].items():
        words = tuple(entry.split())
        if len(words) > 1:
            phrases.setdefault(words[0], []).append((words, float(value)))
    for entries in phrases.values():
        entries.sort(key=lambda item: -len(item[0]))
    return phrases


@cache
def _lexicon(language: str) -> dict[str, float]:
    if language == "en":
        # AFINN-en-165 is only a fallback: it fills in words TextBlob's list lacks (that list
        # is mostly adjectives: "lost", "complain", "hurting" are AFINN's).
        return {**_afinn("AFINN-en-165.txt"), **_textblob()}
    if language == "sv":
        import vaderSentiment

        path = Path(vaderSentiment.__file__).with_name("vader_lexicon.txt")
        lexicon = {}
        for line in path.read_text(encoding="utf-8").splitlines():
            parts = line.split("\t")
            if len(parts) >= 2:
                lexicon[parts[0].lower()] = float(parts[1]) * 5 / 4  # VADER -4..4 -> -5..5
        return lexicon
    return _afinn("AFINN-da-32.txt")


@cache
def _stem_lexicon(language: str) -> dict[str, float]:
    """Where a stripped stem may be looked up. TextBlob's English list is adjectives, read
    as written (as TextBlob reads them): "goods" is not "good", "cleaning" not "clean"."""
    if language != "en":
        return _lexicon(language)
    textblob = _textblob()
    return {w: v for w, v in _afinn("AFINN-en-165.txt").items() if w not in textblob}


@cache
def _afinn(name: str) -> dict[str, float]:
    import afinn

    path = Path(afinn.__file__).with_name("data") / name
    lexicon = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        word, _, value = line.rpartition("\t")
        if word and " " not in word:
            lexicon[word.lower()] = float(value)
    return lexicon


# TextBlob's polarity (-1..1) onto the supplement's AFINN scale (-5..5): the median ratio of
# AFINN-en-165 to TextBlob over the 519 words both score is 4.0 (least squares: 3.7), so a
# word weighs about the same whichever list knows it.
TEXTBLOB_SCALE = 4.0


@cache
def _textblob() -> dict[str, float]:
    """TextBlob's English lexicon as its PatternAnalyzer reads it, from the installed package's
    en-sentiment.xml: senses averaged per part of speech, then over parts of speech, and the
    "-ly" adverbs TextBlob derives from adjectives ("terribly"), exactly as
    textblob.en.Sentiment.load does. Parsed here rather than through `textblob.en` because
    importing that pulls in NLTK (~1 s per process); nothing is downloaded. Comparatives are
    derived the same way ("cheaper", "friendliest"): TextBlob reads words as written, and
    its list is adjectives, so stems are not looked up in it (see `_stem_lexicon`)."""
    from importlib.util import find_spec
    from xml.etree import ElementTree

    path = Path(find_spec("textblob").origin).with_name("en") / "en-sentiment.xml"
    senses: dict[str, dict[str | None, list[float]]] = {}
    for entry in ElementTree.parse(path).getroot().iter("word"):
        word = entry.get("form")
        if word and " " not in word:  # TextBlob never matches its multi-word entries either
            polarity = float(entry.get("polarity", 0.0))
            senses.setdefault(word, {}).setdefault(entry.get("pos"), []).append(polarity)
    polarity_by_pos = {
        word: {pos: sum(values) / len(values) for pos, values in by_pos.items()}
        for word, by_pos in senses.items()
    }
    lexicon = {w: sum(by_pos.values()) / len(by_pos) for w, by_pos in polarity_by_pos.items()}
    adjectives = [word for word, by_pos in polarity_by_pos.items() if "JJ" in by_pos]
    for word in adjectives:
        stem = word[:-1] + "i" if word.endswith("y") else word
        stem = stem[:-2] if stem.endswith("le") else stem
        lexicon[stem + "ly"] = polarity_by_pos[word]["JJ"]
    # Only forms TextBlob's tagger lexicon does not know as something else: "cheaper" (JJR)
    # stays, "number" (NN, not "more numb") and "later" (RB) do not.
    tags = {}
    for line in path.with_name("en-lexicon.txt").read_text(encoding="utf-8").splitlines():
        form, _, tag = line.partition(" ")
        tags[form] = tag
    for word in adjectives:
        for form in _comparatives(word):
            if tags.get(form, "JJR") in _COMPARATIVE_TAGS:
                lexicon.setdefault(form, lexicon[word])
    return {word: value * TEXTBLOB_SCALE for word, value in lexicon.items()}


_COMPARATIVE_TAGS = frozenset({"JJR", "JJS", "RBR", "RBS"})


def _comparatives(adjective: str) -> tuple[str, ...]:
    if adjective.endswith("e"):
        return adjective + "r", adjective + "st"
    if adjective.endswith("y") and adjective[-2:-1] not in _VOWELS:
        return adjective[:-1] + "ier", adjective[:-1] + "iest"
    forms = (adjective + "er", adjective + "est")
    last, before, third = adjective[-1], adjective[-2:-1], adjective[-3:-2]
    if last not in _VOWELS | {"w", "x"} and before in _VOWELS and third not in _VOWELS:
        forms += (adjective + last + "er", adjective + last + "est")  # "big" -> "bigger"
    return forms
