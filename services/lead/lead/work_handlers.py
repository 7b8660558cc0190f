"""Use cases of the work done on leads: activities (L12, C4), conversion (L10), opportunities (L11)
and deleting a lead without losing its effort (C7). Pure: a unit of work and a RequestContext."""
from crmkit import paging
from crmkit.envelope import iso, new_id, now
from crmkit.errors import Conflict, Forbidden, Invalid, NotFound

from .handlers import _readable, _require
from .work import Account, Activity, Opportunity, convert, hours

MANAGING_ROLES = frozenset({"admin", "marketing_director"})
SELLING_ROLES = MANAGING_ROLES | {"sales_manager"}


def _managing(ctx, roles=MANAGING_ROLES) -> bool:
    return bool(roles & set(ctx.roles))


def _lead(uow, lead_id, ctx, may, who):
    """The lead (NotFound if missing or deleted), if `may(lead, ctx)`; Forbidden naming `who` else."""
    lead = _require(uow.leads.get(lead_id), lead_id)
    if not may(lead, ctx):
        raise Forbidden(f"Only {who} may do this on the lead.")
    return lead


def _may_work(lead, ctx):
    return ctx.user_id == lead.owner_id or ctx.user_id in lead.assignees or _managing(ctx)


def _may_convert(lead, ctx):
    editing = "edit" in (lead.assignees.get(ctx.user_id) or {}).values()
    return ctx.user_id == lead.owner_id or editing or _managing(ctx)


def _may_delete(lead, ctx):
    return ctx.user_id == lead.owner_id or _managing(ctx)


def _page(items, limit):
    return paging.page([item.to_dict() for item in items], limit, key=lambda item: item["id"])


# -- activities (L12, C4) -----------------------------------------------------------------------------

def log_activity(lead_id, cmd, uow, ctx):
    """L12: the caller did some work on the lead, taking effort_hours. The activity keeps the
    lead's campaign (C4). Owner, assignees, admins and marketing directors. Emits activity.logged."""
    with uow:
        lead = _lead(uow, lead_id, ctx, _may_work,
                     "the lead's owner, its assignees, an admin or a marketing director")
        if cmd.get("opportunity_id"):
            opportunity = uow.opportunities.get(cmd["opportunity_id"])
            if opportunity is None or opportunity.lead_id != lead.id:
                raise Invalid("The opportunity is not one of this lead's.",
                              {"opportunity_id": "Not an opportunity of this lead."})
        activity = Activity.log(id=new_id(), lead=lead, worker_id=ctx.user_id, now=now(), **cmd)
        uow.activities.add(activity)
        uow.emit("activity.logged", activity.to_dict(), ctx)
        uow.commit()
    return activity.to_dict()


def list_lead_activities(lead_id, uow, ctx, limit=None, cursor=None):
    """L12: the lead's activities, oldest first, to who may read the lead (L4). NotFound for a
    deleted lead."""
    limit, after = paging.limit_of(limit), paging.decode(cursor)
    with uow:
        _readable(uow.leads.get(lead_id), lead_id, uow, ctx)
        return _page(uow.activities.list({"lead_id": lead_id}, limit, after), limit)


def list_activities(filters, uow, limit=None, cursor=None):
    """C4/C7: activities by campaign, lead or worker, oldest first — deleted leads' too."""
    limit, after = paging.limit_of(limit), paging.decode(cursor)
    with uow:
        return _page(uow.activities.list(filters, limit, after), limit)


# -- conversion (L10) ---------------------------------------------------------------------------------

def convert_lead(lead_id, cmd, uow, ctx):
    """L10: the lead becomes an account and one or more opportunities, each keeping the lead, its
    campaign and pool; the lead is then converted (final; from raw, usable or working, else
    Conflict). Owner, an assignee with edit on a section, admins and marketing directors.
    Emits lead.converted and opportunity.created for each."""
    with uow:
        lead = _lead(uow, lead_id, ctx, _may_convert, "the lead's owner, an assignee who may edit it, "
                                                     "an admin or a marketing director")
        moment = now()
        changes = convert(lead, moment)
        if not uow.lead_endings.set_status(lead.id, lead.status, moment, changes["status"]["from"]):
            raise Conflict("The lead changed while it was being converted; try again.", {"lead_id": lead_id})
        account = Account.from_lead(id=new_id(), lead=lead, now=moment, name=(cmd.get("account") or {}).get("name"))
        opportunities = [Opportunity.open(id=new_id(), lead=lead, owner_id=ctx.user_id, now=moment,
                                          account_id=account.id, **values) for values in cmd["opportunities"]]
        ids = [opportunity.id for opportunity in opportunities]
        uow.accounts.add(account)
        changes.update({"account_id": {"from": None, "to": account.id},
                        "opportunity_ids": {"from": None, "to": ids}})
        uow.history.record(lead.id, moment, ctx, "converted", changes)
        uow.emit("lead.converted", {**lead.to_dict(), "opportunity_ids": ids, "account_id": account.id}, ctx)
        for opportunity in opportunities:
            uow.opportunities.add(opportunity)
            uow.emit("opportunity.created", opportunity.to_dict(), ctx)
        uow.commit()
    return {"lead_id": lead.id, "opportunity_ids": ids, "account_id": account.id}


