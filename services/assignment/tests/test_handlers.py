"""Assignment use cases against the fake unit of work (STYLE idiom 8): rules (A1-A3, A6) and the
decision on every new lead (A7, A8, A10), each step safe to repeat."""
import pytest

from crmkit import envelope
from crmkit.errors import Invalid, NotFound
from assignment import handlers

SHANGHAI = {"field": "company.city", "op": "eq", "value": "Shanghai"}
SALES = [{"user_id": "s1", "permissions": {"contact": "edit", "company": "edit", "need": "read"}},
         {"user_id": "s2", "permissions": {"contact": "edit", "company": "edit", "need": "edit"}}]


def make_rule(uow, ctx, **cmd):
    cmd = {"name": "Shanghai leads", "condition": SHANGHAI, "recipients": SALES, **cmd}
    return handlers.create_rule(cmd, uow, ctx)


def fetch_campaign(campaign_id):
    if campaign_id == "NOPE":
        raise NotFound("no such campaign")
    return {"id": campaign_id}


def attached(uow, ctx, campaign_id="C1", **cmd):
    rule = make_rule(uow, ctx, **cmd)
    handlers.set_campaign_rule(campaign_id, rule["id"], uow, ctx, fetch_campaign)
    return rule


def lead_created(lead_id="L1", city="ShangHai", campaign_id="C1", event_id=None, rule_id=None):
    data = {"id": lead_id, "campaign_id": campaign_id, "owner_id": "owner1", "status": "raw",
            "contact": {"name": "张伟"}, "company": {"city": city}, "need": {}, "tags": []}
    if rule_id:
        data["rule_id"] = rule_id
    event = envelope.new_event("lead.created", data, actor_id="owner1", correlation_id="req-9")
    if event_id:
        event["event_id"] = event_id
    return event


# -- rules ----------------------------------------------------------------------------------------------

def test_a_rule_is_stored_with_its_canonical_condition_and_readable_text_A1_A5(uow, manager):
    rule = make_rule(uow, manager, condition={"any": [{"op": "empty", "field": "company.city", "value": 1},
                                                      SHANGHAI]}, description="East team")

    assert rule["condition"] == {"any": [{"field": "company.city", "op": "empty"}, SHANGHAI]}
    assert rule["condition_text"] == 'company.city is empty or company.city = "Shanghai"'
    assert (rule["active"], rule["distribution"], rule["version"]) == (True, "all", 1)
    assert handlers.get_rule(rule["id"], uow) == rule
    [event] = uow.published("assignment.rule_created")
    assert event["data"]["id"] == rule["id"] and event["actor_id"] == "mgr1"


def test_a_rule_without_a_condition_is_invalid_A3(uow, manager):
    with pytest.raises(Invalid) as caught:
        make_rule(uow, manager, condition=None)

    assert "condition" in caught.value.details
    assert uow.published() == []


def test_a_bad_condition_is_refused_with_its_path_and_nothing_is_stored_A5(uow, manager):
    with pytest.raises(Invalid) as caught:
        make_rule(uow, manager, condition={"any": [SHANGHAI, {"field": "company.city", "op": "like", "value": 1}]})

    assert list(caught.value.details) == ["condition.any.1.op"]
    assert handlers.list_rules(uow)["items"] == []


def test_an_unknown_rule_is_not_found(uow):
    with pytest.raises(NotFound):
        handlers.get_rule("nope", uow)


def test_rules_are_listed_newest_first_a_page_at_a_time(uow, manager):
    ids = [make_rule(uow, manager, name=f"r{n}")["id"] for n in range(3)]

    first = handlers.list_rules(uow, limit=2)
    second = handlers.list_rules(uow, limit=2, cursor=first["next_cursor"])

    assert [r["id"] for r in first["items"] + second["items"]] == sorted(ids, reverse=True)
    assert second["next_cursor"] is None


