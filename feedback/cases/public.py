"""The customer's "did we solve it?" follow-up page."""

from __future__ import annotations

from feedback.cases import public_bp  # noqa: F401
