"""The statements that build customer_months, the same on SQLite and PostgreSQL apart from a
few expressions chosen per dialect here. Month keys are integers (year * 12 + month - 1) so
that consecutive months are consecutive numbers; see build.py for how they are used."""

from __future__ import annotations

# Transactions grouped by customer, month and currency: the one scan of the big table.
# Float sums are several times cheaper than NUMERIC ones; each month is rounded to cents
# once converted, and everything after that sums those rounded months exactly.
MONTH_TX = """
CREATE {kind} TABLE reporting_month_tx AS
SELECT customer_id, {month} AS k, currency, SUM({amount}) AS amount,
       SUM(CASE WHEN kind = 'order' THEN 1 ELSE 0 END) AS orders,
       MAX(CASE WHEN kind = 'order' THEN date END) AS last_order
FROM transactions
WHERE date >= :tx_from AND date < :tx_to
GROUP BY customer_id, {month}, currency
"""

# Per customer-month: revenue in the base currency (a currency without a rate counts
# nothing, as in the segments), the newest NPS answer, the wave outcomes.
_MONTHLY = """
tx AS (
  SELECT g.customer_id, g.k,
         {money} AS revenue, SUM(g.orders) AS orders, MAX(g.last_order) AS last_order
  FROM reporting_month_tx g LEFT JOIN currency_rates r ON r.currency = g.currency
  GROUP BY g.customer_id, g.k
), answers AS (
  SELECT customer_id, k, answered_at, score FROM (
    SELECT a.customer_id, a.k, a.answered_at, a.score,
           ROW_NUMBER() OVER (PARTITION BY a.customer_id, a.k
                              ORDER BY a.answered_at DESC, a.id DESC) AS newest
    FROM (
      SELECT r.id, r.customer_id, {answer_month} AS k, r.answered_at, r.score
      FROM responses r JOIN waves w ON w.id = r.wave_id JOIN surveys s ON s.id = w.survey_id
      WHERE r.score IS NOT NULL AND s.template_key IN :nps
        AND r.answered_at >= :answers_from AND r.answered_at < :until
    ) a
  ) ranked WHERE newest = 1
), outcomes AS (
  SELECT customer_id, {close_month} AS k, COUNT(*) AS seen,
         SUM(CASE WHEN outcome IN ('answered', 'non_response') THEN 1 ELSE 0 END) AS invited,
         SUM(CASE WHEN outcome = 'answered' THEN 1 ELSE 0 END) AS answered
  FROM wave_outcomes WHERE closed_at >= :waves_from AND closed_at < :until
  GROUP BY customer_id, {close_month}
)"""

# Every month of every customer from its first activity, rolled up by window functions over
# one sort by customer and month; the last answer's score is carried by numbering the
# answers so far (each number is one answer and the months after it).
REBUILD = (
    """
WITH RECURSIVE series(k) AS (
  SELECT {first} UNION ALL SELECT k + 1 FROM series WHERE k < {through}
), """
    + _MONTHLY.lstrip()
    + """, monthly AS (
  SELECT customer_id, k, SUM(revenue) AS revenue, SUM(orders) AS orders,
         MAX(last_order) AS last_order, MAX(answered_at) AS answered_at, MAX(score) AS score,
         SUM(invited) AS invited, SUM(answered) AS answered
  FROM (
    SELECT customer_id, k, revenue, orders, last_order, NULL AS answered_at, NULL AS score,
           0 AS invited, 0 AS answered FROM tx
    UNION ALL SELECT customer_id, k, 0, 0, NULL, answered_at, score, 0, 0 FROM answers
    UNION ALL SELECT customer_id, k, 0, 0, NULL, NULL, NULL, invited, answered FROM outcomes
  ) u GROUP BY customer_id, k
), firsts AS (
  SELECT customer_id, MIN(k) AS k FROM monthly GROUP BY customer_id
), rolled AS (
  SELECT f.customer_id, s.k, COALESCE(m.revenue, 0) AS revenue,
         COALESCE(m.orders, 0) AS orders, m.score,
         SUM(COALESCE(m.revenue, 0)) OVER recent AS revenue_12m,
         SUM(COALESCE(m.revenue, 0)) OVER (PARTITION BY f.customer_id ORDER BY s.k
                                           ROWS BETWEEN 23 PRECEDING AND 12 PRECEDING)
           AS revenue_prev_12m,
         MAX(m.last_order) OVER so_far AS last_order_on,
         MAX(m.answered_at) OVER so_far AS nps_answered_at,
         COUNT(m.answered_at) OVER so_far AS answer_number,
         SUM(COALESCE(m.invited, 0)) OVER recent AS waves_12m,
         SUM(COALESCE(m.answered, 0)) OVER recent AS answered_12m
  FROM firsts f
  JOIN series s ON s.k >= f.k
  LEFT JOIN monthly m ON m.customer_id = f.customer_id AND m.k = s.k
  WINDOW so_far AS (PARTITION BY f.customer_id ORDER BY s.k ROWS UNBOUNDED PRECEDING),
         recent AS (PARTITION BY f.customer_id ORDER BY s.k
                    ROWS BETWEEN 11 PRECEDING AND CURRENT ROW)
), carried AS (
  SELECT rolled.*, MAX(score) OVER (PARTITION BY customer_id, answer_number) AS nps_score
  FROM rolled
)
SELECT {month_date} AS month, customer_id, revenue, orders,
       ROUND(revenue_12m, 2) AS revenue_12m,
       ROUND(COALESCE(revenue_prev_12m, 0), 2) AS revenue_prev_12m,
       last_order_on, nps_score, nps_answered_at, waves_12m, answered_12m
FROM carried
ORDER BY k, customer_id
"""
)

