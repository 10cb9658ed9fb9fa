"""`feedback responses export` in CSV and JSON."""

import csv
import io
import json
from datetime import UTC, datetime

import pytest

from feedback.customers.models import Contact
from feedback.extensions import db
from feedback.responses.models import Answer, Response
from feedback.surveys.models import Invitation, Survey, Wave
from feedback.surveys.services import template_version_for
from feedback.surveys.templates import load_templates

AT = datetime(2026, 11, 3, 10, 30, tzinfo=UTC)


@pytest.fixture
def answered(create_customer):
    version = template_version_for(load_templates()["relationship"])
    survey = Survey(name="Relationship 2026", template_key="relationship")
    waves = [Wave(survey=survey, status="open", audience={}, closes_at=AT) for _ in range(2)]
    db.session.add_all(waves)
    db.session.flush()
    customer = create_customer(external_id="K7", name="Ålesund Fisk AS", language="nb")
    rows = []
    for n, (wave, score, comment) in enumerate(
        [(waves[0], 3, 'Levering for sent; "alltid"'), (waves[1], 10, "Supert, takk!")]
    ):
        contact = Contact(customer_id=customer.id, email=f"c{n}@fisk.no", language="nb")
        invitation = Invitation(
            wave=wave,
            contact=contact,
            customer_id=customer.id,
            token=f"tok{n}",
            language="nb",
            state="answered",
        )
        response = Response(
            invitation=invitation,
            wave_id=wave.id,
            customer_id=customer.id,
            template_version=version,
            score=score,
            csi=50.0 + n,
            comment=comment,
            language="nb",
            answered_at=AT,
        )
        response.answers = [
            Answer(question_key="recommend", score=score),
            Answer(question_key="delivery", score=2 + n),
        ]
        db.session.add(response)
        rows.append(response)
    db.session.commit()
    return waves


def test_json_export_has_the_documented_fields(runner, answered):
    result = runner.invoke(args=["responses", "export", "--format", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert len(data) == 2
    first = data[0]
    for key in (
        "invitation_id",
        "customer_external_id",
        "score",
        "comment",
        "language",
        "answered_at",
    ):
        assert key in first
    assert first["customer_external_id"] == "K7" and first["score"] == 3
    assert first["comment"] == 'Levering for sent; "alltid"'
    assert first["answers"] == {"delivery": 2, "recommend": 3}
    assert first["answered_at"] == "2026-11-03T10:30:00+00:00"


def test_csv_export_for_one_wave(runner, answered, tmp_path):
    target = tmp_path / "out.csv"
    result = runner.invoke(
        args=[
            "responses",
            "export",
            "--wave",
            str(answered[1].id),
            "--format",
            "csv",
            "--output",
            str(target),
        ]
    )
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(target.read_text(encoding="utf-8"))))
    assert len(rows) == 1
    assert rows[0]["score"] == "10" and rows[0]["delivery"] == "3"
    assert rows[0]["comment"] == "Supert, takk!"


def test_empty_export_and_bad_input(runner, app):
    result = runner.invoke(args=["responses", "export", "--format", "json"])
    assert result.exit_code == 0 and json.loads(result.stdout) == []
    for args, message in [
        (["--format", "xml"], "Invalid value for '--format'"),
        ([], "Missing option '--format'"),
        (["--format", "csv", "--wave", "999"], "no wave 999"),
        (["--format", "csv", "--wave", "abc"], "is not a valid integer"),
    ]:
        result = runner.invoke(args=["responses", "export", *args])
        assert result.exit_code != 0 and message in result.output, result.output
        assert "Traceback" not in result.output
