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


# -- the rules engine: text, several rules, distribution, apply, projections (A1-A10) ---------------

from datetime import datetime, timezone  # noqa: E402

from crmkit.context import RequestContext  # noqa: E402
from crmkit.errors import Forbidden  # noqa: E402

T0 = datetime(2024, 5, 1, tzinfo=timezone.utc)


def project(uow, *leads):
    """The leads into the projection as their lead.created does (on_leads_created; no rule runs on
    a lead of no campaign, and one here would assign nothing)."""
    events = [envelope.new_event("lead.created", {"updated_at": "2024-05-01T09:00:00Z", "status": "raw",
                                                  "assignees": [], **lead}) for lead in leads]
    handlers.on_leads_created(events, uow, lambda items: None)


def user_event(uow, user_id, team, active=True, at="2024-05-01T09:00:00Z"):
    event = envelope.new_event("user.updated", {"id": user_id, "team": team, "active": active})
    event["occurred_at"] = at
    handlers.on_user_event(event, uow)


def test_a_rule_written_as_text_is_stored_as_its_tree_and_a_mistake_names_line_and_column_A5(uow, manager):
    rule = make_rule(uow, manager, condition=None, condition_text='region(company) = "沪" and quality >= 60')

    assert rule["condition"] == {"all": [{"field": "company", "op": "region", "value": "沪"},
                                         {"field": "quality", "op": "gte", "value": 60}]}
    assert rule["condition_words"]["zh"] == "单位位于“沪” 并且 质量分不小于60"
    with pytest.raises(Invalid) as caught:
        make_rule(uow, manager, condition=None, condition_text='company.city = "x" or\n   company.town = "y"')
    assert caught.value.details == {"condition_text": "line 2, column 4: Unknown field."}
    with pytest.raises(Invalid) as caught:
        make_rule(uow, manager, condition_text='company.city = "Beijing"')  # SHANGHAI as the tree too
    assert "condition_text" in caught.value.details


def test_a_campaigns_rules_run_by_priority_first_match_wins_unless_it_continues_A6(uow, manager, assign):
    beijing = make_rule(uow, manager, name="beijing", recipients=SALES[1:],
                        condition={"field": "company.city", "op": "eq", "value": "Beijing"})
    broad = make_rule(uow, manager, name="broad", recipients=SALES[:1], continue_=None,
                      condition={"field": "company", "op": "region", "value": "上海"})
    also = make_rule(uow, manager, name="also", recipients=SALES[1:], **{"continue": False})
    handlers.set_campaign_rules("C1", [{"rule_id": also["id"], "priority": 3}, {"rule_id": broad["id"], "priority": 2},
                                       {"rule_id": beijing["id"], "priority": 1}], uow, manager, fetch_campaign)

    first = handlers.on_lead_created(lead_created("L1"), uow, manager, assign)
    handlers.update_rule(broad["id"], {"continue": True}, uow, manager)
    second = handlers.on_lead_created(lead_created("L2"), uow, manager, assign)

    assert (first["rule_id"], [r["user_id"] for r in first["recipients"]]) == (broad["id"], ["s1"])
    assert [r["user_id"] for r in second["recipients"]] == ["s1", "s2"]  # broad continued into also
    assert "rule 'beijing' not matched" in first["reason"]


def test_teams_expand_to_active_members_and_inactive_people_are_skipped_A2_A7(uow, manager, assign):
    for user_id, team, active in [("t1", "华东", True), ("t2", "华东", False), ("t3", "华东", True), ("s1", None, False)]:
        user_event(uow, user_id, team, active)
    attached(uow, manager, recipients=[{"team": "华东", "permissions": SALES[0]["permissions"]}, SALES[0]],
             distribution="round_robin")

    for n in range(3):
        handlers.on_lead_created(lead_created(f"L{n}"), uow, manager, assign)

    assert [c["assignments"][0]["user_id"] for c in assign.calls] == ["t1", "t3", "t1"]
    user_event(uow, "t3", "华北", True, at="2024-05-01T08:00:00Z")  # an older event changes nothing
    assert uow.state["users"]["t3"]["team"] == "华东"


def test_least_loaded_counts_open_leads_from_the_projection_zero_included_A7(uow, manager, assign):
    project(uow, {"id": "P1", "assignees": [{"user_id": "s1"}]}, {"id": "P2", "assignees": [{"user_id": "s1"}]},
            {"id": "P3", "status": "converted", "assignees": [{"user_id": "s2"}]})
    attached(uow, manager, recipients=SALES + [{"user_id": "s3", "permissions": SALES[0]["permissions"]}],
             distribution="least_loaded")

    for n in range(4):
        handlers.on_lead_created(lead_created(f"L{n}"), uow, manager, assign)

    assert [c["assignments"][0]["user_id"] for c in assign.calls] == ["s2", "s3", "s2", "s3"]


def test_weighted_follows_the_weights_with_the_turn_kept_in_the_database_A7(uow, manager, assign):
    attached(uow, manager, distribution="weighted", recipients=[{**SALES[0], "weight": 2}, {**SALES[1], "weight": 1}])

    for n in range(6):
        handlers.on_lead_created(lead_created(f"L{n}"), uow, manager, assign)

    picks = [c["assignments"][0]["user_id"] for c in assign.calls]
    assert (picks.count("s1"), picks.count("s2")) == (4, 2)


