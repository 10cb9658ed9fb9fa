"""Responses as plain rows for export (CSV or JSON), streamed in id order."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator

from sqlalchemy import select

from feedback.customers.models import Customer
from feedback.extensions import db
from feedback.responses.models import Answer, Response

COLUMNS = (
    "response_id",
    "invitation_id",
    "wave_id",
    "customer_external_id",
    "score",
    "csi",
    "comment",
    "language",
    "answered_at",
    "updated_at",
)


def iter_rows(wave_id: int | None = None, chunk: int = 5000) -> Iterator[dict]:
    """One dict per response with its scored answers under `answers`; keyset-paginated."""
    last_id = 0
    while True:
        query = (
            select(Response, Customer.external_id)
            .join(Customer, Customer.id == Response.customer_id)
            .where(Response.id > last_id)
            .order_by(Response.id)
            .limit(chunk)
        )
        if wave_id is not None:
            query = query.where(Response.wave_id == wave_id)
        batch = db.session.execute(query).all()
        if not batch:
            return
        ids = [response.id for response, _ in batch]
        answers: dict[int, dict[str, int]] = {}
        for response_id, key, score in db.session.execute(
            select(Answer.response_id, Answer.question_key, Answer.score).where(
                Answer.response_id.in_(ids)
            )
        ):
            answers.setdefault(response_id, {})[key] = score
        for response, external_id in batch:
            yield {
                "response_id": response.id,
                "invitation_id": response.invitation_id,
                "wave_id": response.wave_id,
                "customer_external_id": external_id,
                "score": response.score,
                "csi": round(response.csi, 1) if response.csi is not None else None,
                "comment": response.comment,
                "language": response.language,
                "answered_at": response.answered_at.isoformat(),
                "updated_at": response.updated_at.isoformat(),
                "answers": answers.get(response.id, {}),
            }
        last_id = ids[-1]
        db.session.expunge_all()


def write_json(rows, out) -> int:
    """A JSON array, written one object at a time so memory stays flat."""
    count = 0
    out.write("[")
    for row in rows:
        out.write(",\n" if count else "\n")
        out.write(json.dumps(row, ensure_ascii=False))
        count += 1
    out.write("\n]\n" if count else "]\n")
    return count


def write_csv(rows, out, question_keys: list[str]) -> int:
    """CSV with the fixed columns, then one column per scored question."""
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([*COLUMNS, *question_keys])
    count = 0
    for row in rows:
        writer.writerow(
            [row[c] if row[c] is not None else "" for c in COLUMNS]
            + [row["answers"].get(k, "") for k in question_keys]
        )
        count += 1
    return count


def question_keys(wave_id: int | None = None) -> list[str]:
    query = select(Answer.question_key).distinct()
    if wave_id is not None:
        query = query.join(Response).where(Response.wave_id == wave_id)
    return sorted(db.session.scalars(query))


def to_string(fmt: str, wave_id: int | None = None) -> str:
    buffer = io.StringIO()
    if fmt == "json":
        write_json(iter_rows(wave_id), buffer)
    else:
        write_csv(iter_rows(wave_id), buffer, question_keys(wave_id))
    return buffer.getvalue()
