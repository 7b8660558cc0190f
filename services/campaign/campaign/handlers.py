"""Campaign use cases, one function each. Pure."""
from crmkit import paging
from crmkit.envelope import new_id, now
from crmkit.errors import Invalid, NotFound

from .model import SEES_ALL, Campaign, Expense

MAX_DEPTH = 20  # how deep a campaign tree may grow: plenty for programmes and their waves


def _require(campaign, campaign_id):
    if campaign is None:
        raise NotFound(f"Campaign {campaign_id} does not exist.", {"campaign_id": campaign_id})
    return campaign


def _load(uow, campaign_id, ctx, level):
    """The campaign if the caller has `level` on it (C2): NotFound for no access, Forbidden below."""
    campaign = _require(uow.campaigns.get(campaign_id), campaign_id)
    campaign.require(ctx, level)
    return campaign


def _check_parent(uow, campaign_id, parent_id, ctx):
    """C1: the parent exists, the caller can see it, and the tree stays a tree (no cycles)."""
    uow.campaigns.lock_tree()
    seen, current = set(), parent_id
    while current is not None:
        if current == campaign_id:
            raise Invalid("A campaign cannot sit under itself or under one of its own sub-campaigns.",
                          {"parent_id": "Would make a cycle."})
        parent = uow.campaigns.get(current)
        if parent is None or (current == parent_id and parent.permission_of(ctx.user_id, ctx.roles) is None):
            raise Invalid("The parent campaign does not exist.", {"parent_id": "No such campaign."})
        seen.add(current)
        if len(seen) >= MAX_DEPTH:
            raise Invalid(f"Campaigns nest at most {MAX_DEPTH} levels deep.", {"parent_id": "Too deep."})
        current = parent.parent_id


def create_campaign(cmd, uow, ctx):
    """C1: a campaign owned by the caller unless owner_id says otherwise. Emits campaign.created."""
    with uow:
        campaign_id = new_id()
        if cmd.get("parent_id"):
            _check_parent(uow, campaign_id, cmd["parent_id"], ctx)
        campaign = Campaign.create(id=campaign_id, now=now(), owner_id=cmd.pop("owner_id", None) or ctx.user_id,
                                   **cmd)
        uow.campaigns.add(campaign)
        uow.emit("campaign.created", campaign.to_dict(), ctx)
        uow.commit()
    return campaign.to_dict()


def get_campaign(campaign_id, uow, ctx):
    """C2: for a user with view or more; others are told it does not exist."""
    with uow:
        return _load(uow, campaign_id, ctx, "view").to_dict()


def describe_campaign(campaign_id, uow):
    """The campaign for another service: no permission check."""
    with uow:
        return _require(uow.campaigns.get(campaign_id), campaign_id).to_dict()


def authorize_campaign(campaign_id, level, uow, ctx):
    """C2 for other services and the gateway: the campaign if the caller has `level` on it."""
    with uow:
        return _load(uow, campaign_id, ctx, level).to_dict()


def list_campaigns(filters, uow, ctx, limit=None, cursor=None):
    """Campaigns the caller can see (C2), newest first, with the filters of API.md."""
    limit = paging.limit_of(limit)
    after = paging.decode(cursor)
    if filters.get("date_from") and filters.get("date_to") and filters["date_to"] < filters["date_from"]:
        raise Invalid("The date range ends before it starts.", {"date_to": "Must not be before date_from."})
    if not SEES_ALL & set(ctx.roles):
        filters = {**filters, "visible_to": ctx.user_id}
    with uow:
        items = [c.to_dict() for c in uow.campaigns.list(filters, limit, after)]
    return paging.page(items, limit, key=lambda item: item["id"])


