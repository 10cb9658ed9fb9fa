"""Sentiment of a survey comment, -1 (very negative) to 1 (very positive), by language.

- English: TextBlob's pattern-based lexicon, which handles negation and intensifiers itself.
- Danish: the AFINN Danish word list (`afinn` package, AFINN-da-32).
- Swedish: the Swedish VADER lexicon (`vadersentiment-swedish`).
- Norwegian bokmål: no maintained offline lexicon exists, so the Danish AFINN list (the two
  written languages share most sentiment words: dårlig, skuffet, elendig, tilfreds) plus a
  hand-made list of bokmål words that differ (fornøyd, veldig, bra, flott, treg ...).

For the Nordic languages the scoring is VADER's method: each word's valence (looked up as
written, then with common inflection endings removed), flipped and damped by a negation in
the three words before it, boosted by an intensifier just before it, words after "men"
weighted 1.5 and before it 0.5, the sum normalised to -1..1 by x / sqrt(x² + 15). A small
supplement per language adds the words B2B customers use for what goes wrong or right
(late, chase, on time), which general-purpose lexicons miss. Everything is offline.
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
    "da": { "ikke", "aldrig", "ingen", "intet", "ej", "hverken", "ingenting", "uden", "sjældent",
    "næppe", "ikk", "ik", "nogensinde", }, "sv": { "inte", "aldrig", "ingen", "inget", "inga",
    "ej", "varken", "ingenting", "utan", "sällan", "knappast", "int", "icke", }, "nb": { "ikke",
    "aldri", "ingen", "intet", "ei", "verken", "ingenting", "ikkje", "uten", "sjelden", "neppe",
    "inga", },
}  # fmt: skip
INTENSIFIERS = {
    "da": {"meget", "rigtig", "virkelig", "utrolig", "ekstremt", "særdeles", "super", "helt",
    "enormt", "vildt", "altid", "særlig", "vanvittig", "total", "totalt", "mega"},
    "sv": {"mycket", "väldigt", "riktigt", "otroligt", "extremt", "jätte", "super", "verkligen",
    "helt", "alltid", "oerhört", "särskilt", "speciellt", "sjukt", "grymt", "supér",
    "total", "totalt", "ständigt"},
    "nb": {"veldig", "svært", "kjempe", "utrolig", "ekstremt", "virkelig", "meget", "helt",
    "skikkelig", "alltid", "særdeles", "spesielt", "særlig", "sinnssykt", "total",
    "totalt", "stadig"},
}  # fmt: skip
BUT = {"da": "men", "sv": "men", "nb": "men"}
# Negating adverbs that follow the finite verb in a main clause; pronouns that may sit
# between the verb and the adverb when the clause is inverted ("virker den ikke").
POST_VERBAL = {
    "da": {"ikke", "aldrig", "ik", "ikk", "sjældent", "næppe"},
    "sv": {"inte", "aldrig", "ej", "int", "sällan", "knappast"},
    "nb": {"ikke", "aldri", "ikkje", "ei", "sjelden", "neppe"},
}  # fmt: skip
SUBJECTS = {
    "da": {"det", "den", "de", "vi", "jeg", "han", "hun", "man", "i", "du", "der"},
    "sv": {"det", "den", "de", "dom", "vi", "jag", "han", "hon", "man", "ni", "du"},
    "nb": {"det", "den", "de", "vi", "jeg", "han", "hun", "man", "dere", "du"},
}  # fmt: skip
ENDINGS = {
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
    if language == "en":
        score = _english(text)
    else:
        score = _nordic(text, language if language in ENDINGS else "da")
    score = max(-1.0, min(1.0, round(score, 4)))
    return Sentiment(score, label_for(score))


def _english(text: str) -> float:
    from textblob import TextBlob

    polarity = TextBlob(text).sentiment.polarity
    lowered = text.lower()
    total, found = 0.0, 0
    for match in _ENGLISH_DOMAIN_PATTERN.finditer(lowered):
        # TextBlob knows "good" but not "late"; domain words count too, negation included
        value = _ENGLISH_DOMAIN[match.group(1)]
        before = re.findall(r"[a-z']+", lowered[: match.start()])[-3:]
        if any(word in _ENGLISH_NEGATORS or word.endswith("n't") for word in before):
            value *= -0.74
        total, found = total + value, found + 1
    if found:
        polarity += total / (found + 1)
    return polarity


_ENGLISH_DOMAIN = {
    "late": -0.5, "delayed": -0.5, "delays": -0.5, "chase": -0.3, "damaged": -0.5,
    "unclear": -0.3, "on time": 0.5, "reliable": 0.5, "overpriced": -0.5, "expensive": -0.3,
    "helpful": 0.5, "slow": -0.4, "errors": -0.5, "mistakes": -0.5, "complaints": -0.4,
    "unreliable": -0.6, "unacceptable": -0.7, "discontinued": -0.4, "out of stock": -0.4,
    "wrong": -0.4, "well done": 0.6, "thank you": 0.4, "recommend": 0.5, "problems": -0.4,
    "far too": -0.6, "too many": -0.5, "too much": -0.5, "too long": -0.5, "poor": -0.5,
    "never kept": -0.5, "sorted out": 0.3, "fault": -0.3,
}  # fmt: skip
_ENGLISH_NEGATORS = {"not", "never", "no", "without", "can't", "cannot", "nobody", "none"}
_ENGLISH_DOMAIN_PATTERN = re.compile(
    r"\b(" + "|".join(re.escape(w) for w in sorted(_ENGLISH_DOMAIN, key=len, reverse=True)) + r")\b"
)


def _nordic(text: str, language: str) -> float:
    tokens = _TOKEN.findall(text.lower())
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
    negators, intensifiers, but = NEGATORS[language], INTENSIFIERS[language], BUT[language]
    negated = [False] * len(tokens)
    for index, value in enumerate(valences):
        if not value:
            continue
        before = _clause_before(tokens, index, but)
        if before and before[-1] in intensifiers:
            valences[index] *= 1.5
        if any(word in negators for word in before):
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


_TOKEN = re.compile(r"[^\W\d_]+(?:-[^\W\d_]+)*|[.,;:!?()]", re.UNICODE)
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
    if found is not None:
        return found
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
    domain = DOMAIN[language]
    for split in range(3, len(word) - 2):
        tail = word[split:].removeprefix("-")
        if len(tail) < 4 and tail not in domain:
            continue
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
            candidates += [stem, stem + "e", stem + "t", stem + "en", stem + "a"]
            if len(stem) > 3 and stem[-1] == stem[-2]:  # "nemmere" -> "nem", "trætte" -> "træt"
                candidates.append(stem[:-1])
    candidates = [c for c in candidates if c not in exact_only]
    for candidate in candidates:
        if candidate in domain:
            return float(domain[candidate])
    shortest = 5 if part else 4
    if word in lexicon and (not part or len(word) >= shortest):
        return lexicon[word]
    for candidate in candidates:
        if candidate in lexicon and len(candidate) >= shortest:
            return lexicon[candidate]
    return None


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
    if language == "sv":
        import vaderSentiment

        path = Path(vaderSentiment.__file__).with_name("vader_lexicon.txt")
        lexicon = {}
        for line in path.read_text(encoding="utf-8").splitlines():
            parts = line.split("\t")
            if len(parts) >= 2:
                lexicon[parts[0].lower()] = float(parts[1]) * 5 / 4  # VADER -4..4 -> -5..5
        return lexicon
    import afinn

    path = Path(afinn.__file__).with_name("data") / "AFINN-da-32.txt"
    lexicon = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        word, _, value = line.rpartition("\t")
        if word and " " not in word:
            lexicon[word.lower()] = float(value)
    return lexicon
