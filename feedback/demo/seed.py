"""`feedback demo seed`: staff, customers, contacts and years of transactions, reproducible by seed.

Everything random is drawn from one numpy Generator in a fixed order, so a seed (and the day
it runs) gives the same data. Rows go in with COPY on PostgreSQL and executemany on SQLite,
customer by customer chunk, so 100,000 customers with ten million transactions load in minutes.
"""

from __future__ import annotations

import calendar
import os
import secrets
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from itertools import islice
from pathlib import Path

import numpy as np
from sqlalchemy import ForeignKeyConstraint, UniqueConstraint, func, inspect, select, text
from sqlalchemy.schema import AddConstraint, CreateIndex, DropConstraint, DropIndex

from feedback.auth.models import Team, User
from feedback.customers.models import CurrencyRate, Customer, CustomerSegment, Transaction
from feedback.customers.segments import latest_run_id, recompute_from_config
from feedback.dbtypes import utcnow
from feedback.demo import names
from feedback.demo.cases import seed_cases
from feedback.demo.surveys import seed_survey_history
from feedback.errors import DomainError
from feedback.extensions import db

MAX_CUSTOMERS = 1_000_000
MAX_YEARS = 10
DEMO_DOMAIN = "demo.feedbackloop.test"
LOGINS_FILE = "demo-logins.txt"

LANGUAGES = ("da", "sv", "nb", "en")
LANGUAGE_SHARES = (0.35, 0.30, 0.25, 0.10)
CURRENCIES = ("DKK", "SEK", "NOK", "EUR")  # by language, in the order above
EUR_RATES = {"DKK": Decimal("0.134"), "SEK": Decimal("0.087"), "NOK": Decimal("0.085")}
POTENTIALS = ("high", "medium", "low")
TRAJECTORIES = ("growing", "steady", "declining", "churned")
HISTORY_MONTHS = (0, 3, 6, 9)  # segment snapshots, months before today

# (e-mail local part, name, role, team); owners of accounts sit in the first two teams.
STAFF = (
    ("admin", "Astrid Holm", "admin", "Management"),
    ("mette.kjaer", "Mette Kjær", "manager", "Management"),
    ("lars.eriksson", "Lars Eriksson", "manager", "Customer support"),
    ("soeren.dahl", "Søren Dahl", "agent", "Key accounts"),
    ("ingrid.lund", "Ingrid Lund", "agent", "Key accounts"),
    ("oskar.berg", "Oskar Berg", "agent", "Key accounts"),
    ("freja.nielsen", "Freja Nielsen", "agent", "Internal sales"),
    ("elin.strand", "Elin Strand", "agent", "Internal sales"),
    ("jonas.haugen", "Jonas Haugen", "agent", "Internal sales"),
    ("karin.sjoeberg", "Karin Sjöberg", "agent", "Customer support"),
    ("mikkel.baek", "Mikkel Bæk", "agent", "Customer support"),
)
TEAMS = ("Key accounts", "Internal sales", "Customer support", "Management")

# Seasonality of B2B orders: the July holiday dip, the autumn and December peak.
MONTH_FACTORS = np.array([0.85, 0.9, 1.0, 1.0, 1.0, 0.95, 0.45, 0.9, 1.15, 1.2, 1.25, 1.3])
WEEKEND_FACTOR = 0.1
CREDIT_SHARE = 0.03
CHUNK_CUSTOMERS = 5_000


@dataclass
class SeedResult:
    customers: int = 0
    contacts: int = 0
    transactions: int = 0
    invitations: int = 0
    responses: int = 0
    cases: dict[str, int] = field(default_factory=dict)  # by status
    cases_within_sla: float | None = None  # share of the closed cases closed by their deadline
    logins: list[tuple[str, str, str]] = field(default_factory=list)  # email, role, password
    notes: list[str] = field(default_factory=list)
    phases: dict[str, float] = field(default_factory=dict)  # seconds per step, for benches

    def lap(self, phase: str, started: float) -> None:
        self.phases[phase] = time.perf_counter() - started - sum(self.phases.values())


def check_request(customers: int, years: int) -> None:
    """Refuse sizes the generator is not meant for, before anything is written."""
    if customers < 1 or customers > MAX_CUSTOMERS:
        raise DomainError(f"--customers must be between 1 and {MAX_CUSTOMERS:,}, not {customers}")
    if years < 1 or years > MAX_YEARS:
        raise DomainError(f"--years must be between 1 and {MAX_YEARS}, not {years}")


