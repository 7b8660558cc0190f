"""One contract, two implementations (STYLE idioms 8, 9): the fake and the SQLAlchemy rule and
decision repositories on an Alembic-built SQLite database behave the same."""
from datetime import datetime, timezone

from crmkit import envelope
from crmkit.context import RequestContext
from crmkit.envelope import iso
from assignment import handlers
from assignment.model import Rule

T0 = datetime(2024, 5, 1, 9, 0, 0, 250000, tzinfo=timezone.utc)
CTX = RequestContext(user_id="mgr1")
SHANGHAI = {"field": "company.city", "op": "eq", "value": "上海"}
SALES = [{"user_id": "s1", "permissions": {"contact": "edit", "company": "read", "need": "edit"}},
         {"user_id": "s2", "permissions": {"contact": "edit", "company": "edit", "need": "edit"}}]


def a_rule(rule_id="R1", **kw):
    return Rule(id=rule_id, name=kw.pop("name", "上海 leads"), condition=kw.pop("condition", SHANGHAI),
                recipients=kw.pop("recipients", SALES), created_at=T0, updated_at=T0, **kw)


def add(uow, *rules):
    with uow:
        for rule in rules:
            uow.rules.add(rule)
        uow.commit()


def a_decision(event_id, lead_id="L1", matched=True):
    return {"event_id": event_id, "lead_id": lead_id, "rule_id": "R1", "rule_version": 1, "matched": matched,
            "recipients": SALES[:1] if matched else [], "reason": "rule '上海 leads' matched",
            "leaves": [{**SHANGHAI, "actual": "上海", "result": True}], "state": "pending", "at": T0}


def test_a_stored_rule_comes_back_as_it_was(any_uow):
    rule = a_rule(description="东区", distribution="round_robin", active=False, usable_by=["u1", "u2"],
                  created_by="mgr1")
    add(any_uow, rule)

    with any_uow:
        loaded = any_uow.rules.get("R1")

    assert handlers.rule_dict(loaded) == handlers.rule_dict(rule)
    assert (loaded.created_by, loaded.active) == ("mgr1", False)


def test_an_unknown_rule_is_none(any_uow):
    with any_uow:
        assert any_uow.rules.get("nope") is None
        assert any_uow.rules.rules_for_campaign("C1") == []


def test_rules_are_listed_newest_first_after_a_cursor(any_uow):
    add(any_uow, *[a_rule(f"R{n}") for n in range(4)])

    with any_uow:
        assert [r.id for r in any_uow.rules.list(2, None)] == ["R3", "R2", "R1"]
        assert [r.id for r in any_uow.rules.list(2, "R2")] == ["R1", "R0"]


def test_round_robin_turns_count_up_per_rule_and_survive_the_commit_A7(any_uow):
    add(any_uow, a_rule("R1"), a_rule("R2"))

    with any_uow:
        turns = [any_uow.rules.take_turn("R1") for _ in range(3)]
        other = any_uow.rules.take_turn("R2")
        any_uow.commit()
    with any_uow:
        after = any_uow.rules.take_turn("R1")

    assert turns == [0, 1, 2]
    assert other == 0
    assert after == 3


def test_a_turn_taken_in_a_rolled_back_transaction_is_given_again(any_uow):
    add(any_uow, a_rule("R1"))

    with any_uow:
        any_uow.rules.take_turn("R1")
    with any_uow:
        assert any_uow.rules.take_turn("R1") == 0


def test_a_campaigns_rules_come_in_priority_order_and_a_new_list_replaces_the_old_A6(any_uow):
    add(any_uow, a_rule("R1"), a_rule("R2"), a_rule("R3", continues=True))

    with any_uow:
        any_uow.rules.set_campaign_rules("C1", [("R1", 5), ("R3", 1)], "mgr1", T0)
        any_uow.rules.set_campaign_rules("C2", [("R1", 0)], "mgr1", T0)
        any_uow.commit()
    with any_uow:
        first = [(r.id, p, r.continues) for r, p in any_uow.rules.rules_for_campaign("C1")]
        any_uow.rules.set_campaign_rules("C1", [("R2", 0)], "mgr1", T0)
        any_uow.commit()
    with any_uow:
        assert first == [("R3", 1, True), ("R1", 5, False)]
        many = any_uow.rules.rules_for_campaigns(["C1", "C2", "C3"])  # one query, same answers
        assert {c: [(r.id, p) for r, p in entries] for c, entries in many.items()} == {
            "C1": [("R2", 0)], "C2": [("R1", 0)], "C3": []}
        assert [r.id for r, _ in any_uow.rules.rules_for_campaign("C1")] == ["R2"]
        assert any_uow.rules.campaigns_of("R1") == ["C2"]
        assert any_uow.rules.rules_for_campaign("C3") == []


