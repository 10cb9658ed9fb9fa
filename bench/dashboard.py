"""Time every dashboard callback over HTTP, next to the SQL it ran, on PostgreSQL with
100,000 customers, ~10,000,000 transactions and 1,000,000 responses.

    DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/bench \
        .venv/bin/python bench/dashboard.py [--repeat 20] [--fresh]

The data is bench/dashboard_data.py's (schema `dash_bench`). Each callback is sent the way
the browser sends it (a signed-in manager, the CSRF header, Dash's JSON, Chromium's
Accept-Encoding) through the Flask test client, so the time includes Dash's dispatch and
the JSON it returns, compressed. The SQL time is the time spent inside the database
driver during those same requests: running each
statement and fetching its rows as Python values, as a script running the same SQL would.
Every view is timed over all surveys (the default year) and for one wave, cycling through
filter variants (none, class A+B, Grow, Danish); "one wave" is the newest closed wave of
the quarterly NPS survey (of the annual relationship survey for the drivers view).
Targets: p95 <= 300 ms over all surveys, <= 50 ms for one wave, and no callback more than
2x its SQL.
"""

from __future__ import annotations

import argparse
import gc
import json
import re
import statistics
import time
from contextlib import contextmanager

from dashboard_data import counts, prepare
from sqlalchemy import event, select, text

from dashboards.layout import CONTROLS
from feedback.extensions import db

PASSWORD = "bench-manager-password"
EMAIL = "bench.manager@example.com"
VARIANTS = ["", "&class=A,B", "&programme=grow", "&language=da"]
TARGETS = {"all surveys": 300, "one wave": 50}
# as Chromium asks: the responses are compressed (zstd) as a browser gets them
BROWSER = {"Accept-Encoding": "gzip, deflate, br, zstd"}


class SqlClock:
    """Seconds spent inside the database driver: in cursor.execute (psycopg waits for the
    whole result there) and in the fetches that turn the rows into Python values."""

    def __init__(self, engine):
        import psycopg

        self.seconds = 0.0
        self._started: list[float] = []
        event.listen(engine, "before_cursor_execute", self._before)
        event.listen(engine, "after_cursor_execute", self._after)
        clock = self

        class TimedCursor(psycopg.Cursor):
            def fetchone(self):
                with clock.timing():
                    return super().fetchone()

            def fetchmany(self, size=0):
                with clock.timing():
                    return super().fetchmany(size)

            def fetchall(self):
                with clock.timing():
                    return super().fetchall()

        @event.listens_for(engine, "connect")
        def _timed_cursors(dbapi_connection, _record):
            dbapi_connection.cursor_factory = TimedCursor

        engine.dispose()  # connections made from here on have the timed cursors

    @contextmanager
    def timing(self):
        started = time.perf_counter()
        try:
            yield
        finally:
            self.seconds += time.perf_counter() - started

    def _before(self, *args):
        self._started.append(time.perf_counter())

    def _after(self, *args):
        self.seconds += time.perf_counter() - self._started.pop()


def _client(app):
    from feedback.auth.models import User
    from feedback.auth.services import create_user

    with app.app_context():
        if not db.session.scalar(select(User).where(User.email == EMAIL)):
            create_user(EMAIL, "manager", PASSWORD, name="Bench Manager")
            db.session.commit()
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    client.post("/login", data={"email": EMAIL, "password": PASSWORD, "csrf_token": token})
    assert client.get("/dashboard/").status_code == 200
    return client


def _payload(callback: str, inputs: list[dict], state: list[dict] | None = None) -> dict:
    outputs = [{"id": part.split(".")[0], "property": part.split(".")[1]}
               for part in callback.strip(".").split("...")]  # fmt: skip
    return {"output": callback, "outputs": outputs if len(outputs) > 1 else outputs[0],
            "inputs": inputs, "changedPropIds": [f"{inputs[0]['id']}.{inputs[0]['property']}"],
            "state": state or []}  # fmt: skip