def existing_customers() -> int:
    return db.session.scalar(select(func.count()).select_from(Customer))


def logins_path(instance_path: str) -> Path:
    return Path(instance_path) / LOGINS_FILE


def months_before(day: date, months: int) -> date:
    """The same day `months` calendar months earlier (clamped to the month's last day)."""
    year, month = divmod(day.year * 12 + day.month - 1 - months, 12)
    return date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))


# Customers -----------------------------------------------------------------------------


@dataclass
class Plan:
    """The generated customers, one array entry per customer."""

    names: list[str]
    language: np.ndarray  # index into LANGUAGES
    potential: np.ndarray  # index into POTENTIALS
    owner: np.ndarray  # index into the owner pool; -1 for no named owner
    satisfaction: np.ndarray
    trajectory: np.ndarray  # index into TRAJECTORIES
    churn_months: np.ndarray  # churned: months since the last order (4..30, within history)
    orders_per_year: np.ndarray
    order_value: np.ndarray  # mean order, in the customer's currency

    def external_id(self, index: int) -> str:
        return f"C{100_001 + index}"


OWNERLESS_SHARE = 0.03


def max_churn_months(years: int) -> int:
    return max(4, min(30, 12 * years - 3))


def _ownerless(size: np.ndarray, draw: np.ndarray) -> np.ndarray:
    """Which customers have no named owner: a few small ones, to show the team fallback.

    Key accounts always have a named owner (DOMAIN.md §2, §3). The ABC class is only
    computed after the transactions exist, so the planned annual revenue stands in for it:
    only customers below the median size, far from class A (half of all revenue, a small
    share of the customers), go without; `draw` picks which, about 3 % of all customers.
    """
    small = np.flatnonzero(size < np.median(size))
    if small.size == 0:
        return np.zeros(size.size, dtype=bool)
    wanted = min(small.size, max(1, round(OWNERLESS_SHARE * size.size)))
    ownerless = np.zeros(size.size, dtype=bool)
    ownerless[small[np.argsort(draw[small], kind="stable")[:wanted]]] = True
    return ownerless


def plan_customers(
    rng: np.random.Generator, count: int, key: int, sales: int, years: int = 3
) -> Plan:
    """Draw customers; `key`/`sales` are the sizes of the two owner teams (key first).

    Churned customers left at any time in the history (4 to 30 months ago, at least three
    months after it starts), so every half year has its leavers to learn from."""
    language = rng.choice(len(LANGUAGES), size=count, p=LANGUAGE_SHARES)
    satisfaction = rng.beta(4.0, 2.0, size=count)
    # Unhappy customers drift away: more declining and churned trajectories.
    weights = np.column_stack(
        [
            0.10 + 0.35 * satisfaction,
            np.full(count, 0.45),
            0.05 + 0.35 * (1 - satisfaction),
            0.03 + 0.60 * (1 - satisfaction) ** 2,
        ]
    )
    cumulative = np.cumsum(weights / weights.sum(axis=1, keepdims=True), axis=1)
    trajectory = (rng.random(count)[:, None] > cumulative).sum(axis=1)
    potential = rng.choice(3, size=count, p=(0.2, 0.45, 0.35))
    potential = np.where((trajectory == 0) & (rng.random(count) < 0.4), 0, potential)
    # Annual revenue in EUR: lognormal, so a few customers carry most of the revenue.
    size = rng.lognormal(np.log(25_000), 1.4, size=count)
    orders = np.clip(29 * (size / 25_000) ** 0.4 * rng.lognormal(0, 0.35, size=count), 1, 500)
    rate = np.array([float(EUR_RATES.get(c, 1)) for c in CURRENCIES])[language]
    large = size >= np.quantile(size, 0.8)
    ownerless = _ownerless(size, rng.random(count))
    owner = np.where(
        large, rng.integers(0, key, size=count), key + rng.integers(0, sales, size=count)
    )
    return Plan(
        names=names.company_names(rng, [LANGUAGES[i] for i in language]),
        language=language,
        potential=potential,
        owner=np.where(ownerless, -1, owner),
        satisfaction=satisfaction,
        trajectory=trajectory,
        churn_months=rng.integers(4, max_churn_months(years) + 1, size=count),
        orders_per_year=orders,
        order_value=size / orders / rate,
    )


