"""Assignment use cases, one function each. Pure."""
from crmkit import paging
from crmkit.envelope import iso, new_id, now
from crmkit.errors import Invalid, NotFound
from crmkit.db import AlreadyProcessed
from crmkit.inbox import handle_once

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


def on_lead_created(event, uow, ctx, assign):
    """A6/A10: run the campaign's rule on a new lead; assign through the lead service.

    Three steps, each safe to repeat: (1) decide and store the decision, keyed by this
    event (a repeat finds the stored one and takes no second round-robin turn); (2) apply
    it by RPC, idempotent on the lead side by the event's id; (3) mark it applied, publish
    assignment.decided and the inbox row in one commit.
    """
    lead = event["data"]
    event_id = event["event_id"]
    with uow:
        rule = uow.rules.rule_for_campaign(lead["campaign_id"]) if lead.get("campaign_id") else None
        if rule is None:  # nothing to decide: the lead stays with its owner
            try:
                uow.mark_processed(event_id, ON_LEAD_CREATED)
            except AlreadyProcessed:
                return None
            uow.commit()
            return None
        decision = _decide(lead, rule, uow, event_id)
        if uow.decisions.add(decision):
            uow.commit()
        else:  # decided before: keep that decision (and the turn it took)
            uow.rollback()
            decision = uow.decisions.for_event(event_id)
    if decision["matched"] and decision["recipients"] and decision["state"] != "applied":
        assign(lead["id"], decision["recipients"], decision_key=event_id, channel="rule",
               reason=decision["reason"])

    def record():
        uow.decisions.mark_applied(event_id)
        uow.emit("assignment.decided", {
            "lead_id": lead["id"], "campaign_id": lead.get("campaign_id"),
            "rule_id": decision["rule_id"], "rule_version": decision["rule_version"],
            "matched": decision["matched"], "recipients": decision["recipients"],
            "reason": decision["reason"]}, ctx)
    if not handle_once(uow, event, ON_LEAD_CREATED, record):
        return None  # handled before: nothing new happened
    return decision


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