def test_an_edited_rule_keeps_its_turn_and_a_deleted_one_leaves_its_campaigns(any_uow):
    add(any_uow, a_rule("R1"))
    with any_uow:
        any_uow.rules.set_campaign_rules("C1", [("R1", 0)], "mgr1", T0)
        any_uow.rules.take_turn("R1")
        rule = any_uow.rules.get("R1")
        rule.version, rule.name = 2, "renamed"
        any_uow.rules.update(rule)
        any_uow.commit()
    with any_uow:
        assert (any_uow.rules.get("R1").version, any_uow.rules.get("R1").name) == (2, "renamed")
        assert any_uow.rules.take_turn("R1") == 1
        any_uow.rules.delete("R1", T0)
        any_uow.commit()
    with any_uow:
        assert any_uow.rules.get("R1") is None
        assert any_uow.rules.rules_for_campaign("C1") == []
        assert any_uow.rules.list(10, None) == []


def test_the_lead_projection_keeps_the_newest_lead_and_counts_open_leads_per_person_A7(any_uow):
    later = T0.replace(hour=10)
    lead = {"id": "L1", "campaign_id": "C1", "owner_id": "o1", "assignees": [{"user_id": "s1"}]}
    with any_uow:
        assert any_uow.leads.put({**lead, "status": "raw"}, later, True)
        assert not any_uow.leads.put({**lead, "status": "old", "assignees": []}, T0, True)  # older: ignored
        any_uow.leads.put({"id": "L2", "campaign_id": "C1", "assignees": [{"user_id": "s1"}]}, T0, False)
        any_uow.leads.put({"id": "L3", "campaign_id": "C2", "assignees": [{"user_id": "s2"}]}, T0, True)
        any_uow.commit()
    with any_uow:
        assert any_uow.leads.get_many(["L1", "nope"])["L1"]["status"] == "raw"
        assert [l["id"] for l in any_uow.leads.of_campaign("C1", 10)] == ["L1", "L2"]
        assert any_uow.leads.open_load(["s1", "s2", "s3"]) == {"s1": 1, "s2": 1, "s3": 0}
        any_uow.leads.put({"id": "L3", "campaign_id": "C2"}, later, False, deleted=True)
        any_uow.commit()
    with any_uow:
        assert any_uow.leads.get_many(["L3"]) == {}
        assert not any_uow.leads.put({"id": "L3", "campaign_id": "C2"}, later.replace(hour=11), True)


def test_the_lead_projection_takes_a_batch_in_order_as_one_put_after_another_A7(any_uow):
    later, latest = T0.replace(hour=10), T0.replace(hour=11)
    with any_uow:
        any_uow.leads.put({"id": "L1", "campaign_id": "C1", "status": "raw", "assignees": []}, later, True)
        any_uow.commit()
    with any_uow:
        changed = any_uow.leads.put_many([
            ({"id": "L1", "campaign_id": "C1", "status": "old", "assignees": []}, T0, True, False),  # older: ignored
            ({"id": "L2", "campaign_id": "C1", "status": "raw", "assignees": []}, T0, True, False),
            ({"id": "L2", "campaign_id": "C1", "status": "raw", "assignees": [{"user_id": "s1"}]}, later, True, False),
            ({"id": "L2", "campaign_id": "C1", "status": "gone", "assignees": []}, T0, True, False),  # older than the one before
            ({"id": "L1", "campaign_id": "C1", "status": "usable", "assignees": [{"user_id": "s2"}]}, latest, True, False),
            ({"id": "L3", "campaign_id": "C2"}, T0, False, True),
            ({"id": "L3", "campaign_id": "C2", "status": "raw"}, later, True, False),  # deleted stays deleted
        ])
        any_uow.commit()
    assert sorted(changed) == ["L1", "L2", "L3"]
    with any_uow:
        found = any_uow.leads.get_many(["L1", "L2", "L3"])
        assert (found["L1"]["status"], found["L2"]["assignees"]) == ("usable", [{"user_id": "s1"}])
        assert "L3" not in found
        assert any_uow.leads.open_load(["s1", "s2"]) == {"s1": 1, "s2": 1}


