"""One contract, two implementations (STYLE idioms 8, 9): the fake and the SQLAlchemy repository on
an Alembic-built SQLite database must behave the same."""
from datetime import datetime, timedelta, timezone

import pytest

from crmkit.context import RequestContext
from crmkit.envelope import iso, new_id
from lead import handlers
from lead.model import IntakeRoute, KnownCampaign, Lead

READER = RequestContext(user_id="admin1", roles=("admin",))  # reads everything (L4)

T0 = datetime(2024, 5, 1, 9, 0, 0, 123456, tzinfo=timezone.utc)
CTX = RequestContext(user_id="u1", channel="import", reason="trade show")


def a_lead(lead_id=None, **kw):
    kw.setdefault("contact", {"name": "Zhang Wei", "email": "zhang@acme.cn", "mobile": "13800138000"})
    kw.setdefault("company", {"name": "ACME 上海", "city": "Shanghai"})
    return Lead.create(id=lead_id or new_id(), now=kw.pop("now", T0), owner_id=kw.pop("owner_id", "owner1"), **kw)


def add(uow, *leads):
    with uow:
        for lead in leads:
            uow.leads.add(lead)
        uow.commit()


def test_a_stored_lead_comes_back_as_it_was(any_uow):
    lead = a_lead(campaign_id="C1", pool_id="P1", source="trade_show", tags=["vip", "expo"],
                  need={"description": "10 forklifts", "budget": "50万"}, request_key="k1")
    lead.assign("sales1", {"need": "read"}, T0)
    add(any_uow, lead)

    with any_uow:
        loaded = any_uow.leads.get(lead.id)

    assert loaded.to_dict() == lead.to_dict()
    assert loaded.request_key == "k1"


def test_an_unknown_lead_is_none(any_uow):
    with any_uow:
        assert any_uow.leads.get("nope") is None
        assert any_uow.leads.by_request_key("nope") is None


def test_a_lead_is_found_by_its_request_key(any_uow):
    lead = a_lead(request_key="u1:abc")
    add(any_uow, a_lead(request_key="u1:other"), lead)

    with any_uow:
        assert any_uow.leads.by_request_key("u1:abc").id == lead.id


def test_what_is_not_committed_is_not_stored(any_uow):
    lead = a_lead()
    with any_uow:
        any_uow.leads.add(lead)
        any_uow.emit("lead.created", lead.to_dict(), CTX)

    with any_uow:
        assert any_uow.leads.get(lead.id) is None
    assert any_uow.published() == []


def test_changing_a_loaded_lead_without_saving_it_changes_nothing(any_uow):
    lead = a_lead()
    add(any_uow, lead)

    with any_uow:
        loaded = any_uow.leads.get(lead.id)
        loaded.contact["name"] = "Someone else"
        loaded.assign("sales1", None, T0)
        any_uow.commit()

    with any_uow:
        again = any_uow.leads.get(lead.id)
    assert again.contact["name"] == "Zhang Wei"
    assert again.assignees == {}


def test_saving_the_changed_assignees_writes_them_and_moves_updated_at(any_uow):
    lead = a_lead()
    lead.assign("sales1", None, T0)
    add(any_uow, lead)
    later = T0 + timedelta(minutes=5)

    with any_uow:
        loaded = any_uow.leads.get(lead.id)
        del loaded.assignees["sales1"]
        loaded.assign("sales2", {"contact": "read"}, later)
        any_uow.leads.save_assignees(loaded, ["sales1", "sales2"], later, "owner1")
        any_uow.commit()

    with any_uow:
        saved = any_uow.leads.get(lead.id)
    assert saved.assignees == {"sales2": {"contact": "read", "company": "edit", "need": "edit"}}
    assert iso(saved.updated_at) == iso(later)
    assert iso(saved.created_at) == iso(T0)


def test_leads_are_listed_newest_first_and_continue_after_a_cursor(any_uow):
    leads = [a_lead(f"0000{n}") for n in range(5)]
    add(any_uow, *leads)

    with any_uow:
        first = any_uow.leads.list({}, 2, None)
        rest = any_uow.leads.list({}, 2, "00003")

    assert [l.id for l in first] == ["00004", "00003", "00002"]  # limit + 1 tells there is more
    assert [l.id for l in rest] == ["00002", "00001", "00000"]