def plan_contacts(rng: np.random.Generator, plan: Plan) -> list[tuple[int, str, str, str, str]]:
    """(customer index, name, e-mail, language, status): 1-4 people per customer."""
    counts = rng.choice(4, size=len(plan.names), p=(0.35, 0.35, 0.2, 0.1)) + 1
    statuses = rng.choice(3, size=int(counts.sum()), p=(0.92, 0.05, 0.03))
    domains: set[str] = set()
    contacts, position = [], 0
    for index, (company, language, count) in enumerate(
        zip(plan.names, plan.language, counts, strict=True)
    ):
        lang = LANGUAGES[language]
        domain = names.email_domain(company, domains)
        used: set[str] = set()
        for person in names.person_names(rng, lang, int(count)):
            local, number = names.slug(person).replace("-", "."), 2
            email = f"{local}@{domain}"
            while email in used:
                email, number = f"{local}{number}@{domain}", number + 1
            used.add(email)
            status = ("active", "opted_out", "bounced")[statuses[position]]
            contacts.append((index, person, email, lang, status))
            position += 1
    return contacts


# Transactions --------------------------------------------------------------------------


def _season(days: list[date]) -> np.ndarray:
    month = np.array([d.month - 1 for d in days])
    weekend = np.array([d.weekday() >= 5 for d in days])
    factor = MONTH_FACTORS[month] * np.where(weekend, WEEKEND_FACTOR, 1.0)
    return factor / factor.mean()


