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
from functools import cache
from pathlib import Path

NEUTRAL_BAND = 0.05  # VADER's threshold: |score| below it is neutral
_WORD = re.compile(r"[^\W\d_]+(?:-[^\W\d_]+)*", re.UNICODE)

NEGATORS = {
    "da": {"ikke", "aldrig", "ingen", "intet", "ej", "hverken", "ingenting", "uden"},
    "sv": {"inte", "aldrig", "ingen", "inget", "inga", "ej", "varken", "ingenting", "utan"},
    "nb": {"ikke", "aldri", "ingen", "intet", "ei", "verken", "ingenting", "ikkje", "uten"},
}
INTENSIFIERS = {
    "da": {"meget", "rigtig", "virkelig", "utrolig", "ekstremt", "særdeles", "super", "helt",
           "enormt", "vildt", "altid"},
    "sv": {"mycket", "väldigt", "riktigt", "otroligt", "extremt", "jätte", "super", "verkligen",
           "helt", "alltid", "oerhört"},
    "nb": {"veldig", "svært", "kjempe", "utrolig", "ekstremt", "virkelig", "meget", "helt",
           "skikkelig", "alltid", "særdeles"},
}  # fmt: skip
BUT = {"da": "men", "sv": "men", "nb": "men"}
ENDINGS = {
    "da": ("erne", "ene", "ede", "ere", "este", "est", "et", "er", "en", "e", "t", "s"),
    "sv": ("arna", "orna", "erna", "ande", "ade", "are", "aste", "ast", "na", "en", "et", "er",
           "ar", "or", "a", "e", "t", "s"),
    "nb": ("ene", "ende", "ede", "ere", "este", "est", "et", "er", "en", "e", "t", "a", "s"),
}  # fmt: skip

