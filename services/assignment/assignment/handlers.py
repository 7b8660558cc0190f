"""Assignment use cases, one function each. Pure."""
from crmkit import paging
from crmkit.envelope import iso, new_id, now
from crmkit.errors import Invalid, NotFound
from crmkit.context import RequestContext
from crmkit.inbox import handle_each_once

from .model import Rule, check_condition, evaluate, explain, to_text

ON_LEAD_CREATED = "assignment.on_lead_created"


def rule_dict(rule: Rule) -> dict:
    return {"id": rule.id, "name": rule.name, "description": rule.description, "active": rule.active,
            "usable_by": rule.usable_by, "recipients": rule.recipients,
            "distribution": rule.distribution, "condition": rule.condition,
            "condition_text": to_text(rule.condition), "version": rule.version,
            "created_at": iso(rule.created_at), "updated_at": iso(rule.updated_at)}


def _require(rule, rule_id):
    if rule is None:
        raise NotFound(f"Rule {rule_id} does not exist.", {"rule_id": rule_id})
    return rule


def create_rule(cmd, uow, ctx):
    """A1/A2/A3: store a rule. The condition tree is checked and kept canonical."""
    if cmd.get("condition") is None:
        raise Invalid("A rule needs a condition.",
                      {"condition": "Required (the text form arrives with the rules engine)."})
    moment = now()
    rule = Rule(id=new_id(), name=cmd["name"], description=cmd.get("description"),
                condition=check_condition(cmd["condition"]), recipients=cmd.get("recipients") or [],
                distribution=cmd.get("distribution") or "all", active=cmd.get("active", True),
                usable_by=cmd.get("usable_by") or [], created_by=ctx.user_id,
                created_at=moment, updated_at=moment)
    with uow:
        uow.rules.add(rule)
        uow.emit("assignment.rule_created", rule_dict(rule), ctx)
        uow.commit()
    return rule_dict(rule)


def get_rule(rule_id, uow):
    with uow:
        return rule_dict(_require(uow.rules.get(rule_id), rule_id))


def list_rules(uow, limit=None, cursor=None):
    limit = paging.limit_of(limit)
    after = paging.decode(cursor)
    with uow:
        items = [rule_dict(r) for r in uow.rules.list(limit, after)]
    return paging.page(items, limit, key=lambda item: item["id"])


def set_campaign_rule(campaign_id, rule_id, uow, ctx, fetch_campaign):
    """A6: every lead of the campaign created after this returns runs through the rule."""
    fetch_campaign(campaign_id)  # NotFound if there is no such campaign
    with uow:
        rule = _require(uow.rules.get(rule_id), rule_id)
        uow.rules.attach(campaign_id, rule.id, ctx.user_id, now())
        uow.emit("assignment.rule_attached", {"campaign_id": campaign_id, "rule_id": rule.id}, ctx)
        uow.commit()
    return {"campaign_id": campaign_id, "rule_id": rule.id}


def _decide(lead, rule, uow, event_id):
    if not rule.active:
        matched, leaves, reason = False, [], f"rule {rule.name!r} is switched off"
    else:
        matched, leaves = evaluate(rule.condition, lead)
        reason = f"rule {rule.name!r} " + explain(matched, leaves)
    recipients = rule.choose(uow.rules.take_turn(rule.id)) if matched else []
    if matched and rule.distribution == "round_robin" and recipients:
        reason += f"; round robin chose {recipients[0]['user_id']}"
    return {"event_id": event_id, "lead_id": lead["id"], "rule_id": rule.id,
            "rule_version": rule.version, "matched": matched, "recipients": recipients,
            "leaves": leaves, "reason": reason, "state": "pending", "at": now()}