@pytest.mark.parametrize("filters, expected", [
    ({"campaign_id": "C1"}, {"a", "b"}),
    ({"status": "raw"}, {"a", "b", "c"}),
    ({"owner_id": "owner2"}, {"c"}),
    ({"pool_id": "P1"}, {"b"}),
    ({"source": "web_form"}, {"c"}),
    ({"assignee_id": "sales1"}, {"a"}),
    ({"tag": "vip"}, {"b"}),
    ({"q": "acme"}, {"a"}),
    ({"q": "王"}, {"c"}),
    ({"q": "13900"}, {"b"}),
    ({"campaign_id": "C1", "pool_id": "P1"}, {"b"}),
    ({"campaign_id": "C9"}, set()),
])
def test_leads_are_filtered_as_api_md_lists(any_uow, filters, expected):
    a = a_lead("a", campaign_id="C1", company={"name": "ACME Ltd"})
    a.assign("sales1", None, T0)
    b = a_lead("b", campaign_id="C1", pool_id="P1", tags=["vip"], contact={"name": "Li", "mobile": "13900001111"},
               company={"name": "Globex"})
    c = a_lead("c", owner_id="owner2", source="web_form", contact={"name": "王芳"}, company={"name": "Initech"})
    add(any_uow, a, b, c)

    with any_uow:
        found = {l.id for l in any_uow.leads.list(filters, 50, None)}

    assert found == expected


def test_history_is_kept_oldest_first_with_who_how_and_why_L15(any_uow):
    lead = a_lead()
    add(any_uow, lead)

    with any_uow:
        any_uow.history.record(lead.id, T0, CTX, "created", {"contact.name": {"from": None, "to": "张伟"}})
        any_uow.history.record(lead.id, T0 + timedelta(seconds=1), CTX, "assigned", {"x": 1}, reason="by hand")
        any_uow.history.record("other", T0, CTX, "created", {})
        any_uow.commit()

    with any_uow:
        rows = any_uow.history.list(lead.id, 10, None)
        after_first = any_uow.history.list(lead.id, 10, rows[0]["id"])

    assert [r["action"] for r in rows] == ["created", "assigned"]
    assert [(r["actor_id"], r["channel"], r["reason"]) for r in rows] == \
        [("u1", "import", "trade show"), ("u1", "import", "by hand")]
    assert '"张伟"' in rows[0]["changes"]  # JSON text, Chinese kept readable
    assert iso(rows[0]["at"]) == iso(T0)
    assert [r["action"] for r in after_first] == ["assigned"]


def test_the_known_campaigns_are_upserted(any_uow):
    with any_uow:
        any_uow.campaigns.put(KnownCampaign("C1", "active", False), T0)
        any_uow.commit()
    with any_uow:
        any_uow.campaigns.put(KnownCampaign("C1", "completed", True), T0)
        any_uow.commit()

    with any_uow:
        assert any_uow.campaigns.get("C1") == KnownCampaign("C1", "completed", True)
        assert any_uow.campaigns.get("C2") is None


def test_committed_events_are_published_in_order(any_uow):
    with any_uow:
        any_uow.emit("lead.created", {"id": "a"}, CTX)
        any_uow.emit("lead.assigned", {"id": "a"}, CTX)
        any_uow.commit()

    assert [(e["type"], e["data"]["id"], e["actor_id"]) for e in any_uow.published()] == \
        [("lead.created", "a", "u1"), ("lead.assigned", "a", "u1")]


def test_the_inbox_remembers_only_committed_marks(any_uow):
    with any_uow:
        any_uow.mark_processed("ev1", "lead.on_campaign_event")
    with any_uow:
        assert not any_uow.already_processed("ev1", "lead.on_campaign_event")
        any_uow.mark_processed("ev1", "lead.on_campaign_event")
        any_uow.commit()
    with any_uow:
        assert any_uow.already_processed("ev1", "lead.on_campaign_event")


# -- the use cases, end to end on both ---------------------------------------------------------------

def test_create_assign_and_read_back_a_lead_the_same_way_on_both(any_uow):
    owner = RequestContext(user_id="owner1")
    created = handlers.create_lead({"contact": {"name": "张伟"}, "company": {"city": "上海"}}, any_uow, owner,
                                   fetch_campaign=None, request_key="owner1:1")
    handlers.assign_lead(created["id"], [{"user_id": "sales1", "permissions": {"need": "read"}}], any_uow,
                         RequestContext(user_id="owner1", channel="rule"), decision_key="ev-1")
    handlers.assign_lead(created["id"], [{"user_id": "sales2"}], any_uow,
                         RequestContext(user_id="owner1", channel="rule"), decision_key="ev-1")

    lead = handlers.get_lead(created["id"], any_uow, READER)
    history = handlers.get_history(created["id"], any_uow, READER)["items"]
    again = handlers.create_lead({"contact": {"name": "张伟"}}, any_uow, owner, None, request_key="owner1:1")

    assert [a["user_id"] for a in lead["assignees"]] == ["sales1"]
    assert [h["action"] for h in history] == ["created", "assigned"]
    assert history[1]["channel"] == "rule"
    assert again["id"] == created["id"]
    assert [e["type"] for e in any_uow.published()] == ["lead.created", "lead.assigned"]