def test_the_user_directory_knows_teams_and_who_is_active_A7(any_uow):
    with any_uow:
        any_uow.users.put("u1", "华东", True, T0)
        any_uow.users.put("u2", "华东", False, T0)
        any_uow.users.put("u3", "华东", True, T0)
        any_uow.users.put("u3", "华北", True, T0.replace(hour=8))  # older: ignored
        any_uow.commit()
    with any_uow:
        assert any_uow.users.active_members("华东") == ["u1", "u3"]
        assert any_uow.users.known(["u2", "zz"]) == {"u2": {"team": "华东", "active": False}}


def test_the_leads_a_rule_matched_before_are_known_A6(any_uow):
    with any_uow:
        any_uow.decisions.add(a_decision("ev1", "L1"))
        any_uow.decisions.add(a_decision("ev2", "L2", matched=False))
        any_uow.commit()
    with any_uow:
        assert any_uow.decisions.decided_leads("R1", ["L1", "L2", "L3"]) == {"L1"}


def test_a_decision_is_found_by_its_event_and_marked_applied_A10(any_uow):
    with any_uow:
        any_uow.decisions.add(a_decision("ev1"))
        any_uow.commit()
    with any_uow:
        pending = any_uow.decisions.for_event("ev1")
        any_uow.decisions.mark_applied("ev1")
        any_uow.commit()
    with any_uow:
        applied = any_uow.decisions.for_event("ev1")
        missing = any_uow.decisions.for_event("ev2")

    assert pending["state"] == "pending"
    assert applied["state"] == "applied"
    assert missing is None
    for key in ("event_id", "lead_id", "rule_id", "rule_version", "matched", "recipients", "leaves", "reason"):
        assert applied[key] == a_decision("ev1")[key], key
    assert iso(applied["at"]) == iso(T0)


def test_a_leads_decisions_are_read_oldest_first_after_a_cursor_A10(any_uow):
    with any_uow:
        for n in range(3):
            any_uow.decisions.add(a_decision(f"ev{n}", matched=n != 1))
        any_uow.decisions.add(a_decision("other", lead_id="L2"))
        any_uow.commit()

    with any_uow:
        rows = any_uow.decisions.for_lead("L1", 10, None)
        after = any_uow.decisions.for_lead("L1", 10, rows[0]["id"])

    assert [r["event_id"] for r in rows] == ["ev0", "ev1", "ev2"]
    assert [bool(r["matched"]) for r in rows] == [True, False, True]
    assert [r["event_id"] for r in after] == ["ev1", "ev2"]


def test_what_is_not_committed_is_not_stored(any_uow):
    with any_uow:
        any_uow.rules.add(a_rule("R1"))
        any_uow.decisions.add(a_decision("ev1"))
        any_uow.emit("assignment.rule_created", {"id": "R1"}, CTX)

    with any_uow:
        assert any_uow.rules.get("R1") is None
        assert any_uow.decisions.for_event("ev1") is None
    assert any_uow.published() == []


def test_a_rule_decides_round_robin_once_per_event_the_same_way_on_both_A7_A10(any_uow):
    calls = []
    rule = handlers.create_rule({"name": "rr", "condition": SHANGHAI, "recipients": SALES,
                                 "distribution": "round_robin"}, any_uow, CTX)
    handlers.set_campaign_rule("C1", rule["id"], any_uow, CTX, lambda cid: {"id": cid})
    events = [envelope.new_event("lead.created", {"id": f"L{n}", "campaign_id": "C1",
                                                  "company": {"city": " 上海 "}}) for n in range(3)]

    for event in events + events[:1]:
        handlers.on_lead_created(event, any_uow, CTX, lambda lead_id, rec, **kw: calls.append(
            (lead_id, rec[0]["user_id"], kw["decision_key"])))

    assert calls == [("L0", "s1", events[0]["event_id"]), ("L1", "s2", events[1]["event_id"]),
                     ("L2", "s1", events[2]["event_id"])]
    assert [e["type"] for e in any_uow.published()] == \
        ["assignment.rule_created", "assignment.rule_attached"] + ["assignment.decided"] * 3
    log = handlers.get_assignment_log("L1", any_uow)["items"]
    assert [(d["rule_id"], d["matched"], d["recipients"][0]["user_id"]) for d in log] == [(rule["id"], True, "s2")]
