"""Assignment use cases, one function each. Pure."""
from crmkit import paging
from crmkit.context import RequestContext
from crmkit.envelope import iso, new_id, now, parse_time
from crmkit.errors import Forbidden, Invalid, NotFound
from crmkit.inbox import handle_each_once, handle_once
from crmkit.topology import LEAD_STATE_CHANGES

from . import analysis
from .conditions import Normal, check_condition, evaluate, leaves
from .model import TAKES_TURNS, Rule, choose, expand, explain, may_manage_lead, predicate
from .text import describe, parse, to_text

ON_LEAD_CREATED = "assignment.on_lead_created"
ON_LEAD_EVENT = "assignment.on_lead_event"
ON_USER_EVENT = "assignment.on_user_event"
CLOSED_STATUSES = {"converted", "invalid"}
EXPLAINED_MISSES = 5  # rules whose leaves a no-match decision logs


def rule_dict(rule: Rule) -> dict:
    return {"id": rule.id, "name": rule.name, "description": rule.description, "active": rule.active,
            "usable_by": rule.usable_by, "recipients": rule.recipients,
            "distribution": rule.distribution, "continue": rule.continues, "condition": rule.condition,
            "condition_text": to_text(rule.condition),
            "condition_words": {"en": describe(rule.condition, "en"), "zh": describe(rule.condition, "zh")},
            "version": rule.version, "created_at": iso(rule.created_at), "updated_at": iso(rule.updated_at)}


def _require(rule, rule_id):
    if rule is None:
        raise NotFound(f"Rule {rule_id} does not exist.", {"rule_id": rule_id})
    return rule


def condition_of(cmd) -> dict:
    """A5: the canonical tree from `condition`, or parsed from `condition_text` (errors with line
    and column); when both come they must say the same."""
    tree, text = cmd.get("condition"), cmd.get("condition_text")
    if tree is None and text is None:
        raise Invalid("A rule needs a condition.", {"condition": "Send condition or condition_text."})
    checked = check_condition(tree) if tree is not None else None
    if text is None:
        return checked
    parsed, positions = parse(text)
    try:
        from_text = check_condition(parsed)
    except Invalid as exc:
        raise _at_text(exc, parsed, positions) from None
    if checked is not None and checked != from_text:
        raise Invalid("condition and condition_text say different things.",
                      {"condition_text": f"Parses to {to_text(from_text)!r}, not the condition sent."})
    return from_text


def _at_text(exc, tree, positions):
    """An error at a tree path, told at the line and column of the leaf in the text."""
    path, message = next(iter(exc.details.items()))
    for leaf_path, leaf in leaves(tree):
        if path == leaf_path or path.startswith(leaf_path + "."):
            line, column = positions[id(leaf)]
            return Invalid(exc.message, {"condition_text": f"line {line}, column {column}: {message}"})
    return Invalid(exc.message, {"condition_text": message})


def create_rule(cmd, uow, ctx):
    """A1/A2/A3/A5: store a rule from its tree or its text; both come back."""
    moment = now()
    rule = Rule(id=new_id(), name=cmd["name"], description=cmd.get("description"),
                condition=condition_of(cmd), recipients=cmd.get("recipients") or [],
                distribution=cmd.get("distribution") or "all", active=cmd.get("active", True),
                usable_by=cmd.get("usable_by") or [], continues=bool(cmd.get("continue")),
                created_by=ctx.user_id, created_at=moment, updated_at=moment)
    with uow:
        uow.rules.add(rule)
        uow.emit("assignment.rule_created", rule_dict(rule), ctx)
        uow.commit()
    return rule_dict(rule)


