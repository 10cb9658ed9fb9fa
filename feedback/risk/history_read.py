"""Reading a survey history file: every row checked against the survey's scale and the
known contacts before anything is written (see history.py for the writing).

Two layouts are read. Ours, one row per invitation: `email`, `sent_at`, `answered_at`,
`score`, `comment`, optional `wave` and `language`; an empty score is an invitation that
was delivered and not answered. And a Delighted responses export as it comes: `Email`,
`Score`, `Comment` and its response time (`Response timestamp` or `Created at`, Unix
seconds or ISO); every row of it is an answer, so it was sent when it was answered.
Times without an offset are in the configured zone; so are the months that make waves.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, tzinfo
from functools import lru_cache

from sqlalchemy import select

from feedback.customers.imports.common import cell, well_formed
from feedback.customers.imports.report import ImportReport
from feedback.customers.imports.values import BadValue, parse_date, parse_email, parse_language
from feedback.customers.models import Contact, Customer
from feedback.extensions import db
from feedback.responses.services import BadAnswer, clean_comment
from feedback.surveys.templates import SurveyTemplate

OURS = "history file"
DELIGHTED = "Delighted export"
REQUIRED = ("email", "sent_at", "answered_at", "score", "comment")
OPTIONAL = ("wave", "language")
# A Delighted export's response time, by preference; its other columns are ignored.
DELIGHTED_TIMES = ("response timestamp", "response_timestamp", "created at", "created_at")
DELIGHTED_COLUMNS = {"email": "email", "score": "score", "comment": "comment",
                     "survey type": "survey_type", "survey_type": "survey_type"}  # fmt: skip
MAX_WAVE_NAME = 100

_UNIX = re.compile(r"^\d{9,10}(?:\.\d+)?$")
_CLOCK = re.compile(
    r"^(?P<day>\d{1,4}[-.]\d{1,2}[-.]\d{1,4})"
    r"(?:[ T]+(?P<h>\d{1,2})[:.](?P<m>\d{2})(?:[:.](?P<s>\d{2})(?:\.\d+)?)?)?$"
)
_SCORE = re.compile(r"^[+-]?\d{1,3}$")


@dataclass(frozen=True)
class Moment:
    at: datetime  # UTC
    day: date  # the local calendar day
    date_only: bool  # the cell held a day without a time (read as its local midnight)


@dataclass(frozen=True)
class HistoryRow:
    line: int
    email: str
    contact_id: int
    customer_id: int
    wave_key: str  # "2024-03" (local calendar month sent) or the file's wave name
    sent_at: datetime
    answered_at: datetime | None  # None: delivered, not answered
    score: int | None
    comment: str
    language: str


def parse_moment(raw: str, zone: tzinfo) -> Moment:
    """Unix seconds, yyyy-mm-dd or dd-mm-yyyy (or dd.mm.yyyy) with an optional hh:mm[:ss],
    or ISO 8601 with an offset. Without an offset the time is in `zone`."""
    text = raw.strip()
    if not text:
        raise BadValue("the time is empty")
    if _UNIX.match(text):
        return _moment(datetime.fromtimestamp(float(text), UTC), zone)
    clock = _CLOCK.match(text)
    if clock:
        day = parse_date(clock["day"])
        if clock["h"] is None:
            return _moment(datetime.combine(day, time(), zone), zone, date_only=True)
        hour, minute, second = int(clock["h"]), int(clock["m"]), int(clock["s"] or 0)
        if hour > 23 or minute > 59 or second > 59:
            raise BadValue(f"{text!r} is not a real time of day")
        return _moment(datetime.combine(day, time(hour, minute, second), zone), zone)
    iso = text[:-4] + "+00:00" if text.upper().endswith(" UTC") else text
    try:
        moment = datetime.fromisoformat(iso)
    except ValueError:
        raise BadValue(
            f"{text!r} is not a time (use yyyy-mm-dd hh:mm, dd-mm-yyyy hh:mm, "
            "ISO 8601 such as 2024-03-05T14:30:00+01:00, or Unix seconds)"
        ) from None
    if moment.year < 1900:
        raise BadValue(f"{text} is before 1900")
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone)
    return _moment(moment, zone)


def _moment(aware: datetime, zone: tzinfo, *, date_only: bool = False) -> Moment:
    return Moment(aware.astimezone(UTC), aware.astimezone(zone).date(), date_only)


def parse_score(raw: str, low: int, high: int) -> int:
    text = raw.strip()
    if not _SCORE.match(text):
        raise BadValue(f"{text!r} is not a whole number from {low} to {high}")
    score = int(text)
    if not low <= score <= high:
        raise BadValue(f"{score} is outside the survey's scale {low}-{high}")
    return score


def contacts_by_email() -> dict[str, list[tuple[int, int, str, str]]]:
    """e-mail -> [(contact id, customer id, language, customer external id)], one query.
    Several when contacts of different customers share an address."""
    found: dict[str, list[tuple[int, int, str, str]]] = {}
    rows = db.session.execute(
        select(Contact.email, Contact.id, Contact.customer_id, Contact.language,
               Customer.external_id).join(Customer, Customer.id == Contact.customer_id)
    )  # fmt: skip
    for email, *contact in rows:
        found.setdefault(email, []).append(tuple(contact))
    return found


def column_index(header: list[str], report: ImportReport) -> tuple[str, dict[str, int]]:
    """The layout (OURS or DELIGHTED) and our column name -> position; missing required
    and repeated columns are problems, other columns are listed as ignored."""
    delighted = "sent_at" not in header and any(name in header for name in DELIGHTED_TIMES)
    if delighted:
        time_column = next(name for name in DELIGHTED_TIMES if name in header)
        names = {**DELIGHTED_COLUMNS, time_column: "answered_at"}
        required = ("email", "score", "answered_at")
    else:
        names = {name: name for name in (*REQUIRED, *OPTIONAL)}
        required = REQUIRED
    index: dict[str, int] = {}
    for position, name in enumerate(header):
        ours = names.get(name)
        if ours is not None and ours in index:
            report.add_problem(1, name, "the column appears twice in the header")
        elif ours is not None:
            index[ours] = position
        elif name:
            report.ignored_columns.append(name)
    missing = [name for name in required if name not in index]
    for name in missing:
        shown = ", ".join(h for h in header if h)
        report.add_problem(1, name, f"required column is missing (the header has: {shown})")
    if missing and not delighted:
        report.add_problem(
            1, None, "a Delighted export is recognised by its 'Response timestamp' or "
            "'Created at' column; other files need email;sent_at;answered_at;score;comment",
        )  # fmt: skip
    index["__width__"] = len(header)
    return (DELIGHTED if delighted else OURS), index


def read_rows(
    rows: Iterable[tuple[int, list[str]]], index: dict[str, int], layout: str,
    report: ImportReport, *, template: SurveyTemplate, zone: tzinfo, now: datetime,
) -> list[HistoryRow]:  # fmt: skip
    """Every row checked; the good ones parsed. A bad row adds one problem per bad cell."""
    contacts = contacts_by_email()
    parsers = _parsers(layout, template, zone, contacts)
    parsed = []
    for line, row in well_formed(rows, index, report):
        values = _cells(line, row, index, parsers, layout, report)
        contact = _contact(line, values.get("email"), contacts, report)
        sent, answered = values.get("sent_at"), values.get("answered_at")
        _check_together(line, values, layout, report, now=now)
        if report.problem_count:
            continue  # once the file is known bad, only look for more problems
        wave_key = values.get("wave") or f"{sent.day:%Y-%m}"
        parsed.append(HistoryRow(
            line, values["email"], contact[0], contact[1], wave_key, sent.at,
            answered.at if answered else None, values.get("score"), values.get("comment", ""),
            values.get("language") or contact[2],
        ))  # fmt: skip
    return parsed


def _parsers(layout: str, template: SurveyTemplate, zone: tzinfo, contacts: dict) -> dict:
    """Column -> parser of its cell (raising BadValue or BadAnswer), built once per file."""
    low, high = template.primary.scale
    # Many rows share a sending time: parse each spelling once.
    moment = lru_cache(maxsize=8192)(lambda raw: parse_moment(raw, zone))
    parsers = {
        # a known address is valid as stored; only the others need the (slow) validator
        "email": lambda v: v.strip().lower() if v.strip().lower() in contacts else parse_email(v),
        "answered_at": lambda v: moment(v.strip()) if v.strip() else None,
        "score": lambda v: parse_score(v, low, high) if v.strip() else None,
        "comment": clean_comment,
    }
    if layout == OURS:
        parsers["sent_at"] = lambda v: moment(v.strip())
        parsers["wave"] = _wave_name
        parsers["language"] = lambda v: parse_language(v) if v.strip() else None
    else:
        parsers["survey_type"] = _delighted_type
    return parsers


def _cells(line, row, index, parsers: dict, layout: str, report: ImportReport) -> dict:
    """The row's cells parsed one by one; a bad cell is a problem and absent from the result."""
    values: dict = {}
    for column, parse in parsers.items():
        try:
            values[column] = parse(cell(row, index, column))
        except (BadValue, BadAnswer) as exc:
            values[column] = _BAD
            report.add_problem(line, _shown(column, layout), str(exc))
    if layout == DELIGHTED:  # a Delighted row is an answer: sent when it was answered
        values["sent_at"] = values["answered_at"]
    return {column: value for column, value in values.items() if value is not _BAD}


