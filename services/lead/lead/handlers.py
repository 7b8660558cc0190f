"""Lead use cases, one function each. Pure: they see a unit of work and a RequestContext."""
import json
from dataclasses import replace

from crmkit import paging
from crmkit.context import RequestContext
from crmkit.envelope import iso, new_id, now, parse_time
from crmkit.errors import Conflict, Forbidden, Invalid, NotFound
from crmkit.inbox import handle_once

from .model import IntakeRoute, KnownCampaign, Lead, dedupe_keys, quality_score
from .permissions import (SECTIONS, TEAM_ROLES, can, can_read_any, role_permission,
                          section_permissions)

ASSIGNING_ROLES = {"admin", "marketing_director"}  # on any lead; managers on their team's (L2)
SEES_ALL_LEADS = {"admin", "marketing_director", "marketing_member"}
INTERNAL_CHANNELS = {"rule", "event", "import", "web_form", "recycle"}


def _require(lead, lead_id):
    if lead is None:
        raise NotFound(f"Lead {lead_id} does not exist.", {"lead_id": lead_id})
    return lead


def _ask_campaign(campaign_id, fetch_campaign) -> dict:
    """Ask the campaign service once; a campaign it does not know is a field error."""
    try:
        return fetch_campaign(campaign_id)
    except NotFound:
        raise Invalid("The campaign does not exist.", {"campaign_id": "No such campaign."}) from None


def _known(campaign_id, remote) -> KnownCampaign:
    return KnownCampaign(campaign_id, remote.get("status"), bool(remote.get("archived")))


def fetch_known_campaign(campaign_id, fetch_campaign) -> KnownCampaign:
    return _known(campaign_id, _ask_campaign(campaign_id, fetch_campaign))


def create_lead(cmd, uow, ctx, fetch_campaign, request_key=None, route_key=None):
    """L1: store a lead (raw) with its history row and lead.created, in one commit.

    A new lead may join only a campaign that exists and is not archived (C8). The lead
    service keeps its own copy of the campaigns it has seen; for a campaign it has not
    seen yet it leaves the transaction, asks the campaign service, and tries again.
    With a route_key (C6) the intake route is read in the same transaction and gives
    the lead its campaign, owner, pool, rule and source.
    """
    fetched = None
    while True:
        with uow:
            moment = now()
            if route_key:
                cmd = {**cmd, **_active_route(uow, route_key).lead_fields()}
            campaign_id = cmd.get("campaign_id")
            if campaign_id:
                known = uow.campaigns.get(campaign_id)
                if known is None and fetched is not None:
                    known = fetched
                    uow.campaigns.put(known, moment)
                if known is not None:
                    known.require_open()
            if not campaign_id or known is not None:
                lead = Lead.create(
                    id=new_id(), now=moment, owner_id=cmd.get("owner_id") or ctx.user_id,
                    contact=cmd.get("contact"), company=cmd.get("company"), need=cmd.get("need"),
                    campaign_id=campaign_id, pool_id=cmd.get("pool_id"), source=cmd.get("source"),
                    tags=cmd.get("tags"), request_key=request_key, utm=cmd.get("utm"),
                    rule_id=cmd.get("rule_id"))
                # L14: a duplicate is never refused (nor a web registration dropped): it is flagged
                lead.duplicate_of = uow.leads.find_duplicates([dedupe_keys(lead)])[0]
                if not uow.leads.add(lead):  # a redelivered request: answer as the first time
                    uow.rollback()
                    return uow.leads.by_request_key(request_key).to_dict()
                uow.history.record(lead.id, moment, ctx, "created", lead.created_changes())
                uow.emit("lead.created", lead.to_dict(), ctx)
                uow.commit()
                return lead.to_dict()
        fetched = fetch_known_campaign(campaign_id, fetch_campaign)


