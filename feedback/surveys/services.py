"""Surveys and waves: create them, pin template versions. Flushes; the caller commits."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta

from sqlalchemy import func, select

from feedback.auth.models import User
from feedback.customers.models import ABC_CLASSES, LANGUAGES, PROGRAMMES, Customer
from feedback.dbtypes import utcnow
from feedback.errors import DomainError, NotFound
from feedback.extensions import db
from feedback.surveys.models import Survey, TemplateVersion, Wave
from feedback.surveys.templates import SurveyTemplate

DEFAULT_REMINDER_DAYS = (3, 7)
DEFAULT_CLOSE_AFTER_DAYS = 14
MAX_REMINDERS = 2
_REMINDER_DAYS = re.compile(r"^\s*\d{1,2}\s*(,\s*\d{1,2}\s*)*$")


def template_version_for(template: SurveyTemplate) -> TemplateVersion:
    """The stored version with this template's exact content; a new version if it changed."""
    content_hash = template.content_hash()
    existing = db.session.scalar(
        select(TemplateVersion).where(
            TemplateVersion.template_key == template.key,
            TemplateVersion.content_hash == content_hash,
        )
    )
    if existing is not None:
        return existing
    latest = db.session.scalar(
        select(func.max(TemplateVersion.version)).where(
            TemplateVersion.template_key == template.key
        )
    )
    version = TemplateVersion(
        template_key=template.key,
        version=(latest or 0) + 1,
        content_hash=content_hash,
        content=template.content,
    )
    db.session.add(version)
    db.session.flush()
    return version


def create_survey(
    name: str, template_key: str, *, templates: Mapping[str, SurveyTemplate], actor: User | None
) -> Survey:
    name = " ".join((name or "").split())
    if not name:
        raise DomainError("a survey needs a name")
    if len(name) > 200:
        raise DomainError("a survey name has at most 200 characters")
    if template_key not in templates:
        known = ", ".join(sorted(templates))
        raise DomainError(f"no template {template_key!r}; choose one of {known}")
    if db.session.scalar(select(Survey.id).where(Survey.name == name)) is not None:
        raise DomainError(f"a survey named {name!r} already exists")
    survey = Survey(name=name, template_key=template_key, created_by=actor)
    db.session.add(survey)
    db.session.flush()
    return survey


def find_survey(name_or_id: str) -> Survey:
    survey = None
    if str(name_or_id).isdigit():
        survey = db.session.get(Survey, int(name_or_id))
    if survey is None:
        survey = db.session.scalar(select(Survey).where(Survey.name == str(name_or_id).strip()))
    if survey is None:
        raise NotFound(f"no survey {name_or_id!r}")
    return survey


def get_wave(wave_id: int | str) -> Wave:
    wave = db.session.get(Wave, int(wave_id)) if str(wave_id).isdigit() else None
    if wave is None:
        raise NotFound(f"no wave {wave_id!r}")
    return wave


def owner_ids_by_email(emails: Iterable[str]) -> list[int]:
    """The users behind an audience's owner e-mails; an unknown one is refused by name."""
    owner_ids = []
    for email in emails:
        user = db.session.scalar(select(User).where(User.email == email.strip().lower()))
        if user is None:
            raise DomainError(f"no user with e-mail {email.strip()!r}")
        owner_ids.append(user.id)
    return owner_ids


def build_audience(
    *,
    classes: Iterable[str] = (),
    programme: str | None = None,
    languages: Iterable[str] = (),
    owner_ids: Iterable[int] = (),
    customer_external_ids: Iterable[str] = (),
) -> dict:
    """Validate an audience filter; unknown values are refused with the allowed ones named."""
    classes = sorted({c.strip().upper() for c in classes if c.strip()})
    if bad := [c for c in classes if c not in ABC_CLASSES]:
        raise DomainError(f"unknown class {', '.join(bad)}; use {', '.join(ABC_CLASSES)}")
    if programme is not None:
        programme = programme.strip().lower() or None
    if programme is not None and programme not in PROGRAMMES:
        raise DomainError(f"unknown programme {programme!r}; use grow or retain")
    languages = sorted({lang.strip().lower() for lang in languages if lang.strip()})
    if bad := [lang for lang in languages if lang not in LANGUAGES]:
        raise DomainError(f"unknown language {', '.join(bad)}; use {', '.join(LANGUAGES)}")
    owner_ids = sorted(set(owner_ids))
    if owner_ids:
        found = set(db.session.scalars(select(User.id).where(User.id.in_(owner_ids))))
        if missing := [str(i) for i in owner_ids if i not in found]:
            raise DomainError(f"unknown owner id {', '.join(missing)}")
    external_ids = sorted({e.strip() for e in customer_external_ids if e.strip()})
    customer_ids: list[int] = []
    if external_ids:
        rows = dict(
            db.session.execute(
                select(Customer.external_id, Customer.id).where(
                    Customer.external_id.in_(external_ids)
                )
            ).all()
        )
        if missing := [e for e in external_ids if e not in rows]:
            shown = ", ".join(missing[:10]) + (" …" if len(missing) > 10 else "")
            raise DomainError(f"{len(missing)} unknown customer id(s): {shown}")
        customer_ids = sorted(rows.values())
    audience = {
        "classes": classes,
        "programme": programme,
        "languages": languages,
        "owner_ids": owner_ids,
        "customer_ids": customer_ids,
    }
    return {k: v for k, v in audience.items() if v}


def parse_reminder_days(value: str | Iterable[int] | None) -> tuple[int, ...]:
    if value is None:
        return DEFAULT_REMINDER_DAYS
    if isinstance(value, str):
        if not value.strip():
            return ()
        if not _REMINDER_DAYS.match(value):
            raise DomainError(f"reminder days {value!r}: give whole days, e.g. 3,7")
        value = [int(d) for d in value.split(",")]
    days = tuple(value)
    if len(days) > MAX_REMINDERS:
        raise DomainError(f"at most {MAX_REMINDERS} reminders")
    if any(d < 1 for d in days) or list(days) != sorted(set(days)):
        raise DomainError("reminder days must be increasing whole days of at least 1")
    return days


def create_wave(
    survey: Survey,
    *,
    audience: dict,
    actor: User | None,
    send_at: datetime | None = None,
    reminder_days: str | Iterable[int] | None = None,
    close_after_days: int = DEFAULT_CLOSE_AFTER_DAYS,
    now: datetime | None = None,
) -> Wave:
    """A draft wave; it closes `close_after_days` after it is (to be) sent."""
    now = now or utcnow()
    if not 1 <= close_after_days <= 365:
        raise DomainError("a wave closes between 1 and 365 days after sending")
    if send_at is not None and send_at.tzinfo is None:
        raise DomainError("send time needs a time zone")
    days = parse_reminder_days(reminder_days)
    if days and days[-1] >= close_after_days:
        raise DomainError(
            f"the last reminder (day {days[-1]}) must come before the wave closes "
            f"(day {close_after_days})"
        )
    start = max(send_at or now, now)
    wave = Wave(
        survey=survey,
        status="draft",
        audience=audience,
        send_at=send_at,
        reminder_days=",".join(str(d) for d in days),
        max_reminders=len(days),
        closes_at=start + timedelta(days=close_after_days),
        created_by=actor,
    )
    db.session.add(wave)
    db.session.flush()
    return wave
