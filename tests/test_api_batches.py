"""Transaction batches: rows added in many requests, each checked like a bulk upsert, and
merged into the transactions at once by the commit (feedback.customers.imports.batches)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from feedback.customers.imports import batches, merge
from feedback.customers.models import StagedTransaction, Transaction, TransactionBatch
from feedback.dbtypes import utcnow
from feedback.errors import Conflict
from feedback.extensions import db
from feedback.integrations import tokens
from tests.support.api import assert_guarded

URL = "/api/v1/transactions/batches"
PROBLEM = "application/problem+json"


def _token(scopes="read,write", name=None) -> dict[str, str]:
    _, secret = tokens.create_token(name or f"T-{scopes}", scopes)
    db.session.commit()
    return {"Authorization": f"Bearer {secret}"}


def _problem(response, status: int) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == PROBLEM
    return response.get_json(force=True)


def _row(customer="K1", amount=100, day="2026-11-30", **extra) -> dict:
    return {"customer_external_id": customer, "date": day, "amount": amount, "currency": "EUR",
            **extra}  # fmt: skip


def _open(client, headers) -> int:
    response = client.post(URL, headers=headers)
    assert response.status_code == 201, response.get_data(as_text=True)
    assert response.headers["Location"].endswith(f"{URL}/{response.get_json()['id']}")
    return response.get_json()["id"]


def _add(client, headers, batch_id, rows, **kwargs):
    return client.post(f"{URL}/{batch_id}/rows", headers=headers, json={"rows": rows}, **kwargs)


def _stored() -> list[tuple]:
    rows = db.session.scalars(select(Transaction))
    return sorted(((t.external_id, str(t.amount)) for t in rows), key=lambda r: (r[0] or "", r))


def _staged() -> int:
    return db.session.scalar(select(func.count()).select_from(StagedTransaction))


@pytest.fixture
def customers(create_customer):
    return [create_customer(external_id=f"K{n}") for n in (1, 2)]


def test_rows_wait_in_the_batch_until_the_commit_saves_them_all(client, customers):
    headers = _token()
    batch_id = _open(client, headers)
    first = _add(client, headers, batch_id, [_row(transaction_id="F1"), _row("K2", 50)])
    assert first.status_code == 200, first.get_data(as_text=True)
    assert first.get_json()["added"] == 2
    second = _add(client, headers, batch_id, [_row(transaction_id="F2", amount=75)])
    assert second.get_json()["batch"]["rows"] == 3
    assert second.get_json()["batch"]["requests"] == 2
    assert _stored() == [] and _staged() == 3  # nothing saved before the commit

    state = client.get(f"{URL}/{batch_id}", headers=headers).get_json()
    assert (state["status"], state["rows"], state["created"]) == ("open", 3, None)
    committed = client.post(f"{URL}/{batch_id}/commit", headers=headers)
    assert committed.status_code == 200, committed.get_data(as_text=True)
    result = committed.get_json()
    assert (result["status"], result["created"], result["updated"], result["unchanged"],
            result["superseded"]) == ("committed", 3, 0, 0, 0)  # fmt: skip
    assert result["closed_at"] is not None
    assert _stored() == [(None, "50.00"), ("F1", "100.00"), ("F2", "75.00")]
    assert _staged() == 0


def test_a_later_request_wins_for_the_same_identity(client, customers):
    """As if the requests went one after another to the bulk upsert: the same
    transaction_id twice keeps the later row; identical rows without one in two requests
    are one transaction, in one request two."""
    headers = _token()
    client.post("/api/v1/transactions", headers=headers,
                json={"rows": [_row(transaction_id="OLD", amount=10)]})  # fmt: skip
    batch_id = _open(client, headers)
    _add(
        client,
        headers,
        batch_id,
        [
            _row(transaction_id="F1", amount=100),
            _row(transaction_id="OLD", amount=20),
            _row("K2", 5),
        ],
    )
    _add(client, headers, batch_id, [_row(transaction_id="F1", amount=120),
                                     _row(transaction_id="OLD", amount=30), _row("K2", 5),
                                     _row("K2", 7), _row("K2", 7)])  # fmt: skip
    result = client.post(f"{URL}/{batch_id}/commit", headers=headers).get_json()
    assert result["rows"] == 8 and result["superseded"] == 3
    assert (result["created"], result["updated"], result["unchanged"]) == (4, 1, 0)
    assert _stored() == [(None, "5.00"), (None, "7.00"), (None, "7.00"), ("F1", "120.00"),
                         ("OLD", "30.00")]  # fmt: skip


def test_a_bad_row_refuses_the_whole_request_and_keeps_the_batch(client, customers):
    headers = _token()
    batch_id = _open(client, headers)
    _add(client, headers, batch_id, [_row(transaction_id="F1")])
    response = _add(
        client, headers, batch_id, [_row(transaction_id="F2"), _row("NOPE"), _row(amount="12,34,5")]
    )
    body = _problem(response, 422)
    assert [(e["row"], e["field"]) for e in body["errors"]] == [
        (1, "customer_external_id"), (2, "amount")]  # fmt: skip
    assert "none were added to the batch" in body["detail"]
    assert _staged() == 1
    assert client.get(f"{URL}/{batch_id}", headers=headers).get_json()["rows"] == 1
    for bad in ({"rows": "x"}, {"rows": [], "more": 1}, {"lines": []}):
        response = client.post(f"{URL}/{batch_id}/rows", headers=headers, json=bad)
        assert response.status_code == 422 and _staged() == 1
    response = client.post(f"{URL}/{batch_id}/rows", headers=headers, data=b'{"rows": [',
                           content_type="application/json")  # fmt: skip
    _problem(response, 400)
    result = client.post(f"{URL}/{batch_id}/commit", headers=headers).get_json()
    assert result["created"] == 1 and _stored() == [("F1", "100.00")]


def test_a_closed_batch_takes_no_more_rows_and_no_second_commit(client, customers):
    headers = _token()
    batch_id = _open(client, headers)
    _add(client, headers, batch_id, [_row(transaction_id="F1")])
    assert client.post(f"{URL}/{batch_id}/commit", headers=headers).status_code == 200
    assert "committed" in _problem(client.post(f"{URL}/{batch_id}/commit", headers=headers),
                                   409)["detail"]  # fmt: skip
    _problem(_add(client, headers, batch_id, [_row(transaction_id="F2")]), 409)
    _problem(client.delete(f"{URL}/{batch_id}", headers=headers), 409)
    assert _stored() == [("F1", "100.00")]


def test_an_abandoned_batch_drops_its_rows_but_not_another_batchs(client, customers):
    headers = _token()
    kept, dropped = _open(client, headers), _open(client, headers)
    _add(client, headers, kept, [_row(transaction_id="KEEP")])
    _add(client, headers, dropped, [_row(transaction_id="DROP"), _row("K2")])
    assert client.delete(f"{URL}/{dropped}", headers=headers).status_code == 204
    assert _staged() == 1  # another batch was open: only this one's rows went
    assert client.get(f"{URL}/{dropped}", headers=headers).get_json()["status"] == "abandoned"
    _problem(client.post(f"{URL}/{dropped}/commit", headers=headers), 409)
    client.post(f"{URL}/{kept}/commit", headers=headers)
    assert _stored() == [("KEEP", "100.00")] and _staged() == 0


def test_a_batch_belongs_to_the_token_that_opened_it(client, customers):
    owner, other = _token(name="ERP"), _token(name="CRM")
    batch_id = _open(client, owner)
    _add(client, owner, batch_id, [_row(transaction_id="F1")])
    for response in (
        client.get(f"{URL}/{batch_id}", headers=other),
        _add(client, other, batch_id, [_row(transaction_id="F2")]),
        client.post(f"{URL}/{batch_id}/commit", headers=other),
        client.delete(f"{URL}/{batch_id}", headers=other),
        client.get(f"{URL}/999999", headers=owner),
        client.get(f"{URL}/99999999999", headers=owner),
    ):
        _problem(response, 404)
    assert _staged() == 1 and _stored() == []


def test_batches_need_the_write_scope_and_a_token(client, customers):
    reader = _token("read")
    assert "'write' scope" in _problem(client.post(URL, headers=reader), 403)["detail"]
    writer = _token(name="ERP")
    batch_id = _open(client, writer)
    for response in (
        _add(client, reader, batch_id, [_row()]),
        client.post(f"{URL}/{batch_id}/commit", headers=reader),
        client.delete(f"{URL}/{batch_id}", headers=reader),
    ):
        _problem(response, 403)
    for response in (client.post(URL), client.get(f"{URL}/{batch_id}"),
                     client.post(f"{URL}/{batch_id}/commit")):  # fmt: skip
        _problem(response, 401)
    assert db.session.scalar(select(func.count()).select_from(TransactionBatch)) == 1


def test_retries_with_the_same_key_add_and_commit_once(client, customers):
    headers = _token()
    batch_id = _open(client, headers)
    keyed = {**headers, "Idempotency-Key": "page-1"}
    rows = [_row(transaction_id="F1"), _row("K2", 9)]
    first = _add(client, keyed, batch_id, rows)
    retry = _add(client, keyed, batch_id, rows)
    assert retry.headers.get("Idempotent-Replayed") == "true"
    assert retry.get_json() == first.get_json() and _staged() == 2
    commit = {**headers, "Idempotency-Key": "commit"}
    done = client.post(f"{URL}/{batch_id}/commit", headers=commit)
    again = client.post(f"{URL}/{batch_id}/commit", headers=commit)
    assert again.status_code == 200 and again.get_json() == done.get_json()
    assert len(_stored()) == 2


def test_a_batch_has_a_row_limit(client, app, customers, monkeypatch):
    monkeypatch.setitem(app.config, "FEEDBACK_API_BATCH_MAX_ROWS", 3)
    headers = _token()
    batch_id = _open(client, headers)
    assert _add(client, headers, batch_id, [_row(transaction_id=f"F{n}") for n in range(2)]
                ).status_code == 200  # fmt: skip
    body = _problem(_add(client, headers, batch_id, [_row(transaction_id=f"G{n}")
                                                     for n in range(2)]), 413)  # fmt: skip
    assert "at most 3 rows" in body["detail"] and _staged() == 2


def test_a_customer_deleted_before_the_commit_saves_nothing(client, customers):
    headers = _token()
    batch_id = _open(client, headers)
    _add(client, headers, batch_id, [_row(transaction_id="F1"), _row("K2", transaction_id="F2")])
    db.session.delete(customers[1])
    db.session.commit()
    body = _problem(client.post(f"{URL}/{batch_id}/commit", headers=headers), 409)
    assert "deleted" in body["detail"]
    assert _stored() == [] and client.get(f"{URL}/{batch_id}", headers=headers).get_json()[
        "status"] == "open"  # fmt: skip


def test_a_large_batch_is_merged_like_a_large_file(client, customers, monkeypatch):
    """From LARGE_IMPORT_ROWS rows, PostgreSQL checks the customer key once, not per row."""
    monkeypatch.setattr(merge, "LARGE_IMPORT_ROWS", 3)
    headers = _token()
    batch_id = _open(client, headers)
    added = _add(client, headers, batch_id, [_row(transaction_id=f"F{n}", amount=n + 1)
                                             for n in range(5)])  # fmt: skip
    assert added.status_code == 200, added.get_data(as_text=True)
    result = client.post(f"{URL}/{batch_id}/commit", headers=headers).get_json()
    assert result["created"] == 5, result
    assert len(_stored()) == 5


def test_an_add_that_finds_the_batch_closed_meanwhile_adds_nothing(app, customers):
    token, _ = tokens.create_token("ERP", "read,write")
    batch = batches.open_batch(token.id)
    db.session.commit()
    assert batch.status == "open"  # loaded: this request looked before the other committed
    db.session.execute(update(TransactionBatch).values(status="committed")
                       .execution_options(synchronize_session=False))  # fmt: skip
    with pytest.raises(Conflict, match="closed while these rows were added"):
        batches.add_rows(batch, [_row(transaction_id="F1", amount="100")], base_currency="EUR",
                         max_rows=100, max_listed=100)  # fmt: skip
    db.session.rollback()
    assert _staged() == 0


def test_expired_batches_are_refused_and_swept(client, customers):
    headers = _token()
    old, done = _open(client, headers), _open(client, headers)
    _add(client, headers, old, [_row(transaction_id="F1")])
    client.post(f"{URL}/{done}/commit", headers=headers)
    db.session.execute(update(TransactionBatch).where(TransactionBatch.id == old)
                       .values(expires_at=utcnow() - timedelta(minutes=1)))  # fmt: skip
    db.session.commit()
    assert "expired" in _problem(_add(client, headers, old, [_row()]), 409)["detail"]
    assert "expired" in _problem(client.post(f"{URL}/{old}/commit", headers=headers),
                                 409)["detail"]  # fmt: skip
    assert batches.sweep_batches() == (1, 0)
    db.session.commit()
    assert _staged() == 0
    later = utcnow() + batches.KEEP_CLOSED + timedelta(hours=1)
    assert batches.sweep_batches(now=later) == (0, 2)
    db.session.commit()
    _problem(client.get(f"{URL}/{old}", headers=headers), 404)


def test_an_empty_batch_commits_to_nothing(client):
    headers = _token()
    batch_id = _open(client, headers)
    result = client.post(f"{URL}/{batch_id}/commit", headers=headers).get_json()
    assert (result["rows"], result["created"], result["superseded"]) == (0, 0, 0)


def test_on_sqlite_a_copy_that_loses_the_key_race_is_rolled_back_and_replays(
    client, app, monkeypatch, is_postgres
):
    """SQLite writes the key last (idempotency._keyed_last): when another call with the same
    key commits first, this one's batch is rolled back and the other's answer replayed."""
    if is_postgres:
        pytest.skip("PostgreSQL writes the key first; a second copy waits on it instead")
    from feedback.api.models import IdempotencyKey

    headers = {**_token(name="ERP"), "Idempotency-Key": "open-1"}
    real_open = batches.open_batch
    first = client.post(URL, headers={**headers, "Idempotency-Key": "warm-up"})
    planted = {"id": 999, "status": "open"}

    def open_while_another_copy_commits(token):
        with db.engine.begin() as other:  # the other copy finishes first
            other.execute(IdempotencyKey.__table__.insert().values(
                token_id=token, key="open-1", request_hash=stored_hash, status=201,
                body='{"id": 999, "status": "open"}', location=None, created_at=utcnow(),
            ))  # fmt: skip
        return real_open(token)

    # the copies' request hash: the same method, path and (empty) body as the warm-up's
    stored_hash = db.session.scalar(
        select(IdempotencyKey.request_hash).where(IdempotencyKey.key == "warm-up")
    )
    monkeypatch.setattr(batches, "open_batch", open_while_another_copy_commits)
    response = client.post(URL, headers=headers)
    assert response.status_code == 201 and response.headers["Idempotent-Replayed"] == "true"
    assert response.get_json() == planted
    ids = db.session.scalars(select(TransactionBatch.id)).all()
    assert ids == [first.get_json()["id"]]  # this copy's batch was rolled back


@pytest.mark.parametrize(
    ("method", "path", "write"),
    [("post", URL, True), ("get", f"{URL}/1", False), ("post", f"{URL}/1/rows", True),
     ("post", f"{URL}/1/commit", True), ("delete", f"{URL}/1", True)],
)  # fmt: skip
def test_every_batch_endpoint_needs_a_live_token_with_the_scope(client, method, path, write):
    kwargs = {"json": {"rows": [_row()]}} if path.endswith("/rows") else {}
    assert_guarded(client, method, path, write=write, **kwargs)
    assert db.session.scalar(select(func.count()).select_from(TransactionBatch)) == 0


def test_a_commit_waits_for_an_add_in_flight_and_saves_its_rows(app, customers, is_postgres):
    """PostgreSQL: adds hold the batch FOR KEY SHARE, a commit FOR UPDATE, each before the
    staged rows, so a commit sent while an add is still running waits for it (no deadlock
    over the staged rows' TRUNCATE) and merges its rows."""
    if not is_postgres:
        pytest.skip("SQLite has one writer: the two cannot overlap")
    import threading

    token, _ = tokens.create_token("ERP", "read,write")
    batch_id = batches.open_batch(token.id).id
    db.session.commit()
    token_id = token.id
    batch = batches.find_batch(batch_id, token_id, lock="share")
    report = batches.add_rows(  # not committed yet
        batch,
        [_row(transaction_id="F1", amount="100"), _row("K2", "5")],
        base_currency="EUR",
        max_rows=100,
        max_listed=100,
    )
    assert report.ok and _staged() == 2
    outcome = {}

    def commit_from_another_request():
        with app.app_context():
            other = batches.find_batch(batch_id, token_id, lock="update")
            outcome["report"] = batches.commit_batch(other)
            db.session.commit()

    committer = threading.Thread(target=commit_from_another_request)
    committer.start()
    committer.join(timeout=1)
    assert committer.is_alive()  # waiting for the add
    db.session.commit()  # the add finishes
    committer.join(timeout=30)
    assert not committer.is_alive()
    assert outcome["report"].created == 2, (outcome["report"], _staged(), _stored())
    db.session.expire_all()
    assert len(_stored()) == 2 and _staged() == 0
