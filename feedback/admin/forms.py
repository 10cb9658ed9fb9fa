"""Forms of the admin pages."""

from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import (
    BooleanField,
    EmailField,
    PasswordField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    widgets,
)
from wtforms.validators import DataRequired, Length, Optional

from feedback.auth.models import ROLES

try:  # WTForms >= 3.3 deprecates (value, label) tuples
    from wtforms.fields.choices import SelectChoice as _Choice
except ImportError:  # pragma: no cover - older WTForms

    def _Choice(value, label):  # noqa: N802
        return (value, label)


class CheckboxesField(SelectMultipleField):
    """A multiple choice shown as a list of checkboxes (token scopes, webhook events)."""

    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


def choices(pairs) -> list:
    """(value, label) pairs as WTForms choices."""
    return [_Choice(value, label) for value, label in pairs]


# What each role may do, shown next to the user form. Roles nest: admin ⊇ manager ⊇ agent.
ROLE_DESCRIPTIONS = {
    "agent": "Follows up the customers and cases given to them.",
    "manager": "Everything an agent does, and oversees the work of the team.",
    "admin": "Everything a manager does, and manages users and imports data.",
}
assert set(ROLE_DESCRIPTIONS) == set(ROLES)
ROLE_CHOICES = choices((value, value.capitalize()) for value in ROLE_DESCRIPTIONS)


class _UserFields(FlaskForm):
    name = StringField("Full name", validators=[Optional(), Length(max=200)])
    role = SelectField("Role", choices=ROLE_CHOICES, default="agent")
    team = StringField(
        "Team",
        validators=[Optional(), Length(max=120)],
        description="Pick an existing team or type a new name; leave empty for none.",
    )


class NewUserForm(_UserFields):
    email = EmailField("E-mail", validators=[DataRequired(), Length(max=254)])
    password = PasswordField(
        "Password",
        validators=[Optional(), Length(max=200)],
        description="Leave empty to generate a strong password; it is shown to you once.",
        render_kw={"autocomplete": "new-password"},
    )


class EditUserForm(_UserFields):
    active = BooleanField(
        "Active — may sign in", description="Inactive people keep their history but cannot sign in."
    )


class ResetPasswordForm(FlaskForm):
    """Only the CSRF token: the button is the whole form."""


class ImportForm(FlaskForm):
    kind = RadioField("What the file holds", validators=[DataRequired()])
    file = FileField(
        "CSV file",
        validators=[
            FileRequired("Choose a CSV file to upload."),
            FileAllowed(["csv", "txt"], "Upload a .csv or .txt file."),
        ],
    )
    dry_run = BooleanField("Dry run — check the file and report, but save nothing", default=False)
    recompute = BooleanField(
        "Recompute ABC classes and programmes afterwards",
        default=True,
        description="Applies to customer and transaction imports.",
    )