def update_rule(rule_id, cmd, uow, ctx):
    """A1-A5: change a rule; its version goes up. Leads already decided stay as they are."""
    with uow:
        rule = _require(uow.rules.get(rule_id), rule_id)
        if "condition" in cmd or "condition_text" in cmd:
            rule.condition = condition_of(cmd)
        for key, attr in (("name", "name"), ("description", "description"), ("active", "active"),
                          ("usable_by", "usable_by"), ("recipients", "recipients"),
                          ("distribution", "distribution"), ("continue", "continues")):
            if key in cmd and (cmd[key] is not None or key == "description"):
                setattr(rule, attr, cmd[key])
        rule.version += 1
        rule.updated_at = now()
        uow.rules.update(rule)
        uow.emit("assignment.rule_updated", rule_dict(rule), ctx)
        uow.commit()
    return rule_dict(rule)


def delete_rule(rule_id, uow, ctx):
    """The rule goes (its decisions stay in the log) and leaves every campaign."""
    with uow:
        rule = _require(uow.rules.get(rule_id), rule_id)
        uow.rules.delete(rule.id, now())
        uow.emit("assignment.rule_deleted", {"id": rule.id, "name": rule.name, "version": rule.version}, ctx)
        uow.commit()


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
    """A6: the campaign's new leads run through this rule (alone: it replaces the list)."""
    set_campaign_rules(campaign_id, [{"rule_id": rule_id, "priority": 0}], uow, ctx, fetch_campaign)
    return {"campaign_id": campaign_id, "rule_id": rule_id}


def set_campaign_rules(campaign_id, entries, uow, ctx, fetch_campaign):
    """A6: the campaign's rules, run by priority (lowest first); the first match wins unless that
    rule says `continue`. Replaces the list (an empty list detaches every rule)."""
    fetch_campaign(campaign_id)  # NotFound if there is no such campaign
    ordered = sorted(enumerate(entries), key=lambda item: (item[1].get("priority", item[0]), item[0]))
    ids = [entry["rule_id"] for _, entry in ordered]
    if len(set(ids)) != len(ids):
        raise Invalid("A rule is listed twice.", {"rule_id": "Each rule once."})
    with uow:
        for rule_id in ids:
            _require(uow.rules.get(rule_id), rule_id)
        uow.rules.set_campaign_rules(campaign_id, [(e["rule_id"], e.get("priority", i)) for i, e in ordered],
                                     ctx.user_id, now())
        for rule_id in ids:
            uow.emit("assignment.rule_attached", {"campaign_id": campaign_id, "rule_id": rule_id}, ctx)
        uow.commit()
    return get_campaign_rules(campaign_id, uow)


def get_campaign_rules(campaign_id, uow):
    with uow:
        return {"campaign_id": campaign_id,
                "items": [{"rule_id": rule.id, "priority": priority, "name": rule.name, "continue": rule.continues,
                           "active": rule.active} for rule, priority in uow.rules.rules_for_campaign(campaign_id)],
                "next_cursor": None}


# -- deciding (A6, A7, A9, A10) -------------------------------------------------------------------------

