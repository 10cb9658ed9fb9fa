"""The dashboard's views. Each is a module with a `VIEW`: a key for the URL, a tab label,
the question it answers, `render(ctx)` -> Dash components, and `table(ctx)` -> (columns,
rows) for its CSV download. Views call the query functions and build figures; nothing
else."""

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


def all_views() -> dict[str, View]:
    """The tabs, in order."""
    from dashboards.views import behaviour, drivers, funnel, loop, predict, risk, trend

    views = (trend, behaviour, predict, funnel, risk, loop, drivers)
    return {module.VIEW.key: module.VIEW for module in views}