class CallbackClock:
    """The time inside Dash's callbacks themselves (our function and the JSON Dash makes of
    its result: not the sign-in, CSRF check and dispatch around it), and the SQL in them."""

    def __init__(self, dash_app, sql: SqlClock):
        self.seconds = self.sql_seconds = 0.0
        for entry in dash_app.callback_map.values():
            if "callback" in entry:  # a clientside callback runs in the browser
                entry["callback"] = self._timing(entry["callback"], sql)

    def _timing(self, callback, sql):
        def timed(*args, **kwargs):
            sql_before, started = sql.seconds, time.perf_counter()
            try:
                return callback(*args, **kwargs)
            finally:
                self.seconds += time.perf_counter() - started
                self.sql_seconds += sql.seconds - sql_before

        return timed


@contextmanager
def _timed(clock, callbacks, samples):
    sql_before, started = clock.seconds, time.perf_counter()
    inside, inside_sql = callbacks.seconds, callbacks.sql_seconds
    yield
    samples.append((time.perf_counter() - started, clock.seconds - sql_before,
                    callbacks.seconds - inside, callbacks.sql_seconds - inside_sql))  # fmt: skip


def _post(client, payload):
    token = client.get_cookie("_csrf_token", path="/dashboard/").value
    headers = {"Content-Type": "application/json", "X-CSRFToken": token, **BROWSER}
    response = client.post("/dashboard/_dash-update-component", data=json.dumps(payload),
                           headers=headers)  # fmt: skip
    assert response.status_code in (200, 204), response.get_data(as_text=True)[:500]
    return response


def _time(clocks, repeat: int, send) -> list[tuple]:
    """(total, SQL, in the callback, its SQL) in ms of `repeat` calls of send(i), after two
    that warm the caches."""
    samples: list[tuple] = []
    for i in range(repeat + 2):
        with _timed(*clocks, samples if i >= 2 else []):
            send(i)
    return [tuple(part * 1000 for part in sample) for sample in samples]


def _report(label: str, samples, target: int | None = None) -> bool:
    """Print a row: p50, p95, SQL p95, own p50 and, against a target, the ratio over HTTP,
    the ratio inside the callback and the verdict (on the first). Whether the targets were
    met (True without a target)."""
    total, sql = [t[0] for t in samples], [t[1] for t in samples]
    own = statistics.median(t - q for t, q, *_ in samples)
    line = f"{label:<35}{statistics.median(total):8.1f}{_p95(total):8.1f}{_p95(sql):9.1f}{own:9.1f}"
    if target is None:
        print(line)
        return True
    ratio = statistics.median(t / max(q, 0.001) for t, q, *_ in samples)
    inside = statistics.median(c / max(q, 0.001) for *_, c, q in samples)
    ok = _p95(total) <= target and ratio <= 2
    print(f"{line}{ratio:7.2f}{inside:7.2f}{target:8}  {'ok' if ok else 'MISSED'}")
    return ok


