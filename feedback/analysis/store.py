"""Keeps every comment's analysis stored (models.CommentAnalysis, models.CommentTheme), so the
dashboard counts themes in SQL instead of analysing comments while a page is drawn.

`analyse_pending` runs at the start of each dashboard facts build (the `refresh_reporting`
job, `demo seed`): it analyses the comments that are new, saved again since, or analysed
under another taxonomy or analyser version, and forgets the ones that were emptied. The
first run after deploying analyses every comment (about 50 µs each); later runs only what
changed in between.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from pathlib import Path

from sqlalchemy import delete, exists, insert, or_, select

from feedback.analysis.models import CommentAnalysis, CommentTheme
from feedback.analysis.sentiment import analyse_sentiment
from feedback.analysis.themes import default_path, load_themes, tag_themes
from feedback.dbtypes import utcnow
from feedback.extensions import db
from feedback.responses.models import Response

# Bump when sentiment.py or the lexicons change what a comment scores: every comment is then
# analysed again by the next run. The taxonomy needs no bump: its file's hash is part of the
# fingerprint.
SENTIMENT_VERSION = 1


def themes_file(templates_dir: str | Path | None) -> Path:
    """The taxonomy in use: themes.yaml beside the survey templates, else the packaged one."""
    beside = Path(templates_dir) / "themes.yaml" if templates_dir else None
    return beside if beside is not None and beside.exists() else default_path()


def fingerprint(themes_path: str | Path) -> str:
    """What an analysis was made with: the analyser's version and the taxonomy's content."""
    digest = hashlib.sha256(Path(themes_path).read_bytes()).hexdigest()[:12]
    return f"s{SENTIMENT_VERSION}-t{digest}"


def pending_ids(mark: str):
    """SELECT the ids of responses whose comment has no current analysis, newest first."""
    ca = CommentAnalysis
    stale = or_(ca.response_id.is_(None), ca.fingerprint != mark,
                Response.updated_at > ca.seen_updated_at)  # fmt: skip
    return (
        select(Response.id)
        .outerjoin(ca, ca.response_id == Response.id)
        .where(Response.comment != "", stale)
        .order_by(Response.id.desc())
    )


def analyse_pending(themes_path: str | Path | None = None, *, batch: int = 5000,
                    limit: int | None = None, now: datetime | None = None) -> int:  # fmt: skip
    """Analyse the comments without a current analysis (at most `limit`, newest first), in
    batches of `batch`, and drop the analyses of comments since emptied. Flushes; the
    caller commits. Returns the number of comments analysed."""
    path = themes_path or default_path()
    themes, mark, now = load_themes(str(path)), fingerprint(path), now or utcnow()
    session = db.session
    _forget_emptied()
    ids = session.scalars(pending_ids(mark).limit(limit)).all()
    columns = (Response.id, Response.comment, Response.language, Response.answered_at,
               Response.updated_at)  # fmt: skip
    for start in range(0, len(ids), batch):
        chunk = ids[start : start + batch]
        analyses, links = [], []
        for id_, comment, language, answered_at, updated_at in session.execute(
            select(*columns).where(Response.id.in_(chunk), Response.comment != "")
        ):
            analyses.append({"response_id": id_, "fingerprint": mark, "analysed_at": now,
                             "sentiment": analyse_sentiment(comment, language).score,
                             "seen_updated_at": updated_at})  # fmt: skip
            links += [{"response_id": id_, "theme_key": key, "answered_at": answered_at}
                      for key in tag_themes(comment, language, themes)]  # fmt: skip
        # Analysed again: the old rows go first (one statement each, not one per comment).
        session.execute(delete(CommentTheme).where(CommentTheme.response_id.in_(chunk)))
        session.execute(delete(CommentAnalysis).where(CommentAnalysis.response_id.in_(chunk)))
        if analyses:
            session.execute(insert(CommentAnalysis), analyses)
        if links:
            session.execute(insert(CommentTheme), links)
    session.flush()
    return len(ids)


def _forget_emptied() -> None:
    for model in (CommentTheme, CommentAnalysis):
        emptied = exists().where(Response.id == model.response_id, Response.comment == "")
        db.session.execute(delete(model).where(emptied))