def intake(key, cmd, uow, ctx, fetch_campaign, request_key=None):
    """C6: a web registration through the route `key` becomes a lead, with no actor.

    Returns only {"lead_id"}: the public caller learns nothing else of the CRM.
    """
    ctx = replace(ctx, user_id=None, roles=(), team=None, channel="web_form")
    lead = create_lead(cmd, uow, ctx, fetch_campaign, request_key, route_key=key)
    return {"lead_id": lead["id"]}


# -- intake routes (C6) ---------------------------------------------------------------------------------

def _route(uow, key) -> IntakeRoute:
    route = uow.intake_routes.get(key)
    if route is None:
        raise NotFound(f"There is no form {key}.", {"key": key})
    return route


def _active_route(uow, key) -> IntakeRoute:
    route = _route(uow, key)
    route.require_active()
    return route


def check_intake_route(key, uow):
    """NotFound for an unknown key, Gone for a switched-off route."""
    with uow:
        _active_route(uow, key)


def _editable_campaign(campaign_id, authorize) -> dict:
    """The campaign, if the caller may edit it (Forbidden otherwise); unknown is a field error."""
    return _ask_campaign(campaign_id, lambda cid: authorize(cid, "edit"))


def _check_rule(rule_id, get_rule):
    try:
        get_rule(rule_id)
    except NotFound:
        raise Invalid("The assignment rule does not exist.", {"rule_id": "No such rule."}) from None


def create_intake_route(cmd, uow, ctx, authorize, get_rule):
    """C6: a form key routed to a campaign the caller may edit and that takes leads; the owner
    defaults to the campaign's. Emits lead.intake_route_created."""
    campaign = _editable_campaign(cmd["campaign_id"], authorize)
    if cmd.get("rule_id"):
        _check_rule(cmd["rule_id"], get_rule)
    with uow:
        for known in (uow.campaigns.get(cmd["campaign_id"]), _known(cmd["campaign_id"], campaign)):
            if known is not None:
                known.require_open()
        moment = now()
        route = IntakeRoute(key=cmd["key"], campaign_id=cmd["campaign_id"],
                            owner_id=cmd.get("owner_id") or campaign.get("owner_id"),
                            pool_id=cmd.get("pool_id"), rule_id=cmd.get("rule_id"), active=True,
                            created_by=ctx.user_id, created_at=moment, updated_at=moment)
        if not uow.intake_routes.add(route):
            raise Conflict(f"The form key {route.key} is taken.", {"key": "Already in use."})
        uow.emit("lead.intake_route_created", route.to_dict(), ctx)
        uow.commit()
    return route.to_dict()


def get_intake_route(key, uow):
    with uow:
        return _route(uow, key).to_dict()


def list_intake_routes(uow, limit=None, cursor=None):
    limit = paging.limit_of(limit)
    after = paging.decode(cursor)
    with uow:
        items = [route.to_dict() for route in uow.intake_routes.list(limit, after)]
    return paging.page(items, limit, key=lambda item: item["key"])


def update_intake_route(key, cmd, uow, ctx, authorize, get_rule):
    """C6: switch a route on or off, or change its owner, pool or rule; needs edit on its
    campaign. Emits lead.intake_route_updated when anything changed."""
    with uow:
        campaign_id = _route(uow, key).campaign_id
    _editable_campaign(campaign_id, authorize)
    if cmd.get("rule_id"):
        _check_rule(cmd["rule_id"], get_rule)
    with uow:
        route = _route(uow, key)
        changes = route.change(cmd, now())
        if changes:
            uow.intake_routes.save(route)
            uow.emit("lead.intake_route_updated", {**route.to_dict(), "changes": changes}, ctx)
            uow.commit()
    return route.to_dict()


def _teams(lead, uow, ctx) -> dict:
    """Teams of the lead's owner and assignees, when the caller's role reads by team."""
    if not (ctx.team and TEAM_ROLES & set(ctx.roles)):
        return {}
    return uow.users.teams_of([lead.owner_id, *lead.assignees])