# Words general lexicons miss or misjudge in supplier feedback; valences on AFINN's -5..5.
_DOMAIN = {
    "da": {"forsinket": -2, "forsinkede": -2, "forsinkelse": -2, "forsinkelser": -2,
           "rykke": -1, "rykker": -1, "langsom": -2, "langsomme": -2, "besværlig": -2,
           "besværligt": -2, "uklare": -1, "uklar": -1, "fejlbehæftet": -2, "beskadiget": -2,
           "beskadigede": -2, "pålidelig": 2, "pålidelige": 2, "præcis": 2, "præcise": 2,
           "til tiden": 2, "fair": 1, "venlig": 2, "venlige": 2, "hjælpsom": 2,
           "hjælpsomme": 2, "dyr": -1, "dyre": -1, "dyrere": -1, "billigere": 1,
           "utilfreds": -2, "utilfredse": -2, "nemt": 1, "nem": 1, "nemme": 1, "fleksible": 2,
           "fleksibel": 2, "stabil": 1, "stabile": 1, "mangelfuld": -2, "ubrugelig": -3,
           "altfor": -2, "alt for": -2, "ringe": -2, "knækkede": -2, "forkerte": -2,
           "forkert": -2, "udsolgt": -1, "steget": -1, "uacceptabelt": -3, "besvær": -1,
           "defekte": -2, "skader": -2, "umuligt": -2, "udmærket": 2, "dygtige": 2,
           "friske": 2, "kyndige": 2, "stort udvalg": 2,
           # General-lexicon words that mislead here (contract terms, "free" delivery).
           "fri": 0, "aftalt": 0, "aftale": 0, "selvom": -1},
    "sv": {"försenad": -2, "försenade": -2, "försening": -2, "förseningar": -2,
           "jaga": -1, "långsam": -2, "långsamma": -2, "krånglig": -2, "krångligt": -2,
           "otydliga": -1, "otydlig": -1, "skadad": -2, "skadade": -2, "pålitliga": 2,
           "i tid": 2, "toppen": 3, "smidig": 2, "smidigt": 2, "snabbt": 2, "snabba": 2,
           "dyr": -1, "dyra": -1, "dyrare": -1, "billigare": 1, "missnöjda": -2,
           "nöjda": 2, "trevliga": 2, "hjälpsam": 2, "hjälpsamma": 2, "flexibla": 2,
           "flexibel": 2, "enkelt": 1, "enkel": 1, "bristfällig": -2, "värdelös": -3,
           "alldeles för": -2, "sena": -2, "sen": -1, "för sent": -2, "omöjligt": -2,
           "slut": -1, "väntetider": -1, "klena": -2, "sönder": -2, "skador": -2,
           "jättebra": 3, "kunnig": 2, "kunniga": 2, "välpackat": 2, "brett sortiment": 2,
           "korta ledtider": 2, "fel": -2, "förseningarna": -2,
           # General-lexicon words that mislead here: pronouns, contract terms, "big".
           "våra": 0, "vår": 0, "vårt": 0, "stämmer": 1, "avtal": 0, "avtalet": 0,
           "stor": 0, "stora": 0, "fri": 0, "trots": -1, "tid": 0},
    "nb": {"fornøyd": 2, "fornøyde": 2, "misfornøyd": -2, "misfornøyde": -2, "bra": 2,
           "flott": 3, "flotte": 3, "topp": 3, "kjempebra": 3, "treg": -2, "trege": -2,
           "forsinket": -2, "forsinkede": -2, "forsinkelse": -2, "forsinkelser": -2,
           "purre": -1, "purret": -1, "tungvint": -2, "uklare": -1, "uklar": -1,
           "skadet": -2, "pålitelig": 2, "pålitelige": 2, "i tide": 2, "presis": 2,
           "presise": 2, "rask": 2, "raskt": 2, "raske": 2, "dyr": -1, "dyre": -1,
           "dyrere": -1, "billigere": 1, "hyggelig": 2, "hyggelige": 2, "hjelpsom": 2,
           "hjelpsomme": 2, "fleksibel": 2, "fleksible": 2, "enkelt": 1, "enkel": 1,
           "elendig": -3, "skuffende": -2, "skuffet": -2, "takk": 2, "anbefale": 2,
           "anbefaler": 2, "greit": 1, "grei": 1, "feil": -2, "problem": -2,
           "problemer": -2, "klage": -2, "klager": -2, "mangelfull": -2, "ubrukelig": -3,
           "altfor": -2, "umulig": -2, "umulige": -2, "uhøflig": -3, "ventetid": -1,
           "dyktige": 2, "ferske": 2, "gunstige": 2, "verdt": 1, "skader": -2,
           "defekte": -2, "uakseptabelt": -3, "akseptabelt": 1, "bredt vareutvalg": 2,
           "kort leveringstid": 2, "godt": 2, "god": 2, "gode": 2, "ordnet": 1,
           "fri": 0, "avtalen": 0, "avtalt": 0, "selv om": -1},
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
    lexicon = _lexicon(language)
    words = [w.lower() for w in _WORD.findall(text)]
    valences: list[float] = []
    for index, word in enumerate(words):
        valence = _valence(word, lexicon, language)
        if index + 1 < len(words):  # two-word entries such as "til tiden", "i tid"
            pair = _DOMAIN[language].get(f"{word} {words[index + 1]}")
            if pair is not None:
                valence = pair
        if valence:
            before = words[max(0, index - 3) : index]
            if before and before[-1] in INTENSIFIERS[language]:
                valence *= 1.5
            if any(w in NEGATORS[language] for w in before):
                valence *= -0.74  # VADER's negation scalar
        valences.append(valence)
    if BUT[language] in words:  # what follows "men" weighs more than what came before
        cut = words.index(BUT[language])
        valences = [v * 0.5 for v in valences[:cut]] + [v * 1.5 for v in valences[cut:]]
    total = sum(valences)
    return total / math.sqrt(total * total + 15) if total else 0.0


def _valence(word: str, lexicon: dict[str, float], language: str) -> float:
    if word in NEGATORS[language] or word in INTENSIFIERS[language]:
        return 0.0
    domain = _DOMAIN[language]
    if word in domain:
        return float(domain[word])
    if word in lexicon:
        return lexicon[word]
    for ending in ENDINGS[language]:
        if word.endswith(ending) and len(word) - len(ending) >= 3:
            stem = word[: -len(ending)]
            for candidate in (stem, stem + "e", stem + "t", stem + "d"):
                if candidate in domain:
                    return float(domain[candidate])
                if candidate in lexicon:
                    return lexicon[candidate]
    return 0.0


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
