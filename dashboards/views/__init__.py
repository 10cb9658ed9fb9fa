"""The dashboard's views. Each is a module with a `VIEW`: a key for the URL, a tab label,
the question it answers, `render(ctx)` -> Dash components, `table(ctx)` -> (columns, rows)
for its CSV download, and whether the survey and wave filters narrow it. Views call the
query functions and build figures; nothing else."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class View:
    key: str
    label: str
    question: str
    render: Callable
    table: Callable
    # False where a group comes from a customer's newest NPS answer to any survey, so the
    # survey and wave filters do not narrow the figures (the page says so)
    survey_filtered: bool = True


def all_views() -> dict[str, View]:
    """The tabs, in order."""
    from dashboards.views import behaviour, drivers, funnel, loop, predict, risk, trend

    views = (trend, behaviour, predict, funnel, risk, loop, drivers)
    return {module.VIEW.key: module.VIEW for module in views}
