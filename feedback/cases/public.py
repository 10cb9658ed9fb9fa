"""The customer's "did we solve it?" follow-up page: /f/<token>, no login.

Like the survey page: GET only shows the question (mail scanners open every link), with the
choice from the e-mail preselected; the page's own script then posts that choice with the
page's CSRF token, so one tap in the e-mail records the answer and a fetched link records
nothing. The buttons are a plain form too, so it works without JavaScript, and the customer
can change the answer until the link expires.
"""

from __future__ import annotations

from flask import current_app, jsonify, redirect, render_template, request, url_for
from flask_wtf.csrf import CSRFError

from feedback.cases import customer_mail, public_bp
from feedback.cases.customer_strings import STRINGS, words
from feedback.cases.followup import (
    BadChoice,
    FollowupClosed,
    answer_followup,
    open_followup,
    parse_choice,
)
from feedback.errors import NotFound
from feedback.extensions import db, limiter
from feedback.ratelimit import public_rate_limit


@public_bp.get("/f/<token>")
@limiter.limit(public_rate_limit)
def followup(token: str):
    try:
        current = open_followup(token)
    except NotFound:
        return _not_found()
    except FollowupClosed as exc:
        return _closed(exc.followup)
    raw = request.args.get("solved")
    preselected = None
    if raw is not None:
        try:
            preselected = parse_choice(raw)
        except BadChoice:
            return _page(current, error=words(current.language)["bad_value"], status=400)
    return _page(current, preselected=preselected, saved=request.args.get("saved") == "1")


@public_bp.post("/f/<token>")
@limiter.limit(public_rate_limit)
def answer(token: str):
    """The buttons' form (redirects back, PRG) or the page's own JSON post."""
    as_json = request.is_json
    data = request.get_json(silent=True) if as_json else request.form
    choice = data.get("solved") if isinstance(data, dict) or not as_json else None
    try:
        answered = answer_followup(token, choice)
    except NotFound:
        db.session.rollback()
        return (jsonify(error="no question behind this link"), 404) if as_json else _not_found()
    except FollowupClosed as exc:
        db.session.rollback()
        if as_json:
            return jsonify(error="answers to this question are no longer accepted"), 410
        return _closed(exc.followup)
    except BadChoice:
        db.session.rollback()
        if as_json:
            return jsonify(error="solved must be yes or no"), 400
        current = open_followup(token)
        return _page(current, error=words(current.language)["bad_value"], status=400)
    db.session.commit()
    if as_json:
        return jsonify(saved=True, solved="yes" if answered.solved else "no")
    return redirect(url_for("case_public.followup", token=token, saved="1"), code=303)


def _page(current, *, preselected=None, saved=False, error=None, status=200):
    text = words(current.language)
    shown = preselected if preselected is not None else current.solved
    return (
        render_template(
            "public/followup.html",
            lang=current.language,
            words=text,
            company=current_app.config["FEEDBACK_COMPANY_NAME"],
            token=current.token,
            shown=shown,
            # Post the e-mail's choice only when it is not already the stored answer.
            record=None if preselected is None or preselected == current.solved else preselected,
            saved=saved and current.solved is not None,
            solved=current.solved,
            until=_date(current.open_until, current.language),
            error=error,
        ),
        status,
    )


def _date(moment, language: str) -> str:
    return customer_mail.local_date(moment, language, current_app.config)


def _not_found():
    # Without a valid link the language is unknown: the page says it in all four.
    return render_template("public/not_found.html", strings=STRINGS), 404


def _closed(current):
    text = words(current.language)
    return (
        render_template(
            "public/message.html",
            lang=current.language,
            words=text,
            title=text["closed_title"],
            text=text["closed_text"].format(date=_date(current.open_until, current.language)),
        ),
        410,
    )


@public_bp.errorhandler(CSRFError)
def _csrf_failed(exc):
    if request.is_json:
        return jsonify(error="the page has expired or the request was garbled; reload it"), 400
    try:
        language = open_followup(request.view_args.get("token", "")).language
    except FollowupClosed as closed:
        language = closed.followup.language
    except NotFound:
        language = "en"
    text = words(language)
    return (
        render_template(
            "public/message.html",
            lang=language,
            words=text,
            title=text["expired_title"],
            text=text["expired_text"],
        ),
        400,
    )
