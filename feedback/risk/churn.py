"""Churn risk: learn the model from the company's own history, score every active customer
as of a date, store the dated scores, and backtest the score against single signals.

"Churned" means: placed no order within the horizon (default 180 days) after the date.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
from sqlalchemy import Date, bindparam, delete, func, select, text

from feedback.customers.models import Customer
from feedback.dbtypes import utcnow
from feedback.errors import DomainError
from feedback.extensions import db
from feedback.risk import model as churn_model
from feedback.risk.features import (
    BEHAVIOUR,
    FEATURE_NAMES,
    Snapshot,
    day_number,
    feature_matrix,
    snapshots,
)
from feedback.risk.models import ChurnRun, ChurnScore
from feedback.risk.reasons import describe

DEFAULT_HORIZON = 180
FIT_SAMPLE = 25_000
SIGNALS = ("combined", "nps", "non_response", "recency", "behaviour")


@dataclass
class Scored:
    """Scores as of a date, before they are stored (what recompute and backtest share)."""

    snapshot: Snapshot
    x: np.ndarray
    model: churn_model.Model
    model_kind: str  # fitted | default
    fit: dict
    probability: np.ndarray
    fit_data: tuple[np.ndarray, np.ndarray] | None  # (x, y) at the fit date, if fitted


def check_horizon(horizon_days: int) -> None:
    if not 30 <= horizon_days <= 365:
        raise DomainError("the horizon must be between 30 and 365 days")


def nps_templates(templates) -> list[str]:
    """Templates whose primary question is the 0-10 recommendation question."""
    return sorted(
        key
        for key, template in templates.items()
        if any(q.primary and q.kind == "nps" for q in template.questions)
    )


def score_as_of(as_of: date, *, horizon_days: int, base_currency: str, nps_template_keys) -> Scored:
    """Fit on features as of `as_of - horizon` and who stopped ordering by `as_of`, then
    score the customers active at `as_of`. Reads nothing dated after `as_of`."""
    check_horizon(horizon_days)
    fit_date = as_of - timedelta(days=horizon_days)
    every = fit_sample_every()
    earlier, current = snapshots(
        [fit_date, as_of], base_currency=base_currency, nps_templates=nps_template_keys,
        sample_every=[every, 1],
    )  # fmt: skip
    x = feature_matrix(current)
    x_fit = feature_matrix(earlier)
    y_fit = churned_by(earlier, current)
    fit = {"fitted_as_of": fit_date.isoformat(), "customers": int(len(y_fit)),
           "churned": int(y_fit.sum()), "sample_every": every}  # fmt: skip
    if churn_model.enough_history(y_fit):
        model, kind = churn_model.fit(x_fit, y_fit), "fitted"
        fit["auc_in_sample"] = _rounded(churn_model.auc(model.logit(x_fit), y_fit))
        fit_data = (x_fit, y_fit)
    else:
        model, kind, fit_data = churn_model.default_model(), "default", None
        fit["why_default"] = (
            f"{len(y_fit)} customers active {horizon_days} days earlier, {int(y_fit.sum())} "
            f"of them churned: at least {churn_model.MIN_CUSTOMERS} customers and "
            f"{churn_model.MIN_EACH_CLASS} of each outcome are needed to fit"
        )
    probability = model.probability(x) if len(x) else np.zeros(0)
    return Scored(current, x, model, kind, fit, probability, fit_data)


def fit_sample_every() -> int:
    """Fit on every n-th customer (by id) so that about FIT_SAMPLE customers are used: a
    logistic regression of eleven weights learns as well from 25,000 customers as from
    100,000, and the fit date's features then cost a quarter as much."""
    customers = db.session.scalar(select(func.count()).select_from(Customer)) or 0
    return max(1, customers // FIT_SAMPLE)


def churned_by(earlier: Snapshot, later: Snapshot) -> np.ndarray:
    """1 for customers active at the earlier date with no order after it up to the later
    one (a customer ordering in between is active at the later date, the horizon being under
    a year)."""
    fit_day = day_number(earlier.as_of)
    last = dict(zip(later.customer_ids.tolist(), later.raw["last"].tolist(), strict=True))
    return np.array(
        [0 if last.get(c, -1) > fit_day else 1 for c in earlier.customer_ids.tolist()],
        dtype=int,
    )


def reasons_for(scored: Scored, picked: list[list[int]] | None = None) -> list[list[str]]:
    """Each customer's reasons in words; `picked`: reason_features already computed."""
    out = []
    columns = {name: values.tolist() for name, values in scored.snapshot.raw.items()}
    if picked is None:
        picked = churn_model.reason_features(scored.model, scored.x)
    for j, indexes in enumerate(picked):
        words: list[str] = []
        for index in indexes:
            said = describe(FEATURE_NAMES[index], columns, j)
            if said not in words:  # a detractor and its drop read as one sentence
                words.append(said)
        out.append(words)
    return out


def recompute(
    as_of: date, *, horizon_days: int = DEFAULT_HORIZON, base_currency: str, nps_template_keys
) -> ChurnRun:
    """Store a dated churn run; recomputing a date replaces it. Flushes, the caller commits."""
    scored = score_as_of(as_of, horizon_days=horizon_days, base_currency=base_currency,
                         nps_template_keys=nps_template_keys)  # fmt: skip
    run = db.session.scalar(select(ChurnRun).where(ChurnRun.as_of == as_of))
    if run is None:
        run = ChurnRun(as_of=as_of)
        db.session.add(run)
    else:
        db.session.execute(delete(ChurnScore).where(ChurnScore.run_id == run.id))
        run.computed_at = utcnow()
    run.horizon_days, run.model = horizon_days, scored.model_kind
    run.coefficients, run.fit = scored.model.as_json(), scored.fit
    run.customer_count = len(scored.snapshot)
    db.session.flush()

    raw = scored.snapshot.raw
    revenue = np.round(raw["r365"] - raw["cr365"], 2).tolist()
    risk = np.rint(scored.probability * 100).astype(int).tolist()
    keys = churn_model.reason_features(scored.model, scored.x)
    reasons = reasons_for(scored, keys)
    rows = [
        (run.id, customer_id, risk[j], json.dumps(reasons[j], ensure_ascii=False),
         "," + ",".join(FEATURE_NAMES[i] for i in keys[j]) + ",",
         round(revenue[j], 2), round(revenue[j] * risk[j] / 100, 2))
        for j, customer_id in enumerate(scored.snapshot.customer_ids.tolist())
    ]  # fmt: skip
    _store_scores(rows)
    return run


_SCORE_COLUMNS = ("run_id", "customer_id", "risk", "reasons", "reason_keys", "revenue_12m",
                  "revenue_at_risk")  # fmt: skip


def _store_scores(rows: list[tuple]) -> None:
    """PostgreSQL: COPY of one text buffer (a hundred thousand rows in well under a second);
    SQLite: executemany."""
    if not rows:
        return
    connection = db.session.connection()
    if connection.dialect.name == "postgresql":
        # COPY's text format: tab-separated, backslash escapes; only the JSON of reasons can
        # hold a backslash (its own escapes), and no field holds a tab or newline.
        buffer = "".join(
            f"{run_id}\t{customer_id}\t{risk}\t{reasons.replace(chr(92), chr(92) * 2)}\t"
            f"{keys}\t{revenue}\t{at_risk}\n"
            for run_id, customer_id, risk, reasons, keys, revenue, at_risk in rows
        )
        cursor = connection.connection.driver_connection.cursor()
        with cursor.copy(f"COPY churn_scores ({', '.join(_SCORE_COLUMNS)}) FROM STDIN") as copy:
            copy.write(buffer)
        return
    marks = ", ".join("?" for _ in _SCORE_COLUMNS)
    connection.exec_driver_sql(
        f"INSERT INTO churn_scores ({', '.join(_SCORE_COLUMNS)}) VALUES ({marks})", rows
    )


def recompute_from_config(config, templates, as_of: date | None = None, horizon_days=None):
    return recompute(
        as_of or date.today(),
        horizon_days=horizon_days or DEFAULT_HORIZON,
        base_currency=config["FEEDBACK_BASE_CURRENCY"],
        nps_template_keys=nps_templates(templates),
    )


def _ordered_between(start: date, end: date) -> set[int]:
    stmt = text(
        "SELECT DISTINCT customer_id FROM transactions WHERE amount > 0 "
        "AND date > :start AND date <= :end"
    ).bindparams(bindparam("start", type_=Date), bindparam("end", type_=Date))
    return set(db.session.scalars(stmt, {"start": start, "end": end}))


def single_signals(scored: Scored) -> dict[str, np.ndarray]:
    """Each signal alone, as a score where higher means likelier to churn."""
    raw, x = scored.snapshot.raw, scored.x
    column = {name: x[:, i] for i, name in enumerate(FEATURE_NAMES)}
    score = raw["score"]
    behaviour_index = [FEATURE_NAMES.index(n) for n in BEHAVIOUR]
    if scored.fit_data is not None:
        x_fit, y_fit = scored.fit_data
        behaviour = churn_model.fit(x_fit[:, behaviour_index], y_fit, BEHAVIOUR)
    else:
        behaviour = churn_model.default_model(BEHAVIOUR)
    return {
        "combined": scored.probability,
        # NPS alone: the last score, lower is riskier; no answer counts as the middle.
        "nps": np.where(np.isnan(score), 5.0, 10.0 - np.nan_to_num(score)),
        "non_response": column["silence"],
        "recency": column["recency"],
        "behaviour": behaviour.logit(x[:, behaviour_index]) if len(x) else np.zeros(0),
    }


def backtest(
    as_of: date, *, horizon_days: int, base_currency: str, nps_template_keys, today: date
) -> dict:
    """Score as of `as_of` with data up to it, then observe who churned in the horizon."""
    check_horizon(horizon_days)
    end = as_of + timedelta(days=horizon_days)
    if end > today:
        raise DomainError(
            f"the horizon ends on {end.isoformat()}, after today: who churned is not known "
            "yet; choose an earlier --as-of"
        )
    scored = score_as_of(as_of, horizon_days=horizon_days, base_currency=base_currency,
                         nps_template_keys=nps_template_keys)  # fmt: skip
    ordered = _ordered_between(as_of, end)
    y = np.array([0 if c in ordered else 1 for c in scored.snapshot.customer_ids.tolist()])
    signals = single_signals(scored)
    return {
        "as_of": as_of.isoformat(),
        "horizon_days": horizon_days,
        "model": scored.model_kind,
        "customers": int(len(y)),
        "churned": int(y.sum()),
        "auc": {name: _rounded(churn_model.auc(signals[name], y)) for name in SIGNALS},
        # 95 % intervals (Hanley and McNeil), so a difference of a hundredth reads as noise.
        "auc_ci95": {
            name: [_rounded(v) for v in churn_model.auc_interval(signals[name], y)]
            for name in SIGNALS
        },
        "lift_top_decile": {
            name: _rounded(churn_model.lift_top_decile(signals[name], y)) for name in SIGNALS
        },
    }


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 3)