def _p95(values):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(0.95 * (len(ordered) - 1))))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=20, help="Requests per view and case.")
    parser.add_argument("--fresh", action="store_true", help="Rebuild the bench data.")
    parser.add_argument("--views", default="", help="Only these view keys, comma-separated.")
    args = parser.parse_args()

    app = prepare(args.fresh)
    client = _client(app)
    gc.freeze()  # as feedback/wsgi.py does once the app is built
    with app.app_context():
        from dashboards.views import all_views

        views = [v for k, v in all_views().items() if not args.views or k in args.views.split(",")]
        # "One wave" would time the all-surveys figures again for a view the wave does not narrow
        wave_free = [v.key for v in views if not v.survey_filtered]
        # "one wave": the newest closed wave of the survey a view's figures come from (the
        # quarterly NPS wave has answers, routed cases and a funnel; the relationship survey
        # has the drivers)
        waves = {name: db.session.execute(text(
            "SELECT w.id, w.survey_id FROM waves w JOIN surveys s ON s.id = w.survey_id "
            "WHERE s.name = :name AND w.status = 'closed' ORDER BY w.sent_at DESC LIMIT 1"
        ), {"name": name}).one()
            for name in ("Quarterly NPS", "Annual relationship survey")}  # fmt: skip
        clock = SqlClock(db.engine)
    dash_app = app.extensions["dashboard"]
    clocks = (clock, CallbackClock(dash_app, clock))
    render = next(k for k in dash_app.callback_map if k.startswith("..view-body.children"))

    print(f"data: {counts(app)}")
    print(f"{'callback':<22}{'case':<13}{'p50 ms':>8}{'p95 ms':>8}{'SQL p95':>9}"
          f"{'own p50':>9}{'ratio':>7}{'inside':>7}{'target':>8}")  # fmt: skip
    results = []
    for view in (v.key for v in views):
        name = "Annual relationship survey" if view == "drivers" else "Quarterly NPS"
        wave, survey = waves[name]
        cases = {"all surveys": "", "one wave": f"&survey={survey}&wave={wave}"}
        if view in wave_free:
            del cases["one wave"]
        for case, extra in cases.items():

            def send(i, prefix=f"?view={view}{extra}"):
                query = prefix + VARIANTS[i % len(VARIANTS)]
                _post(client, _payload(render, [{"id": "query", "property": "data",
                                                 "value": query}]))  # fmt: skip

            samples = _time(clocks, args.repeat, send)
            results.append(_report(f"{view:<22}{case:<13}", samples, TARGETS[case]))
    # The other callbacks: the CSV download of each view (the same figures as a table), the
    # filters read from a link (checked against the controls' choices), a survey chosen (the
    # sync callback then offers its waves). A scatter point's click runs in the browser.
    sync = next(k for k in dash_app.callback_map if k.startswith("..f-view.value"))
    controls = [{"id": cid, "property": prop, "value": None} for cid, prop in CONTROLS.values()]
    others = {f"download {v}": _payload(
        "download.data", [{"id": "download-button", "property": "n_clicks", "value": 1}],
        [{"id": "query", "property": "data", "value": f"?view={v}"}]) for v in
        (v.key for v in views)}  # fmt: skip
    if not args.views:
        link = "?view=nps&class=A,B&programme=grow&grain=quarter"
        others["filters from a link"] = _payload(
            sync, [{"id": "url", "property": "search", "value": link}, *controls]
        )
        chosen = [{**c, "value": str(waves["Quarterly NPS"][1])} if c["id"] == "f-survey"
                  else c for c in controls]  # fmt: skip
        others["a survey chosen (its waves)"] = {
            **_payload(sync, [{"id": "url", "property": "search", "value": ""}, *chosen]),
            "changedPropIds": ["f-survey.value"],
        }
    for name, payload in others.items():
        samples = _time(clocks, args.repeat, lambda _i, payload=payload: _post(client, payload))
        results.append(_report(name, samples, TARGETS["all surveys"]))
    # What any render costs before a view reads anything: sign-in, Dash's dispatch, the
    # filters, the freshness line and the JSON of a note (a period with no answers).
    empty = _payload(render, [{"id": "query", "property": "data",
                               "value": "?view=nps&from=2001-01-01&to=2001-01-31"}])  # fmt: skip
    _report("floor (nothing found)", _time(clocks, args.repeat, lambda _i: _post(client, empty)),
            TARGETS["all surveys"])  # fmt: skip
    # Not a callback, but on every visit before any: the page's layout (it reads nothing
    # from the database; the filters' choices come with the link's sync callback)

    def layout(_i):
        assert client.get("/dashboard/_dash-layout", headers=BROWSER).status_code == 200

    _report("page layout (per visit)", _time(clocks, args.repeat, layout))
    print("own p50: the median over requests of the callback's time outside the driver")
    print("ratio: the median over requests of callback time / SQL time in that request")
    print("inside: the same ratio inside Dash's callback alone (our function and Dash's JSON "
          "of its result), without the sign-in, CSRF check and dispatch around it")  # fmt: skip
    if wave_free:
        print(f"one wave: not timed for {', '.join(wave_free)}, whose figures the wave does not "
              "narrow")  # fmt: skip
    print("all targets met" if all(results) else "some targets missed")


if __name__ == "__main__":
    main()