def test_a_rule_is_attached_to_a_campaign_that_exists_A6(uow, manager):
    rule = make_rule(uow, manager)

    assert handlers.set_campaign_rule("C1", rule["id"], uow, manager, fetch_campaign) == \
        {"campaign_id": "C1", "rule_id": rule["id"]}
    assert uow.published("assignment.rule_attached")[0]["data"] == {"campaign_id": "C1", "rule_id": rule["id"]}
    with pytest.raises(NotFound):
        handlers.set_campaign_rule("NOPE", rule["id"], uow, manager, fetch_campaign)
    with pytest.raises(NotFound):
        handlers.set_campaign_rule("C1", "no-rule", uow, manager, fetch_campaign)


# -- deciding on a new lead (A6, A7, A8, A10) -----------------------------------------------------------------

def test_a_new_lead_that_matches_is_assigned_once_keyed_by_its_event_A6_A10(uow, manager, assign):
    attached(uow, manager)
    event = lead_created()

    decision = handlers.on_lead_created(event, uow, manager, assign)

    assert decision["matched"] is True
    assert assign.calls == [{"lead_id": "L1", "assignments": SALES, "decision_key": event["event_id"],
                             "channel": "rule", "reason": decision["reason"]}]
    assert "Shanghai leads" in decision["reason"] and "ShangHai" in decision["reason"]


def test_the_decision_is_logged_and_published_with_the_rule_that_took_it_A10(uow, manager, assign):
    rule = attached(uow, manager)

    handlers.on_lead_created(lead_created(), uow, manager, assign)

    [event] = uow.published("assignment.decided")
    assert event["data"]["lead_id"] == "L1"
    assert event["data"]["campaign_id"] == "C1"
    assert (event["data"]["rule_id"], event["data"]["rule_version"]) == (rule["id"], 1)
    assert event["data"]["matched"] is True
    assert [r["user_id"] for r in event["data"]["recipients"]] == ["s1", "s2"]
    [entry] = handlers.get_assignment_log("L1", uow)["items"]
    assert (entry["rule_id"], entry["matched"]) == (rule["id"], True)
    assert entry["conditions"] == [{**SHANGHAI, "actual": "ShangHai", "result": True}]
    assert entry["at"].endswith("Z")
    assert uow.state["decisions"][0]["state"] == "applied"


def test_the_same_event_delivered_again_does_nothing(uow, manager, assign):
    attached(uow, manager)
    event = lead_created()
    handlers.on_lead_created(event, uow, manager, assign)

    assert handlers.on_lead_created(event, uow, manager, assign) is None

    assert len(assign.calls) == 1
    assert len(uow.published("assignment.decided")) == 1
    assert len(handlers.get_assignment_log("L1", uow)["items"]) == 1


def test_a_failed_assignment_is_retried_with_the_same_decision_and_key_A10(uow, manager, assign):
    attached(uow, manager, distribution="round_robin")
    assign.fail_times = 1
    event = lead_created()

    with pytest.raises(TimeoutError):
        handlers.on_lead_created(event, uow, manager, assign)
    assert uow.published("assignment.decided") == []

    handlers.on_lead_created(event, uow, manager, assign)  # the consumer's retry
    later = lead_created("L2")
    handlers.on_lead_created(later, uow, manager, assign)

    # the retry re-applies the stored decision: same recipient, same key, no extra round-robin turn
    assert [(c["lead_id"], c["assignments"][0]["user_id"], c["decision_key"]) for c in assign.calls] == [
        ("L1", "s1", event["event_id"]), ("L1", "s1", event["event_id"]), ("L2", "s2", later["event_id"])]
    assert len(uow.published("assignment.decided")) == 2


def test_round_robin_alternates_between_recipients_A7(uow, manager, assign):
    attached(uow, manager, distribution="round_robin")

    for n in range(5):
        handlers.on_lead_created(lead_created(f"L{n}"), uow, manager, assign)

    assert [c["assignments"][0]["user_id"] for c in assign.calls] == ["s1", "s2", "s1", "s2", "s1"]
    assert all(len(c["assignments"]) == 1 for c in assign.calls)
    reasons = [d["reason"] for d in uow.state["decisions"]]
    assert reasons[1].endswith("round robin chose s2")


