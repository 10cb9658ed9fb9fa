"""Forms of the case page. Choices are filled per request (statuses the case can move to,
people and teams); validation stays in the services, which say why a move is refused."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from feedback.cases.services import MAX_TEXT

STATUS_LABELS = {
    "new": "New",
    "in_progress": "In progress",
    "waiting_on_customer": "Waiting on customer",
    "resolved": "Resolved",
    "no_action": "No action needed",
}


class StatusForm(FlaskForm):
    status = SelectField("New status", choices=list(STATUS_LABELS.items()))
    note = TextAreaField(
        "Outcome or note",
        validators=[Optional(), Length(max=MAX_TEXT)],
        description="Required to resolve: what was done and agreed with the customer. "
        "For “No action needed”, say why.",
    )
    root_cause = SelectField("Root cause", choices=[("", "Not set")], default="")
    ask_followup = BooleanField("Ask the customer “Did we solve it?” by e-mail")


class CommentForm(FlaskForm):
    text = TextAreaField(
        "Note", validators=[DataRequired(message="Write a note first."), Length(max=MAX_TEXT)]
    )


class AssignForm(FlaskForm):
    # "user:<id>" or "team:<id>"; the choices list is filled per request
    target = SelectField("Give the case to", validators=[DataRequired()], validate_choice=True)
