"""`feedback surveys ...` and `feedback waves ...` with good and bad input."""

from datetime import date

import pytest

from feedback.customers.models import Contact
from feedback.customers.segments import recompute_from_config
from feedback.extensions import db
from feedback.surveys.models import Wave


@pytest.fixture
def audience(app, create_customer, add_transaction, create_user):
    owner = create_user(email="owner@example.com", role="agent")
    big = create_customer(external_id="K1", language="da", owner=owner, potential="high")
    small = create_customer(external_id="K2", language="sv", potential="low")
    add_transaction(big, 50_000, on=date.today())
    add_transaction(small, 10, on=date.today())
    for customer, email, status in [
        (big, "a@big.dk", "active"),
        (big, "b@big.dk", "opted_out"),
        (small, "c@small.se", "active"),
    ]:
        db.session.add(
            Contact(customer_id=customer.id, email=email, language=customer.language, status=status)
        )
    recompute_from_config(app.config)
    db.session.commit()


def invoke(runner, *args):
    result = runner.invoke(args=list(args))
    assert "Traceback" not in result.output
    return result


def test_create_survey_and_wave_then_preview_and_close(runner, audience):
    result = invoke(runner, "surveys", "create", "--template", "nps", "--name", "NPS autumn")
    assert result.exit_code == 0, result.output
    assert "Created survey" in result.output

    result = invoke(runner, "waves", "create", "--survey", "NPS autumn", "--class", "A")
    assert result.exit_code == 0, result.output
    wave_id = int(result.output.strip())
    wave = db.session.get(Wave, wave_id)
    assert wave.audience == {"classes": ["A"]} and wave.status == "draft"

    result = invoke(runner, "waves", "preview", str(wave_id))
    assert result.exit_code == 0, result.output
    assert "1 customers match; 1 contacts will be invited, 1 skipped." in result.output
    assert "skipped, opted out: 1" in result.output

    result = invoke(runner, "waves", "close", str(wave_id))
    assert result.exit_code == 1 and "never sent" in result.output


def test_wave_by_owner_language_and_customer_file(runner, audience, tmp_path):
    invoke(runner, "surveys", "create", "--template", "csi", "--name", "CSI")
    by_owner = invoke(runner, "waves", "create", "--survey", "CSI", "--owner", "OWNER@example.com")
    assert by_owner.exit_code == 0, by_owner.output
    ids = tmp_path / "ids.csv"
    ids.write_text("K2\n", encoding="utf-8")
    listed = invoke(runner, "waves", "create", "--survey", "CSI", "--customers", str(ids))
    assert listed.exit_code == 0, listed.output
    preview = invoke(runner, "waves", "preview", listed.output.strip())
    assert "1 customers match; 1 contacts will be invited" in preview.output


@pytest.mark.parametrize(
    "args, message",
    [
        (["surveys", "create", "--template", "stars", "--name", "X"], "no template 'stars'"),
        (["surveys", "create", "--template", "nps"], "Missing option '--name'"),
        (["waves", "create", "--survey", "nothing"], "no survey 'nothing'"),
        (["waves", "create", "--survey", "S", "--class", "Z"], "unknown class Z"),
        (["waves", "create", "--survey", "S", "--programme", "x"], "unknown programme"),
        (["waves", "create", "--survey", "S", "--language", "de"], "unknown language de"),
        (["waves", "create", "--survey", "S", "--owner", "x@y.z"], "no user with e-mail"),
        (["waves", "create", "--survey", "S", "--close-after-days", "0"], "Invalid value"),
        (["waves", "create", "--survey", "S", "--reminder-days", "9,20"], "must come before"),
        (["waves", "create", "--survey", "S", "--send-at", "tomorrow"], "Invalid value"),
        (["waves", "preview", "999"], "no wave '999'"),
        (["waves", "preview", "abc"], "no wave 'abc'"),
        (["waves", "send", "999"], "no wave '999'"),
        (["waves", "close", "x"], "no wave 'x'"),
    ],
)
def test_bad_input_is_a_clear_error(runner, audience, args, message):
    invoke(runner, "surveys", "create", "--template", "nps", "--name", "S")
    result = invoke(runner, *args)
    assert result.exit_code != 0
    assert message in result.output
    assert db.session.query(Wave).count() == 0
