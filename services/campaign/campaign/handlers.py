"""Campaign use cases, one function each. Pure."""
from crmkit import paging
from crmkit.envelope import new_id, now
from crmkit.errors import Forbidden, Invalid, NotFound

from .model import Campaign, Expense

EDIT_ROLES = {"admin", "marketing_director"}


def _require(campaign, campaign_id):
    if campaign is None:
        raise NotFound(f"Campaign {campaign_id} does not exist.", {"campaign_id": campaign_id})
    return campaign


def create_campaign(cmd, uow, ctx):
    """C1: a planned campaign owned by the caller unless owner_id says otherwise."""
    with uow:
        if cmd.get("parent_id") and uow.campaigns.get(cmd["parent_id"]) is None:
            raise Invalid("The parent campaign does not exist.", {"parent_id": "No such campaign."})
        campaign = Campaign.create(id=new_id(), now=now(), owner_id=cmd.pop("owner_id", None) or ctx.user_id,
                                   **cmd)
        uow.campaigns.add(campaign)
        uow.emit("campaign.created", campaign.to_dict(), ctx)
        uow.commit()
    return campaign.to_dict()


def get_campaign(campaign_id, uow):
    with uow:
        return _require(uow.campaigns.get(campaign_id), campaign_id).to_dict()


def describe_campaign(campaign_id, uow):
    """The campaign for another service: no permission check."""
    with uow:
        return _require(uow.campaigns.get(campaign_id), campaign_id).to_dict()


def list_campaigns(filters, uow, limit=None, cursor=None):
    limit = paging.limit_of(limit)
    after = paging.decode(cursor)
    with uow:
        items = [c.to_dict() for c in uow.campaigns.list(filters, limit, after)]
    return paging.page(items, limit, key=lambda item: item["id"])


def update_campaign(campaign_id, changes, uow, ctx):
    """C1: change fields; status moves are checked (409). Emits campaign.updated."""
    with uow:
        campaign = _require(uow.campaigns.get(campaign_id), campaign_id)
        _may_edit(campaign, ctx)
        if changes.get("parent_id") == campaign_id:
            raise Invalid("A campaign cannot be its own parent.", {"parent_id": "Cycle."})
        diff = campaign.update(changes, now())
        if diff:
            uow.campaigns.save(campaign)
            data = campaign.to_dict()
            data["changes"] = diff
            uow.emit("campaign.updated", data, ctx)
        uow.commit()
    return campaign.to_dict()


def _may_edit(campaign, ctx):
    if ctx.user_id != campaign.owner_id and not EDIT_ROLES & set(ctx.roles):
        raise Forbidden("Only the campaign's owner or a marketing director may change it.")


def record_expense(campaign_id, cmd, uow, ctx):
    """C3: an explicit cost against an open campaign. Emits campaign.expense_recorded."""
    with uow:
        campaign = _require(uow.campaigns.get(campaign_id), campaign_id)
        _may_edit(campaign, ctx)
        campaign.require_open()
        expense = Expense(id=new_id(), campaign_id=campaign_id, amount=cmd["amount"],
                          category=cmd["category"], spent_on=cmd.get("date"), note=cmd.get("note"),
                          lead_id=cmd.get("lead_id"), created_by=ctx.user_id, created_at=now())
        uow.expenses.add(expense)
        uow.emit("campaign.expense_recorded", expense.to_dict(), ctx)
        uow.commit()
    return expense.to_dict()


def list_expenses(campaign_id, uow, limit=None, cursor=None, include_removed=False):
    limit = paging.limit_of(limit)
    after = paging.decode(cursor)
    with uow:
        _require(uow.campaigns.get(campaign_id), campaign_id)
        items = [e.to_dict() for e in uow.expenses.list(campaign_id, limit, after, include_removed)]
    return paging.page(items, limit, key=lambda item: item["id"])


def remove_expense(campaign_id, expense_id, uow, ctx):
    """C3: take an expense back; the row stays as an audit record. Emits campaign.expense_removed."""
    with uow:
        campaign = _require(uow.campaigns.get(campaign_id), campaign_id)
        _may_edit(campaign, ctx)
        expense = uow.expenses.get(campaign_id, expense_id)
        if expense is None:
            raise NotFound(f"Expense {expense_id} does not exist.", {"expense_id": expense_id})
        expense.remove(ctx.user_id, now())
        uow.expenses.save(expense)
        uow.emit("campaign.expense_removed", expense.to_dict(), ctx)
        uow.commit()
    return expense.to_dict()


def delete_campaign(campaign_id, uow, ctx, close_in_leads):
    """C7/C8: archive a campaign that has leads, activities or expenses; destroy an empty one.

    Decided at the moment of the call: `close_in_leads(campaign_id)` asks the lead service,
    which in the same step stops taking new leads for the campaign, how many it holds.
    Emits campaign.archived or campaign.deleted. Returns "archived" or "deleted".
    """
    with uow:
        campaign = _require(uow.campaigns.get(campaign_id), campaign_id)
        _may_edit(campaign, ctx)
        if campaign.archived_at is not None:
            return "archived"
    usage = close_in_leads(campaign_id)
    with uow:
        campaign = _require(uow.campaigns.get(campaign_id), campaign_id)
        if usage.get("leads") or usage.get("activities") or uow.expenses.count(campaign_id):
            campaign.archived_at = now()
            uow.campaigns.save(campaign)
            uow.emit("campaign.archived", campaign.to_dict(), ctx)
            outcome = "archived"
        else:
            uow.campaigns.remove(campaign_id)
            uow.emit("campaign.deleted", campaign.to_dict(), ctx)
            outcome = "deleted"
        uow.commit()
    return outcome
