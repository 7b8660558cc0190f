"""Campaign use cases, one function each. Pure."""
from crmkit import paging
from crmkit.envelope import new_id, now
from crmkit.errors import Forbidden, Invalid, NotFound

from .model import Campaign

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
        if ctx.user_id != campaign.owner_id and not EDIT_ROLES & set(ctx.roles):
            raise Forbidden("Only the campaign's owner or a marketing director may change it.")
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