def _permissions(lead, uow, ctx) -> dict:
    """L4: the caller's effective permission per section, with the reasons."""
    return section_permissions(lead, ctx.user_id, ctx.roles, ctx.team, ctx.policy or "assignment_wins",
                               _teams(lead, uow, ctx).get)


def _readable(lead, lead_id, uow, ctx) -> dict:
    """The lead for a caller who may read it; to anybody else it does not exist (404)."""
    lead = _require(lead, lead_id)
    if ctx.channel in INTERNAL_CHANNELS:
        return None
    permissions = _permissions(lead, uow, ctx)
    if not can_read_any(permissions):
        raise NotFound(f"Lead {lead_id} does not exist.", {"lead_id": lead_id})
    return permissions


def get_lead(lead_id, uow, ctx):
    """The lead, for a caller who may read it (L4). A merged lead answers NotFound naming the
    lead it was merged into (L14)."""
    with uow:
        lead = uow.leads.get(lead_id)
        survivor = uow.leads.merged_into(lead_id) if lead is None else None
        if survivor:
            raise NotFound(f"Lead {lead_id} was merged into {survivor}.",
                           {"lead_id": lead_id, "merged_into": survivor})
        _readable(lead, lead_id, uow, ctx)
        return lead.to_dict()


def get_permissions(lead_id, uow, ctx):
    """L4: per section the effective permission, its two sides, the policy and the reason."""
    with uow:
        return _readable(uow.leads.get(lead_id), lead_id, uow, ctx)


def list_leads(filters, uow, ctx, limit=None, cursor=None):
    """Leads the caller may read (L4), newest first, filtered."""
    limit = paging.limit_of(limit)
    after = paging.decode(cursor)
    if not SEES_ALL_LEADS & set(ctx.roles):
        filters = {**filters, "visible_to": {
            "user_id": ctx.user_id, "team": ctx.team if TEAM_ROLES & set(ctx.roles) else None}}
    with uow:
        items = [lead.to_dict() for lead in uow.leads.list(filters, limit, after)]
    return paging.page(items, limit, key=lambda item: item["id"])


def _may_assign(lead, uow, ctx):
    """L2: the owner, an admin or marketing director, or a manager over their team's leads."""
    if ctx.channel in INTERNAL_CHANNELS or ctx.user_id == lead.owner_id or ASSIGNING_ROLES & set(ctx.roles):
        return True
    teams = _teams(lead, uow, ctx)
    return role_permission(lead, ctx.user_id, [r for r in ctx.roles if r in TEAM_ROLES], ctx.team,
                           teams.get)[0] != "none"


def _require_edit_somewhere(permissions, what):
    if permissions is not None and not any(can(permissions, s, "edit") for s in SECTIONS):
        raise Forbidden(f"Only someone who may edit the lead may {what}.",
                        {s: permissions[s]["reason"] for s in SECTIONS})


def _assign(lead, assignments, uow, ctx):
    """Add the assignees to a loaded lead; history and lead.assigned if anything changed."""
    _assign_many([(lead, assignments, ctx)], uow)


def _assign_many(items, uow):
    """_assign for [(lead, assignments, ctx)]: the rows of all of them written in a few
    executemany statements (a rule's bulk decisions, A6)."""
    moment = now()
    saves, history = [], []
    for lead, assignments, ctx in items:
        changes = {}
        for assignment in assignments:
            changes.update(lead.assign(assignment["user_id"], assignment.get("permissions"), moment))
        if not changes:
            continue
        saves.append((lead, [key.split(".", 1)[1] for key in changes], ctx.user_id))
        history.append((lead.id, moment, ctx, "assigned", changes, None))
        data = lead.to_dict()
        data["assigned"] = [{"user_id": a["user_id"], "permissions": lead.assignees[a["user_id"]]}
                            for a in assignments]
        uow.emit("lead.assigned", data, ctx)
    uow.leads.save_assignees_many(saves, moment)
    uow.history.record_many(history)


