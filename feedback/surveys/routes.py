"""Managers' pages: surveys, new waves with an audience preview, sending and closing."""

from __future__ import annotations

import re
from zoneinfo import ZoneInfo

from flask import Blueprint, current_app, flash, redirect, render_template, url_for
from flask_login import current_user

from feedback.auth.decorators import require_role
from feedback.dbtypes import utcnow
from feedback.errors import DomainError
from feedback.extensions import db
from feedback.surveys import dispatch, queries
from feedback.surveys.audience import SKIP_REASONS, preview_audience
from feedback.surveys.forms import SurveyForm, WaveForm
from feedback.surveys.models import Survey, Wave
from feedback.surveys.services import build_audience, create_survey, create_wave
from feedback.surveys.templates import load_templates

bp = Blueprint("surveys", __name__)


@bp.before_request
def managers_only():
    return require_role("manager")


def _templates():
    return load_templates(current_app.config["FEEDBACK_TEMPLATES_DIR"])


def _refuse(form, exc: DomainError) -> None:
    db.session.rollback()
    form.form_errors.append(str(exc))


@bp.route("/surveys", methods=["GET", "POST"])
def list_surveys():
    templates = _templates()
    form = SurveyForm()
    form.template.choices = [(key, t.name["en"]) for key, t in sorted(templates.items())]
    if form.validate_on_submit():
        try:
            survey = create_survey(
                form.name.data, form.template.data, templates=templates, actor=current_user
            )
            db.session.commit()
        except DomainError as exc:
            _refuse(form, exc)
        else:
            flash(f"Survey “{survey.name}” created. Now choose who gets it.", "success")
            return redirect(url_for("surveys.new_wave", survey_id=survey.id), code=303)
    return render_template(
        "surveys/index.html", form=form, overview=queries.surveys_overview(), templates=templates
    )


@bp.get("/surveys/<int:survey_id>")
def survey_detail(survey_id: int):
    survey = db.get_or_404(Survey, survey_id)
    stats = queries.wave_stats([w.id for w in survey.waves])
    return render_template("surveys/survey.html", survey=survey, stats=stats)


def _customer_ids(text: str | None) -> list[str]:
    return [part for part in re.split(r"[\s,;]+", text or "") if part]


@bp.route("/surveys/<int:survey_id>/waves/new", methods=["GET", "POST"])
def new_wave(survey_id: int):
    survey = db.get_or_404(Survey, survey_id)
    form = WaveForm()
    form.owners.choices = queries.owner_choices()
    if form.validate_on_submit():
        try:
            audience = build_audience(
                classes=form.classes.data or [],
                programme=form.programme.data or None,
                languages=form.languages.data or [],
                owner_ids=form.owners.data or [],
                customer_external_ids=_customer_ids(form.customer_ids.data),
            )
            send_at = form.send_at.data
            if send_at is not None:
                send_at = send_at.replace(tzinfo=ZoneInfo(current_app.config["FEEDBACK_TIMEZONE"]))
            wave = create_wave(
                survey,
                audience=audience,
                actor=current_user,
                send_at=send_at,
                reminder_days=form.reminder_days.data or "",
                close_after_days=form.close_after_days.data,
            )
            db.session.commit()
        except DomainError as exc:
            _refuse(form, exc)
        else:
            return redirect(url_for("surveys.wave_detail", wave_id=wave.id), code=303)
    return render_template("surveys/wave_form.html", form=form, survey=survey)


@bp.get("/waves/<int:wave_id>")
def wave_detail(wave_id: int):
    wave = db.get_or_404(Wave, wave_id)
    preview = None
    if wave.status in ("draft", "scheduled"):
        preview = preview_audience(
            wave, now=utcnow(), quiet_days=current_app.config["FEEDBACK_QUIET_DAYS"]
        )
    stats = queries.wave_stats([wave.id])[wave.id]
    template = _templates().get(wave.survey.template_key)
    return render_template(
        "surveys/wave.html",
        wave=wave,
        preview=preview,
        stats=stats,
        skip_reasons=SKIP_REASONS,
        states=queries.STATE_ORDER,
        is_nps=template is not None and template.primary.kind == "nps",
        interrupted=dispatch.count_interrupted(wave.id, now=utcnow()),
    )


@bp.post("/waves/<int:wave_id>/send")
def send_wave(wave_id: int):
    wave = db.get_or_404(Wave, wave_id)
    now, config = utcnow(), current_app.config
    try:
        created = dispatch.send_or_schedule(
            wave, templates=_templates(), now=now, quiet_days=config["FEEDBACK_QUIET_DAYS"]
        )
        if created is None:
            message = "Scheduled: the invitations go out at the send time."
        else:
            message = f"Sending {created} invitations: they go out within a minute."
        db.session.commit()
    except DomainError as exc:
        db.session.rollback()
        flash(str(exc), "error")
    else:
        flash(message, "success")
    return redirect(url_for("surveys.wave_detail", wave_id=wave.id), code=303)


@bp.post("/waves/<int:wave_id>/close")
def close_wave(wave_id: int):
    wave = db.get_or_404(Wave, wave_id)
    try:
        dispatch.close_wave(wave, now=utcnow())
        db.session.commit()
    except DomainError as exc:
        db.session.rollback()
        flash(str(exc), "error")
    else:
        flash("The wave is closed; its links now show a polite “closed” page.", "success")
    return redirect(url_for("surveys.wave_detail", wave_id=wave.id), code=303)


@bp.app_template_filter("percent")
def percent(value) -> str:
    return "–" if value is None else f"{value:.0f} %"
