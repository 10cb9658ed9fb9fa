"""The churn model: a logistic regression over the features of `features.py`, learnt from the
company's own history, with documented default weights when that history is too short.

Fitting: features as of `as_of - horizon` for the customers active then, label "placed no
order in the following `horizon` days" (observed by `as_of`, so nothing after `as_of` is
read). Inputs are standardised, so a weight says how much one standard deviation of the
feature moves the log-odds, and a customer's reasons are the features whose contribution
`weight * (x - mean) / scale` raises the score most.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from feedback.risk.features import FEATURE_NAMES, WARNING_FROM

# Too few examples make weights that are noise: below these the defaults are used.
MIN_CUSTOMERS = 200
MIN_EACH_CLASS = 50
REASON_FROM = 0.2  # a contribution that raises the odds by a fifth or more is a reason
MAX_REASONS = 4

# Defaults on the raw (unstandardised) features, set by hand from what DOMAIN.md says
# matters: a long silence against the customer's own rhythm weighs most, then falling
# orders against the same season, detractor answers and unanswered surveys.
DEFAULT_WEIGHTS = {
    "recency": 1.1,  # per unit of log(days since / usual gap)
    "orders_season": -0.8,  # -1 = no orders where last year had some
    "revenue_year": -0.9,
    "trend": -1.0,  # per half year of revenue lost, beyond last year's seasonal change
    "credit_share": 1.5,
    "detractor": 0.9,
    "promoter": -0.5,
    "score_drop": 1.5,  # per 10 points lost
    "silence": 0.35,  # per unanswered wave in a row
    "open_cases": 0.2,
    "breached_cases": 0.4,
}
DEFAULT_INTERCEPT = -2.2  # a customer with nothing unusual: about 10 % risk


@dataclass(frozen=True)
class Model:
    intercept: float
    weights: np.ndarray  # per feature, on the standardised scale
    means: np.ndarray
    scales: np.ndarray
    names: tuple[str, ...] = FEATURE_NAMES

    def contributions(self, x: np.ndarray) -> np.ndarray:
        return self.weights * (x - self.means) / self.scales

    def logit(self, x: np.ndarray) -> np.ndarray:
        return self.intercept + self.contributions(x).sum(axis=1)

    def probability(self, x: np.ndarray) -> np.ndarray:
        return 1 / (1 + np.exp(-self.logit(x)))

    def as_json(self) -> dict:
        return {
            "intercept": round(float(self.intercept), 6),
            "weights": {
                n: round(float(w), 6) for n, w in zip(self.names, self.weights, strict=True)
            },
            "means": {n: round(float(m), 6) for n, m in zip(self.names, self.means, strict=True)},
            "scales": {n: round(float(s), 6) for n, s in zip(self.names, self.scales, strict=True)},
        }

    @classmethod
    def from_json(cls, data: dict) -> Model:
        names = tuple(data["weights"])
        return cls(
            float(data["intercept"]),
            np.array([data["weights"][n] for n in names]),
            np.array([data["means"][n] for n in names]),
            np.array([data["scales"][n] for n in names]),
            names,
        )


def default_model(names=FEATURE_NAMES) -> Model:
    """Hand-set weights on raw features, centred on a customer with nothing unusual."""
    size = len(names)
    weights = np.array([DEFAULT_WEIGHTS[n] for n in names])
    return Model(DEFAULT_INTERCEPT, weights, np.zeros(size), np.ones(size), tuple(names))


def enough_history(y: np.ndarray) -> bool:
    churned = int(y.sum())
    return len(y) >= MIN_CUSTOMERS and min(churned, len(y) - churned) >= MIN_EACH_CLASS


def fit(x: np.ndarray, y: np.ndarray, names=FEATURE_NAMES) -> Model:
    """L2-regularised logistic regression on standardised features (scikit-learn)."""
    from sklearn.linear_model import LogisticRegression

    means = x.mean(axis=0)
    scales = x.std(axis=0)
    scales[scales < 1e-9] = 1.0  # a constant feature: weight ~0, no division by zero
    z = (x - means) / scales
    regression = LogisticRegression(C=1.0, max_iter=1000).fit(z, y)
    return Model(float(regression.intercept_[0]), regression.coef_[0].copy(), means, scales,
                 tuple(names))  # fmt: skip


def reason_features(model: Model, x: np.ndarray) -> list[list[int]]:
    """Per customer, the indexes of the features that raised its score most, largest first."""
    contributions = model.contributions(x)
    warning = np.zeros_like(x, dtype=bool)
    for j, name in enumerate(model.names):
        side, limit = WARNING_FROM.get(name, ("never", 0))
        warning[:, j] = x[:, j] > limit if side == "above" else x[:, j] < limit
        warning[:, j] &= side != "never"
    contributions = np.where(warning, contributions, -np.inf)
    order = np.argsort(-contributions, axis=1, kind="stable")[:, :MAX_REASONS]
    return [
        [int(j) for j in indexes if row[j] >= REASON_FROM]
        for row, indexes in zip(contributions, order, strict=True)
    ]


def auc(scores: np.ndarray, y: np.ndarray) -> float | None:
    """Area under the ROC curve (ties count half); None when only one class is present."""
    if len(y) == 0 or y.min() == y.max():
        return None
    from sklearn.metrics import roc_auc_score

    return float(roc_auc_score(y, scores))


def auc_interval(scores: np.ndarray, y: np.ndarray) -> tuple[float | None, float | None]:
    """The 95 % interval of the AUC by Hanley and McNeil's standard error (1982)."""
    area = auc(scores, y)
    if area is None:
        return None, None
    positives = int(y.sum())
    negatives = len(y) - positives
    q1, q2 = area / (2 - area), 2 * area**2 / (1 + area)
    variance = (area * (1 - area) + (positives - 1) * (q1 - area**2)
                + (negatives - 1) * (q2 - area**2)) / (positives * negatives)  # fmt: skip
    half = 1.96 * float(np.sqrt(max(variance, 0.0)))
    return max(area - half, 0.0), min(area + half, 1.0)


def lift_top_decile(scores: np.ndarray, y: np.ndarray) -> float | None:
    """Churn rate among the riskiest tenth over the overall rate. Ties at the cut are shared
    in proportion, so a coarse signal (11 NPS values) is not flattered by the sort order."""
    n = len(y)
    base = y.mean() if n else 0
    if n == 0 or base == 0:
        return None
    k = max(n / 10, 1)
    order = np.argsort(-scores, kind="stable")
    s, t = scores[order], y[order]
    cut = s[int(np.ceil(k)) - 1]
    above = s > cut
    tied = s == cut
    taken_tied = k - above.sum()
    churned = t[above].sum() + taken_tied * t[tied].mean()
    return float((churned / k) / base)