_BAD = object()


def _shown(column: str, layout: str) -> str:
    return "response time" if layout == DELIGHTED and column == "answered_at" else column


def _wave_name(raw: str) -> str | None:
    name = " ".join(raw.split())
    if len(name) > MAX_WAVE_NAME:
        raise BadValue(f"the wave name is longer than {MAX_WAVE_NAME} characters")
    return name or None


def _delighted_type(raw: str) -> None:
    kind = raw.strip().lower()
    if kind and kind != "nps":
        raise BadValue(f"a Delighted {kind} response: only NPS responses can be imported")


def _contact(line: int, email: str | None, contacts: dict, report: ImportReport):
    """(contact id, customer id, language, external id) of the row's e-mail, or a problem."""
    if email is None:
        return None
    found = contacts.get(email, [])
    if len(found) == 1:
        return found[0]
    if not found:
        report.add_problem(
            line, "email", f"unknown e-mail {email}: no contact has it (import contacts first)"
        )
    else:
        customers = ", ".join(sorted(contact[3] for contact in found))
        report.add_problem(
            line, "email", f"{email} is a contact of several customers ({customers}); "
            "the history cannot tell whose answer it is",
        )  # fmt: skip
    return None


def _check_together(
    line: int, values: dict, layout: str, report: ImportReport, *, now: datetime
) -> None:
    """What no single cell shows: an answer needs a score and a time, and follows its sending."""
    sent, answered = values.get("sent_at"), values.get("answered_at")
    score, comment = values.get("score"), values.get("comment")
    has_score, has_time = "score" in values, "answered_at" in values
    if layout == DELIGHTED:
        if has_score and score is None:
            report.add_problem(line, "score", "a Delighted response without a score")
        if has_time and answered is None:
            report.add_problem(line, "response time", "the response time is empty")
    else:
        if has_score and has_time and score is None and answered is not None:
            report.add_problem(line, "score", "answered_at is set but the score is empty")
        elif has_score and has_time and score is not None and answered is None:
            report.add_problem(line, "answered_at", "the row has a score but no answered_at")
        if comment and has_score and score is None:
            report.add_problem(
                line, "comment", "a comment without a score (an empty score means not answered)"
            )
        if sent and answered and _before(answered, sent):
            report.add_problem(line, "answered_at", "answered_at is before sent_at")
        if sent and sent.at > now:
            report.add_problem(line, "sent_at", f"{sent.day} is in the future")
    if answered and answered.at > now:
        report.add_problem(line, _shown("answered_at", layout), f"{answered.day} is in the future")


def _before(answered: Moment, sent: Moment) -> bool:
    """A day without a time is compared by day: sent 10:00 and answered "that day" is fine."""
    if answered.date_only or sent.date_only:
        return answered.day < sent.day
    return answered.at < sent.at