class _Batch:
    """What a batch of decisions shares: rules by campaign, open-lead counts (kept up to date
    inside the batch)."""

    def __init__(self, uow):
        self.uow = uow
        self.cache = {}
        self.load = {}
        self.people = {}

    def prefetch_rules(self, leads):
        """Load the campaign rules of all these leads in one query (rules_for then finds them)."""
        missing = {lead.get("campaign_id") for lead in leads} - {None, ""}
        missing -= {key[1] for key in self.cache if key[0] == "campaign"}
        if missing:
            for campaign_id, entries in self.uow.rules.rules_for_campaigns(sorted(missing)).items():
                self.cache["campaign", campaign_id] = [rule for rule, _ in entries]

    def rules_for(self, lead):
        """The lead's own rule (a web form's route, C6) if it names one, else its campaign's (A6)."""
        rule_id, campaign_id = lead.get("rule_id"), lead.get("campaign_id")
        if rule_id and ("rule", rule_id) not in self.cache:
            self.cache["rule", rule_id] = self.uow.rules.get(rule_id)
        if rule_id and self.cache["rule", rule_id] is not None:
            return [self.cache["rule", rule_id]]
        if not campaign_id:
            return []
        if ("campaign", campaign_id) not in self.cache:
            self.cache["campaign", campaign_id] = [r for r, _ in self.uow.rules.rules_for_campaign(campaign_id)]
        return self.cache["campaign", campaign_id]

    def recipients(self, rule, lead):
        if rule.id not in self.people:  # teams and active users stand still within a batch
            self.people[rule.id] = expand(rule.recipients, self.uow.users)
        people = self.people[rule.id]
        held = {a["user_id"] for a in lead.get("assignees") or ()}
        people = [p for p in people if p["user_id"] not in held]  # A9: never redo a manual assignment
        turn = self.uow.rules.take_turn(rule.id) if rule.distribution in TAKES_TURNS and people else None
        if rule.distribution == "least_loaded":
            missing = [p["user_id"] for p in people if p["user_id"] not in self.load]
            if missing:
                self.load.update(self.uow.leads.open_load(missing))
        chosen, why = choose(rule.distribution, people, turn, self.load)
        for person in chosen:
            self.load[person["user_id"]] = self.load.get(person["user_id"], 0) + 1
        return chosen, why

    def decide(self, lead, rules, key) -> dict:
        """Run the rules in order on one lead; the first match decides unless it says continue."""
        n = Normal(lead)
        matched, reasons, logged, recipients = [], [], [], []
        misses = 0
        for rule in rules:
            if not rule.active:
                reasons.append(f"rule {rule.name!r} is switched off")
                continue
            if not predicate(rule)(n):
                misses += 1
                if misses <= EXPLAINED_MISSES:
                    _, why = evaluate(rule.condition, n)
                    logged += why
                    reasons.append(f"rule {rule.name!r} " + explain(False, why))
                continue
            _, why = evaluate(rule.condition, n)
            logged += why
            chosen, how = self.recipients(rule, lead)
            reasons.append(f"rule {rule.name!r} " + explain(True, why) + f"; {how}")
            matched.append(rule)
            recipients += [c for c in chosen if c["user_id"] not in {r["user_id"] for r in recipients}]
            if not rule.continues:
                break
        if misses > EXPLAINED_MISSES:
            reasons.append(f"{misses - EXPLAINED_MISSES} more rules did not match")
        deciding = matched[0] if matched else rules[0]
        return {"event_id": key, "lead_id": lead["id"], "rule_id": deciding.id, "rule_version": deciding.version,
                "matched": bool(matched), "recipients": recipients, "leaves": logged,
                "reason": "; ".join(reasons) or "no rule", "state": "pending", "at": now()}


def _applicable(decision):
    return decision["matched"] and decision["recipients"] and decision["state"] != "applied"


def _assignment(decision, actor_id, correlation_id):
    return {"lead_id": decision["lead_id"], "assignments": decision["recipients"],
            "decision_key": decision["event_id"], "actor_id": actor_id, "correlation_id": correlation_id,
            "reason": decision["reason"]}


def _decided_event(uow, decision, lead, ctx):
    """assignment.decided for a decision (the caller marks it applied)."""
    uow.emit("assignment.decided", {
        "lead_id": lead["id"], "campaign_id": lead.get("campaign_id"), "rule_id": decision["rule_id"],
        "rule_version": decision["rule_version"], "matched": decision["matched"],
        "recipients": decision["recipients"], "reason": decision["reason"]}, ctx)


def on_lead_created(event, uow, ctx, assign):
    """One event: see on_leads_created. Returns the decision, or None if nothing new happened."""
    def assign_many(items):
        for item in items:
            assign(item["lead_id"], item["assignments"], decision_key=item["decision_key"],
                   channel="rule", reason=item["reason"])
    done = on_leads_created([event], uow, assign_many)
    return done[0] if done else None


