"""Answering under load: 32 concurrent clients posting survey answers to gunicorn.

    .venv/bin/python bench/answer_load.py                      # SQLite
    DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/test \
        .venv/bin/python bench/answer_load.py                  # PostgreSQL (database `bench`)

Each answer is what a customer's browser does after one tap in the e-mail: POST
/s/<token>/score with the page's CSRF token and session cookie, and the page's JSON body.
Every answer is a new response for a different invitation. Printed next to a hello-world
Flask endpoint served by the same gunicorn settings in the same run. On PostgreSQL the
answers take the answer lane (feedback/responses/lane.py); `--lane off` measures the same
answers through Flask alone.

The browsers' state (session cookie and page token) is made here with the app's own signing
(what Flask and Flask-WTF put in the page), not by fetching 20,000 pages first: a sample of
real pages is fetched, timed (printed as pages/s), and its states answered first.

The load comes from this machine, so client and server share its cores. With `wrk` installed
(`apt-get install wrk`; bench/answer_load.lua holds its script) it is the client: 2 threads,
32 connections, little CPU of its own. Without it (or with --client python) 4 processes x 8
threads of Python's http.client load the server, and take a good share of the CPU themselves.
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from demo_seed import bench_app, open_wave  # noqa: E402
from sqlalchemy import func, select  # noqa: E402

from feedback.extensions import db  # noqa: E402
from feedback.responses.models import Response  # noqa: E402
from feedback.surveys.models import Invitation  # noqa: E402

SCHEMA = "bench_answers"
CLIENT_PROCESSES, THREADS_PER_PROCESS = 4, 8
GUNICORN = ["--workers", "4", "--worker-class", "sync"]
PAGE_SAMPLE = 640  # real survey pages fetched (and answered first); the rest are made here
ANSWER_SECONDS = 10  # wrk answers for this long; --answers must outlast it
_META = re.compile(rb'name="csrf-token" content="([^"]+)"')


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _serve(app_path: str, env: dict, log: Path) -> tuple[subprocess.Popen, int]:
    port = _free_port()
    process = subprocess.Popen(
        [str(ROOT / ".venv/bin/gunicorn"), *GUNICORN, "--bind", f"127.0.0.1:{port}", app_path],
        env={**os.environ, **env}, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=log.open("w"),
    )  # fmt: skip
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return process, port
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"gunicorn did not start: {log.read_text()[-2000:]}")


def _fetch_pages(port: int, tokens: list[str]) -> list[tuple[str, str, str]]:
    """(token, cookie, csrf) per invitation, from the real page (32 browsers at a time)."""
    prepared: list = []
    failures: list = []

    def fetch(mine):
        connection = http.client.HTTPConnection("127.0.0.1", port)
        for token in mine:
            connection.request("GET", f"/s/{token}")
            response = connection.getresponse()
            body = response.read()
            if response.status != 200:
                failures.append(f"GET /s/…: {response.status} {body[:300]!r}")
                continue
            cookie = response.getheader("Set-Cookie").split(";", 1)[0]
            prepared.append((token, cookie, _META.search(body).group(1).decode()))

    threads = [threading.Thread(target=fetch, args=(tokens[n::32],)) for n in range(32)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if failures:
        print(f"  {len(failures)} page fetches failed, e.g. {failures[0]}")
    return prepared


def _browser_states(app, tokens: list[str]) -> list[tuple[str, str, str]]:
    """(token, cookie, csrf) per invitation as the page makes them: a session holding
    Flask-WTF's secret, and the page's token signed from it."""
    from flask import session
    from flask_wtf.csrf import generate_csrf

    signer = app.session_interface.get_signing_serializer(app)
    cookie = app.config["SESSION_COOKIE_NAME"]
    states = []
    for token in tokens:
        with app.test_request_context(f"/s/{token}"):
            csrf = generate_csrf()
            states.append((token, f"{cookie}={signer.dumps(dict(session))}", csrf))
    return states


def _client(port, jobs, results, hello: bool) -> None:
    def run(my_jobs):
        connection = http.client.HTTPConnection("127.0.0.1", port)
        for token, cookie, csrf in my_jobs:
            started = time.perf_counter()
            if hello:
                connection.request("GET", "/hello")
            else:
                body = json.dumps({"question": "recommend", "score": "9"})
                connection.request("POST", f"/s/{quote(token)}/score", body=body, headers={
                    "Content-Type": "application/json", "X-CSRFToken": csrf, "Cookie": cookie,
                })  # fmt: skip
            response = connection.getresponse()
            response.read()
            results.put((time.perf_counter() - started, response.status))

    threads = [
        threading.Thread(target=run, args=(jobs[n::THREADS_PER_PROCESS],))
        for n in range(THREADS_PER_PROCESS)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def _load(port: int, jobs: list, hello: bool) -> tuple[float, list[float], dict]:
    results = multiprocessing.Queue()
    processes = [
        multiprocessing.Process(
            target=_client, args=(port, jobs[n::CLIENT_PROCESSES], results, hello)
        )
        for n in range(CLIENT_PROCESSES)
    ]
    started = time.perf_counter()
    for process in processes:
        process.start()
    latencies, statuses = [], {}
    for _ in jobs:
        latency, status = results.get()
        latencies.append(latency)
        statuses[status] = statuses.get(status, 0) + 1
    elapsed = time.perf_counter() - started
    for process in processes:
        process.join()
    return elapsed, latencies, statuses


def _wrk(port: int, jobs: list, workdir: str, hello: bool) -> tuple[float, dict, dict]:
    """Run wrk: (requests/s, {percent: ms}, statuses) for the answers or the hello endpoint."""
    command = ["wrk", "-t2", "-c32", "--latency", "--timeout", "5s"]
    if hello:
        command += ["-d10s", f"http://127.0.0.1:{port}/hello"]
    else:
        jobs_file = Path(workdir) / "jobs.tsv"
        jobs_file.write_text("".join(f"{t}\t{c}\t{x}\n" for t, c, x in jobs))
        command += [f"-d{ANSWER_SECONDS}s", "-s", str(ROOT / "bench/answer_load.lua"),
                    f"http://127.0.0.1:{port}", "--", str(jobs_file), "2"]  # fmt: skip
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    if os.environ.get("BENCH_VERBOSE"):
        print(out)
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    units = {"us": 0.001, "ms": 1.0, "s": 1000.0}
    cuts = {
        int(p): float(v) * units[u]
        for p, v, u in re.findall(r"^\s+(\d+)%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
    }
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    done = int(re.search(r"(\d+) requests in", out).group(1))
    if not hello and done >= len(jobs):
        raise SystemExit(f"wrk answered all {len(jobs):,} invitations before its "
                         f"{ANSWER_SECONDS} s were up: run again with more --answers")  # fmt: skip
    return rate, cuts, {"non-2xx": int(bad.group(1)) if bad else 0, "requests": done}


def _wrk_line(name: str, rate: float, cuts: dict, statuses: dict) -> str:
    return (f"  {name:<12} {rate:>8,.0f} req/s   p50 {cuts[50]:5.1f} ms   "
            f"p99 {cuts[99]:5.1f} ms   {statuses}")  # fmt: skip


def _line(name: str, count: int, elapsed: float, latencies: list[float], statuses: dict) -> str:
    cuts = statistics.quantiles(latencies, n=100)
    return (f"  {name:<12} {count / elapsed:>8,.0f} req/s   p50 {cuts[49] * 1000:5.1f} ms   "
            f"p99 {cuts[98] * 1000:5.1f} ms   statuses {statuses}")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--answers", type=int, default=20_000)
    parser.add_argument("--client", choices=("wrk", "python"),
                        default="wrk" if shutil.which("wrk") else "python")  # fmt: skip
    parser.add_argument("--lane", choices=("on", "off"), default="on",
                        help="off: answers go through Flask alone (PostgreSQL)")  # fmt: skip
    args = parser.parse_args()
    n = args.answers
    with tempfile.TemporaryDirectory() as workdir:
        app = bench_app(SCHEMA, fresh=True, workdir=Path(workdir))
        url = app.config["SQLALCHEMY_DATABASE_URI"]
        with app.app_context():
            backend = db.engine.dialect.name
            open_wave(n, name="Load")
            tokens = list(db.session.scalars(select(Invitation.token)))
        if backend == "postgresql":
            url += ("&" if "?" in url else "?") + f"options=-csearch_path%3D{SCHEMA}"
        env = {"DATABASE_URL": url, "FEEDBACK_SECRET_KEY": app.config["SECRET_KEY"],
               "FEEDBACK_SCHEDULER": "off", "FEEDBACK_PUBLIC_RATE_LIMIT": "100000000 per minute",
               "FEEDBACK_ANSWER_LANE": "1" if args.lane == "on" else "0",
               "FEEDBACK_INSTANCE_DIR": workdir}  # fmt: skip
        server_log = Path(workdir) / "server.log"
        server, port = _serve("feedback.wsgi:app", env, server_log)
        hello, hello_port = _serve("bench.hello_app:app", env, Path(workdir) / "hello.log")
        try:
            started = time.perf_counter()
            jobs = _fetch_pages(port, tokens[:PAGE_SAMPLE])
            page_rate = len(jobs) / (time.perf_counter() - started)
            jobs += _browser_states(app, tokens[PAGE_SAMPLE:])
            n = len(jobs)
            if args.client == "wrk":
                answers = _wrk(port, jobs, workdir, hello=False)
                hellos = _wrk(hello_port, jobs, workdir, hello=True)
            else:
                elapsed, latencies, statuses = _load(port, jobs, hello=False)
                hello_elapsed, hello_latencies, hello_statuses = _load(hello_port, jobs, True)
        finally:
            server.terminate()
            hello.terminate()
            server.wait()
            hello.wait()
        with app.app_context():
            stored = db.session.scalar(select(func.count()).select_from(Response))
        errors = [line for line in server_log.read_text().splitlines() if "Error" in line]
    lane = f", answer lane {args.lane}" if backend == "postgresql" else ""
    print(f"{backend}: {n:,} answers, 32 concurrent clients ({args.client}), "
          f"gunicorn {' '.join(GUNICORN)}{lane}")  # fmt: skip
    if args.client == "wrk":
        print(_wrk_line("answers", *answers))
        print(_wrk_line("hello world", *hellos))
    else:
        print(_line("answers", n, elapsed, latencies, statuses))
        print(_line("hello world", n, hello_elapsed, hello_latencies, hello_statuses))
    print(f"  (survey pages, {PAGE_SAMPLE} fetched beforehand 32 at a time: "
          f"{page_rate:,.0f} pages/s)")  # fmt: skip
    sent = answers[2]["requests"] if args.client == "wrk" else n
    print(f"  responses stored: {stored:,} for {sent:,} answers completed by the client")
    for line in errors[-5:]:
        print(f"  server error: {line}")


if __name__ == "__main__":
    main()
