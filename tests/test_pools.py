"""Lead pools through the gateway with real processes (L9): three levels, parallel claimers never
share a lead (SQLite and PostgreSQL), the claim limit and the cooldown after a release."""
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.support import wait_for

pytestmark = pytest.mark.integration


@pytest.mark.parametrize("database", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_pools_claims_limits_and_cooldown_through_the_gateway_L9(make_stack, database):
    stack = make_stack(database=database)
    admin = stack.api
    total = admin.ok("POST", "/pools", status=201, json={"name": "总线索池"})
    east = admin.ok("POST", "/pools", json={"name": "华东", "parent_id": total["id"], "team": "east",
                                            "claim_limit": 5, "cooldown_hours": 24})
    city = admin.ok("POST", "/pools", json={"name": "杭州", "parent_id": east["id"]})
    fourth = admin.post("/pools", json={"name": "西湖区", "parent_id": city["id"]})
    assert fourth.status_code == 422 and "parent_id" in fourth.json()["error"]["details"]

    lead_ids = []
    for n in range(30):
        lead = admin.ok("POST", "/leads", json={"contact": {"name": f"客户{n}"}, "pool_id": east["id"]})
        admin.ok("POST", f"/leads/{lead['id']}/status", json={"status": "usable"})
        lead_ids.append(lead["id"])
    sellers = [admin.user(f"seller{n}", roles=["sales_member"], team="east") for n in range(8)]
    assert {p["name"] for p in sellers[0][1].ok("GET", "/pools")["items"]} == {"华东", "杭州"}

    def grab(client):
        return [lead["id"] for lead in client.ok("POST", f"/pools/{east['id']}/claim", json={"count": 5})["items"]]
    with ThreadPoolExecutor(len(sellers)) as pool:
        claimed = list(pool.map(grab, [client for _, client in sellers]))

    everything = [lead_id for batch in claimed for lead_id in batch]
    assert len(everything) == len(set(everything)) == 30  # nobody got a lead twice, every lead went
    assert all(len(batch) <= 5 for batch in claimed)

    (user, seller) = next((s for s, batch in zip(sellers, claimed) if len(batch) == 5))
    mine = claimed[sellers.index((user, seller))]
    more = admin.ok("POST", "/leads", json={"contact": {"name": "新客户"}, "pool_id": east["id"]})
    admin.ok("POST", f"/leads/{more['id']}/status", json={"status": "usable"})
    limited = seller.post(f"/pools/{east['id']}/claim", json={"count": 1})
    assert limited.status_code == 409 and limited.json()["error"]["code"] == "conflict"

    released = seller.ok("POST", f"/leads/{mine[0]}/release")
    assert released["assignees"] == []
    assert seller.post(f"/leads/{mine[0]}/release").status_code == 404  # not theirs any more
    again = [lead["id"] for lead in seller.ok("POST", f"/pools/{east['id']}/claim", json={"count": 5})["items"]]
    assert again == [more["id"]]  # the cooldown keeps the lead they let go from them
    history = admin.ok("GET", f"/leads/{mine[0]}/history")["items"]
    assert [h["action"] for h in history][-2:] == ["claimed", "released"]
    assert wait_for(lambda: admin.ok("GET", f"/leads/{mine[0]}")["assignees"] == [])