def on_leads_created(events, uow, assign_many):
    """A6/A10/C6: run each new lead's rules (its own, else its campaign's, by priority); assign
    through the lead service in bulk.

    Three steps, each safe to repeat: (1) decide the leads not decided before and store
    the decisions, keyed by event (a repeat finds the stored one and takes no second
    round-robin turn); (2) apply them in one RPC, idempotent on the lead side by event
    id; (3) mark them applied, publish assignment.decided and the inbox rows in one
    commit. Returns the decisions of the events that were new (None where no rule ran).
    """
    ids = [event["event_id"] for event in events]
    batch = _Batch(uow)
    with uow:
        # the projection's copy of the new leads (A6-A8) is written here, where the events are read
        # anyway; on_lead_events is not bound to lead.created (topology.LEAD_STATE_CHANGES)
        uow.leads.put_many([_projected(event) for event in events if (event.get("data") or {}).get("id")])
        stored = {d["event_id"]: d for d in uow.decisions.for_events(ids)}
        batch.prefetch_rules([event["data"] for event in events if event["event_id"] not in stored])
        fresh = {}
        for event in events:
            lead, event_id = event["data"], event["event_id"]
            if event_id in stored or event_id in fresh:
                continue
            rules = batch.rules_for(lead)
            if not rules:  # nothing to decide: the lead stays with its owner
                continue
            fresh[event_id] = batch.decide(lead, rules, event_id)
        if fresh:
            added = uow.decisions.add_many(list(fresh.values()))
            stored.update({event_id: decision for event_id, decision in fresh.items() if event_id in added})
            # decided meanwhile by a duplicate of the event: the stored decision stands
            stored.update({d["event_id"]: d for d in uow.decisions.for_events([i for i in fresh if i not in added])})
        uow.commit()
    to_apply = [_assignment(stored[e["event_id"]], e.get("actor_id"), e.get("correlation_id") or e["event_id"])
                for e in events if e["event_id"] in stored and _applicable(stored[e["event_id"]])]
    if to_apply:
        assign_many(to_apply)
    applied = []

    def record(event):
        decision = stored.get(event["event_id"])
        if decision is not None:
            applied.append(event["event_id"])
            _decided_event(uow, decision, event["data"], RequestContext().caused_by(event, "rule"))
    fresh_events = handle_each_once(uow, events, ON_LEAD_CREATED, record, pack=True,
                                    finish=lambda: uow.decisions.mark_applied_many(applied))
    return [stored.get(event["event_id"]) for event in fresh_events]


def _leads(lead_ids, uow, fetch_lead) -> dict:
    """The leads from the projection; those it has not heard of yet from the lead service."""
    with uow:
        found = uow.leads.get_many(lead_ids)
    for lead_id in lead_ids:
        if lead_id not in found:
            found[lead_id] = fetch_lead(lead_id)  # NotFound for a lead the caller may not read
    return found


def apply_rule(rule_id, lead_ids, uow, ctx, fetch_lead, assign_many):
    """A6/A9: run a rule on the caller's leads now. The caller must be allowed to use the rule
    (usable_by) and own or manage every lead (else Forbidden, nothing done). Leads that have
    assignees already, or that this rule matched before, are skipped: a rule never redoes a
    manual assignment, and an edited rule never reassigns a lead it decided."""
    with uow:
        rule = _require(uow.rules.get(rule_id), rule_id)
        if not rule.may_be_used_by(ctx.user_id, ctx.roles):
            raise Forbidden(f"Rule {rule.name!r} is not usable by this user.", {"usable_by": rule.usable_by})
    found = _leads(lead_ids, uow, fetch_lead)
    with uow:
        teams = {u: info["team"] for u, info in uow.users.known({l.get("owner_id") for l in found.values()} - {None}).items()}
        refused = [i for i in lead_ids if not may_manage_lead(found[i], ctx.user_id, ctx.roles, ctx.team, teams)]
        if refused:
            raise Forbidden("Only the owner of a lead, or a manager of it, may run a rule on it.",
                            {"lead_ids": f"Not yours to assign: {', '.join(refused)}."})
        decided_before = uow.decisions.decided_leads(rule.id, lead_ids)
        batch = _Batch(uow)
        result = {"assigned": [], "unmatched": [], "skipped": []}
        decisions = []
        for lead_id in dict.fromkeys(lead_ids):
            lead = found[lead_id]
            if lead.get("assignees") or lead_id in decided_before:
                why = "assigned already" if lead.get("assignees") else "decided by this rule before"
                result["skipped"].append({"lead_id": lead_id, "why": why})
                continue
            decision = batch.decide(lead, [rule], new_id())
            uow.decisions.add(decision)
            decisions.append(decision)
            (result["assigned"] if _applicable(decision) else result["unmatched"]).append(lead_id)
        uow.commit()
    to_apply = [_assignment(d, ctx.user_id, ctx.correlation_id) for d in decisions if _applicable(d)]
    if to_apply:
        assign_many(to_apply)
    with uow:
        uow.pack_events()
        for decision in decisions:
            _decided_event(uow, decision, found[decision["lead_id"]], ctx)
        uow.decisions.mark_applied_many([d["event_id"] for d in decisions])
        uow.commit()
    return result