def test_several_leads_are_loaded_at_once_with_their_assignees(any_uow):
    first, second = a_lead("00001"), a_lead("00002")
    first.assign("sales1", None, T0)
    add(any_uow, first, second)

    with any_uow:
        loaded = {lead.id: lead for lead in any_uow.leads.get_many([first.id, second.id, "missing"])}

    assert set(loaded) == {first.id, second.id}
    assert loaded[first.id].assignees == {"sales1": {"contact": "edit", "company": "edit", "need": "edit"}}
    assert loaded[second.id].assignees == {}


def test_a_second_lead_with_the_same_request_key_is_refused_and_the_first_kept(any_uow):
    first = a_lead("00001", request_key="req-7")
    add(any_uow, first)

    with any_uow:
        refused = any_uow.leads.add(a_lead("00002", request_key="req-7"))
        any_uow.rollback()
        kept = any_uow.leads.by_request_key("req-7")

    assert refused is False
    assert kept.id == first.id


def test_a_campaigns_leads_are_counted(any_uow):
    add(any_uow, a_lead("00001", campaign_id="C1"), a_lead("00002", campaign_id="C1"),
        a_lead("00003", campaign_id="C2"))

    with any_uow:
        assert (any_uow.leads.count_in_campaign("C1"), any_uow.leads.count_in_campaign("C9")) == (2, 0)


# -- intake routes and a web registration's fields (C6) ---------------------------------------------------

def test_a_leads_utm_and_own_rule_are_stored_C6(any_uow):
    lead = a_lead(source="web_form", rule_id="R1", utm={"source": "百度", "medium": None, "campaign": "春季"})
    add(any_uow, lead, a_lead("plain"))

    with any_uow:
        loaded = any_uow.leads.get(lead.id)
        plain = any_uow.leads.get("plain")
        tagged = any_uow.leads.list({"tag": "utm_source:百度"}, 50, None)

    assert loaded.to_dict() == lead.to_dict()
    assert (loaded.utm["source"], loaded.rule_id) == ("百度", "R1")
    assert (plain.utm, plain.rule_id) == (None, None)
    assert [l.id for l in tagged] == [lead.id]


def a_route(key="expo-2026", **kw):
    return IntakeRoute(**{"key": key, "campaign_id": "C1", "owner_id": "mkt1", "created_at": T0,
                          "updated_at": T0, "created_by": "u1", **kw})


def test_a_stored_route_comes_back_as_it_was_and_its_key_is_taken_once_C6(any_uow):
    route = a_route(pool_id="P1", rule_id="R1")

    with any_uow:
        assert any_uow.intake_routes.add(route) is True
        assert any_uow.intake_routes.add(a_route(campaign_id="C2")) is False
        any_uow.commit()
    with any_uow:
        loaded = any_uow.intake_routes.get("expo-2026")
        assert any_uow.intake_routes.get("nope") is None

    assert loaded.to_dict() == route.to_dict()


def test_a_saved_route_keeps_its_changes_C6(any_uow):
    with any_uow:
        any_uow.intake_routes.add(a_route())
        any_uow.commit()
    later = T0 + timedelta(minutes=1)

    with any_uow:
        route = any_uow.intake_routes.get("expo-2026")
        route.change({"active": False, "pool_id": "P2", "owner_id": None}, later)
        any_uow.intake_routes.save(route)
        any_uow.commit()

    with any_uow:
        saved = any_uow.intake_routes.get("expo-2026")
    assert (saved.active, saved.pool_id, saved.owner_id, saved.campaign_id) == (False, "P2", None, "C1")
    assert (iso(saved.updated_at), iso(saved.created_at)) == (iso(later), iso(T0))


def test_routes_are_listed_by_key_after_a_cursor_C6(any_uow):
    with any_uow:
        for key in ("ccc", "aaa", "bbb", "ddd"):
            any_uow.intake_routes.add(a_route(key))
        any_uow.commit()

    with any_uow:
        first = any_uow.intake_routes.list(2, None)
        rest = any_uow.intake_routes.list(2, "bbb")

    assert [r.key for r in first] == ["aaa", "bbb", "ccc"]  # limit + 1 tells there is more
    assert [r.key for r in rest] == ["ccc", "ddd"]
