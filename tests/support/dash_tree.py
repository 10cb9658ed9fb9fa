"""Reading a rendered Dash tree in tests. A view returns Dash component objects, and for
table cells the JSON Dash sends for a component ({"type": "Td", "namespace": ..., "props":
{...}}, see dashboards.widgets.number_table): these helpers treat both alike."""

from __future__ import annotations

import json
from collections.abc import Iterator

from dash.development.base_component import Component


def _is_json_component(node) -> bool:
    return isinstance(node, dict) and {"type", "namespace", "props"} <= node.keys()


def prop(node, name: str):
    """A component's property (None where it has none), from an object or its JSON."""
    if _is_json_component(node):
        return node["props"].get(name)
    return getattr(node, name, None)


def kind(node) -> str | None:
    """The component's type name ('Div', 'Td', 'Graph'), None for anything else."""
    if _is_json_component(node):
        return node["type"]
    return type(node).__name__ if isinstance(node, Component) else None


def walk(tree) -> Iterator:
    """Every component in a tree (a component, its JSON, or a list of them), depth first."""
    if isinstance(tree, list | tuple):
        for node in tree:
            yield from walk(node)
    elif kind(tree) is not None:
        yield tree
        yield from walk(prop(tree, "children"))


def ids(tree) -> set:
    """The ids of every component in the tree."""
    return {i for node in walk(tree) if (i := prop(node, "id")) is not None}


def _strings(tree) -> Iterator[str]:
    if isinstance(tree, str):
        yield tree
    elif isinstance(tree, list | tuple):
        for node in tree:
            yield from _strings(node)
    elif kind(tree) is not None:
        yield from _strings(prop(tree, "children"))


def texts(tree) -> str:
    """Every string shown in the tree, in order, joined by spaces."""
    return " ".join(_strings(tree))


def as_json(tree) -> str:
    """The tree as the JSON Dash would send to the browser."""
    return json.dumps(tree, default=lambda c: c.to_plotly_json())