def test_a_lead_the_rule_misses_stays_with_its_owner_and_the_miss_is_logged_A8_A10(uow, manager, assign):
    attached(uow, manager)

    decision = handlers.on_lead_created(lead_created(city="Beijing"), uow, manager, assign)

    assert decision["matched"] is False
    assert assign.calls == []
    [event] = uow.published("assignment.decided")
    assert (event["data"]["matched"], event["data"]["recipients"]) == (False, [])
    assert "not matched" in event["data"]["reason"] and "Beijing" in event["data"]["reason"]


def test_a_switched_off_rule_assigns_nobody_and_says_so_A1(uow, manager, assign):
    attached(uow, manager, active=False)

    decision = handlers.on_lead_created(lead_created(), uow, manager, assign)

    assert decision["matched"] is False
    assert assign.calls == []
    assert "switched off" in decision["reason"]


def test_a_lead_that_names_its_own_rule_runs_that_rule_not_the_campaigns_C6(uow, manager, assign):
    attached(uow, manager, name="campaign rule", condition={"field": "company.city", "op": "eq", "value": "Beijing"})
    own = make_rule(uow, manager, name="web form rule", recipients=SALES[1:])

    decision = handlers.on_lead_created(lead_created(rule_id=own["id"]), uow, manager, assign)

    assert (decision["rule_id"], decision["matched"]) == (own["id"], True)
    assert [c["assignments"] for c in assign.calls] == [SALES[1:]]


def test_a_leads_own_rule_works_without_a_campaign_rule_or_campaign_C6(uow, manager, assign):
    own = make_rule(uow, manager)

    decisions = [handlers.on_lead_created(lead_created(f"L{n}", campaign_id=campaign_id, rule_id=own["id"]),
                                          uow, manager, assign)
                 for n, campaign_id in enumerate(["C-without-rule", None])]

    assert [d["rule_id"] for d in decisions] == [own["id"], own["id"]]
    assert [c["lead_id"] for c in assign.calls] == ["L0", "L1"]


def test_a_lead_whose_own_rule_is_unknown_falls_back_to_the_campaigns_C6(uow, manager, assign):
    rule = attached(uow, manager)

    decision = handlers.on_lead_created(lead_created(rule_id="gone"), uow, manager, assign)

    assert decision["rule_id"] == rule["id"]


@pytest.mark.parametrize("campaign_id", [None, "C-without-rule"])
def test_no_rule_means_no_decision_and_the_event_is_still_handled_once(uow, manager, assign, campaign_id):
    attached(uow, manager, campaign_id="C1")
    event = lead_created(campaign_id=campaign_id)

    assert handlers.on_lead_created(event, uow, manager, assign) is None

    assert assign.calls == []
    assert uow.state["decisions"] == []
    assert uow.published("assignment.decided") == []
    assert (event["event_id"], handlers.ON_LEAD_CREATED) in uow.inbox


def test_a_new_rule_attached_to_the_campaign_decides_for_the_leads_after_it_A6(uow, manager, assign):
    attached(uow, manager, name="first", condition={"field": "company.city", "op": "eq", "value": "Beijing"})
    handlers.on_lead_created(lead_created("L1"), uow, manager, assign)
    second = attached(uow, manager, name="second")

    handlers.on_lead_created(lead_created("L2"), uow, manager, assign)

    assert [c["lead_id"] for c in assign.calls] == ["L2"]
    assert handlers.get_assignment_log("L2", uow)["items"][0]["rule_id"] == second["id"]


def test_the_assignment_log_is_read_oldest_first_a_page_at_a_time_A10(uow, manager, assign):
    attached(uow, manager)
    for n in range(3):  # the same lead seen by three events, e.g. replays of different rules
        handlers.on_lead_created(lead_created("L1", event_id=f"ev{n}"), uow, manager, assign)

    first = handlers.get_assignment_log("L1", uow, limit=2)
    rest = handlers.get_assignment_log("L1", uow, limit=2, cursor=first["next_cursor"])

    assert len(first["items"]) == 2 and len(rest["items"]) == 1
    assert rest["next_cursor"] is None
    assert handlers.get_assignment_log("other", uow)["items"] == []