def test_the_projection_ignores_an_older_event_and_forgets_a_deleted_lead(uow):
    project(uow, {"id": "L1", "campaign_id": "C1", "company": {"city": "上海"}})
    old = envelope.new_event("lead.updated", {"id": "L1", "campaign_id": "C1", "updated_at": "2024-04-01T00:00:00Z",
                                              "company": {"city": "Beijing"}, "changes": {}})
    handlers.on_lead_events([old, old], uow)
    with uow:
        assert uow.leads.get_many(["L1"])["L1"]["company"]["city"] == "上海"
    handlers.on_lead_events([envelope.new_event("lead.deleted", {"id": "L1", "campaign_id": "C1",
                                                                  "deleted_at": "2024-06-01T00:00:00Z"})], uow)
    with uow:
        assert uow.leads.get_many(["L1"]) == {}


def test_a_new_lead_enters_the_projection_with_its_decision_and_the_projection_queue_skips_lead_created_A6(
        uow, manager):
    """on_leads_created writes the projection's copy of each new lead, matched by a rule or not, in
    the transaction that stores the decisions: lead.created is read once in this service."""
    attached(uow, manager)
    matched, elsewhere = lead_created("L1"), lead_created("L2", campaign_id="C9", city="Beijing")

    applied = []
    handlers.on_leads_created([matched, elsewhere], uow, applied.extend)

    with uow:
        projected = uow.leads.get_many(["L1", "L2"])
    assert {lead_id: lead["company"]["city"] for lead_id, lead in projected.items()} == {
        "L1": "ShangHai", "L2": "Beijing"}
    assert projected["L1"]["contact"]["name"] == "张伟"
    assert [item["lead_id"] for item in applied] == ["L1"]
    # a lead.created reaching the projection's own handler (a binding an older release made) changes nothing
    stale = lead_created("L3")
    assert handlers.on_lead_events([stale], uow) == [stale]
    with uow:
        assert uow.leads.get_many(["L3"]) == {}


def _apply(uow, ctx, rule_id, lead_ids, fetched=(), assign_many=None):
    calls = []

    def fetch(lead_id):
        if lead_id not in dict(fetched):
            raise NotFound("no such lead")
        return dict(fetched)[lead_id]
    result = handlers.apply_rule(rule_id, lead_ids, uow, ctx, fetch, assign_many or calls.extend)
    return result, calls


def test_apply_needs_usable_by_and_ownership_and_never_redoes_a_decision_or_a_manual_assignment_A6_A9(uow, manager):
    owner = RequestContext(user_id="o1", roles=("market_manager",), team="华东")
    stranger = RequestContext(user_id="x1", roles=("marketing_member",))
    rule = make_rule(uow, manager, usable_by=["o1"])
    project(uow, {"id": "A", "owner_id": "o1", "company": {"city": "上海"}},
            {"id": "B", "owner_id": "o1", "company": {"city": "Shanghai"}},
            {"id": "C", "owner_id": "o1", "company": {"city": "Beijing"}},
            {"id": "M", "owner_id": "o1", "company": {"city": "Shanghai"}, "assignees": [{"user_id": "s9"}]},
            {"id": "Z", "owner_id": "z1", "company": {"city": "Shanghai"}})

    with pytest.raises(Forbidden):
        _apply(uow, stranger, rule["id"], ["A"])
    with pytest.raises(Forbidden):
        _apply(uow, owner, rule["id"], ["B", "Z"])
    result, calls = _apply(uow, owner, rule["id"], ["A", "B", "C", "M"])
    handlers.update_rule(rule["id"], {"recipients": SALES[1:]}, uow, manager)
    again, more = _apply(uow, owner, rule["id"], ["B"])
    fetched, _ = _apply(uow, owner, rule["id"], ["N"], fetched=[("N", {"id": "N", "owner_id": "o1",
                                                                       "company": {"city": "shanghai"}})])

    assert (result["assigned"], result["unmatched"]) == (["B"], ["A", "C"])  # eq does not fold 上海
    assert result["skipped"] == [{"lead_id": "M", "why": "assigned already"}]
    assert [c["lead_id"] for c in calls] == ["B"] and calls[0]["assignments"] == SALES
    assert (again["assigned"], again["skipped"], more) == ([], [{"lead_id": "B", "why": "decided by this rule before"}],
                                                           [])
    assert fetched["assigned"] == ["N"]
    assert [d["matched"] for d in uow.state["decisions"]] == [False, True, False, True]
    assert len(uow.published("assignment.decided")) == 4
    with pytest.raises(NotFound):
        _apply(uow, owner, rule["id"], ["unknown"])


def test_preview_and_lint_read_the_campaigns_leads_and_rules_A8(uow, manager):
    rule = attached(uow, manager)
    project(uow, {"id": "A", "campaign_id": "C1", "company": {"city": "Shanghai"}},
            {"id": "B", "campaign_id": "C1", "company": {"phone": "021-62991640"}})

    result = handlers.preview_rule(rule["id"], None, "C1", uow, lambda i: None)
    broad = make_rule(uow, manager, name="broad", condition={"field": "company", "op": "region", "value": "上海"})
    handlers.set_campaign_rules("C1", [{"rule_id": broad["id"]}, {"rule_id": rule["id"]}], uow, manager, fetch_campaign)

    assert (result["matched"], result["unmatched"]) == (["A"], ["B"])
    assert result["near_misses"][0]["lead_id"] == "B"
    assert [f["kind"] for f in handlers.lint_rule(rule["id"], uow)["findings"]] == ["shadowed"]
    with pytest.raises(Invalid):
        handlers.preview_rule(rule["id"], None, None, uow, lambda i: None)


def test_a_deleted_rule_is_gone_and_leaves_its_campaign(uow, manager, assign):
    rule = attached(uow, manager)

    handlers.delete_rule(rule["id"], uow, manager)

    with pytest.raises(NotFound):
        handlers.get_rule(rule["id"], uow)
    assert handlers.get_campaign_rules("C1", uow)["items"] == []
    assert handlers.on_lead_created(lead_created(), uow, manager, assign) is None
