"""Send a wave of 100,000 invitations through the SendGrid backend to a local SendGrid stand-in.

    .venv/bin/python bench/send_wave.py                        # SQLite in a temp folder
    DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/test \
        .venv/bin/python bench/send_wave.py                    # PostgreSQL (database `bench`)

"send" is the real job (`send_due_invitations`): claim batches of 1,000, render, post with
the real `sendgrid` client to the local server (tests/support/sendgrid_server.py, run in a
separate process so it does not share our interpreter), record the results. "build" is the
raw request-building rate for the same recipients: render and serialise the request bodies,
no database and no HTTP. The ratio is send rate / build rate.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from demo_seed import bench_app, open_wave  # noqa: E402
from sqlalchemy import func, select  # noqa: E402

from feedback.delivery.backends.sendgrid import SendGridBackend  # noqa: E402
from feedback.extensions import db  # noqa: E402
from feedback.jobs.invitations import make_renderer, send_due_invitations  # noqa: E402
from feedback.surveys import dispatch  # noqa: E402
from feedback.surveys.models import Invitation  # noqa: E402

LANGUAGES = ("da", "sv", "nb", "en")


def _serve(ready, stop, validate):
    from support.sendgrid_server import SendGridServer

    server = SendGridServer(validate=validate).start()
    ready.put(server.url)
    stop.wait()
    accepted = server.accepted_invitations()
    ready.put((len(accepted), len(set(accepted)), sum(1 for r in server.received if r.errors)))
    server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--invitations", type=int, default=100_000)
    parser.add_argument("--validate", action="store_true", help="schema-check every body")
    args = parser.parse_args()
    ready, stop = multiprocessing.Queue(), multiprocessing.Event()
    server = multiprocessing.Process(target=_serve, args=(ready, stop, args.validate))
    server.start()
    url = ready.get(timeout=30)
    with tempfile.TemporaryDirectory() as workdir:
        app = bench_app("bench_send", fresh=True, workdir=Path(workdir))
        with app.app_context():
            backend_name = db.engine.dialect.name
            n = args.invitations
            open_wave(n, LANGUAGES)
            config = {**app.config, "FEEDBACK_SEND_BATCH": 1000}
            backend = SendGridBackend("SG.bench", ("s@nordlys.test", "Nordlys"), host=url)

            recipients = [
                dispatch.Recipient(i.id, i.token, i.language, f"k{i.customer_id}@x.test",
                                   "Kontakt", "Kunde A/S", i.wave.template_version_id, False)
                for i in db.session.scalars(select(Invitation))
            ]  # fmt: skip
            render = make_renderer(config)
            started = time.perf_counter()
            for start in range(0, len(recipients), 1000):
                chunk = [render(r) for r in recipients[start : start + 1000]]
                for group in {m.content: None for m in chunk}:
                    json.dumps(backend.payload([m for m in chunk if m.content is group]))
            build = time.perf_counter() - started

            started = time.perf_counter()
            report = send_due_invitations(config, backend)
            send = time.perf_counter() - started
            sent_states = db.session.scalar(select(func.count()).where(Invitation.state == "sent"))
    stop.set()
    accepted, distinct, invalid = ready.get(timeout=60)
    server.join()
    print(f"{backend_name}: wave of {n:,} invitations, SendGrid backend -> local server "
          f"(schema check {'on' if args.validate else 'off'})")  # fmt: skip
    print(f"  send   {send:7.2f} s  {n / send:>10,.0f} invitations/s  ({report.summary()})")
    print(f"  build  {build:7.2f} s  {n / build:>10,.0f} invitations/s (render + JSON only)")
    print(f"  ratio send/build rate: {(n / send) / (n / build):.2f}")
    print(f"  accepted by the server: {accepted:,} ({distinct:,} distinct), "
          f"invalid bodies: {invalid}, invitations marked sent: {sent_states:,}")  # fmt: skip


if __name__ == "__main__":
    main()
