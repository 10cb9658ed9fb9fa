"""Two years of survey history for the demo: quarterly NPS waves (the latest still open) and
an annual relationship survey of the A and B customers (waves older than the transaction
history are left out).

Whether a customer answers, and what, follows its hidden satisfaction: unhappy customers
answer less often (their silence is a churn signal), scores scatter around satisfaction,
declining customers get less happy as time goes on, customers who are about to stop ordering
sour in the half year before, and those who have left rarely answer at all. Comments match
the score's mood.
Everything is generated with numpy and written in bulk; only the tokens come from `secrets`,
so demo links are as unguessable as real ones.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

import numpy as np
from sqlalchemy import func, select

from feedback.customers.models import Contact, Transaction
from feedback.demo.comments import COMMENTS
from feedback.extensions import db
from feedback.responses.models import Response
from feedback.risk.nonresponse import record_outcomes
from feedback.surveys.models import Invitation, Survey, Wave
from feedback.surveys.services import template_version_for
from feedback.surveys.templates import SurveyTemplate, load_templates

# (survey, days before today the wave went out, only these classes or None for all)
WAVES = (
    ("Quarterly NPS", 728, None),
    ("Annual relationship survey", 685, ("A", "B")),
    ("Quarterly NPS", 637, None),
    ("Quarterly NPS", 546, None),
    ("Quarterly NPS", 455, None),
    ("Quarterly NPS", 364, None),
    ("Annual relationship survey", 320, ("A", "B")),
    ("Quarterly NPS", 273, None),
    ("Quarterly NPS", 182, None),
    ("Quarterly NPS", 91, None),
    ("Quarterly NPS", 6, None),
)
HISTORY_DAYS = 730  # how far back the first wave went: declining customers sour over this
SURVEYS = {"Quarterly NPS": "nps", "Annual relationship survey": "relationship"}
CLOSE_AFTER_DAYS = 14
DECLINING = 2  # index of "declining" in the seed's TRAJECTORIES
CHURNED = 3


@dataclass
class SurveyHistory:
    waves: int = 0
    invitations: int = 0
    responses: int = 0


def seed_survey_history(config, rng, *, today: date, customer_ids, plan, classes, write_rows,
                        to_db_time) -> SurveyHistory:  # fmt: skip
    """Write surveys, waves, invitations, responses and answers; flushes, does not commit.

    `classes` maps customer id -> current ABC class; `write_rows`/`to_db_time` are the seed's
    bulk writer and time converter."""
    templates = load_templates(config["FEEDBACK_TEMPLATES_DIR"])
    history = SurveyHistory()
    contact_of = _first_active_contacts()
    surveys = {}
    for name, key in SURVEYS.items():
        surveys[name] = Survey(name=name, template_key=key)
        db.session.add(surveys[name])
    db.session.flush()
    index_of = {int(cid): i for i, cid in enumerate(customer_ids.tolist())}
    first_order = db.session.scalar(select(func.min(Transaction.date)))
    for name, days_ago, only in WAVES:
        if first_order is None or today - timedelta(days=days_ago) < first_order:
            continue  # before the company's history: no customers to ask yet
        template = templates[SURVEYS[name]]
        sent = datetime.combine(today - timedelta(days=days_ago), time(8, 30), UTC)
        closes = sent + timedelta(days=CLOSE_AFTER_DAYS)
        is_open = closes > datetime.now(UTC)
        wave = Wave(
            survey_id=surveys[name].id, status="open" if is_open else "closed",
            audience={"classes": list(only)} if only else {},
            template_version_id=template_version_for(template).id,
            reminder_days="3,7", max_reminders=2, sent_at=sent, closes_at=closes,
            closed_at=None if is_open else closes, created_at=sent - timedelta(days=1),
        )  # fmt: skip
        db.session.add(wave)
        db.session.flush()
        invited = [cid for cid in contact_of if only is None or classes.get(cid) in only]
        if not invited:
            continue
        history.waves += 1
        _write_wave(rng, wave, template, invited, contact_of, index_of, plan, sent, closes,
                    today, write_rows, to_db_time, history)  # fmt: skip
    db.session.flush()
    record_outcomes()  # the closed waves' answered / silent customers, as a close records them
    return history


def _first_active_contacts() -> dict[int, tuple[int, str]]:
    """customer id -> (contact id, language) of its first active contact."""
    rows = db.session.execute(
        select(Contact.customer_id, Contact.id, Contact.language)
        .where(Contact.status == "active")
        .order_by(Contact.customer_id, Contact.id)
    ).all()
    chosen: dict[int, tuple[int, str]] = {}
    for customer_id, contact_id, language in rows:
        chosen.setdefault(customer_id, (contact_id, language))
    return chosen


def _write_wave(rng, wave, template: SurveyTemplate, invited, contact_of, index_of, plan, sent,
                closes, today, write_rows, to_db_time, history) -> None:  # fmt: skip
    count = len(invited)
    positions = np.array([index_of[c] for c in invited])
    satisfaction = plan.satisfaction[positions].copy()
    trajectory = plan.trajectory[positions]
    # Declining customers sour as time goes on; churned ones in the half year before their
    # last order, and once gone they rarely answer.
    elapsed = 1 - (today - sent.date()).days / HISTORY_DAYS
    satisfaction[trajectory == DECLINING] -= 0.35 * max(elapsed, 0)
    months_ago = (today - sent.date()).days / 30.44
    months_to_stop = months_ago - plan.churn_months[positions]  # > 0: the last order is ahead
    churned = trajectory == CHURNED
    souring = churned & (months_to_stop > 0) & (months_to_stop < 6)
    satisfaction[souring] -= 0.3 * (1 - months_to_stop[souring] / 6)
    gone = churned & (months_to_stop <= 0)
    satisfaction[gone] -= 0.3
    satisfaction = np.clip(satisfaction, 0.02, 0.99)
    willing = np.clip(0.12 + 0.55 * satisfaction, 0.05, 0.8) * np.where(gone, 0.3, 1.0)
    answers = rng.random(count) < willing
    delay_hours = np.minimum(rng.exponential(40, count), CLOSE_AFTER_DAYS * 24 - 2)
    if wave.status == "open":  # the open wave is only days old: fewer answers so far
        answers &= delay_hours < (datetime.now(UTC) - sent).total_seconds() / 3600
    nps = np.clip(np.rint(10.8 * satisfaction - 0.4 + rng.normal(0, 1.3, count)), 0, 10)
    ratings = np.clip(
        np.rint(1 + 9 * satisfaction[:, None] + rng.normal(0, 1.2, (count, 8))), 1, 10
    )
    commented = answers & (rng.random(count) < np.where(nps <= 6, 0.6, 0.35))
    pick = rng.integers(0, 1000, count)

    answered_at = [sent + timedelta(hours=float(h)) for h in delay_hours]
    reminders = np.where(answers, (delay_hours > 72).astype(int) + (delay_hours > 168), 2)
    tokens = [secrets.token_urlsafe(32) for _ in range(count)]
    rows = []
    for i, customer_id in enumerate(invited):
        contact_id, language = contact_of[customer_id]
        state = "answered" if answers[i] else "delivered"
        rows.append((
            wave.id, contact_id, customer_id, tokens[i], language, state, int(reminders[i]),
            to_db_time(sent), to_db_time(sent + timedelta(minutes=2)),
            to_db_time(answered_at[i]) if answers[i] else None, to_db_time(sent),
        ))  # fmt: skip
    write_rows(
        "invitations",
        ("wave_id", "contact_id", "customer_id", "token", "language", "state", "reminders_sent",
         "sent_at", "delivered_at", "answered_at", "created_at"),
        rows,
    )  # fmt: skip
    history.invitations += count
    invitation_ids = dict(
        db.session.execute(
            select(Invitation.customer_id, Invitation.id).where(Invitation.wave_id == wave.id)
        ).all()
    )
    scored = [q for q in template.questions if q.scale]
    responses = []
    for i in np.flatnonzero(answers).tolist():
        customer_id = invited[i]
        language = contact_of[customer_id][1]
        values = _scores(scored, template, int(nps[i]), ratings[i])
        comment = ""
        if commented[i]:
            mood = "negative" if nps[i] <= 6 else "neutral" if nps[i] <= 8 else "positive"
            bank = COMMENTS[language][mood]
            comment = bank[pick[i] % len(bank)]
        responses.append((invitation_ids[customer_id], customer_id, language, values, comment,
                          answered_at[i]))  # fmt: skip
    write_rows(
        "responses",
        ("invitation_id", "wave_id", "customer_id", "template_version_id", "score", "csi",
         "comment", "language", "answered_at", "updated_at"),
        (
            (inv, wave.id, cust, wave.template_version_id, values[template.primary.key],
             template.csi_index(values), comment, lang, to_db_time(at), to_db_time(at))
            for inv, cust, lang, values, comment, at in responses
        ),
    )  # fmt: skip
    response_ids = dict(
        db.session.execute(
            select(Response.invitation_id, Response.id).where(Response.wave_id == wave.id)
        ).all()
    )
    write_rows(
        "answers",
        ("response_id", "question_key", "score"),
        (
            (response_ids[inv], key, score)
            for inv, _cust, _lang, values, _comment, _at in responses
            for key, score in values.items()
        ),
    )
    history.responses += len(responses)


def _scores(scored, template, nps: int, ratings) -> dict[str, int]:
    values = {}
    for n, question in enumerate(scored):
        if question.kind == "nps":
            values[question.key] = nps
        else:
            values[question.key] = int(ratings[n % len(ratings)])
    return values