def update_campaign(campaign_id, changes, uow, ctx):
    """C1: change fields (edit); a new owner needs manage. Status moves are checked (409).

    Emits campaign.updated, and campaign.status_changed when the status moved.
    """
    with uow:
        campaign = _load(uow, campaign_id, ctx, "edit")
        if changes.get("owner_id") and changes["owner_id"] != campaign.owner_id:
            campaign.require(ctx, "manage")
        if changes.get("parent_id") and changes["parent_id"] != campaign.parent_id:
            _check_parent(uow, campaign_id, changes["parent_id"], ctx)
        diff = campaign.update(changes, now())
        if diff:
            uow.campaigns.save(campaign)
            uow.emit("campaign.updated", {**campaign.to_dict(), "changes": diff}, ctx)
            if "status" in diff:
                uow.emit("campaign.status_changed", {**campaign.to_dict(), "changes": {"status": diff["status"]}}, ctx)
        uow.commit()
    return campaign.to_dict()


def set_participants(campaign_id, participants, uow, ctx):
    """C2: the owner, a manage participant or an admin names who else may view, edit or manage.

    Replaces the list. Emits campaign.participants_changed with what was added, removed, changed.
    """
    with uow:
        campaign = _load(uow, campaign_id, ctx, "manage")
        campaign.require_open()
        changes = campaign.set_participants(participants, now())
        if any(changes.values()):
            uow.campaigns.save(campaign)
            uow.campaigns.save_participants(campaign, ctx.user_id)
            uow.emit("campaign.participants_changed", {**campaign.to_dict(), "changes": changes}, ctx)
        uow.commit()
    return campaign.to_dict()


def record_expense(campaign_id, cmd, uow, ctx):
    """C3: an explicit cost against an open campaign. Emits campaign.expense_recorded."""
    with uow:
        campaign = _load(uow, campaign_id, ctx, "edit")
        campaign.require_open()
        expense = Expense(id=new_id(), campaign_id=campaign_id, amount=cmd["amount"],
                          category=cmd["category"], spent_on=cmd.get("date"), note=cmd.get("note"),
                          lead_id=cmd.get("lead_id"), created_by=ctx.user_id, created_at=now())
        uow.expenses.add(expense)
        uow.emit("campaign.expense_recorded", expense.to_dict(), ctx)
        uow.commit()
    return expense.to_dict()


def list_expenses(campaign_id, uow, ctx, limit=None, cursor=None, include_removed=False):
    limit = paging.limit_of(limit)
    after = paging.decode(cursor)
    with uow:
        _load(uow, campaign_id, ctx, "view")
        items = [e.to_dict() for e in uow.expenses.list(campaign_id, limit, after, include_removed)]
    return paging.page(items, limit, key=lambda item: item["id"])


def remove_expense(campaign_id, expense_id, uow, ctx):
    """C3: take an expense back; the row stays as an audit record. Emits campaign.expense_removed."""
    with uow:
        _load(uow, campaign_id, ctx, "edit")
        expense = uow.expenses.get(campaign_id, expense_id)
        if expense is None:
            raise NotFound(f"Expense {expense_id} does not exist.", {"expense_id": expense_id})
        expense.remove(ctx.user_id, now())
        uow.expenses.save(expense)
        uow.emit("campaign.expense_removed", expense.to_dict(), ctx)
        uow.commit()
    return expense.to_dict()


def delete_campaign(campaign_id, uow, ctx, close_in_leads):
    """C7/C8: archive a campaign that has leads, activities, expenses or sub-campaigns; destroy
    an empty one. Needs manage.

    Decided at the moment of the call: `close_in_leads(campaign_id)` asks the lead service,
    which in the same step stops taking new leads for the campaign, how many it holds.
    Emits campaign.archived or campaign.deleted. Returns "archived" or "deleted".
    """
    with uow:
        campaign = _load(uow, campaign_id, ctx, "manage")
        if campaign.archived_at is not None:
            return "archived"
    usage = close_in_leads(campaign_id)
    with uow:
        campaign = _require(uow.campaigns.get(campaign_id), campaign_id)
        if (usage.get("leads") or usage.get("activities") or uow.expenses.count(campaign_id)
                or uow.campaigns.has_children(campaign_id)):
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