def _rule_for(lead, uow, cache):
    """The lead's own rule (a web form's route, C6) if it names one, else its campaign's (A6)."""
    rule_id, campaign_id = lead.get("rule_id"), lead.get("campaign_id")
    if rule_id and ("rule", rule_id) not in cache:
        cache["rule", rule_id] = uow.rules.get(rule_id)
    if rule_id and cache["rule", rule_id] is not None:
        return cache["rule", rule_id]
    if campaign_id and ("campaign", campaign_id) not in cache:
        cache["campaign", campaign_id] = uow.rules.rule_for_campaign(campaign_id)
    return cache.get(("campaign", campaign_id))


def on_lead_created(event, uow, ctx, assign):
    """One event: see on_leads_created. Returns the decision, or None if nothing new happened."""
    def assign_many(items):
        for item in items:
            assign(item["lead_id"], item["assignments"], decision_key=item["decision_key"],
                   channel="rule", reason=item["reason"])
    done = on_leads_created([event], uow, assign_many)
    return done[0] if done else None


def on_leads_created(events, uow, assign_many):
    """A6/A10/C6: run each new lead's rule (its own, else its campaign's); assign through the
    lead service in bulk.

    Three steps, each safe to repeat: (1) decide the leads not decided before and store
    the decisions, keyed by event (a repeat finds the stored one and takes no second
    round-robin turn); (2) apply them in one RPC, idempotent on the lead side by event
    id; (3) mark them applied, publish assignment.decided and the inbox rows in one
    commit. Returns the decisions of the events that were new (None where no rule ran).
    """
    ids = [event["event_id"] for event in events]
    rules = {}
    with uow:
        stored = {d["event_id"]: d for d in uow.decisions.for_events(ids)}
        decided = False
        for event in events:
            lead, event_id = event["data"], event["event_id"]
            if event_id in stored:
                continue
            rule = _rule_for(lead, uow, rules)
            if rule is None:  # nothing to decide: the lead stays with its owner
                continue
            decision = _decide(lead, rule, uow, event_id)
            if uow.decisions.add(decision):
                stored[event_id] = decision
                decided = True
            else:  # decided meanwhile by a duplicate of this event
                stored[event_id] = uow.decisions.for_event(event_id)
        if decided:
            uow.commit()
    to_apply = [{"lead_id": event["data"]["id"], "assignments": stored[event["event_id"]]["recipients"],
                 "decision_key": event["event_id"], "actor_id": event.get("actor_id"),
                 "correlation_id": event.get("correlation_id") or event["event_id"],
                 "reason": stored[event["event_id"]]["reason"]}
                for event in events
                if event["event_id"] in stored and stored[event["event_id"]]["matched"]
                and stored[event["event_id"]]["recipients"] and stored[event["event_id"]]["state"] != "applied"]
    if to_apply:
        assign_many(to_apply)

    def record(event):
        decision = stored.get(event["event_id"])
        if decision is None:
            return
        uow.decisions.mark_applied(event["event_id"])
        uow.emit("assignment.decided", {
            "lead_id": event["data"]["id"], "campaign_id": event["data"].get("campaign_id"),
            "rule_id": decision["rule_id"], "rule_version": decision["rule_version"],
            "matched": decision["matched"], "recipients": decision["recipients"],
            "reason": decision["reason"]}, RequestContext().caused_by(event, "rule"))
    fresh = handle_each_once(uow, events, ON_LEAD_CREATED, record)
    return [stored.get(event["event_id"]) for event in fresh]


def get_assignment_log(lead_id, uow, limit=None, cursor=None):
    """A10: the decisions taken for a lead, oldest first."""
    limit = paging.limit_of(limit)
    after = paging.decode(cursor)
    with uow:
        rows = uow.decisions.for_lead(lead_id, limit, after)
    items = [{"at": iso(d["at"]), "rule_id": d["rule_id"], "rule_version": d["rule_version"],
              "matched": d["matched"], "recipients": d["recipients"], "reason": d["reason"],
              "conditions": d["leaves"], "_seq": d["id"]} for d in rows]
    result = paging.page(items, limit, key=lambda item: item["_seq"])
    for item in result["items"]:
        item.pop("_seq")
    return result
