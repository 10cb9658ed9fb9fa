"""Forms of the token admin page."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import SelectField, StringField
from wtforms.validators import DataRequired, Length

from feedback.admin.forms import CheckboxesField, choices
from feedback.integrations.models import NAME_MAX

# What each scope lets a token do; they nest, so the form says what a tick brings along.
SCOPE_DESCRIPTIONS = {
    "read": "Read customers, responses, cases and reports.",
    "write": "Also create and change data, e.g. push orders or update cases (implies read).",
    "admin": "Also the API's administrative calls (implies write and read).",
}


class NewTokenForm(FlaskForm):
    name = StringField(
        "Name",
        validators=[DataRequired(), Length(max=NAME_MAX)],
        description="Who uses it, e.g. “ERP nightly orders”. Unique among active tokens.",
    )
    # Checked again by the service, which gives the readable refusals.
    scopes = CheckboxesField(
        "Scopes",
        choices=choices((scope, scope) for scope in SCOPE_DESCRIPTIONS),
        default=["read"],
    )
    # Choices are the active users (set by the view); "" = nobody: the token cannot change cases.
    acts_as = SelectField(
        "Changes cases as",
        choices=[],
        default="",
        description="Case changes through the API are made in this person's name, under their "
        "role. Leave empty for a token that only reads cases.",
    )


class RevokeTokenForm(FlaskForm):
    """Only the CSRF token: the button is the whole form."""
