"""RFC 9457 problem details: how the API (and any JSON caller under /api/) hears of an error.

A problem is `{"type", "title", "status", "detail"}` served as `application/problem+json`;
validation problems add `errors`, one per row and field (`{"row", "field", "message"}`;
`row` is the 0-based index into the request's `rows`, absent for a field of the request
itself). `type` is a stable URI per kind of problem, so a client can branch on it; `detail`
is a sentence for the person reading the log.
"""

from __future__ import annotations

import json

from flask import Response

PROBLEM_MIMETYPE = "application/problem+json"
TYPE_BASE = "https://feedback-loop.dev/problems/"

# status -> (type slug, title); the titles are HTTP's own reason phrases, as RFC 9457 suggests.
KINDS: dict[int, tuple[str, str]] = {
    400: ("bad-request", "Bad Request"),
    401: ("unauthorized", "Unauthorized"),
    403: ("forbidden", "Forbidden"),
    404: ("not-found", "Not Found"),
    405: ("method-not-allowed", "Method Not Allowed"),
    409: ("conflict", "Conflict"),
    413: ("too-large", "Content Too Large"),
    415: ("unsupported-media-type", "Unsupported Media Type"),
    422: ("validation", "Unprocessable Content"),
    429: ("rate-limited", "Too Many Requests"),
    500: ("server-error", "Internal Server Error"),
}


def problem(
    status: int,
    detail: str | None = None,
    *,
    kind: str | None = None,
    title: str | None = None,
    errors: list[dict] | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    slug, default_title = KINDS.get(status, ("error", f"Error {status}"))
    body: dict = {
        "type": TYPE_BASE + (kind or slug),
        "title": title or default_title,
        "status": status,
        "detail": detail or default_title,
    }
    if errors is not None:
        body["errors"] = errors
    response = Response(json.dumps(body, ensure_ascii=False), status, mimetype=PROBLEM_MIMETYPE)
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def http_problem(exc, detail: str | None = None) -> Response:
    """A werkzeug HTTPException as a problem, keeping the headers it must carry (a 405's
    `Allow`, RFC 9110)."""
    headers = {name: value for name, value in exc.get_headers() if name == "Allow"}
    return problem(exc.code, detail or exc.description, headers=headers)