# The previous month P and the current month C from the stored month P - 1 and the months
# leaving the trailing windows (P - 12, P - 24 for P; P - 11, P - 23 for C): no window
# functions, one row per customer. A customer gets a row for P if it had one for P - 1 or
# did something in P, and a row for C in any case once it has one for P or did something
# in C. Wave outcomes are read from the source for all thirteen months the windows span.
REFRESH = (
    "WITH "
    + _MONTHLY.lstrip()
    + """, kept AS (
  SELECT customer_id,
         MAX(CASE WHEN month = :m1 THEN 1 ELSE 0 END) AS active,
         SUM(CASE WHEN month = :m1 THEN revenue_12m END) AS r12,
         SUM(CASE WHEN month = :m1 THEN revenue_prev_12m END) AS prev12,
         MAX(CASE WHEN month = :m1 THEN last_order_on END) AS last_order,
         MAX(CASE WHEN month = :m1 THEN nps_answered_at END) AS answered_at,
         MAX(CASE WHEN month = :m1 THEN nps_score END) AS score,
         SUM(CASE WHEN month = :m12 THEN revenue END) AS out12,
         SUM(CASE WHEN month = :m24 THEN revenue END) AS out24,
         SUM(CASE WHEN month = :m11 THEN revenue END) AS out11,
         SUM(CASE WHEN month = :m23 THEN revenue END) AS out23
  FROM customer_months WHERE month IN (:m1, :m12, :m24, :m11, :m23)
  GROUP BY customer_id
), wave_counts AS (
  SELECT customer_id,
         MAX(CASE WHEN k = {p} THEN 1 ELSE 0 END) AS seen_p,
         MAX(CASE WHEN k = {c} THEN 1 ELSE 0 END) AS seen_c,
         SUM(CASE WHEN k <= {p} THEN invited ELSE 0 END) AS waves_p,
         SUM(CASE WHEN k <= {p} THEN answered ELSE 0 END) AS answered_p,
         SUM(CASE WHEN k >= {c} - 11 THEN invited ELSE 0 END) AS waves_c,
         SUM(CASE WHEN k >= {c} - 11 THEN answered ELSE 0 END) AS answered_c
  FROM outcomes GROUP BY customer_id
), ids AS (
  SELECT customer_id FROM kept WHERE active = 1
  UNION SELECT customer_id FROM tx
  UNION SELECT customer_id FROM answers
  UNION SELECT customer_id FROM wave_counts WHERE seen_p = 1 OR seen_c = 1
), per AS (
  SELECT i.customer_id,
         CASE WHEN kp.active = 1 OR tp.customer_id IS NOT NULL OR ap.customer_id IS NOT NULL
                   OR w.seen_p = 1 THEN 1 ELSE 0 END AS has_p,
         COALESCE(tp.revenue, 0) AS rev_p, COALESCE(tp.orders, 0) AS orders_p,
         COALESCE(tc.revenue, 0) AS rev_c, COALESCE(tc.orders, 0) AS orders_c,
         COALESCE(kp.r12, 0) - COALESCE(kp.out12, 0) + COALESCE(tp.revenue, 0) AS r12_p,
         COALESCE(kp.prev12, 0) - COALESCE(kp.out24, 0) + COALESCE(kp.out12, 0) AS prev12_p,
         COALESCE(kp.out11, 0) AS out11, COALESCE(kp.out23, 0) AS out23,
         COALESCE(tp.last_order, kp.last_order) AS last_p,
         COALESCE(tc.last_order, tp.last_order, kp.last_order) AS last_c,
         COALESCE(ap.answered_at, kp.answered_at) AS answered_p,
         CASE WHEN ap.answered_at IS NOT NULL THEN ap.score ELSE kp.score END AS score_p,
         COALESCE(ac.answered_at, ap.answered_at, kp.answered_at) AS answered_c,
         CASE WHEN ac.answered_at IS NOT NULL THEN ac.score
              WHEN ap.answered_at IS NOT NULL THEN ap.score ELSE kp.score END AS score_c,
         COALESCE(w.waves_p, 0) AS waves_p, COALESCE(w.answered_p, 0) AS answered_p12,
         COALESCE(w.waves_c, 0) AS waves_c, COALESCE(w.answered_c, 0) AS answered_c12
  FROM ids i
  LEFT JOIN kept kp ON kp.customer_id = i.customer_id
  LEFT JOIN tx tp ON tp.customer_id = i.customer_id AND tp.k = {p}
  LEFT JOIN tx tc ON tc.customer_id = i.customer_id AND tc.k = {c}
  LEFT JOIN answers ap ON ap.customer_id = i.customer_id AND ap.k = {p}
  LEFT JOIN answers ac ON ac.customer_id = i.customer_id AND ac.k = {c}
  LEFT JOIN wave_counts w ON w.customer_id = i.customer_id
)
SELECT :month_p AS month, customer_id, rev_p AS revenue, orders_p AS orders,
       ROUND(r12_p, 2) AS revenue_12m, ROUND(prev12_p, 2) AS revenue_prev_12m,
       last_p AS last_order_on, score_p AS nps_score, answered_p AS nps_answered_at,
       waves_p AS waves_12m, answered_p12 AS answered_12m
FROM per WHERE has_p = 1
UNION ALL
SELECT :month_c, customer_id, rev_c, orders_c, ROUND(r12_p - out11 + rev_c, 2),
       ROUND(prev12_p - out23 + out11, 2), last_c, score_c, answered_c, waves_c, answered_c12
FROM per
"""
)


