"""The Grow–Retain follow-up programme (DOMAIN.md §2): how often each class of customer is
contacted and by whom (programme.py, survey_templates/followup.yaml), the contact log and
each customer's status (services.py, status.py), the daily overdue alert (alerts.py), the
Follow-ups page and the contact form on the customer page (routes.py), and the
`feedback followups` commands (cli.py)."""

from flask import Blueprint

bp = Blueprint("followups", __name__)

from feedback.followups import routes  # noqa: E402,F401  (routes attach to bp)
