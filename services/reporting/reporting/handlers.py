"""Projections fed by events, and the reports read from them (R1, R2). Pure."""
from decimal import Decimal

from crmkit.envelope import iso, now
from crmkit.errors import NotFound
from crmkit.inbox import handle_each_once, handle_once

from .model import campaign_report


CAMPAIGN_STATE_EVENTS = {"campaign.created", "campaign.updated", "campaign.status_changed",
                         "campaign.archived"}
EXPENSE_EVENTS = {"campaign.expense_recorded", "campaign.expense_removed"}


def on_campaign_event(event, uow):
    """The campaign's name, budget and expected revenue, from events whose data is the campaign."""
    data = event["data"]

    def effect():
        if event["type"] in CAMPAIGN_STATE_EVENTS:
            uow.reports.put_campaign(data, now())
        elif event["type"] in EXPENSE_EVENTS:  # C3/R1: expenses count in the campaign's cost
            sign = 1 if event["type"] == "campaign.expense_recorded" else -1
            uow.reports.add(data["campaign_id"], "money", "expenses", sign * Decimal(data["amount"]))
    return handle_once(uow, event, "reporting.on_campaign_event", effect)


def _project_lead_event(event, reports, moment):
    """What one lead event changes: [(campaign_id, dimension, key, delta), …]."""
    data = event["data"]
    campaign_id = data.get("campaign_id")
    if not campaign_id or not event["type"].startswith("lead."):
        return []  # activity.* and opportunity.* carry their own id in data.id, not a lead's
    assigned = bool(data.get("assignees"))
    deltas = []
    # The first event of a lead to arrive counts it, whatever its type (order-tolerant).
    if reports.add_lead({"id": data["id"], "campaign_id": campaign_id,
                         "status": data.get("status") or "raw", "source": data.get("source"),
                         "assigned": "1" if assigned else "0", "updated_at": moment}):
        deltas += [("leads", "total", 1), ("status", data.get("status") or "raw", 1),
                   ("source", data.get("source") or "unknown", 1)]
        if assigned:
            deltas.append(("leads", "assigned", 1))
    elif assigned and reports.mark_assigned(data["id"], moment):
        deltas.append(("leads", "assigned", 1))
    return [(campaign_id, *delta) for delta in deltas]


def _add_up(reports, deltas):
    totals = {}
    for campaign_id, dimension, key, delta in deltas:
        totals[(campaign_id, dimension, key)] = totals.get((campaign_id, dimension, key), 0) + delta
    by_campaign = {}
    for (campaign_id, dimension, key), delta in totals.items():
        by_campaign.setdefault(campaign_id, []).append((dimension, key, delta))
    for campaign_id, rows in by_campaign.items():
        reports.add_many(campaign_id, rows)


def on_lead_event(event, uow):
    """Count each lead once by status and source, and once as assigned (order-tolerant)."""
    return bool(on_lead_events([event], uow))


def on_lead_events(events, uow):
    """A batch of lead events in one transaction; each counted at most once (R2)."""
    deltas = []
    moment = now()
    fresh = handle_each_once(uow, events, "reporting.on_lead_event",
                             lambda event: deltas.extend(_project_lead_event(event, uow.reports, moment)),
                             finish=lambda: _add_up(uow.reports, deltas))
    return fresh


def get_campaign_report(campaign_id, uow):
    """R1. A campaign reporting has seen no event of (neither itself nor a lead) is unknown."""
    with uow:
        campaign = uow.reports.campaign(campaign_id)
        counts = uow.reports.counts(campaign_id)
        if campaign is None and not counts:
            raise NotFound(f"No report for campaign {campaign_id}.", {"campaign_id": campaign_id})
        campaign = campaign or {"id": campaign_id, "updated_at": None}  # its own event is late
        changed = [t for t in (campaign["updated_at"], uow.reports.last_change(campaign_id)) if t]
    campaign["updated_at"] = iso(max(changed)) if changed else None
    return campaign_report(campaign, counts)