def assign_lead(lead_id, assignments, uow, ctx, decision_key=None):
    """L2/L3/A9: add assignees with per-section permissions. Emits lead.assigned.

    With a decision_key (a rule's decision) the call is idempotent: a repeat returns
    the lead as it is and changes nothing.
    """
    with uow:
        lead = uow.leads.get(lead_id)
        if decision_key and lead is not None and uow.already_processed(decision_key, "assign_lead"):
            return lead.to_dict()
        _readable(lead, lead_id, uow, ctx)
        if not _may_assign(lead, uow, ctx):
            raise Forbidden("Only the lead's owner, an admin, a marketing director or a manager of "
                            "the team may assign it.")
        _assign(lead, assignments, uow, ctx)
        if decision_key:
            uow.mark_processed(decision_key, "assign_lead")
        uow.commit()
    return lead.to_dict()


def assign_leads(items, uow):
    """A6/A10 in bulk: apply rule decisions to many leads in one transaction.

    Each item: {"lead_id", "assignments", "decision_key", "actor_id", "correlation_id",
    "reason"}. Idempotent per decision_key; a lead that no longer exists is skipped.
    Returns {"assigned": [lead ids], "missing": [lead ids]}.
    """
    assigned, missing = [], []
    with uow:
        uow.pack_events()  # the lead.assigned events travel packed (lead.batch)
        leads = {lead.id: lead for lead in uow.leads.get_many([i["lead_id"] for i in items])}
        new = uow.first_times([item["decision_key"] for item in items], "assign_lead")
        work = []
        for item in items:
            if item["decision_key"] not in new:
                continue
            new.discard(item["decision_key"])
            lead = leads.get(item["lead_id"])
            if lead is None:
                missing.append(item["lead_id"])
                continue
            ctx = RequestContext(user_id=item.get("actor_id"), correlation_id=item.get("correlation_id"),
                                 causation_id=item["decision_key"], channel="rule", reason=item.get("reason"))
            work.append((lead, item["assignments"], ctx))
            assigned.append(lead.id)
        _assign_many(work, uow)
        uow.commit()
    return {"assigned": assigned, "missing": missing}


def get_history(lead_id, uow, ctx, limit=None, cursor=None):
    """L15: the lead's change log, oldest first."""
    limit = paging.limit_of(limit)
    after = paging.decode(cursor)
    with uow:
        _readable(uow.leads.get(lead_id), lead_id, uow, ctx)
        rows = uow.history.list(lead_id, limit, after)
        items = []
        for r in rows:
            changes = json.loads(r["changes"])
            items.append({"at": iso(r["at"]), "actor_id": r["actor_id"], "action": r["action"],
                          "changes": changes, "channel": r["channel"], "reason": r["reason"],
                          "summary": summarize(r["action"], changes, r["channel"], r["reason"]), "_seq": r["id"]})
    result = paging.page(items, limit, key=lambda item: item["_seq"])
    for item in result["items"]:
        item.pop("_seq")
    return result


def _shown(value):
    if value is None or value == "" or value == []:
        return "(empty)"
    if isinstance(value, dict):
        return ", ".join(f"{k} {v}" for k, v in value.items() if v is not None)
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return f"“{value}”"


def summarize(action, changes, channel, reason) -> str:
    """L15: one history entry in words, e.g. `updated via api: contact.title “经理” → “总监”`."""
    parts = [f"{field} {_shown(change.get('from'))} → {_shown(change.get('to'))}"
             if isinstance(change, dict) and ("from" in change or "to" in change) else f"{field}"
             for field, change in changes.items()]
    text = f"{action.replace('_', ' ')} via {channel}"
    if parts:
        text += ": " + "; ".join(parts)
    if reason:
        text += f" (reason: {reason})"
    return text


