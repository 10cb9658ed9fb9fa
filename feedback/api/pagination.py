"""Cursor pagination: a stable order and an opaque, signed cursor holding the last row's key.

A list is ordered by a unique key (e.g. `(updated_at, id)`), so rows inserted while a client
pages never shift a page under it: the next page starts after the last key it saw. The
cursor is signed with the app's secret, so a hand-made one is refused with a clear 400
rather than running a query on values nobody checked.
"""

from __future__ import annotations

from flask import current_app, jsonify, request, url_for
from itsdangerous import BadSignature, URLSafeSerializer

DEFAULT_LIMIT = 100
MAX_LIMIT = 1000


class BadCursor(ValueError):
    pass


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="feedback-api-cursor")


def encode_cursor(kind: str, key: list) -> str:
    return _serializer().dumps([kind, key])


def decode_cursor(kind: str, cursor: str | None) -> list | None:
    """The key stored in `cursor` by encode_cursor(kind, …), None for the first page."""
    if not cursor:
        return None
    try:
        stored_kind, key = _serializer().loads(cursor)
    except (BadSignature, ValueError, TypeError):
        raise BadCursor(
            "The cursor is not one this API gave out; start again without it."
        ) from None
    if stored_kind != kind:
        raise BadCursor("That cursor belongs to another list.")
    return key


def page(items: list, limit: int, kind: str, key_of) -> dict:
    """{"data": items[:limit], "next_cursor": …} from up to limit + 1 fetched rows."""
    more = len(items) > limit
    items = items[:limit]
    next_cursor = encode_cursor(kind, key_of(items[-1])) if more and items else None
    return {"data": items, "next_cursor": next_cursor}


def next_link(next_cursor: str | None) -> dict[str, str]:
    """A `Link: <…>; rel="next"` header (RFC 8288) for clients that follow links."""
    if not next_cursor:
        return {}
    args = {**request.args.to_dict(), "cursor": next_cursor}
    url = url_for(request.endpoint, **(request.view_args or {}), **args, _external=True)
    return {"Link": f'<{url}>; rel="next"'}


def listed(rows: list, limit: int, kind: str, key_of, schema, **extra):
    """The page of `rows` as JSON through `schema` (with `extra` top-level fields), with the
    `Link` header when there is more."""
    result = {**extra, **page(rows, limit, kind, key_of)}
    response = jsonify(schema().dump(result))
    response.headers.update(next_link(result["next_cursor"]))
    return response
