"""Import jobs (L13): the job, its uploaded file in parts, its row errors; and the batched insert of
leads with their history rows. On the lead service's one `metadata`, so Alembic sees the tables."""
import json

from sqlalchemy import (Column, DateTime, Index, Integer, LargeBinary, String, Table, Text, bindparam, delete,
                        func, insert, or_, select, text, update)

from crmkit import fastjson
from crmkit.db import insert_many

from .db import LeadRepository, lead_history, leads, metadata

import_jobs = Table(
    "import_jobs", metadata,
    Column("id", String(32), primary_key=True),
    Column("status", String(20), nullable=False),      # receiving, queued, running, done, failed
    Column("campaign_id", String(32), nullable=False),
    Column("pool_id", String(32)),
    Column("owner_id", String(32)),                    # who imports: the owner of the leads and the actor
    Column("correlation_id", String(64)),
    Column("options", Text, nullable=False),           # {"mapping", "on_duplicate", "filename"}
    Column("encoding", String(20)),
    Column("total", Integer),
    Column("next_row", Integer, nullable=False, server_default="0"),  # data rows done: the checkpoint
    Column("imported", Integer, nullable=False, server_default="0"),
    Column("duplicates", Integer, nullable=False, server_default="0"),
    Column("error_count", Integer, nullable=False, server_default="0"),
    Column("runner", String(32)),                      # the claim of the process running it
    Column("lease_until", DateTime(timezone=True)),
    Column("attempts", Integer, nullable=False, server_default="0"),  # tries at the next chunk (claims, and the one that got past the last chunk)
    Column("failure", Text),                           # why it failed; while running, the last error
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("finished_at", DateTime(timezone=True)),
    Index("ix_import_jobs_status", "status"),
)

import_parts = Table(
    "import_parts", metadata,
    Column("job_id", String(32), primary_key=True),
    Column("seq", Integer, primary_key=True),
    Column("data", LargeBinary, nullable=False),
)

import_errors = Table(
    "import_errors", metadata,
    Column("job_id", String(32), primary_key=True),
    Column("seq", Integer, primary_key=True),          # error_count before it: the order found
    Column("row", Integer, nullable=False),
    Column("field", String(50)),
    Column("message", Text, nullable=False),
)

SHOWN_ERRORS = 1000
_INSERT_ERRORS = insert(import_errors)
_GET_JOB = select(import_jobs).where(import_jobs.c.id == bindparam("job_id"))


class ImportRepository:
    """Jobs, their parts and errors; and the batched insert of the leads a chunk creates."""

    def __init__(self, session):
        self.session = session

    def refresh_statistics(self):
        """PostgreSQL: ANALYZE the tables an import fills. A table filled faster than autovacuum
        analyses it has no statistics, and then the planner may look a lead up by id through
        ix_leads_owner_newest (owner_id, id), reading the whole index: each assignment's UPDATE
        grew with the table (100,000 imported leads took over ten minutes to assign). SQLite: nothing."""
        if self.session.dialect.name == "postgresql":
            for table in ("leads", "lead_assignees", "lead_history"):
                self.session.execute(text(f"ANALYZE {table}"))

    def add(self, job: dict):
        self.session.execute(insert(import_jobs).values(**{**job, "options": json.dumps(job["options"])}))

    def get(self, job_id) -> dict | None:
        row = self.session.execute(_GET_JOB, {"job_id": job_id}).mappings().first()
        return {**row, "options": json.loads(row["options"])} if row else None

    def add_part(self, job_id, seq, data: bytes):
        self.session.execute(insert(import_parts).values(job_id=job_id, seq=seq, data=data))

    def content(self, job_id) -> bytes:
        parts = self.session.execute(select(import_parts.c.data).where(import_parts.c.job_id == job_id)
                                     .order_by(import_parts.c.seq)).scalars()
        return b"".join(bytes(part) for part in parts)

    def drop_parts(self, job_id):
        """The file is not needed once the job is over."""
        self.session.execute(delete(import_parts).where(import_parts.c.job_id == job_id))

    def size(self, job_id) -> int:
        return self.session.execute(select(func.coalesce(func.sum(func.length(import_parts.c.data)), 0))
                                    .where(import_parts.c.job_id == job_id)).scalar_one()

    def update(self, job_id, runner=None, **values) -> bool:
        """Change the job; with `runner`, only while that runner holds it (False otherwise)."""
        query = update(import_jobs).where(import_jobs.c.id == job_id)
        if runner is not None:
            query = query.where(import_jobs.c.runner == runner, import_jobs.c.status == "running")
        return self.session.execute(query.values(**values)).rowcount == 1

    def runnable(self, now, limit=5) -> list:
        """Jobs to run: queued, or running under a lease that ran out (their runner died)."""
        return self.session.execute(select(import_jobs.c.id).where(or_(
            import_jobs.c.status == "queued",
            (import_jobs.c.status == "running") & (import_jobs.c.lease_until < now)))
            .order_by(import_jobs.c.created_at).limit(limit)).scalars().all()

    def claim(self, job_id, runner, now, until) -> bool:
        """Take the job, unless another runner took it first (one UPDATE decides); counts the attempt."""
        return self.session.execute(update(import_jobs).where(
            import_jobs.c.id == job_id,
            or_(import_jobs.c.status == "queued",
                (import_jobs.c.status == "running") & (import_jobs.c.lease_until < now)))
            .values(status="running", runner=runner, lease_until=until, updated_at=now,
                    attempts=import_jobs.c.attempts + 1)).rowcount == 1

    def add_errors(self, job_id, first_seq, errors):
        if errors:
            self.session.execute(_INSERT_ERRORS, [{"job_id": job_id, "seq": first_seq + n, **error}
                                                  for n, error in enumerate(errors)])

    def errors(self, job_id, limit=SHOWN_ERRORS) -> list:
        rows = self.session.execute(select(import_errors.c.row, import_errors.c.field, import_errors.c.message)
                                    .where(import_errors.c.job_id == job_id)
                                    .order_by(import_errors.c.seq).limit(limit)).mappings()
        return [dict(row) for row in rows]

    def add_leads(self, new_leads, at, ctx, history_changes, keys=None):
        """New leads and their `created` history rows, each table in one executemany (`keys`:
        the leads' dedupe_keys by id, if the caller has them)."""
        if not new_leads:
            return
        keys = keys or {}
        insert_many(self.session, leads, [
            {**LeadRepository._row(lead, keys.get(lead.id)), "source": lead.source, "request_key": lead.request_key,
             "created_at": lead.created_at} for lead in new_leads])
        LeadRepository(self.session).index_search([lead.id for lead in new_leads])
        insert_many(self.session, lead_history, [
            {"lead_id": lead.id, "at": at, "actor_id": ctx.user_id, "action": "created",
             "changes": fastjson.dumps(changes, default=str), "channel": ctx.channel,
             "reason": ctx.reason} for lead, changes in zip(new_leads, history_changes)])
