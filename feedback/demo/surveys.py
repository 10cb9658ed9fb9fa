"""Two years of survey history for the demo: quarterly NPS waves (the latest still open) and
an annual relationship survey of the A and B customers (waves older than the transaction
history are left out).

Whether a customer answers, and what, follows its hidden satisfaction: unhappy customers
answer less often (their silence is a churn signal), scores scatter around satisfaction,
declining customers get less happy as time goes on, customers who are about to stop ordering
sour in the half year before, and those who have left rarely answer at all. Comments match
the score's mood.

Delivery follows the mail service's event webhook (delivery/events.py): a few addresses hard
bounce or are dropped each wave (people change jobs; the contact is then marked bounced and
the next wave goes to the customer's next active contact), some of those who do not answer
still open the mail (the engaged more often), a few of them unsubscribe (the contact opts
out), and everyone who answers opened it. Each closed wave's outcomes are recorded as its
close records them, against the contacts as they stood then, so bounces give `undelivered`
and unsubscribes `opted_out` in that wave and later waves are not rewritten.

Everything is generated with numpy and written in bulk; only the tokens come from `secrets`,
so demo links are as unguessable as real ones.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

import numpy as np
from sqlalchemy import func, select, update

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
REMINDER_DAYS = (3, 7)  # the waves' reminder_days
# Per invitation sent: hard bounces and drops of a known bad address (both mark the contact
# bounced); then, of those delivered and not answered, who opened (by satisfaction), who
# clicked through without answering, and who unsubscribed from the opened mail.
BOUNCED, DROPPED = 0.016, 0.004
OPENED_SILENT = (0.06, 0.36)  # base + slope x satisfaction: about 25-30 % of the silent
CLICKED_SILENT, CLICKED_ANSWERED = 0.2, 0.9
UNSUBSCRIBED = 0.03  # of the silent who opened
BOUNCE_REASON = "550 5.1.1 The email account that you tried to reach does not exist."
DROP_REASON = "Bounced Address"
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
    active = _active_contacts()
    # Delivery draws come from a child generator: the answers stay as the seed always drew them.
    delivery_rng = rng.spawn(1)[0]
    survey_url = f"{config['FEEDBACK_BASE_URL']}/s/"
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
        contact_of = {cid: people[0] for cid, people in active.items() if people}
        invited = [cid for cid in contact_of if only is None or classes.get(cid) in only]
        if not invited:
            continue
        history.waves += 1
        delivery = _Delivery(delivery_rng, len(invited), survey_url)
        _write_wave(rng, wave, template, invited, contact_of, index_of, plan, sent, closes,
                    today, write_rows, to_db_time, history, delivery)  # fmt: skip
        _mark_contacts(delivery.gone, active)
        if not is_open:  # the close records the outcomes against the contacts as they are now
            record_outcomes([wave.id], now=closes)
    db.session.flush()
    return history


def _active_contacts() -> dict[int, list[tuple[int, str]]]:
    """customer id -> its active contacts (contact id, language), first one first: a wave
    goes to the first, and to the next once the first has bounced or opted out."""
    rows = db.session.execute(
        select(Contact.customer_id, Contact.id, Contact.language)
        .where(Contact.status == "active")
        .order_by(Contact.customer_id, Contact.id)
    ).all()
    active: dict[int, list[tuple[int, str]]] = {}
    for customer_id, contact_id, language in rows:
        active.setdefault(customer_id, []).append((contact_id, language))
    return active


def _mark_contacts(gone: dict[int, tuple[int, str]], active) -> None:
    """Set the status the delivery events leave (customer id -> (contact id, status)) and take
    those contacts out of the next waves."""
    for status in ("bounced", "opted_out"):
        ids = [contact for contact, st in gone.values() if st == status]
        for lo in range(0, len(ids), 5000):
            db.session.execute(
                update(Contact)
                .where(Contact.id.in_(ids[lo : lo + 5000]), Contact.status == "active")
                .values(status=status)
                .execution_options(synchronize_session=False)
            )
    for customer_id, (contact_id, _status) in gone.items():
        active[customer_id] = [p for p in active[customer_id] if p[0] != contact_id]


class _Delivery:
    """One wave's delivery draws, one column per invitation (see BOUNCED and below)."""

    def __init__(self, rng, count: int, survey_url: str) -> None:
        fate = rng.random(count)
        self.bounced = fate < BOUNCED
        self.dropped = (fate >= BOUNCED) & (fate < BOUNCED + DROPPED)
        self.delivered = ~(self.bounced | self.dropped)
        self.minutes = rng.uniform(1, 30, count)  # a bounce's delay; an answer's read-ahead
        self.open_draw, self.click_draw, self.unsubscribe_draw = rng.random((3, count))
        self.open_hours = rng.exponential(50, count)  # when the silent open, after sending
        self.survey_url = survey_url
        self.gone: dict[int, tuple[int, str]] = {}  # customer id -> (contact id, new status)

    def events(self, i: int, token: str, sent: datetime, answered_at, satisfaction: float,
               closes: datetime, now: datetime) -> list[tuple]:  # fmt: skip
        """The webhook's (and the unsubscribe page's) events of invitation `i`:
        (kind, at, detail, whether it came by the webhook, which gives it an event id)."""

        def hook(kind: str, at: datetime, detail: str = "") -> tuple:
            return kind, at, detail, True

        if self.bounced[i]:
            return [hook("bounce", sent + timedelta(minutes=self.minutes[i]), BOUNCE_REASON)]
        if self.dropped[i]:
            return [hook("dropped", sent + timedelta(seconds=20), DROP_REASON)]
        link = self.survey_url + token
        if answered_at is not None:  # read, then the link, then the answer
            lead = timedelta(minutes=float(self.minutes[i]))
            opened = max(answered_at - lead, sent + (answered_at - sent) / 2)
            out = [hook("open", opened)]
            if self.click_draw[i] < CLICKED_ANSWERED:
                out.append(hook("click", opened + (answered_at - opened) / 3, link))
            return out
        base, slope = OPENED_SILENT
        opened = sent + timedelta(hours=float(self.open_hours[i]))
        if self.open_draw[i] >= base + slope * satisfaction or opened >= min(closes, now):
            return []
        out = [hook("open", opened)]
        if self.click_draw[i] < CLICKED_SILENT:
            out.append(hook("click", opened + timedelta(minutes=2), link))
        if self.unsubscribe_draw[i] < UNSUBSCRIBED:
            out.append(("unsubscribed", opened + timedelta(minutes=4), "", False))
        return out

    def unsubscribed_at(self, events: list[tuple]) -> datetime | None:
        return next((at for kind, at, _d, _x in events if kind == "unsubscribed"), None)