def _trend(trajectory: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Relative order rate at fraction `t` of the period (0 = first day, 1 = today)."""
    return np.select(
        [trajectory == 0, trajectory == 2, trajectory == 3],
        [0.6 + 0.7 * t, 1.15 - 0.9 * t, 1.0 - 0.4 * t],
        default=1.0,
    )


TREND_MAX = np.array([1.3, 1.0, 1.15, 1.0])


def transaction_batches(
    rng: np.random.Generator, plan: Plan, first: date, today: date
) -> Iterator[tuple[np.ndarray, ...]]:
    """Per chunk of customers: (customer index, day offset from `first`, amount in cents)."""
    days = [first + timedelta(d) for d in range((today - first).days + 1)]
    season = _season(days)
    span = len(days)
    # Churned customers stop ordering some months before today (Plan.churn_months).
    months = int(plan.churn_months.max(initial=0))
    stop = np.array([(months_before(today, m) - first).days for m in range(months + 1)])
    for lo in range(0, len(plan.names), CHUNK_CUSTOMERS):
        index = np.arange(lo, min(lo + CHUNK_CUSTOMERS, len(plan.names)))
        trajectory = plan.trajectory[index]
        ceiling = season.max() * TREND_MAX[trajectory]
        candidates = rng.poisson(plan.orders_per_year[index] * span / 365 * ceiling)
        # Thinning: uniform candidate days, kept in proportion to season x trend.
        who = np.repeat(np.arange(len(index)), candidates)
        day = rng.integers(0, span, size=who.size)
        keep_p = season[day] * _trend(trajectory[who], day / max(span - 1, 1)) / ceiling[who]
        churned = trajectory[who] == 3
        keep_p[churned & (day >= stop[plan.churn_months[index][who]])] = 0
        keep = rng.random(who.size) < keep_p
        who, day = who[keep], day[keep]
        value = plan.order_value[index][who] * rng.lognormal(-0.125, 0.5, size=who.size)
        cents = np.maximum(np.rint(value * 100), 100).astype(np.int64)
        credit = rng.random(who.size) < CREDIT_SHARE
        fraction = rng.uniform(0.05, 1.0, size=who.size)
        cents = np.where(credit, -np.maximum(np.rint(cents * fraction), 100), cents)
        order = np.lexsort((day, who))
        yield index[who[order]], day[order], cents[order].astype(np.int64)


# Writing -------------------------------------------------------------------------------


def _batched(rows: Iterable[tuple], size: int) -> Iterator[list[tuple]]:
    iterator = iter(rows)
    while chunk := list(islice(iterator, size)):
        yield chunk


def write_rows(table: str, columns: Sequence[str], rows: Iterable[tuple]) -> None:
    """Bulk insert in the session's transaction: COPY on PostgreSQL, executemany on SQLite."""
    connection = db.session.connection()
    raw = connection.connection.driver_connection
    names_sql = ", ".join(columns)
    if connection.dialect.name == "postgresql":
        with raw.cursor() as cursor, cursor.copy(f"COPY {table} ({names_sql}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        return
    sql = f"INSERT INTO {table} ({names_sql}) VALUES ({', '.join('?' * len(columns))})"
    cursor = raw.cursor()
    for chunk in _batched(rows, 50_000):
        cursor.executemany(sql, chunk)
    cursor.close()


@contextmanager
def bare_table(table, *, sqlite_indexes: bool = False) -> Iterator[None]:
    """On PostgreSQL, load or rewrite the table without its foreign keys, unique constraints
    and secondary indexes and build those once at the end: several times faster than
    checking them row by row. DDL is transactional, so a failure leaves the schema as it was.
    On SQLite (no ALTER for constraints) only the plain indexes are set aside, and only
    with `sqlite_indexes`: that pays for updates, not for appends."""
    postgres = db.session.get_bind().dialect.name == "postgresql"
    if not postgres and not sqlite_indexes:
        yield
        return
    if postgres:
        present = set(
            db.session.scalars(
                text(
                    "SELECT conname FROM pg_constraint "
                    "WHERE conrelid = CAST(:relation AS regclass) "
                    "UNION SELECT indexname FROM pg_indexes "
                    "WHERE tablename = :name AND schemaname = current_schema()"
                ),
                {"relation": table.name, "name": table.name},
            )
        )
    else:
        present = {i["name"] for i in inspect(db.session.connection()).get_indexes(table.name)}
    constraints = sorted(  # unique constraints first, the foreign keys last
        (
            c
            for c in table.constraints
            if postgres
            and isinstance(c, ForeignKeyConstraint | UniqueConstraint)
            and c.name in present
        ),
        key=lambda c: (isinstance(c, ForeignKeyConstraint), c.name),
    )
    indexes = [i for i in table.indexes if i.name in present and (postgres or not i.unique)]
    for constraint in constraints:
        db.session.execute(DropConstraint(constraint))
    for index in indexes:
        db.session.execute(DropIndex(index))
    yield
    if postgres:
        db.session.execute(text("SET LOCAL maintenance_work_mem = '256MB'"))
    for index in indexes:
        db.session.execute(CreateIndex(index))
    for constraint in constraints:
        db.session.execute(AddConstraint(constraint))


def _now_value():
    """created_at/updated_at as the driver takes them (SQLite: SQLAlchemy's text format)."""
    return db_time(utcnow())


def db_time(moment: datetime):
    """A UTC datetime as the raw driver takes it for a UTCDateTime column."""
    return time_converter()(moment)


def time_converter():
    """db_time with the dialect looked up once: per value, the lookup costs more than the work."""
    if db.session.get_bind().dialect.name == "postgresql":
        return _as_is
    return _sqlite_time


def _as_is(moment: datetime) -> datetime:
    return moment


def _sqlite_time(moment: datetime) -> str:
    return moment.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")


def create_staff() -> tuple[list[User], list[tuple[str, str, str]]]:
    """The demo teams and users with fresh random passwords; returns owners and logins."""
    teams = {name: Team(name=name) for name in TEAMS}
    db.session.add_all(teams.values())
    users, logins = [], []
    for local, name, role, team in STAFF:
        # Added directly: the sign-up check rejects the reserved .test domain on purpose.
        password = secrets.token_urlsafe(12)
        user = User(email=f"{local}@{DEMO_DOMAIN}", name=name, role=role, team=teams[team])
        user.set_password(password)
        users.append(user)
        logins.append((user.email, role, password))
    db.session.add_all(users)
    db.session.flush()
    owners = [u for t in TEAMS[:2] for u in users if u.team.name == t and u.role == "agent"]
    return owners, logins


def demo_rates(base: str) -> tuple[dict[str, Decimal], list[str]]:
    """The demo's rates into the base currency (the EUR rates, crossed if the base is not EUR)."""
    into_eur = {**EUR_RATES, "EUR": Decimal(1)}
    if base not in into_eur:
        return dict(EUR_RATES), [f"base currency {base} is unknown here: stored the EUR rates"]
    return {
        code: (rate / into_eur[base]).quantize(Decimal("1e-8"))
        for code, rate in into_eur.items()
        if code != base
    }, []


def write_logins(path: Path, logins: list[tuple[str, str, str]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)  # an older file keeps its mode through O_TRUNC
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write("# Feedback Loop demo logins (e-mail, role, password)\n")
        out.writelines(f"{email}\t{role}\t{password}\n" for email, role, password in logins)


def seed_demo(
    config, *, customers: int, years: int, seed: int, today: date | None = None
) -> SeedResult:
    """Load the whole demo into an empty database and compute class history; flushes, the
    caller commits (once) and then writes the logins."""
    check_request(customers, years)
    if existing_customers():
        raise DomainError("the database already holds customers")
    started = time.perf_counter()
    today = today or date.today()
    rng = np.random.default_rng(seed)
    result = SeedResult(customers=customers)

    owners, result.logins = create_staff()
    key = sum(1 for u in owners if u.team.name == TEAMS[0])
    rates, result.notes = demo_rates(config["FEEDBACK_BASE_CURRENCY"])
    db.session.add_all(CurrencyRate(currency=c, rate=r) for c, r in rates.items())

    plan = plan_customers(rng, customers, key, len(owners) - key, years)
    now = _now_value()
    owner_ids = [u.id for u in owners]
    write_rows(
        "customers",
        ("external_id", "name", "owner_id", "potential", "language", "created_at", "updated_at"),
        (
            (
                plan.external_id(i),
                plan.names[i],
                owner_ids[o] if o >= 0 else None,
                POTENTIALS[p],
                LANGUAGES[lang],
                now,
                now,
            )
            for i, (o, p, lang) in enumerate(
                zip(
                    plan.owner.tolist(),
                    plan.potential.tolist(),
                    plan.language.tolist(),
                    strict=True,
                )
            )
        ),
    )
    by_external = dict(db.session.execute(select(Customer.external_id, Customer.id)).all())
    ids = np.array([by_external[plan.external_id(i)] for i in range(customers)], dtype=np.int64)
    write_rows(
        "demo_profiles",
        ("customer_id", "satisfaction", "trajectory"),
        zip(
            ids.tolist(),
            plan.satisfaction.round(4).tolist(),
            [TRAJECTORIES[t] for t in plan.trajectory],
            strict=True,
        ),
    )
    result.lap("staff and customers", started)
    contacts = plan_contacts(rng, plan)
    result.contacts = len(contacts)
    write_rows(
        "contacts",
        ("customer_id", "name", "email", "language", "status", "created_at", "updated_at"),
        ((int(ids[i]), name, email, lang, st, now, now) for i, name, email, lang, st in contacts),
    )

    result.lap("contacts", started)
    first = months_before(today, 12 * years) + timedelta(1)
    day_text = np.array(
        [(first + timedelta(d)).isoformat() for d in range((today - first).days + 1)]
    )
    currency = np.array(CURRENCIES)[plan.language]
    invoice = 1_000_001
    with bare_table(Transaction.__table__):
        for who, day, cents in transaction_batches(rng, plan, first, today):
            count = len(who)
            write_rows(
                "transactions",
                ("customer_id", "date", "amount", "currency", "kind", "external_id"),
                zip(
                    ids[who].tolist(),
                    day_text[day].tolist(),
                    (cents / 100).tolist(),  # repr of n/100 is the exact two-decimal text
                    currency[who].tolist(),
                    np.where(cents < 0, "credit", "order").tolist(),
                    [f"INV-{n}" for n in range(invoice, invoice + count)],
                    strict=True,
                ),
            )
            invoice += count
            result.transactions += count

    result.lap("transactions", started)
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(text("ANALYZE customers, transactions, currency_rates"))
    for months in HISTORY_MONTHS:
        recompute_from_config(config, months_before(today, months))
    db.session.flush()
    result.lap("segments x4", started)
    classes = dict(
        db.session.execute(
            select(CustomerSegment.customer_id, CustomerSegment.abc_class).where(
                CustomerSegment.run_id == latest_run_id()
            )
        ).all()
    )
    history = seed_survey_history(
        config, rng, today=today, customer_ids=ids, plan=plan, classes=classes,
        write_rows=write_rows, to_db_time=time_converter(),
    )  # fmt: skip
    result.invitations, result.responses = history.invitations, history.responses
    result.lap("survey history", started)
    # The year of answers comes with the year of cases worked on them, not a fresh backlog.
    worked = seed_cases(
        config, rng, write_rows=write_rows, to_db_time=time_converter(), bare_table=bare_table
    )
    result.cases, result.cases_within_sla = dict(worked.by_status), worked.within_sla
    result.notes += worked.notes
    result.lap("cases", started)
    return result
