"""The pool tables' repository (L9); the tables themselves are in lead.db."""
from datetime import timedelta, timezone

from sqlalchemy import and_, exists, func, insert, select, update

from .db import lead_releases, leads, pools
from .pools import CLAIMABLE, Pool
from .work_db import activities

OPEN = ("raw", "usable", "working")


class PoolRepository:
    def __init__(self, session):
        self.session = session

    def add(self, pool: Pool):
        self.session.execute(insert(pools).values(**vars(pool)))

    def get(self, pool_id) -> Pool | None:
        row = self.session.execute(select(pools).where(pools.c.id == pool_id)).mappings().first()
        return Pool(**row) if row else None

    def ancestors(self, pool: Pool) -> list:
        found, current = [], pool
        while current.parent_id:
            current = self.get(current.parent_id)
            if current is None:
                break
            found.append(current)
        return found

    def list(self, limit, after):
        query = select(pools)
        if after:
            query = query.where(pools.c.id > after)
        return [Pool(**row) for row in self.session.execute(query.order_by(pools.c.id).limit(limit + 1)).mappings()]

    def held_by(self, user_id) -> int:
        """Open leads the user holds by claiming (L9 claim limit)."""
        return self.session.execute(select(func.count()).select_from(leads).where(
            leads.c.claimed_by == user_id, leads.c.deleted_at.is_(None), leads.c.status.in_(OPEN))).scalar_one()

    def claimable(self, pool_id, user_id, count, now, cooldown_hours) -> list:
        """Ids of the oldest claimable leads of the pool (usable before raw), skipping leads this
        user released within the cooldown; locked for this transaction on PostgreSQL."""
        query = select(leads.c.id).where(
            leads.c.pool_id == pool_id, leads.c.claimed_by.is_(None), leads.c.deleted_at.is_(None),
            leads.c.status.in_(CLAIMABLE))
        if cooldown_hours:
            since = now - timedelta(hours=cooldown_hours)
            query = query.where(~exists().where(and_(lead_releases.c.lead_id == leads.c.id,
                                                     lead_releases.c.user_id == user_id,
                                                     lead_releases.c.released_at > since)))
        query = query.order_by((leads.c.status != "usable"), leads.c.id).limit(count)
        if self.session.dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True, of=leads)
        return list(self.session.execute(query).scalars())

    def mark_claimed(self, lead_id, user_id, at) -> bool:
        return self.session.execute(update(leads).where(leads.c.id == lead_id, leads.c.claimed_by.is_(None)).values(
            claimed_by=user_id, claimed_at=at)).rowcount == 1

    def claimed(self, lead_id):
        return self.session.execute(select(leads.c.claimed_by).where(leads.c.id == lead_id)).scalar()

    def release(self, lead_id, user_id, at):
        self.session.execute(update(leads).where(leads.c.id == lead_id).values(claimed_by=None, claimed_at=None))
        done = self.session.execute(update(lead_releases).where(
            lead_releases.c.lead_id == lead_id, lead_releases.c.user_id == user_id).values(released_at=at)).rowcount
        if not done:
            self.session.execute(insert(lead_releases).values(lead_id=lead_id, user_id=user_id, released_at=at))

    def idle_claims(self, now, limit=500) -> list:
        """(lead_id, claimed_by) of claimed leads in pools with recycle_days whose claim and last
        activity are both older than that."""
        last_work = (select(func.max(activities.c.occurred_at)).where(activities.c.lead_id == leads.c.id)
                     .scalar_subquery())
        rows = self.session.execute(
            select(leads.c.id, leads.c.claimed_by, leads.c.claimed_at, pools.c.recycle_days, last_work.label("last"))
            .join(pools, pools.c.id == leads.c.pool_id)
            .where(leads.c.claimed_by.is_not(None), leads.c.deleted_at.is_(None), pools.c.recycle_days.is_not(None))
            .order_by(leads.c.claimed_at).limit(limit)).all()
        idle = []
        for row in rows:
            threshold = now - timedelta(days=row.recycle_days)
            latest = max(t for t in (_aware(row.claimed_at), _aware(row.last)) if t is not None)
            if latest < threshold:
                idle.append((row.id, row.claimed_by))
        return idle


def _aware(moment):
    """SQLite hands back naive datetimes; we store UTC."""
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=timezone.utc)