def preview_rule(rule_id, lead_ids, campaign_id, uow, fetch_lead, limit=10000):
    """A8: which leads the rule would match, which not, and the near misses with why."""
    with uow:
        rule = _require(uow.rules.get(rule_id), rule_id)
        chosen = list(uow.leads.of_campaign(campaign_id, limit)) if campaign_id else []
    if lead_ids:
        found = _leads(lead_ids, uow, fetch_lead)
        chosen += [found[i] for i in dict.fromkeys(lead_ids) if i in found]
    if not lead_ids and not campaign_id:
        raise Invalid("Say which leads to preview.", {"lead_ids": "Send lead_ids or campaign_id."})
    return analysis.preview(rule.condition, chosen)


def lint_rule(rule_id, uow):
    """A8: never matches, always true, shadowed by an earlier rule of one of its campaigns."""
    with uow:
        rule = _require(uow.rules.get(rule_id), rule_id)
        earlier = {}
        for campaign_id in uow.rules.campaigns_of(rule.id):
            ordered = [r for r, _ in uow.rules.rules_for_campaign(campaign_id)]
            index = next(i for i, r in enumerate(ordered) if r.id == rule.id)
            earlier[campaign_id] = [r for r in ordered[:index] if r.active and not r.continues]
    return analysis.lint(rule, earlier)


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


# -- projections ---------------------------------------------------------------------------------------

LEAD_STATE_EVENTS = set(LEAD_STATE_CHANGES)  # lead.created: on_leads_created writes the new lead


def _projected(event) -> tuple:
    """(lead, updated_at, open, deleted) for LeadProjection.put_many from a lead event with a lead id."""
    data = event["data"]
    lead = {k: v for k, v in data.items() if k not in ("changes", "assigned", "recalled")}
    if event["type"] == "lead.deleted":
        at = parse_time(data.get("deleted_at") or event["occurred_at"])
        return {"id": lead["id"], "campaign_id": lead.get("campaign_id"), "owner_id": lead.get("owner_id")}, at, False, True
    at = parse_time(data.get("updated_at") or event["occurred_at"])
    return lead, at, lead.get("status") not in CLOSED_STATUSES, False


def on_lead_events(events, uow):
    """Keep the projection of leads (apply, preview, least_loaded) from the lead events that change
    one; idempotent by event id, and an event older than the stored lead (updated_at) changes
    nothing. The batch is written at once (LeadProjection.put_many)."""
    states = []

    def effect(event):
        if event["type"] in LEAD_STATE_EVENTS and (event.get("data") or {}).get("id"):
            states.append(_projected(event))

    return handle_each_once(uow, events, ON_LEAD_EVENT, effect, finish=lambda: uow.leads.put_many(states))


def on_user_event(event, uow):
    """Users' teams and active flags from the gateway's user.created / user.updated (A7)."""
    data = event.get("data") or {}

    def effect():
        if data.get("id"):
            uow.users.put(data["id"], data.get("team"), bool(data.get("active", True)),
                          parse_time(event["occurred_at"]))
    return handle_once(uow, event, ON_USER_EVENT, effect)
