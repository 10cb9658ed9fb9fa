"""`feedback users|currencies|customers show|segments`, good and bad input; help with no key."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import func, select

import feedback
from feedback.auth.models import User
from feedback.customers.models import Contact, CurrencyRate, SegmentRun
from feedback.extensions import db


def _users() -> int:
    return db.session.scalar(select(func.count()).select_from(User))


# users create ---------------------------------------------------------------------------


def test_users_create_with_generated_password_prints_it_once(runner):
    result = runner.invoke(
        args=[
            "users",
            "create",
            "Anna@Example.com",
            "--role",
            "manager",
            "--team",
            "Key accounts",
            "--name",
            "Anna Sørensen",
            "--generate-password",
        ]
    )
    assert result.exit_code == 0, result.output
    assert "Created manager anna@example.com, team Key accounts." in result.output
    password = result.output.split("Password (shown once): ")[1].strip()
    user = db.session.scalar(select(User).where(User.email == "anna@example.com"))
    assert user.name == "Anna Sørensen" and user.team.name == "Key accounts"
    assert user.check_password(password) and not user.check_password("wrong")
    assert password not in user.password_hash


def test_users_create_reads_password_from_stdin(runner):
    result = runner.invoke(
        args=["users", "create", "bo@example.com", "--role", "agent", "--password-stdin"],
        input="a long enough secret\n",
    )
    assert result.exit_code == 0, result.output
    assert "shown once" not in result.output
    user = db.session.scalar(select(User).where(User.email == "bo@example.com"))
    assert user.check_password("a long enough secret")


def test_users_create_prompts_for_password_on_a_terminal(runner, monkeypatch):
    monkeypatch.setattr("feedback.auth.cli.stdin_is_terminal", lambda: True)
    result = runner.invoke(
        args=["users", "create", "cy@example.com", "--role", "admin"],
        input="prompted secret 1\nprompted secret 1\n",
    )
    assert result.exit_code == 0, result.output
    user = db.session.scalar(select(User).where(User.email == "cy@example.com"))
    assert user.check_password("prompted secret 1") and user.role == "admin"


@pytest.mark.parametrize(
    ("args", "stdin", "message"),
    [
        (["not-an-email", "--role", "agent", "--generate-password"], None, "not a valid e-mail"),
        (["x@example.com", "--role", "boss", "--generate-password"], None, "Invalid value"),
        (["x@example.com", "--generate-password"], None, "Missing option '--role'"),
        (["x@example.com", "--role", "agent", "--password-stdin"], "short\n", "at least 10"),
        (["x@example.com", "--role", "agent"], "", "no password given"),
        (
            ["x@example.com", "--role", "agent", "--password-stdin", "--generate-password"],
            None,
            "not both",
        ),
    ],
)
def test_users_create_bad_input_writes_nothing(runner, args, stdin, message):
    result = runner.invoke(args=["users", "create", *args], input=stdin)
    assert result.exit_code != 0
    assert message in result.output
    assert "Traceback" not in result.output
    assert _users() == 0


def test_users_create_refuses_duplicate_email(runner, create_user):
    create_user(email="dup@example.com")
    result = runner.invoke(
        args=["users", "create", "DUP@example.com", "--role", "agent", "--generate-password"]
    )
    assert result.exit_code == 1
    assert "already exists" in result.output
    assert _users() == 1


# currencies set ---------------------------------------------------------------------------


def test_currencies_set_and_update(runner):
    result = runner.invoke(args=["currencies", "set", "dkk", "0,134"])
    assert result.exit_code == 0, result.output
    assert "1 DKK = 0.134 EUR" in result.output
    runner.invoke(args=["currencies", "set", "DKK", "0.1341"])
    assert db.session.get(CurrencyRate, "DKK").rate == Decimal("0.1341")


@pytest.mark.parametrize(
    ("code", "rate", "message"),
    [
        ("DK", "0.1", "three-letter"),
        ("DKK", "ten", "not a number"),
        ("DKK", "-1", "positive"),
        ("DKK", "0", "positive"),
        ("DKK", "NaN", "positive"),
        ("EUR", "1.1", "base currency"),
        ("DKK", "0.123456789", "8 decimals"),
    ],
)
def test_currencies_set_bad_input(runner, code, rate, message):
    result = runner.invoke(args=["currencies", "set", code, rate])
    assert result.exit_code == 1
    assert message in result.output
    assert db.session.scalar(select(func.count()).select_from(CurrencyRate)) == 0


# customers show -----------------------------------------------------------------------------


def test_customers_show_json(runner, create_user, create_customer, add_transaction):
    owner = create_user(email="owner@example.com", role="agent")
    customer = create_customer(
        external_id="10042", name="Hansen & Søn ApS", owner=owner, potential="low", language="da"
    )
    db.session.add(
        Contact(customer_id=customer.id, name="Mette Ærø", email="mette@hansen.dk", language="da")
    )
    db.session.commit()
    runner.invoke(args=["currencies", "set", "DKK", "0.134"])
    add_transaction(customer, "10000.00", date.today(), currency="DKK")
    add_transaction(customer, "250.50", date.today())
    assert runner.invoke(args=["segments", "recompute"]).exit_code == 0

    result = runner.invoke(args=["customers", "show", "10042", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data == {
        "external_id": "10042",
        "name": "Hansen & Søn ApS",
        "owner_email": "owner@example.com",
        "potential": "low",
        "language": "da",
        "programme": "retain",
        "abc_class": "A",
        "revenue_12m": "1590.50",
        "currency": "EUR",
        "segment_as_of": date.today().isoformat(),
        "contacts": [
            {"name": "Mette Ærø", "email": "mette@hansen.dk", "language": "da", "status": "active"}
        ],
        # No wave and no churn run yet: the answer record and the risk are empty.
        "waves_invited": 0,
        "waves_answered": 0,
        "consecutive_non_responses": 0,
        "last_answered_at": None,
        "last_score": None,
        "churn_risk": None,
        "churn_reasons": [],
        "churn_as_of": None,
    }
    plain = runner.invoke(args=["customers", "show", "10042"])
    assert "Hansen & Søn ApS (10042)" in plain.output and "1590.50 EUR" in plain.output


def test_customers_show_before_any_segment_run(runner, create_customer):
    create_customer(external_id="7")
    data = json.loads(runner.invoke(args=["customers", "show", "7", "--json"]).output)
    assert data["abc_class"] is None and data["revenue_12m"] == "0.00"


def test_customers_show_unknown(runner):
    result = runner.invoke(args=["customers", "show", "nope", "--json"])
    assert result.exit_code == 1
    assert "no customer with external id 'nope'" in result.output


# segments recompute --------------------------------------------------------------------------


def test_segments_recompute_as_of(runner, create_customer, add_transaction):
    add_transaction(create_customer(), 100, date(2025, 3, 1))
    result = runner.invoke(args=["segments", "recompute", "--as-of", "2025-12-31"])
    assert result.exit_code == 0, result.output
    assert "Segments as of 2025-12-31: 1 customers, revenue 100.00 EUR" in result.output
    assert db.session.scalar(select(SegmentRun.as_of)) == date(2025, 12, 31)


@pytest.mark.parametrize("bad", ["31-12-2025", "2025-02-30", "yesterday"])
def test_segments_recompute_bad_date(runner, bad):
    result = runner.invoke(args=["segments", "recompute", "--as-of", bad])
    assert result.exit_code == 2
    assert "Invalid value for '--as-of'" in result.output
    assert db.session.scalar(select(func.count()).select_from(SegmentRun)) == 0


# the console script without FEEDBACK_SECRET_KEY -----------------------------------------


def _feedback(tmp_path, *args: str) -> subprocess.CompletedProcess:
    """Run the `feedback` console script as a user would, with no secret key set.

    A separate process: inside the test run an app context is always active, and a
    command would quietly use that app instead of building its own.
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FEEDBACK_", "FLASK_"))}
    env["FEEDBACK_INSTANCE_DIR"] = str(tmp_path / "instance")
    env["PYTHONPATH"] = str(Path(feedback.__file__).resolve().parent.parent)
    script = "import sys; from feedback.cli import main; sys.exit(main(prog_name='feedback'))"
    return subprocess.run(
        [sys.executable, "-c", script, *args],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def _listed(help_text: str) -> set[str]:
    commands = help_text.split("Commands:\n", 1)[1]
    return {line.split()[0] for line in commands.splitlines() if line.startswith("  ")}


def test_help_lists_every_command_without_a_secret_key(tmp_path, app):
    result = _feedback(tmp_path, "--help")
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    listed = _listed(result.stdout)
    assert {"users", "customers", "waves", "demo", "jobs", "db", "run"} <= listed
    assert set(app.cli.commands) <= listed  # every project command, app or none

    waves = _feedback(tmp_path, "waves", "--help")
    assert waves.returncode == 0, waves.stderr
    assert {"create", "send", "close"} <= _listed(waves.stdout)
    create = _feedback(tmp_path, "waves", "create", "--help")
    assert create.returncode == 0 and "--survey" in create.stdout, create.stderr


def test_a_command_needing_the_app_asks_for_the_secret_key_in_one_line(tmp_path):
    result = _feedback(tmp_path, "customers", "show", "C100001")
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.startswith("Error: FEEDBACK_SECRET_KEY is not set.")
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr


def test_an_unknown_command_is_unknown_even_without_a_secret_key(tmp_path):
    result = _feedback(tmp_path, "wavez")
    assert result.returncode == 2
    assert "No such command 'wavez'" in result.stderr and "SECRET_KEY" not in result.stderr