def _know_campaign(campaign_id, uow, fetch_campaign):
    """Make sure the lead service has its copy of the campaign (asking the campaign service once)."""
    with uow:
        if uow.campaigns.get(campaign_id) is not None:
            return
    known = fetch_known_campaign(campaign_id, fetch_campaign)
    with uow:
        if uow.campaigns.get(campaign_id) is None:
            uow.campaigns.put(known, now())
            uow.commit()


def _changed(lead, uow, ctx, action, event_type, changes, moment, reason=None, extra=None):
    """History row and event for a change of the lead's own row, saved in the caller's unit of work."""
    uow.leads.save(lead)
    uow.history.record(lead.id, moment, ctx, action, changes, reason)
    uow.emit(event_type, {**lead.to_dict(), "changes": changes, **(extra or {})}, ctx)


def patch_lead(lead_id, changes, uow, ctx, fetch_campaign):
    """L1/L3/L4/L5: change sections, tags, campaign, pool or owner. Emits lead.updated.

    Every section touched needs `edit` for the caller under the policy in force; if one does
    not, the whole patch is refused (403 naming the sections) and nothing is written. Tags need
    edit on some section; moving the lead (campaign, pool, owner) is for those who may assign it.
    """
    if changes.get("campaign_id"):
        _know_campaign(changes["campaign_id"], uow, fetch_campaign)
    with uow:
        lead = uow.leads.get(lead_id)
        permissions = _readable(lead, lead_id, uow, ctx)
        if permissions is not None:
            denied = [s for s in SECTIONS if changes.get(s) is not None and not can(permissions, s, "edit")]
            if denied:
                raise Forbidden(f"You may not edit the {' and '.join(denied)} section of this lead; "
                                "nothing was changed.",
                                {s: f"{permissions[s]['effective']}: {permissions[s]['reason']}" for s in denied})
            if "tags" in changes:
                _require_edit_somewhere(permissions, "tag it")
        if any(key in changes for key in ("campaign_id", "pool_id", "owner_id")) and not _may_assign(lead, uow, ctx):
            raise Forbidden("Only the lead's owner, an admin, a marketing director or a manager of the team "
                            "may move it to another campaign, pool or owner.")
        if changes.get("campaign_id") and changes["campaign_id"] != lead.campaign_id:
            uow.campaigns.get(changes["campaign_id"]).require_open()
        moment = now()
        diff = lead.patch(changes, moment)
        if diff:
            _changed(lead, uow, ctx, "updated", "lead.updated", diff, moment)
            uow.commit()
    return lead.to_dict()


def set_status(lead_id, cmd, uow, ctx):
    """L6: a checked status move (409), `invalid` with a reason. Emits lead.status_changed."""
    with uow:
        lead = uow.leads.get(lead_id)
        _require_edit_somewhere(_readable(lead, lead_id, uow, ctx), "change its status")
        moment = now()
        diff = lead.move_to(cmd["status"], moment, cmd.get("reason"), cmd.get("note"))
        if diff:
            _changed(lead, uow, ctx, "status_changed", "lead.status_changed", diff, moment,
                     reason=lead.invalid_note or lead.invalid_reason)
            uow.commit()
    return lead.to_dict()


def record_response(lead_id, cmd, uow, ctx):
    """L7: accepted / not accepted / not reached, with a note. Emits lead.response_recorded."""
    with uow:
        lead = uow.leads.get(lead_id)
        _require_edit_somewhere(_readable(lead, lead_id, uow, ctx), "record a response")
        moment = cmd.get("at") or now()
        uow.responses.add(lead, ctx.user_id, cmd["response"], cmd.get("note"), moment)
        response = {"response": cmd["response"], "note": cmd.get("note"), "at": iso(moment),
                    "user_id": ctx.user_id}
        lead.last_response = {"response": cmd["response"], "at": iso(moment)}
        uow.history.record(lead.id, now(), ctx, "response_recorded", {"response": {"from": None, "to": response}},
                           cmd.get("note"))
        uow.emit("lead.response_recorded", {**lead.to_dict(), "response": response}, ctx)
        uow.commit()
    return response


