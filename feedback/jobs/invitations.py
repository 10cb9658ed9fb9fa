"""Jobs that send invitations and reminders and close waves (see surveys.dispatch)."""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache

from feedback.dbtypes import utcnow
from feedback.extensions import db
from feedback.surveys import dispatch
from feedback.surveys.models import TemplateVersion
from feedback.surveys.templates import SurveyTemplate, load_templates

log = logging.getLogger(__name__)


@dataclass
class SendReport:
    waves_started: int = 0
    sent: int = 0
    failed: int = 0
    batches: int = 0
    errors: list[str] = field(default_factory=list)

    def summary(self) -> str:
        text = f"{self.sent} sent, {self.failed} failed in {self.batches} batches"
        return text + (f"; stopped: {self.errors[-1]}" if self.errors else "")


def make_renderer(config) -> Callable:
    """Render a dispatch.Recipient into an OutgoingMessage with the pinned template version.

    The words are rendered once per (version, language, reminder, named greeting) and shared
    by every recipient of that kind; only the token and names are filled in per message."""
    from feedback.delivery.render import invitation_content, invitation_message

    company, base_url = config["FEEDBACK_COMPANY_NAME"], config["FEEDBACK_BASE_URL"]

    @lru_cache(maxsize=256)
    def content(version_id: int, language: str, reminder: bool, named: bool):
        template = SurveyTemplate.from_content(db.session.get(TemplateVersion, version_id).content)
        return invitation_content(
            template,
            language=language,
            company=company,
            base_url=base_url,
            reminder=reminder,
            named=named,
        )

    def render(recipient: dispatch.Recipient):
        name = (recipient.contact_name or "").strip()
        shared = content(
            recipient.template_version_id, recipient.language, recipient.reminder, bool(name)
        )
        return invitation_message(
            shared,
            invitation_id=recipient.invitation_id,
            token=recipient.token,
            email=recipient.email,
            contact_name=name,
            customer_name=recipient.customer_name,
            base_url=base_url,
        )

    return render


def _deliver_all(claim_batch, backend, render, report: SendReport, now, reminder: bool) -> None:
    """Claim, commit, hand over, record, until nothing is left to claim.

    One batch is on the wire (a worker thread posting it) while the next is claimed and
    rendered here; results are recorded in claim order. Every claim is committed before its
    batch leaves, so another worker never gets the same invitations."""
    from feedback.delivery.message import DeliveryError

    in_flight: deque = deque()
    stop = False
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="send") as pool:
        while True:
            if not stop:
                claim, recipients = claim_batch()
                db.session.commit()
                if recipients:
                    messages = [render(r) for r in recipients]
                    in_flight.append((claim, pool.submit(backend.send, messages)))
                else:
                    stop = True
            if not in_flight:
                return
            if not stop and len(in_flight) < 2:
                continue
            claim, future = in_flight.popleft()
            try:
                results = future.result()
            except DeliveryError as exc:
                dispatch.release_claim(claim, reminder=reminder)
                db.session.commit()
                report.errors.append(str(exc))
                log.warning("delivery failed, batch released for a later run: %s", exc)
                stop = True
                continue
            sent, failed = dispatch.record_results(claim, results, now=now, reminder=reminder)
            db.session.commit()
            report.sent += sent
            report.failed += failed
            report.batches += 1
            # A batch refused only temporarily goes back to pending: stop rather than claim
            # it again at once.
            if not sent and not all(r.permanent for r in results if not r.ok):
                stop = True


def send_due_invitations(
    config, backend, *, now: datetime | None = None, wave_id: int | None = None, render=None
) -> SendReport:
    """Start scheduled waves that are due, then send every pending invitation."""
    now = now or utcnow()
    render = render or make_renderer(config)
    report = SendReport()
    due = dispatch.due_scheduled_waves(now)
    if due:
        templates = load_templates(config["FEEDBACK_TEMPLATES_DIR"])
        for wave in due:
            dispatch.start_wave(
                wave, templates=templates, now=now, quiet_days=config["FEEDBACK_QUIET_DAYS"]
            )
            db.session.commit()
            report.waves_started += 1
    limit = config["FEEDBACK_SEND_BATCH"]
    dispatch.fail_inactive_contacts(now)
    _deliver_all(
        lambda: dispatch.claim_pending(now=now, limit=limit, wave_id=wave_id),
        backend,
        render,
        report,
        now,
        reminder=False,
    )
    dispatch.open_finished_waves(now)
    db.session.commit()
    return report


def send_due_reminders(
    config, backend, *, now: datetime | None = None, wave_id: int | None = None, render=None
) -> SendReport:
    now = now or utcnow()
    render = render or make_renderer(config)
    report = SendReport()
    limit = config["FEEDBACK_SEND_BATCH"]
    _deliver_all(
        lambda: dispatch.claim_due_reminders(now=now, limit=limit, wave_id=wave_id),
        backend,
        render,
        report,
        now,
        reminder=True,
    )
    return report


def close_due_waves(now: datetime | None = None) -> int:
    closed = dispatch.close_due_waves(now or utcnow())
    db.session.commit()
    return closed
