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
        assert any_uow.rules.rule_for_campaign("C1") is None


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


def test_a_campaign_has_one_rule_and_attaching_another_replaces_it_A6(any_uow):
    add(any_uow, a_rule("R1"), a_rule("R2"))

    with any_uow:
        any_uow.rules.attach("C1", "R1", "mgr1", T0)
        any_uow.commit()
    with any_uow:
        first = any_uow.rules.rule_for_campaign("C1").id
        any_uow.rules.attach("C1", "R2", "mgr1", T0)
        any_uow.commit()
    with any_uow:
        assert (first, any_uow.rules.rule_for_campaign("C1").id) == ("R1", "R2")
        assert any_uow.rules.rule_for_campaign("C2") is None


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
