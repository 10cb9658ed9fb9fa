"""The contact form on the customer page. The service checks the same things again (and the
command line goes straight to it); the form's messages name the field for the page."""

from __future__ import annotations

from datetime import date

from flask_wtf import FlaskForm
from wtforms import DateField, SelectField, TextAreaField, ValidationError
from wtforms.validators import AnyOf, InputRequired, Length

from feedback.followups.services import KIND_LABELS, MAX_NOTE


class ContactForm(FlaskForm):
    kind = SelectField(
        "Contact",
        choices=list(KIND_LABELS.items()),
        validate_choice=False,  # AnyOf below says what is allowed
        validators=[AnyOf(list(KIND_LABELS), message="choose a call, meeting, e-mail or note")],
    )
    on = DateField("Date", validators=[InputRequired(message="give the day of the contact")])
    note = TextAreaField(
        "Note",
        validators=[Length(max=MAX_NOTE, message=f"at most {MAX_NOTE:,} characters")],
        description="What was said or agreed (optional for calls, meetings and e-mails).",
    )

    def __init__(self, *args, today: date, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.today = today
        self.on.render_kw = {"max": today.isoformat()}

    def validate_on(self, field) -> None:
        if field.data and field.data > self.today:
            raise ValidationError(f"{field.data:%Y-%m-%d} is in the future; log contacts that "
                                  "have happened")  # fmt: skip

    def first_error(self) -> str:
        """'Date: … ' – the first problem, named by its field."""
        for name, errors in self.errors.items():
            field = getattr(self, name, None)
            label = field.label.text if field is not None and name != "csrf_token" else "Form"
            return f"{label}: {errors[0]}"
        return "Please check the form."