def list_responses(lead_id, uow, ctx, limit=None, cursor=None):
    limit = paging.limit_of(limit)
    after = paging.decode(cursor)
    with uow:
        _readable(uow.leads.get(lead_id), lead_id, uow, ctx)
        items = [{"response": r["response"], "note": r["note"], "at": iso(r["at"]), "user_id": r["user_id"],
                  "_seq": r["id"]} for r in uow.responses.list(lead_id, limit, after)]
    result = paging.page(items, limit, key=lambda item: item["_seq"])
    for item in result["items"]:
        item.pop("_seq")
    return result


def assess_quality(lead_id, cmd, uow, ctx):
    """L8: an assignee (or the owner) rates validity, reachability and intent 1-5; the lead keeps
    the mean score of its assessors. Emits lead.quality_assessed."""
    with uow:
        lead = uow.leads.get(lead_id)
        _readable(lead, lead_id, uow, ctx)
        if ctx.user_id not in lead.assignees and ctx.user_id != lead.owner_id and not ASSIGNING_ROLES & set(ctx.roles):
            raise Forbidden("Only the lead's assignees or its owner assess its quality.")
        moment = now()
        assessment = {"valid": cmd["valid"], "reachable": cmd["reachable"], "intent": cmd["intent"],
                      "note": cmd.get("note"),
                      "score": quality_score(cmd["valid"], cmd["reachable"], cmd["intent"])}
        before = lead.quality
        lead.quality = uow.quality.put(lead.id, ctx.user_id, assessment, moment)
        uow.history.record(lead.id, moment, ctx, "quality_assessed", {"quality": {"from": before, "to": lead.quality}},
                           cmd.get("note"))
        uow.emit("lead.quality_assessed", {**lead.to_dict(), "assessment": {**assessment, "user_id": ctx.user_id}},
                 ctx)
        uow.commit()
    return lead.to_dict()


def recall(lead_id, user_id, uow, ctx):
    """L2/L5: take the lead back from an assignee (owner, admin, director or team manager).
    Emits lead.recalled."""
    with uow:
        lead = uow.leads.get(lead_id)
        _readable(lead, lead_id, uow, ctx)
        if not _may_assign(lead, uow, ctx):
            raise Forbidden("Only the lead's owner, an admin, a marketing director or a manager of the team "
                            "may recall it.")
        if user_id not in lead.assignees:
            raise NotFound("That user is not assigned to the lead.", {"user_id": user_id})
        moment = now()
        changes = lead.recall(user_id, moment)
        uow.leads.save_assignees(lead, [user_id], moment, ctx.user_id)
        uow.history.record(lead.id, moment, ctx, "recalled", changes)
        uow.emit("lead.recalled", {**lead.to_dict(), "recalled": user_id}, ctx)
        uow.commit()
    return lead.to_dict()


def find_duplicates(lead_id, uow, ctx):
    """L14: the stored leads this one looks like, each with what matched (e-mail, phone, name)."""
    with uow:
        lead = uow.leads.get(lead_id)
        _readable(lead, lead_id, uow, ctx)
        keys = dedupe_keys(lead)
        ids = [i for i in uow.leads.find_duplicates([keys])[0] if i != lead.id]
        items = []
        for other in uow.leads.get_many(ids):
            if ctx.channel not in INTERNAL_CHANNELS and not can_read_any(_permissions(other, uow, ctx)):
                continue
            theirs = dedupe_keys(other)
            matched = [name for name, hit in (("email", keys["email"] and keys["email"] == theirs["email"]),
                                              ("phone", set(keys["phones"]) & set(theirs["phones"])),
                                              ("name", keys["name"] and keys["name"] == theirs["name"])) if hit]
            items.append({**other.to_dict(), "matched_on": matched})
    return {"items": items, "next_cursor": None}


