"""Read side of the Follow-ups page: overdue customers the viewer may see, grouped by owner.

Agents see their own customers, their team's and those their team is responsible for by the
programme; managers and admins see all (status.visible_condition). Customers followed up by
automated e-mail are left out unless asked for: nobody is to call them, and there can be
thousands; the page gives their number instead. A handful of statements whatever the size.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, tzinfo

from sqlalchemy import func, not_, select

from feedback.auth.models import User
from feedback.extensions import db
from feedback.followups.programme import Programme
from feedback.followups.status import (
    FollowupStatus,
    automated_condition,
    overdue_statuses,
    resolve_teams,
    status_query,
    visible_condition,
)
from feedback.list_filters import NO_OWNER, segment_conditions  # noqa: F401  (pages read NO_OWNER here)


@dataclass
class OverdueFilters:
    classes: list[str] = field(default_factory=list)
    programme: str | None = None
    owner: int | str | None = None  # a user id, NO_OWNER, or None for anyone
    automated: bool = False  # include customers followed up by automated e-mail

    @property
    def any(self) -> bool:
        return bool(self.classes or self.programme or self.owner or self.automated)


@dataclass
class OwnerGroup:
    owner_id: int | None
    name: str
    statuses: list[FollowupStatus]

    @property
    def longest(self) -> int:
        return max(s.overdue_days for s in self.statuses)


@dataclass
class OverdueView:
    groups: list[OwnerGroup]
    total: int
    per_class: dict[str, int]
    automated_left_out: int  # overdue automated customers not listed (0 when listed)


def _conditions(actor: User, programme: Programme, filters: OverdueFilters) -> list:
    conditions = [visible_condition(actor, programme, resolve_teams(programme))]
    conditions += segment_conditions(filters)
    return conditions


def overdue_view(actor: User, programme: Programme, filters: OverdueFilters, *, today: date,
                 tz: tzinfo) -> OverdueView:  # fmt: skip
    """The overdue customers `actor` may see, by owner: most overdue customers first, the
    owners with most overdue first, customers without an owner last."""
    conditions = _conditions(actor, programme, filters)
    left_out = 0
    if not filters.automated:
        automated = automated_condition(programme)
        counted = status_query(programme, today, tz, overdue=True).where(*conditions, automated)
        left_out = db.session.scalar(select(func.count()).select_from(counted.subquery()))
        conditions.append(not_(automated))
    statuses = overdue_statuses(programme, today, tz=tz, conditions=conditions)
    by_owner: dict[int | None, OwnerGroup] = {}
    per_class = dict.fromkeys("ABCD", 0)
    for s in statuses:
        group = by_owner.get(s.owner_id)
        if group is None:
            group = by_owner[s.owner_id] = OwnerGroup(s.owner_id, s.owner_name or "No owner", [])
        group.statuses.append(s)
        per_class[s.abc_class] = per_class.get(s.abc_class, 0) + 1  # type: ignore[index]
    groups = sorted(
        by_owner.values(),
        key=lambda g: (g.owner_id is None, -len(g.statuses), g.name.lower()),
    )
    return OverdueView(groups, len(statuses), per_class, int(left_out or 0))
