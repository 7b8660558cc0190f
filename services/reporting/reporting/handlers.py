"""Projections fed by events, the reports read from them (R1–R5), and the rebuild (R6). Pure."""
import time

from crmkit import envelope
from crmkit.envelope import iso
from crmkit.errors import Invalid, NotFound
from crmkit.inbox import new_in_order

from . import model
from .projection import Projector, when

REBUILD_BATCH = 5000


def project_events(events, uow):
    """A batch of events in one transaction, each applied at most once and kept for the rebuild
    (R2, R6). The kept event is the inbox: its row (unique event_id) commits with the effect, and
    only the events whose row is new are applied. Returns those, in order."""
    with uow:
        kept, seen = [], set()
        for event in events:
            if event["event_id"] not in seen:
                seen.add(event["event_id"])
                kept.append({"event_id": event["event_id"], "type": event["type"],
                             "occurred_at": when(event["occurred_at"]), "payload": envelope.dumps(event)})
        fresh = new_in_order(events, uow.reports.keep_events(kept))
        if fresh:
            projector = Projector(uow.reports)
            projector.prefetch(fresh)
            for event in fresh:
                projector.apply(event)
            projector.flush()
        uow.commit()
    return fresh


def on_campaign_event(event, uow):
    return bool(project_events([event], uow))


def on_lead_event(event, uow):
    return bool(project_events([event], uow))


def on_lead_events(events, uow):
    return project_events(events, uow)


def rebuild(uow, batch=REBUILD_BATCH):
    """R6: empty the projections and replay every kept event into them, in one transaction
    (live events wait for it, then carry on). Returns counts and the time taken."""
    started = time.monotonic()
    replayed, last = 0, 0
    with uow:
        uow.reports.clear_projections()
        projector = Projector(uow.reports)
        while True:
            rows = uow.reports.stored_events(last, batch)
            if not rows:
                break
            batch_events = [envelope.parse(payload) for _, payload in rows]
            projector.prefetch(batch_events)
            for event in batch_events:
                projector.apply(event)
            last = rows[-1][0]
            projector.flush()
            replayed += len(rows)
        uow.commit()
    return {"replayed": replayed, "seconds": round(time.monotonic() - started, 3)}


def _family(uow, campaign_id):
    """The campaign's descendants, level by level (a parent cycle cannot loop)."""
    seen, level = [campaign_id], [campaign_id]
    while level:
        level = [c for c in uow.reports.children(level) if c not in seen]
        seen += level
    return seen


def get_campaign_report(campaign_id, uow):
    """R1. A campaign reporting has seen no event of (neither itself nor a lead) is unknown. A parent
    campaign also shows its children and the roll-up of itself with all its descendants."""
    with uow:
        campaign = uow.reports.campaign(campaign_id)
        counts = uow.reports.counts(campaign_id)
        if (campaign is None and not counts) or (campaign and campaign["deleted"] == "1"):
            raise NotFound(f"No report for campaign {campaign_id}.", {"campaign_id": campaign_id})
        campaign = campaign or {"id": campaign_id, "updated_at": None}  # its own event is late
        family = _family(uow, campaign_id)
        if len(family) > 1:
            rows = [uow.reports.campaign(c) for c in family]
            counts_by_id = uow.reports.counts_of(family)
    campaign["updated_at"] = iso(campaign["updated_at"])
    report = model.campaign_report(campaign, counts)
    report["parent_id"] = campaign.get("parent_id")
    if len(family) > 1:
        for row in rows:
            row["updated_at"] = iso(row["updated_at"])
        direct = [r for r in rows if r["parent_id"] == campaign_id]
        report["children"] = [model.summary(model.campaign_report(r, counts_by_id.get(r["id"], {})))
                              for r in direct]
        report["rollup"] = model.rollup(campaign, rows, counts_by_id)
    return report


def list_campaign_reports(uow, sort="-roi", limit=None, cursor=None):
    """R1/R5: every campaign's headline figures, sorted (`roi`, `name`, `won`, `cost`, `leads`,
    `updated_at`; `-` for descending), paged by offset."""
    if sort.lstrip("-") not in model.SORTABLE:
        raise Invalid("Unknown sort.", {"sort": f"One of: {', '.join(model.SORTABLE)} (prefix - to reverse)."})
    limit = min(int(limit or 100), 1000)
    offset = _offset(cursor)
    with uow:
        rows = uow.reports.campaign_rows()
        counts = uow.reports.counts_of()
    lines = []
    for row in rows:
        row["updated_at"] = iso(row["updated_at"])
        lines.append(model.summary(model.campaign_report(row, counts.get(row["id"], {}))))
    lines = model.sort_summaries(lines, sort)
    page = lines[offset:offset + limit]
    more = offset + limit < len(lines)
    return {"items": page, "next_cursor": str(offset + limit) if more else None}


def _offset(cursor):
    try:
        offset = int(cursor or 0)
    except ValueError:
        offset = -1
    if offset < 0:
        raise Invalid("Not a valid cursor.", {"cursor": "Not a cursor from a previous page."})
    return offset


def get_sales_report(uow, campaign_id=None):
    """R3: per person and per pool, for one campaign or overall."""
    with uow:
        leads = [(r.owner_id, r.pool_id, r.assignees) for r in uow.reports.leads_of(campaign_id)]
        return model.sales(leads, uow.reports.person_counts(campaign_id), campaign_id)


def get_funnel_report(uow, campaign_id=None):
    """R4: lead → usable → opportunity → won, for one campaign or overall."""
    with uow:
        leads = [(r.id, r.created_at, r.usable_at) for r in uow.reports.leads_of(campaign_id)]
        times = uow.reports.opportunity_times(campaign_id)
    return model.funnel(leads, times, campaign_id)


def export_campaign_report(campaign_id, uow):
    """R5: the campaign report as CSV (metric, value), UTF-8 with BOM."""
    return model.to_csv(["metric", "value"], model.flatten(get_campaign_report(campaign_id, uow)))


def projection_stats(uow):
    """For the operators (P4): how many events were projected and the latest one's time."""
    with uow:
        count, last = uow.reports.event_stats()
    return {"events": count, "last_event_at": iso(last)}