def merge_leads(into_id, from_ids, uow, ctx):
    """L14: fold duplicates into one lead and lose nothing: their activities, responses, quality
    ratings, opportunities, accounts, assignees and history move to the survivor, whose empty
    fields they fill; they become tombstones pointing at it. Emits lead.merged."""
    from_ids = [i for i in dict.fromkeys(from_ids) if i != into_id]
    if not from_ids:
        raise Invalid("Name at least one other lead to merge.", {"from": "No lead to merge."})
    with uow:
        survivor = uow.leads.get(into_id)
        _readable(survivor, into_id, uow, ctx)
        merged = []
        for lead_id in from_ids:
            lead = uow.leads.get(lead_id)
            _readable(lead, lead_id, uow, ctx)
            merged.append(lead)
        for lead in (survivor, *merged):
            if not _may_assign(lead, uow, ctx):
                raise Forbidden("Only who may assign every lead involved may merge them.",
                                {"lead_id": lead.id})
        moment = now()
        changes = {}
        for lead in merged:
            changes.update(survivor.absorb(lead, moment))
        uow.leads.save(survivor)
        uow.leads.save_assignees(survivor, list(survivor.assignees), moment, ctx.user_id)
        uow.leads.merge_records([lead.id for lead in merged], survivor.id, moment)
        survivor = uow.leads.get(into_id)  # with the ratings it took over
        for lead in merged:
            uow.history.record(lead.id, moment, ctx, "merged", {"merged_into": {"from": None, "to": survivor.id}})
        uow.history.record(survivor.id, moment, ctx, "merged",
                           {**changes, "merged": {"from": None, "to": [lead.id for lead in merged]}})
        uow.emit("lead.merged", {**survivor.to_dict(), "merged_ids": [lead.id for lead in merged]}, ctx)
        uow.commit()
    return survivor.to_dict()


def on_user_event(event, uow):
    """Keep the lead service's directory of users (teams, for L4) current from gateway.events."""
    data = event["data"]

    def effect():
        uow.users.put(data["id"], data.get("team"), bool(data.get("active", True)),
                      parse_time(event["occurred_at"]))
    return handle_once(uow, event, "lead.on_user_event", effect)


CAMPAIGN_STATE_EVENTS = {"campaign.created", "campaign.updated", "campaign.status_changed",
                         "campaign.archived", "campaign.deleted"}


def on_campaign_event(event, uow):
    """Keep the lead service's copy of campaigns current (status, archived).

    Only events whose data is the campaign itself; others (expenses…) are marked seen.
    """
    data = event["data"]

    def effect():
        if event["type"] in CAMPAIGN_STATE_EVENTS:
            # A campaign never comes back from archived or deleted: an event that arrives late
            # (say, campaign.created after campaign.deleted) must not reopen it.
            known = uow.campaigns.get(data["id"])
            if known is not None and known.status == "deleted":
                return
            deleted = event["type"] == "campaign.deleted"
            archived = deleted or bool(data.get("archived")) or (known is not None and known.archived)
            uow.campaigns.put(KnownCampaign(data["id"], "deleted" if deleted else data.get("status"),
                                            archived), now())
    return handle_once(uow, event, "lead.on_campaign_event", effect)


def close_campaign(campaign_id, uow):
    """C8: from now on the campaign takes no new leads; returns how many it holds.

    The campaign service calls this when a campaign is deleted, and archives rather than
    destroys it if it holds any lead (deleted ones too: their effort still counts, C7).
    """
    with uow:
        known = uow.campaigns.get(campaign_id)
        uow.campaigns.put(KnownCampaign(campaign_id, known.status if known else None, True), now())
        leads = uow.leads.count_in_campaign(campaign_id)
        activities = uow.activities.effort(campaign_id=campaign_id)[0]
        uow.commit()
    return {"leads": leads, "activities": activities}