def get_account(account_id, uow):
    with uow:
        account = uow.accounts.get(account_id)
        if account is None:
            raise NotFound(f"Account {account_id} does not exist.", {"account_id": account_id})
        return account.to_dict()


# -- opportunities (L11) ------------------------------------------------------------------------------

def _opportunity(uow, opportunity_id):
    opportunity = uow.opportunities.get(opportunity_id)
    if opportunity is None:
        raise NotFound(f"Opportunity {opportunity_id} does not exist.", {"opportunity_id": opportunity_id})
    return opportunity


def _may_sell(opportunity, uow, ctx):
    if ctx.user_id == opportunity.owner_id or _managing(ctx, SELLING_ROLES):
        return True
    lead = uow.leads.get(opportunity.lead_id)
    return lead is not None and lead.owner_id == ctx.user_id


def _change_opportunity(opportunity_id, uow, ctx, event_type, apply):
    """Load the opportunity, check the caller may change it, apply(opportunity, now) → the event's
    extra data, or None when nothing changed; save and emit event_type, in one commit."""
    with uow:
        opportunity = _opportunity(uow, opportunity_id)
        if not _may_sell(opportunity, uow, ctx):
            raise Forbidden("Only the opportunity's owner, the lead's owner, an admin, a marketing director "
                            "or a sales manager may change it.")
        extra = apply(opportunity, now())
        if extra is not None:
            uow.opportunities.save(opportunity)
            uow.emit(event_type, {**opportunity.to_dict(), **extra}, ctx)
            uow.commit()
    return opportunity.to_dict()


def get_opportunity(opportunity_id, uow):
    with uow:
        return _opportunity(uow, opportunity_id).to_dict()


def list_opportunities(filters, uow, limit=None, cursor=None):
    """L11: opportunities by campaign, lead or status, newest first."""
    limit, after = paging.limit_of(limit), paging.decode(cursor)
    with uow:
        return _page(uow.opportunities.list(filters, limit, after), limit)


def update_opportunity(opportunity_id, cmd, uow, ctx):
    """L11: amount, stage, probability, expected close; Conflict once won or lost.
    Emits opportunity.updated (with data.changes) when anything changed."""
    def apply(opportunity, moment):
        changes = opportunity.change(cmd, moment)
        return {"changes": changes} if changes else None
    return _change_opportunity(opportunity_id, uow, ctx, "opportunity.updated", apply)


def win_opportunity(opportunity_id, cmd, uow, ctx):
    """L11: won, for the given amount or the opportunity's own (final). Emits opportunity.won."""
    def apply(opportunity, moment):
        opportunity.win(moment, cmd.get("amount"))
        return {}
    return _change_opportunity(opportunity_id, uow, ctx, "opportunity.won", apply)


def lose_opportunity(opportunity_id, cmd, uow, ctx):
    """L11: lost, with a reason (final). Emits opportunity.lost."""
    def apply(opportunity, moment):
        opportunity.lose(moment, cmd.get("reason"))
        return {}
    return _change_opportunity(opportunity_id, uow, ctx, "opportunity.lost", apply)


# -- deletion (C7) ------------------------------------------------------------------------------------

def delete_lead(lead_id, uow, ctx):
    """C7: the lead goes (reads answer NotFound) and its personal data is blanked; its activities,
    opportunities and campaign stay and keep counting. Owner, admins, marketing directors.
    Emits lead.deleted with what was kept, no personal data."""
    with uow:
        lead = _lead(uow, lead_id, ctx, _may_delete, "the lead's owner, an admin or a marketing director")
        moment = now()
        count, effort = uow.activities.effort(lead_id=lead.id)
        if not uow.lead_endings.tombstone(lead.id, moment):  # deleted meanwhile
            raise NotFound(f"Lead {lead_id} does not exist.", {"lead_id": lead_id})
        uow.history.record(lead.id, moment, ctx, "deleted", {"deleted_at": {"from": None, "to": iso(moment)}})
        uow.emit("lead.deleted", {"id": lead.id, "campaign_id": lead.campaign_id, "pool_id": lead.pool_id,
                                  "owner_id": lead.owner_id, "source": lead.source, "status": lead.status,
                                  "deleted_at": iso(moment), "activities": count,
                                  "effort_hours": hours(effort)}, ctx)
        uow.commit()
