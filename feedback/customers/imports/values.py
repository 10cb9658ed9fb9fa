"""Parse one cell. Each parser returns the value or raises BadValue with a reason fit to show."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

from email_validator import EmailNotValidError, validate_email

from feedback.customers.models import LANGUAGES, POTENTIALS, TRANSACTION_KINDS


class BadValue(ValueError):
    pass


# Thousands separators ERPs and Excel write: space, no-break space, narrow no-break space.
_SPACES = str.maketrans("", "", " \u00a0\u202f")
_PLAIN_NUMBER = re.compile(r"^[+-]?\d+(?:\.\d+)?$")
# The spellings nearly every row of an ERP export uses, parsed without the general rules:
# 1234,50  1.234,50  -99,5  1234.50  1234
_COMMON = re.compile(r"^(-?)(\d{1,3}(?:\.\d{3})+|\d+),(\d\d?)$|^(-?\d{1,16}(?:\.\d\d?)?)$")
_GROUPED = re.compile(r"^\d{1,3}(?:X\d{3})+$")
_DATE = re.compile(r"^(?:(\d{1,2})([-.])(\d{1,2})\2(\d{4})|(\d{4})-(\d{1,2})-(\d{1,2}))$")

# Accepted spellings, so a Danish or Swedish export need not be edited first.
LANGUAGE_ALIASES = {
    "en": "en", "english": "en", "engelsk": "en", "eng": "en",
    "da": "da", "dk": "da", "dansk": "da", "danish": "da", "dan": "da",
    "sv": "sv", "se": "sv", "svenska": "sv", "swedish": "sv", "svensk": "sv", "swe": "sv",
    "nb": "nb", "no": "nb", "nn": "nb", "norsk": "nb", "norwegian": "nb", "nor": "nb", "nob": "nb",
}  # fmt: skip
assert set(LANGUAGE_ALIASES.values()) == set(LANGUAGES)


def parse_amount(raw: str) -> Decimal:
    """1234.50, 1234,50, 1.234,50, 1 234,50 (space or no-break space), -99,5 -> Decimal."""
    return Decimal(amount_text(raw))


def amount_text(raw: str) -> str:
    """An amount in any accepted spelling as canonical text: -?digits.dd (1.234,5 -> 1234.50).

    Text, not Decimal, because a million-row import only needs to compare, sign and store it.
    A lone separator followed by exactly three digits (1.234 or 1,234) could be a thousands
    separator or a decimal one; rather than guess with money, such a value is refused.
    """
    common = _COMMON.match(raw)
    if common:
        sign, whole, fraction, plain = common.groups()
        if plain:
            sign = "-" if plain[0] == "-" else ""
            whole, _, fraction = plain.lstrip("-").partition(".")
        else:
            whole = whole.replace(".", "")
        if len(whole) < 17:
            return _canonical(sign, whole, fraction)
    text = raw.strip().translate(_SPACES)
    if not text:
        raise BadValue("amount is empty")
    sign = ""
    if text[0] in "+-":
        sign, text = ("-" if text[0] == "-" else ""), text[1:]
    normalised = _normalise_separators(text, raw)
    if not _PLAIN_NUMBER.match(normalised):
        raise BadValue(f"{raw.strip()!r} is not an amount")
    whole, _, fraction = normalised.partition(".")
    if len(fraction.rstrip("0")) > 2:
        raise BadValue(f"{raw.strip()!r} has more than two decimals")
    if len(whole.lstrip("0")) > 16:
        raise BadValue(f"{raw.strip()!r} is too large")
    return _canonical(sign, whole, fraction.rstrip("0")[:2])


# The two spellings nearly every amount column is written in, kept to values whose canonical
# text follows from a plain replace: no leading zeros, exactly two decimals, at most 16
# digits (1.234,50 1234,50 -0,50 / 1234.50). -0,00 is mended after the replace.
_USUAL_COMMA = r"-?(?:[1-9]\d{0,15}|[1-9]\d{0,2}(?:\.\d{3}){1,4}|0),\d\d"
_USUAL_POINT = r"-?(?:[1-9]\d{0,15}|0)\.\d\d"
# Matches at the start of each line of a column that is not in the usual spelling.
_UNUSUAL_COMMA = re.compile(rf"(?m)^(?!{_USUAL_COMMA}$)")
_UNUSUAL_POINT = re.compile(rf"(?m)^(?!{_USUAL_POINT}$)")


def amount_texts(raws: list[str]) -> list[str]:
    """amount_text of every value of a column, raising BadValue for the first bad one.

    One regex pass over the column joined by line breaks finds the values not in the
    column's usual spelling; the rest become canonical with two replaces over the whole
    column, and only the unusual ones go through amount_text one by one."""
    if not raws:
        return []
    joined = "\n".join(raws)
    if joined.count("\n") != len(raws) - 1:  # a value holds a line break
        return list(map(amount_text, raws))
    if "," in joined:
        unusual, texts = _UNUSUAL_COMMA, joined.replace(".", "").replace(",", ".").split("\n")
    else:
        unusual, texts = _UNUSUAL_POINT, joined.split("\n")
    line, counted = 0, 0
    for match in unusual.finditer(joined):
        line += joined.count("\n", counted, match.start())
        counted = match.start()
        texts[line] = amount_text(raws[line])
    if "-0.00" in texts:  # no negative zero
        texts = ["0.00" if text == "-0.00" else text for text in texts]
    return texts


def _canonical(sign: str, whole: str, fraction: str) -> str:
    whole = whole.lstrip("0") or "0"
    fraction = (fraction + "00")[:2]
    if whole == "0" and fraction == "00":
        return "0.00"  # no negative zero
    return f"{sign}{whole}.{fraction}"


def _normalise_separators(text: str, raw: str) -> str:
    dots, commas = text.count("."), text.count(",")
    if dots and commas:
        decimal_mark = "." if text.rfind(".") > text.rfind(",") else ","
        thousands = "," if decimal_mark == "." else "."
        whole, _, fraction = text.rpartition(decimal_mark)
        if thousands in fraction or not _GROUPED.match(whole.replace(thousands, "X")):
            raise BadValue(f"{raw.strip()!r} is not an amount")
        return whole.replace(thousands, "") + "." + fraction
    mark, count = (",", commas) if commas else (".", dots)
    if count == 0:
        return text
    if count > 1:  # 1.234.567 or 1,234,567: only thousands separators
        if not _GROUPED.match(text.replace(mark, "X")):
            raise BadValue(f"{raw.strip()!r} is not an amount")
        return text.replace(mark, "")
    whole, _, fraction = text.partition(mark)
    if len(fraction) == 3 and fraction.isdigit() and re.fullmatch(r"[1-9]\d{0,2}", whole):
        raise BadValue(
            f"{raw.strip()!r} is ambiguous: write 1234 or 1234{mark}00 "
            f"(thousands separators are allowed only together with decimals)"
        )
    return whole + "." + fraction


def parse_date(raw: str) -> date:
    """dd-mm-yyyy, dd.mm.yyyy or yyyy-mm-dd (leading zeros optional)."""
    text = raw.strip()
    match = _DATE.match(text)
    if not match:
        raise BadValue(f"{text!r} is not a date (use dd-mm-yyyy, dd.mm.yyyy or yyyy-mm-dd)")
    if match.group(1):
        day, month, year = int(match.group(1)), int(match.group(3)), int(match.group(4))
    else:
        year, month, day = int(match.group(5)), int(match.group(6)), int(match.group(7))
    try:
        value = date(year, month, day)
    except ValueError:
        raise BadValue(f"{text} is not a real date") from None
    if year < 1900:
        raise BadValue(f"{text} is before 1900")
    return value


def parse_language(raw: str) -> str:
    key = raw.strip().lower()
    if key not in LANGUAGE_ALIASES:
        raise BadValue(f"unknown language {raw.strip()!r} (use en, da, sv or nb)")
    return LANGUAGE_ALIASES[key]


def parse_potential(raw: str) -> str:
    key = raw.strip().lower()
    if key not in POTENTIALS:
        raise BadValue(f"unknown potential {raw.strip()!r} (use high, medium or low)")
    return key


def parse_kind(raw: str) -> str:
    key = raw.strip().lower()
    if key not in TRANSACTION_KINDS:
        raise BadValue(f"unknown kind {raw.strip()!r} (use order or credit)")
    return key


def parse_currency(raw: str, known: set[str]) -> str:
    code = raw.strip().upper()
    if not re.fullmatch(r"[A-Z]{3}", code):
        raise BadValue(f"{raw.strip()!r} is not a currency code such as EUR, DKK, SEK or NOK")
    if code not in known:
        raise BadValue(
            f"no exchange rate for {code}: set one first with `feedback currencies set {code} RATE`"
        )
    return code


def parse_email(raw: str) -> str:
    """A syntactically valid address, lower-cased (no DNS look-up: imports work offline)."""
    text = raw.strip()
    if not text:
        raise BadValue("e-mail address is empty")
    try:
        result = validate_email(text, check_deliverability=False)
    except EmailNotValidError as exc:
        raise BadValue(f"{text!r} is not a valid e-mail address: {exc}") from None
    return result.normalized.lower()


def required_text(raw: str, what: str, max_length: int) -> str:
    text = " ".join(raw.split())  # collapse stray whitespace and line breaks
    if not text:
        raise BadValue(f"{what} is empty")
    if len(text) > max_length:
        raise BadValue(f"{what} is longer than {max_length} characters")
    return text
