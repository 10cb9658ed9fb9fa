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


# The tabs, in order. A module not written yet is left out (the views arrive one by one).
ORDER = ("trend", "behaviour", "predict", "funnel", "risk", "loop", "drivers")


def all_views() -> dict[str, View]:
    import importlib

    views = []
    for name in ORDER:
        try:
            module = importlib.import_module(f"dashboards.views.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"dashboards.views.{name}":
                raise
            continue
        views.append(module.VIEW)
    return {view.key: view for view in views}
