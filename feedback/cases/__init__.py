"""Closing the loop: routing rules, cases, their history, SLA and escalation.

Two blueprints: `bp` holds the staff pages (queue and case), `public_bp` the customer's
"did we solve it?" follow-up page.
"""

from flask import Blueprint

bp = Blueprint("cases", __name__)
public_bp = Blueprint("case_public", __name__)

from feedback.cases import public, routes  # noqa: E402,F401  (routes attach to the blueprints)
