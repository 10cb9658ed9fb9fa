"""Forms for the survey and wave pages."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import (
    DateTimeLocalField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
    widgets,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from feedback.customers.models import ABC_CLASSES, LANGUAGES

LANGUAGE_NAMES = {"en": "English", "da": "Danish", "sv": "Swedish", "nb": "Norwegian"}


class CheckboxesField(SelectMultipleField):
    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


class SurveyForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired(), Length(max=200)])
    template = SelectField("Template", validators=[DataRequired()])


class WaveForm(FlaskForm):
    classes = CheckboxesField(
        "ABC classes", choices=[(c, c) for c in ABC_CLASSES], description="None ticked: all."
    )
    programme = SelectField(
        "Programme",
        choices=[("", "Grow and Retain"), ("grow", "Grow"), ("retain", "Retain")],
        validate_choice=True,
    )
    languages = CheckboxesField(
        "Contact languages",
        choices=[(code, LANGUAGE_NAMES[code]) for code in LANGUAGES],
        description="None ticked: all.",
    )
    owners = SelectMultipleField("Named owners", coerce=int, description="None chosen: all.")
    customer_ids = TextAreaField(
        "Only these customers",
        validators=[Optional(), Length(max=2_000_000)],
        description="Customer ids, one per line or comma-separated. Empty: no restriction.",
        render_kw={"rows": 3, "spellcheck": "false"},
    )
    send_at = DateTimeLocalField(
        "Send at",
        validators=[Optional()],
        description="Local time. Empty: when you press Send.",
    )
    close_after_days = IntegerField(
        "Close after (days)", default=14, validators=[InputRequired(), NumberRange(1, 365)]
    )
    reminder_days = StringField(
        "Reminders after (days)",
        default="3,7",
        validators=[Optional(), Length(max=20)],
        description="At most two, e.g. 3,7. Empty: no reminders.",
    )
