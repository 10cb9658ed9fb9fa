"""Forms of the webhook admin pages."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import DataRequired, Length

from feedback.admin.forms import CheckboxesField, choices
from feedback.outbox import EVENT_TYPES
from feedback.webhooks.services import MAX_DESCRIPTION, MAX_URL

EVENT_DESCRIPTIONS = {
    "response.created": "A customer answered a survey (score, comment).",
    "response.updated": "A customer changed an answer (score, CSI or comment).",
    "case.created": "An answer or a churn risk became a case for someone.",
    "case.breached": "A case passed its deadline while still open.",
    "case.resolved": "A case was closed: resolved, or closed with no action.",
    "contact.opted_out": "A contact unsubscribed from surveys.",
    "churn.high_risk": "This week's churn run put a customer in the high-risk band.",
}
assert tuple(EVENT_DESCRIPTIONS) == EVENT_TYPES


class EndpointForm(FlaskForm):
    url = StringField(
        "URL",
        validators=[DataRequired(), Length(max=MAX_URL)],
        description="Where events are POSTed; https:// (plain http only to localhost).",
    )
    description = StringField(
        "Description",
        validators=[Length(max=MAX_DESCRIPTION)],
        description="Who receives it, e.g. “CRM” or “#cs-alerts”.",
    )
    # Checked again by the service, which gives the readable refusals.
    events = CheckboxesField(
        "Events", choices=choices((event, event) for event in EVENT_TYPES), default=[]
    )


class EventsForm(FlaskForm):
    events = CheckboxesField(
        "Send these events", choices=choices((event, event) for event in EVENT_TYPES)
    )


class ActionForm(FlaskForm):
    """Only the CSRF token: the button is the whole form."""
