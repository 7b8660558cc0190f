"""Projections fed by events, and the reports read from them (R1, R2). Pure."""
from crmkit.envelope import iso, now
from crmkit.errors import NotFound
from crmkit.inbox import handle_once

from .model import campaign_report


CAMPAIGN_STATE_EVENTS = {"campaign.created", "campaign.updated", "campaign.status_changed",
                         "campaign.archived"}


def on_campaign_event(event, uow):
    """The campaign's name, budget and expected revenue, from events whose data is the campaign."""
    data = event["data"]

    def effect():
        if event["type"] in CAMPAIGN_STATE_EVENTS:
            uow.reports.put_campaign(data, now())
    return handle_once(uow, event, "reporting.on_campaign_event", effect)


def on_lead_event(event, uow):
    """Count each lead once by status and source, and once as assigned (order-tolerant)."""
    data = event["data"]
    campaign_id = data.get("campaign_id")

    def effect():
        if not campaign_id or not event["type"].startswith("lead."):
            return  # activity.* and opportunity.* carry their own id in data.id, not a lead's
        reports = uow.reports
        known = reports.lead(data["id"])
        if known is None:  # the first event of a lead to arrive counts it, whatever its type
            reports.add(campaign_id, "leads", "total", 1)
            reports.add(campaign_id, "status", data.get("status") or "raw", 1)
            reports.add(campaign_id, "source", data.get("source") or "unknown", 1)
            known = {"id": data["id"], "campaign_id": campaign_id, "status": data.get("status") or "raw",
                     "source": data.get("source"), "assigned": "0", "updated_at": now()}
            reports.add_lead(known)
        if data.get("assignees") and known["assigned"] != "1":
            reports.add(campaign_id, "leads", "assigned", 1)
            reports.mark_assigned(data["id"], now())
        reports.touch_campaign(campaign_id, now())
    return handle_once(uow, event, "reporting.on_lead_event", effect)


def get_campaign_report(campaign_id, uow):
    with uow:
        campaign = uow.reports.campaign(campaign_id)
        if campaign is None:
            raise NotFound(f"No report for campaign {campaign_id}.", {"campaign_id": campaign_id})
        counts = uow.reports.counts(campaign_id)
    campaign["updated_at"] = iso(campaign["updated_at"])
    return campaign_report(campaign, counts)
