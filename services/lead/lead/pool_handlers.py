"""Pool use cases (L9): pools, pull (claim), release and the recycling of idle claims.
Pure: a unit of work and a RequestContext. Push is the ordinary assignment by the owner."""
from crmkit import paging
from crmkit.context import RequestContext
from crmkit.envelope import iso, new_id, now
from crmkit.errors import Conflict, Forbidden, Invalid, NotFound

from .handlers import _may_assign, _readable
from .pools import POOL_MAKERS, Pool, may_see


def _visible_pool(uow, pool_id, ctx) -> Pool:
    pool = uow.pools.get(pool_id)
    if pool is None or not may_see(pool, uow.pools.ancestors(pool), ctx):
        raise NotFound(f"Pool {pool_id} does not exist.", {"pool_id": pool_id})
    return pool


def create_pool(cmd, uow, ctx):
    """L9: the total pool (no parent) or a sub-pool, at most three levels (422 beyond)."""
    if not POOL_MAKERS & set(ctx.roles):
        raise Forbidden("Pools are made by marketing and market managers.")
    with uow:
        parent = None
        if cmd.get("parent_id"):
            try:
                parent = _visible_pool(uow, cmd["parent_id"], ctx)
            except NotFound:
                raise Invalid("The parent pool does not exist.", {"parent_id": "No such pool."}) from None
        pool = Pool.create(id=new_id(), now=now(), parent=parent, created_by=ctx.user_id,
                           **{k: v for k, v in cmd.items() if k != "parent_id"})
        uow.pools.add(pool)
        uow.emit("pool.created", pool.to_dict(), ctx)
        uow.commit()
    return pool.to_dict()


def get_pool(pool_id, uow, ctx):
    with uow:
        return _visible_pool(uow, pool_id, ctx).to_dict()


def list_pools(uow, ctx, limit=None, cursor=None):
    """The pools the caller may see, by id."""
    limit = paging.limit_of(limit)
    after = paging.decode(cursor)
    with uow:
        found = [p for p in uow.pools.list(limit, after) if may_see(p, uow.pools.ancestors(p), ctx)]
    return paging.page([p.to_dict() for p in found], limit, key=lambda item: item["id"])


def claim(pool_id, count, uow, ctx):
    """L9 pull: up to `count` of the pool's oldest usable (then raw) leads become the caller's,
    within the pool's claim limit (open leads held) and not those the caller released within
    the cooldown. Two claimers never get the same lead. Emits lead.claimed for each."""
    with uow:
        pool = _visible_pool(uow, pool_id, ctx)
        if pool.claim_limit is not None:
            room = pool.claim_limit - uow.pools.held_by(ctx.user_id)
            if room <= 0:
                raise Conflict(f"You hold {pool.claim_limit} open leads already, the limit of this pool.",
                               {"count": f"Claim limit {pool.claim_limit} reached."})
            count = min(count, room)
        moment = now()
        claimed = []
        for lead_id in uow.pools.claimable(pool.id, ctx.user_id, count, moment, pool.cooldown_hours):
            if not uow.pools.mark_claimed(lead_id, ctx.user_id, moment):
                continue  # taken meanwhile
            lead = uow.leads.get(lead_id)
            changes = lead.assign(ctx.user_id, None, moment)
            uow.leads.save_assignees(lead, [ctx.user_id], moment, ctx.user_id)
            uow.history.record(lead.id, moment, ctx, "claimed",
                               {"claimed_by": {"from": None, "to": ctx.user_id}, **changes})
            data = {**lead.to_dict(), "claimed_by": ctx.user_id, "claimed_at": iso(moment)}
            uow.emit("lead.claimed", data, ctx)
            claimed.append(data)
        uow.commit()
    return {"items": claimed, "next_cursor": None}


def _release(lead, user_id, uow, ctx, moment, event_type, action):
    uow.pools.release(lead.id, user_id, moment)
    changes = {"claimed_by": {"from": user_id, "to": None}}
    if user_id in lead.assignees:
        changes.update(lead.recall(user_id, moment))
        uow.leads.save_assignees(lead, [user_id], moment, ctx.user_id)
    uow.history.record(lead.id, moment, ctx, action, changes)
    uow.emit(event_type, {**lead.to_dict(), "released_by": user_id}, ctx)


def release(lead_id, uow, ctx):
    """L9: a claimed lead goes back to its pool (by its claimer, or who may assign it); the
    claimer may take it again only after the pool's cooldown. Emits lead.released."""
    with uow:
        lead = uow.leads.get(lead_id)
        _readable(lead, lead_id, uow, ctx)
        holder = uow.pools.claimed(lead_id)
        if holder is None:
            raise Conflict("The lead is not claimed from a pool.", {"lead_id": lead_id})
        if holder != ctx.user_id and not _may_assign(lead, uow, ctx):
            raise Forbidden("Only the claimer, or who may assign the lead, releases it.")
        _release(lead, holder, uow, ctx, now(), "lead.released", "released")
        uow.commit()
    return {**lead.to_dict(), "claimed_by": None}


def recycle(uow, moment=None):
    """L9: claimed leads idle (no claim or activity) for their pool's recycle_days go back to the
    pool, one transaction each. Returns the ids. Emits lead.recycled."""
    moment = moment or now()
    ctx = RequestContext(channel="recycle", reason="no activity within the pool's recycle days")
    with uow:
        idle = uow.pools.idle_claims(moment)
    recycled = []
    for lead_id, holder in idle:
        with uow:
            lead = uow.leads.get(lead_id)
            if lead is None or uow.pools.claimed(lead_id) != holder:
                continue
            _release(lead, holder, uow, ctx, moment, "lead.recycled", "recycled")
            uow.commit()
            recycled.append(lead_id)
    return recycled