def _write_wave(rng, wave, template: SurveyTemplate, invited, contact_of, index_of, plan, sent,
                closes, today, write_rows, to_db_time, history, delivery) -> None:  # fmt: skip
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
    now = datetime.now(UTC)
    if wave.status == "open":  # the open wave is only days old: fewer answers so far
        answers &= delay_hours < (now - sent).total_seconds() / 3600
    answers &= delivery.delivered  # a bounced mail is never answered
    nps = np.clip(np.rint(10.8 * satisfaction - 0.4 + rng.normal(0, 1.3, count)), 0, 10)
    ratings = np.clip(
        np.rint(1 + 9 * satisfaction[:, None] + rng.normal(0, 1.2, (count, 8))), 1, 10
    )
    commented = answers & (rng.random(count) < np.where(nps <= 6, 0.6, 0.35))
    pick = rng.integers(0, 1000, count)

    answered_at = [sent + timedelta(hours=float(h)) for h in delay_hours]
    tokens = [secrets.token_urlsafe(32) for _ in range(count)]
    # The events before the rows: an unsubscribe stops the reminders.
    drawn = [
        delivery.events(i, tokens[i], sent, answered_at[i] if answers[i] else None,
                        float(satisfaction[i]), closes, now)
        for i in range(count)
    ]  # fmt: skip
    rows = []
    for i, customer_id in enumerate(invited):
        contact_id, language = contact_of[customer_id]
        if not delivery.delivered[i]:
            state, reminded = ("bounced" if delivery.bounced[i] else "failed"), []
            delivery.gone[customer_id] = (contact_id, "bounced")
        else:
            state = "answered" if answers[i] else "delivered"
            left = delivery.unsubscribed_at(drawn[i])
            if left is not None:
                delivery.gone[customer_id] = (contact_id, "opted_out")
            stop = min(answered_at[i] if answers[i] else closes, left or closes, now)
            reminded = [sent + timedelta(days=d) for d in REMINDER_DAYS]
            reminded = [at for at in reminded if at < stop]
        rows.append((
            wave.id, contact_id, customer_id, tokens[i], language, state, len(reminded),
            to_db_time(sent),
            to_db_time(sent + timedelta(minutes=2)) if delivery.delivered[i] else None,
            to_db_time(answered_at[i]) if answers[i] else None,
            to_db_time(reminded[-1]) if reminded else None, to_db_time(sent),
        ))  # fmt: skip
    write_rows(
        "invitations",
        ("wave_id", "contact_id", "customer_id", "token", "language", "state", "reminders_sent",
         "sent_at", "delivered_at", "answered_at", "last_reminded_at", "created_at"),
        rows,
    )  # fmt: skip
    history.invitations += count
    invitation_ids = dict(
        db.session.execute(
            select(Invitation.customer_id, Invitation.id).where(Invitation.wave_id == wave.id)
        ).all()
    )
    write_rows(
        "invitation_events",
        ("invitation_id", "kind", "at", "detail", "external_id"),
        (
            (invitation_ids[customer_id], kind, to_db_time(at), detail,
             f"demo-{invitation_ids[customer_id]}-{kind}" if webhook else None)
            for customer_id, events in zip(invited, drawn, strict=True)
            for kind, at, detail, webhook in events
        ),
    )  # fmt: skip
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
