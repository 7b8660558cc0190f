"""Lead pools on the real repository (SQLite built by Alembic): three levels, who sees which pool,
claim (oldest usable first, limit, cooldown), release, and the recycling of idle claims (L9)."""
from datetime import timedelta
from decimal import Decimal

import pytest

from crmkit.context import RequestContext
from crmkit.envelope import now
from crmkit.errors import Conflict, Forbidden, Invalid, NotFound
from lead import handlers, pool_handlers as pools, work_handlers as work

MARKETING = RequestContext(user_id="mkt1", roles=("marketing_member",))
MARKET_EAST = RequestContext(user_id="mm1", roles=("market_member",), team="east")
SALES = RequestContext(user_id="s1", roles=("sales_member",), team="east")
OTHER = RequestContext(user_id="s2", roles=("sales_member",), team="east")


@pytest.fixture
def tree(sql_uow):
    total = pools.create_pool({"name": "总线索池"}, sql_uow, MARKETING)
    east = pools.create_pool({"name": "华东", "parent_id": total["id"], "team": "east", "claim_limit": 3,
                              "cooldown_hours": 24, "recycle_days": 7}, sql_uow, MARKETING)
    hangzhou = pools.create_pool({"name": "杭州", "parent_id": east["id"]}, sql_uow, MARKETING)
    return total, east, hangzhou


def leads_in(uow, campaigns, pool_id, n, status="usable"):
    ids = []
    for i in range(n):
        lead = handlers.create_lead({"contact": {"name": f"客户{i}"}, "pool_id": pool_id}, uow, MARKETING,
                                    campaigns.describe_campaign)
        if status != "raw":
            handlers.set_status(lead["id"], {"status": status}, uow, MARKETING)
        ids.append(lead["id"])
    return ids


def test_pools_nest_three_levels_and_a_fourth_is_refused_L9(sql_uow, tree):
    total, east, hangzhou = tree

    assert [p["level"] for p in tree] == [1, 2, 3]
    with pytest.raises(Invalid) as caught:
        pools.create_pool({"name": "西湖区", "parent_id": hangzhou["id"]}, sql_uow, MARKETING)
    assert list(caught.value.details) == ["parent_id"]
    with pytest.raises(Forbidden):
        pools.create_pool({"name": "mine"}, sql_uow, SALES)


def test_who_sees_which_pool_follows_the_role_matrix_L9(sql_uow, tree):
    total, east, hangzhou = tree
    west = pools.create_pool({"name": "华南", "parent_id": total["id"], "team": "west"}, sql_uow, MARKETING)

    def seen(ctx):
        return {p["name"] for p in pools.list_pools(sql_uow, ctx)["items"]}

    assert seen(MARKETING) == {"总线索池", "华东", "杭州", "华南"}
    assert seen(MARKET_EAST) == seen(SALES) == {"华东", "杭州"}  # their team's, inherited below
    with pytest.raises(NotFound):
        pools.claim(west["id"], 1, sql_uow, SALES)


def test_a_claim_takes_the_oldest_usable_leads_first_within_the_limit_L9(sql_uow, campaigns, tree):
    _, east, _ = tree
    raw = leads_in(sql_uow, campaigns, east["id"], 1, status="raw")
    usable = leads_in(sql_uow, campaigns, east["id"], 4)

    first = pools.claim(east["id"], 2, sql_uow, SALES)["items"]
    second = pools.claim(east["id"], 5, sql_uow, SALES)["items"]  # the limit of 3 leaves room for one

    assert [l["id"] for l in first] == usable[:2] and [l["id"] for l in second] == usable[2:3]
    assert first[0]["assignees"] == [{"user_id": "s1", "permissions": {"contact": "edit", "company": "edit",
                                                                       "need": "edit"}}]
    with pytest.raises(Conflict):
        pools.claim(east["id"], 1, sql_uow, SALES)
    assert [l["id"] for l in pools.claim(east["id"], 5, sql_uow, OTHER)["items"]] == [usable[3], raw[0]]
    assert len(sql_uow.published("lead.claimed")) == 5


def test_a_released_lead_waits_out_the_cooldown_for_its_releaser_only_L9(sql_uow, campaigns, tree):
    _, east, _ = tree
    [lead_id] = leads_in(sql_uow, campaigns, east["id"], 1)
    pools.claim(east["id"], 1, sql_uow, SALES)

    released = pools.release(lead_id, sql_uow, SALES)

    assert released["assignees"] == [] and released["claimed_by"] is None
    assert pools.claim(east["id"], 1, sql_uow, SALES)["items"] == []  # cooldown
    assert [l["id"] for l in pools.claim(east["id"], 1, sql_uow, OTHER)["items"]] == [lead_id]
    with pytest.raises(NotFound):  # no longer theirs: they do not even see it
        pools.release(lead_id, sql_uow, SALES)
    actions = [h["action"] for h in handlers.get_history(lead_id, sql_uow, MARKETING)["items"]]
    assert actions[-3:] == ["claimed", "released", "claimed"]
    assert sql_uow.published("lead.released")[0]["data"]["released_by"] == "s1"


def test_an_idle_claim_is_recycled_after_the_pools_days_and_work_keeps_it_L9(sql_uow, campaigns, tree):
    _, east, _ = tree
    idle, busy = leads_in(sql_uow, campaigns, east["id"], 2)
    pools.claim(east["id"], 2, sql_uow, SALES)
    work.log_activity(busy, {"type": "call", "subject": "跟进", "effort_hours": Decimal("1"),
                             "occurred_at": now() + timedelta(days=6)}, sql_uow, SALES)

    assert pools.recycle(sql_uow, now() + timedelta(days=5)) == []
    assert pools.recycle(sql_uow, now() + timedelta(days=8)) == [idle]

    [event] = sql_uow.published("lead.recycled")
    assert event["data"]["id"] == idle and event["data"]["assignees"] == []
    [*_, entry] = handlers.get_history(idle, sql_uow, MARKETING)["items"]
    assert (entry["action"], entry["channel"]) == ("recycled", "recycle")
