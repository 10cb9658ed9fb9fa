"""Read-side queries for the survey pages: plain data, a fixed number of queries per page."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import case, func, select

from feedback.auth.models import User
from feedback.extensions import db
from feedback.responses.models import Response
from feedback.surveys.models import INVITATION_STATES, Invitation, Survey, Wave


@dataclass
class WaveStats:
    invited: int = 0
    by_state: dict[str, int] = field(default_factory=dict)
    responses: int = 0
    promoters: int = 0
    detractors: int = 0
    scored: int = 0
    csi: float | None = None

    @property
    def response_rate(self) -> float | None:
        reached = self.invited - self.by_state.get("pending", 0) - self.by_state.get("failed", 0)
        return self.responses / reached * 100 if reached > 0 else None

    @property
    def nps(self) -> float | None:
        if not self.scored:
            return None
        return (self.promoters - self.detractors) / self.scored * 100


def wave_stats(wave_ids: list[int]) -> dict[int, WaveStats]:
    """Invitation states, response counts, NPS and mean CSI for several waves (two queries)."""
    stats = {wave_id: WaveStats() for wave_id in wave_ids}
    if not wave_ids:
        return stats
    for wave_id, state, count in db.session.execute(
        select(Invitation.wave_id, Invitation.state, func.count())
        .where(Invitation.wave_id.in_(wave_ids))
        .group_by(Invitation.wave_id, Invitation.state)
    ):
        stats[wave_id].by_state[state] = count
        stats[wave_id].invited += count
    for wave_id, responses, promoters, detractors, scored, csi in db.session.execute(
        select(
            Response.wave_id,
            func.count(),
            func.sum(case((Response.score >= 9, 1), else_=0)),
            func.sum(case((Response.score <= 6, 1), else_=0)),
            func.count(Response.score),
            func.avg(Response.csi),
        )
        .where(Response.wave_id.in_(wave_ids))
        .group_by(Response.wave_id)
    ):
        entry = stats[wave_id]
        entry.responses, entry.promoters, entry.detractors = responses, promoters, detractors
        entry.scored, entry.csi = scored, (float(csi) if csi is not None else None)
    return stats


def surveys_overview() -> list[dict]:
    """Every survey with its number of waves and the latest wave's status."""
    surveys = db.session.scalars(select(Survey).order_by(Survey.created_at.desc())).all()
    counts = dict(
        db.session.execute(select(Wave.survey_id, func.count()).group_by(Wave.survey_id)).all()
    )
    return [{"survey": s, "waves": counts.get(s.id, 0)} for s in surveys]


def owner_choices() -> list[tuple[int, str]]:
    users = db.session.scalars(select(User).where(User.active).order_by(User.name, User.email))
    return [(u.id, u.display_name) for u in users]


STATE_ORDER = INVITATION_STATES
