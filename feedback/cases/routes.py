"""Staff pages for cases: the queue and the case page."""

from __future__ import annotations

from feedback.cases import bp  # noqa: F401
