"""Survey history import: years of answers from another tool become closed waves.

Same rules as the customer imports: the whole file is read and checked first (one problem
per line and column, up to 100), a file with any problem writes nothing, a dry run writes
nothing, and the caller commits. Rows become invitations of one survey; the invitations
sent in one calendar month (in the configured zone) form one wave, keyed "2024-03", unless
the `wave` column names it. Imported waves are closed at their latest sending or answer.

Importing again adds nothing: a wave is found by its key and an invitation by (wave,
contact), and one already there is left as it is, even if its row changed. Two rows of
one contact in one wave keep the latest answer (an answered row beats an unanswered one).
An imported answer is stored as a live one is (score, CSI, comment, answers per question),
so reports, sentiment and themes read it alike, and with a routing decision (NOT_ROUTED),
so the router never turns it into a case. Each wave's outcomes are then recorded, which
makes a row without a score a non-response.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, tzinfo

from sqlalchemy import insert, select

from feedback.cases.models import RoutingDecision
from feedback.customers.imports.reading import UnreadableFile, read_csv
from feedback.customers.imports.report import ImportReport
from feedback.dbtypes import utcnow
from feedback.errors import DomainError
from feedback.extensions import db
from feedback.responses.models import Answer, Response
from feedback.risk.history_read import (
    DELIGHTED,
    HistoryRow,
    column_index,
    read_rows,
)
from feedback.risk.nonresponse import record_outcomes
from feedback.surveys.models import Invitation, Survey, Wave
from feedback.surveys.services import template_version_for
from feedback.surveys.templates import SurveyTemplate

DEFAULT_TEMPLATE = "nps"
NOT_ROUTED = "imported history: not routed into a case"


@dataclass
class HistoryReport(ImportReport):
    """What a history import found and did; `created` counts invitations."""

    kind: str = "history"
    layout: str = ""
    survey: str = ""
    survey_created: bool = False
    waves_created: int = 0
    waves_extended: int = 0  # imported waves that gained invitations
    answered: int = 0
    not_answered: int = 0
    duplicates: list[str] = field(default_factory=list)  # one note per row left out

    def summary(self) -> str:
        if not self.ok:
            return super().summary()
        done = self._done
        parts = [
            f"history: {_many(self.rows, 'row')} read for survey {self.survey!r}"
            + (f" (it {done(1)} created)" if self.survey_created else ""),
            f"{_many(self.waves_created, 'wave')} {done(self.waves_created)} created"
            + (f", {self.waves_extended} extended" if self.waves_extended else ""),
            f"{_many(self.created, 'invitation')} {done(self.created)} created "
            f"({self.answered} answered, {self.not_answered} not answered)",
            f"{self.unchanged} already imported, left as they are",
        ]
        if self.duplicates:
            parts.append(f"{_many(len(self.duplicates), 'duplicate row')} left out")
        return "; ".join(parts) + "." + (" Dry run: nothing was saved." if self.dry_run else "")

    def _done(self, count: int) -> str:
        return "would be" if self.dry_run else ("was" if count == 1 else "were")


def _many(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def import_history(
    data: bytes, *, survey_name: str, template_key: str | None,
    templates: Mapping[str, SurveyTemplate], zone: tzinfo, dry_run: bool = False,
    now: datetime | None = None,
) -> HistoryReport:  # fmt: skip
    """Check the file and (unless a dry run or a bad file) write its history; flushes.

    Raises DomainError when the survey cannot take the file (another template)."""
    now = now or utcnow()
    name = " ".join((survey_name or "").split())
    survey, template = _survey_and_template(name, template_key, templates)
    report = HistoryReport(dry_run=dry_run, survey=name, survey_created=survey is None)
    try:
        csv_file = read_csv(data)
        report.encoding, report.delimiter = csv_file.encoding, csv_file.delimiter
        report.layout, index = column_index(csv_file.header, report)
        if report.layout == DELIGHTED and template.primary.kind != "nps" and report.ok:
            report.add_problem(None, None, (
                f"a Delighted export holds NPS answers (0-10); the survey uses the "
                f"{template.key} template: import it into an nps survey"
            ))  # fmt: skip
        rows = []
        if report.ok:
            rows = read_rows(csv_file.rows, index, report.layout, report,
                             template=template, zone=zone, now=now)  # fmt: skip
    except UnreadableFile as exc:
        report.add_problem(None, None, str(exc))
    if not report.ok:
        return report
    kept = _latest_per_wave(rows, report)
    waves = _imported_waves(survey, {row.wave_key for row in kept})
    there = _invited(wave.id for wave in waves.values())
    wave_ids = {key: wave.id for key, wave in waves.items()}
    new = [row for row in kept if (wave_ids.get(row.wave_key), row.contact_id) not in there]
    report.created, report.unchanged = len(new), len(kept) - len(new)
    report.answered = sum(1 for row in new if row.score is not None)
    report.not_answered = len(new) - report.answered
    new_keys = {row.wave_key for row in new}
    report.waves_created = len(new_keys - waves.keys())
    report.waves_extended = len(new_keys & waves.keys())
    if dry_run or not new:
        return report
    if survey is None:
        survey = Survey(name=report.survey, template_key=template.key)
        db.session.add(survey)
        db.session.flush()
    touched = _write_waves(survey, template, waves, new)
    _write_invitations(template, touched, new, now=now)
    record_outcomes([wave.id for wave in touched.values()], now=now)
    db.session.flush()
    return report


def _survey_and_template(
    name: str, template_key: str | None, templates: Mapping[str, SurveyTemplate]
) -> tuple[Survey | None, SurveyTemplate]:
    """The survey (None: to be created) and its template; a clear error if they disagree."""
    if not name:
        raise DomainError("name the survey the history belongs to (--survey)")
    if len(name) > 200:
        raise DomainError("a survey name has at most 200 characters")
    survey = db.session.scalar(select(Survey).where(Survey.name == name))
    if survey is not None and template_key and template_key != survey.template_key:
        raise DomainError(
            f"survey {name!r} uses the {survey.template_key} template, not {template_key}: "
            f"leave --template out to import into it, or name another survey"
        )
    key = survey.template_key if survey is not None else (template_key or DEFAULT_TEMPLATE)
    if key not in templates:
        raise DomainError(f"no template {key!r}; choose one of {', '.join(sorted(templates))}")
    return survey, templates[key]


def _latest_per_wave(rows: list[HistoryRow], report: HistoryReport) -> list[HistoryRow]:
    """One row per (wave, contact): the latest answer, else the latest sending; a note for
    each row left out."""
    kept: dict[tuple[str, int], HistoryRow] = {}
    for row in rows:
        key = (row.wave_key, row.contact_id)
        other = kept.get(key)
        if other is None:
            kept[key] = row
            continue
        latest, dropped = (row, other) if _rank(row) >= _rank(other) else (other, row)
        kept[key] = latest
        why = "the latest answer" if latest.answered_at else "the latest sending"
        report.duplicates.append(
            f"line {dropped.line}: {row.email} is also in wave {row.wave_key} on line "
            f"{latest.line}; kept line {latest.line}, {why}"
        )
    return list(kept.values())


def _rank(row: HistoryRow) -> tuple:
    return (row.answered_at is not None, row.answered_at or row.sent_at, row.sent_at, row.line)


def _imported_waves(survey: Survey | None, keys: set[str]) -> dict[str, Wave]:
    if survey is None or not keys:
        return {}
    waves = db.session.scalars(
        select(Wave).where(Wave.survey_id == survey.id, Wave.import_key.in_(sorted(keys)))
    )
    return {wave.import_key: wave for wave in waves}


def _invited(wave_ids) -> set[tuple[int, int]]:
    ids = sorted(wave_ids)
    if not ids:
        return set()
    rows = db.session.execute(
        select(Invitation.wave_id, Invitation.contact_id).where(Invitation.wave_id.in_(ids))
    )
    return {tuple(row) for row in rows}


def _write_waves(survey: Survey, template: SurveyTemplate, waves: dict[str, Wave],
                 new: list[HistoryRow]) -> dict[str, Wave]:  # fmt: skip
    """Create the new waves and widen the old ones to their new rows: sent at the first
    sending, closed at the latest sending or answer. Returns the waves that get rows."""
    span: dict[str, tuple[datetime, datetime]] = {}
    for row in new:
        last = max(row.sent_at, row.answered_at or row.sent_at)
        first_seen, last_seen = span.get(row.wave_key, (row.sent_at, last))
        span[row.wave_key] = (min(first_seen, row.sent_at), max(last_seen, last))
    version_id = template_version_for(template).id if span.keys() - waves.keys() else None
    touched = {}
    for key, (first, last) in sorted(span.items()):
        wave = waves.get(key)
        if wave is None:
            wave = Wave(
                survey_id=survey.id, status="closed", audience={}, import_key=key,
                template_version_id=version_id, reminder_days="", max_reminders=0,
                sent_at=first, closes_at=last, closed_at=last,
            )  # fmt: skip
            db.session.add(wave)
        else:
            wave.sent_at = min(wave.sent_at or first, first)
            wave.closed_at = wave.closes_at = max(wave.closed_at or last, last)
        touched[key] = wave
    db.session.flush()
    return touched


def _write_invitations(template: SurveyTemplate, waves: dict[str, Wave],
                       new: list[HistoryRow], *, now: datetime) -> None:  # fmt: skip
    """Invitations, then the answered ones' responses, answers and routing decisions:
    a few multi-row statements, whatever the number of rows."""
    by_token = {}
    invitations = []
    for row in new:
        token = secrets.token_urlsafe(32)
        by_token[token] = row
        invitations.append({
            "wave_id": waves[row.wave_key].id, "contact_id": row.contact_id,
            "customer_id": row.customer_id, "token": token, "language": row.language,
            # the other tool delivered it: a row without a score is a non-response
            "state": "answered" if row.score is not None else "delivered",
            "reminders_sent": 0, "sent_at": row.sent_at, "delivered_at": row.sent_at,
            "answered_at": row.answered_at if row.score is not None else None, "created_at": now,
        })  # fmt: skip
    table = Invitation.__table__
    ids = db.session.execute(insert(table).returning(table.c.id, table.c.token), invitations)
    responses = []
    for invitation_id, token in ids:
        row = by_token[token]
        if row.score is None:
            continue
        responses.append({
            "invitation_id": invitation_id, "wave_id": waves[row.wave_key].id,
            "customer_id": row.customer_id,
            "template_version_id": waves[row.wave_key].template_version_id,
            "score": row.score, "csi": template.csi_index({template.primary.key: row.score}),
            "comment": row.comment, "language": row.language,
            "answered_at": row.answered_at, "updated_at": row.answered_at,
        })  # fmt: skip
    if not responses:
        return
    table = Response.__table__
    saved = db.session.execute(insert(table).returning(table.c.id, table.c.score), responses).all()
    primary = template.primary.key
    db.session.execute(
        insert(Answer.__table__),
        [{"response_id": rid, "question_key": primary, "score": score} for rid, score in saved],
    )
    db.session.execute(
        insert(RoutingDecision.__table__),
        [{"response_id": rid, "rule_key": None, "reason": NOT_ROUTED, "decided_at": now}
         for rid, _ in saved],
    )  # fmt: skip