def month_of_date(column: str, dialect: str) -> str:
    if dialect == "postgresql":
        return (f"(CAST(EXTRACT(YEAR FROM {column}) AS INTEGER) * 12 "
                f"+ CAST(EXTRACT(MONTH FROM {column}) AS INTEGER) - 1)")  # fmt: skip
    return (f"(CAST(substr({column}, 1, 4) AS INTEGER) * 12 "
            f"+ CAST(substr({column}, 6, 2) AS INTEGER) - 1)")  # fmt: skip


def date_of_month(column: str, dialect: str) -> str:
    if dialect == "postgresql":
        return f"make_date({column} / 12, {column} % 12 + 1, 1)"
    return f"printf('%04d-%02d-01', {column} / 12, {column} % 12 + 1)"


def month_of_moment(column: str, first: int, through: int) -> str:
    """CASE putting a UTC timestamp into its local month, for rows within months first to
    through: :e{k} is the UTC instant at which month k begins in the company's time zone."""
    whens = [f"WHEN {column} < :e{key + 1} THEN {key}" for key in range(first, through)]
    return f"CASE {' '.join(whens)} ELSE {through} END" if whens else str(through)


def money(expression: str, dialect: str) -> str:
    if dialect == "postgresql":
        return f"ROUND(CAST({expression} AS NUMERIC), 2)"
    return f"ROUND({expression}, 2)"


def float_amount(dialect: str) -> str:
    return "CAST(amount AS DOUBLE PRECISION)" if dialect == "postgresql" else "amount"
