"""Web registrations through the gateway (C6), with real processes: a route feeds a campaign, an
owner, a pool and a rule; the public form endpoint is limited per client address."""
import pytest

from tests.scenario import wait_assigned
from tests.support import Api, wait_for

pytestmark = pytest.mark.integration

# A small limit so the test can spend it; the gateway believes X-Forwarded-For from 127.0.0.1,
# so each step posts as a client address of its own.
LIMITS = {"CRM_INTAKE_BURST": "3", "CRM_INTAKE_PER_MINUTE": "1", "CRM_TRUSTED_PROXIES": "127.0.0.1"}


@pytest.fixture
def stack(make_stack):
    return make_stack(env=LIMITS)


def public(stack):
    return Api(stack.url, token=None)


def post_form(web, key, address, **kwargs):
    headers = {"X-Forwarded-For": address, **kwargs.pop("headers", {})}
    return web.post(f"/intake/{key}", headers=headers, **kwargs)


def routed_campaign(api):
    """A campaign without a rule of its own, a web form route to it with a rule, an owner and a pool."""
    owner, _ = api.user("web-owner", roles=["marketing_member"])
    sales, _ = api.user("web-sales", roles=["sales_member"])
    campaign = api.ok("POST", "/campaigns", json={"name": "官网注册 2026", "type": "web_registration"})
    rule = api.ok("POST", "/assignment-rules", json={
        "name": "杭州 web leads", "recipients": [{"user_id": sales["id"]}],
        "condition": {"field": "company.city", "op": "eq", "value": "杭州"}})
    route = api.ok("POST", "/intake-routes", status=201, json={
        "key": "spring-expo_2026", "campaign_id": campaign["id"], "owner_id": owner["id"],
        "pool_id": "P-web", "rule_id": rule["id"]})
    return campaign, rule, route, owner, sales


def test_a_web_registration_lands_in_the_routes_campaign_owner_and_pool_and_its_rule_assigns_it_C6(stack):
    api, web = stack.api, public(stack)
    campaign, rule, route, owner, sales = routed_campaign(api)
    assert (route["active"], route["owner_id"], route["rule_id"]) == (True, owner["id"], rule["id"])
    assert api.ok("GET", "/intake-routes/spring-expo_2026") == route
    assert route in api.ok("GET", "/intake-routes")["items"]
    assert web.get("/intake-routes").status_code == 401
    assert web.post("/intake-routes", json={"key": "abc", "campaign_id": campaign["id"]}).status_code == 401

    as_json = post_form(web, "spring-expo_2026", "198.51.100.1", json={
        "name": "王芳", "email": "wang@example.cn", "mobile": "13800138000", "company": "杭州某某机械有限公司",
        "city": "杭州", "province": "浙江", "need": "三台电动叉车", "utm_source": "baidu", "utm_medium": "cpc",
        "utm_campaign": "春季展会", "submit": "提交"})
    as_form = post_form(web, "spring-expo_2026", "198.51.100.2", data={
        "name": "李雷", "title": "采购经理", "company": "杭州另一家公司", "city": "杭州", "utm_source": "baidu",
        "utm_medium": "", "website": ""})
    assert (as_json.status_code, as_form.status_code) == (202, 202), (as_json.text, as_form.text)
    assert list(as_json.json()) == ["lead_id"]

    lead = api.ok("GET", f"/leads/{as_json.json()['lead_id']}")
    assert (lead["campaign_id"], lead["owner_id"], lead["pool_id"], lead["source"], lead["rule_id"]) == \
        (campaign["id"], owner["id"], "P-web", "web_form", rule["id"])
    assert (lead["contact"]["name"], lead["company"]["name"], lead["need"]["description"]) == \
        ("王芳", "杭州某某机械有限公司", "三台电动叉车")
    assert lead["utm"] == {"source": "baidu", "medium": "cpc", "campaign": "春季展会"}
    assert {"utm_source:baidu", "utm_medium:cpc", "utm_campaign:春季展会"} <= set(lead["tags"])
    second = api.ok("GET", f"/leads/{as_form.json()['lead_id']}")
    assert (second["contact"]["title"], second["utm"]) == ("采购经理", {"source": "baidu", "medium": None,
                                                                   "campaign": None})
    history = api.ok("GET", f"/leads/{lead['id']}/history")["items"]
    assert (history[0]["actor_id"], history[0]["channel"]) == (None, "web_form")

    for lead_id in (lead["id"], second["id"]):
        assert [a["user_id"] for a in wait_assigned(api, lead_id)] == [sales["id"]]
    [decision] = api.ok("GET", f"/leads/{lead['id']}/assignment-log")["items"]
    assert decision["rule_id"] == rule["id"]
    tagged = api.ok("GET", "/leads", params={"tag": "utm_source:baidu", "campaign_id": campaign["id"]})["items"]
    assert {item["id"] for item in tagged} == {lead["id"], second["id"]}

    again = [post_form(web, "spring-expo_2026", "198.51.100.3", json={"name": "赵六", "company": "X"},
                       headers={"Idempotency-Key": "form-42"}) for _ in range(2)]
    assert [r.status_code for r in again] == [202, 202] and again[0].json() == again[1].json()


def test_the_public_form_refuses_what_it_cannot_take_with_clear_answers_C6(stack):
    api, web = stack.api, public(stack)
    campaign, _, _, _, _ = routed_campaign(api)
    key = "spring-expo_2026"

    def leads_of_campaign():
        return api.ok("GET", "/leads", params={"campaign_id": campaign["id"]})["items"]

    trap = post_form(web, key, "203.0.113.1", data={"name": "bot", "company": "spam", "website": "http://x.example"})
    assert trap.status_code == 202 and trap.json()["lead_id"]
    assert api.get(f"/leads/{trap.json()['lead_id']}").status_code == 404

    unknown = post_form(web, "no-such-form", "203.0.113.2", json={"name": "Li"})
    assert (unknown.status_code, unknown.json()["error"]["code"]) == (404, "not_found")

    bad = post_form(web, key, "203.0.113.3", json={"name": "Li", "email": "not-an-email"})
    assert bad.status_code == 422 and "email" in bad.json()["error"]["details"]
    nameless = post_form(web, key, "203.0.113.3", json={"email": "li@example.cn"})
    assert nameless.status_code == 422 and "company.name" in nameless.json()["error"]["details"]

    huge = post_form(web, key, "203.0.113.4", data={"name": "Li", "need": "很" * 30000})
    assert (huge.status_code, huge.json()["error"]["code"]) == (413, "too_large")
    text = post_form(web, key, "203.0.113.4", data="name=Li", headers={"Content-Type": "text/plain"})
    assert text.status_code == 415

    spent = [post_form(web, "no-such-form", "203.0.113.5", json={"name": "Li"}).status_code for _ in range(3)]
    limited = post_form(web, key, "203.0.113.5", json={"name": "Li"})
    assert spent == [404, 404, 404]
    assert (limited.status_code, limited.json()["error"]["code"]) == (429, "rate_limited")
    assert int(limited.headers["Retry-After"]) >= 1
    assert post_form(web, key, "203.0.113.6", json={"name": "Li", "company": "OK"}).status_code == 202

    off = api.ok("PATCH", f"/intake-routes/{key}", json={"active": False})
    assert off["active"] is False
    gone = post_form(web, key, "203.0.113.7", json={"name": "Li", "company": "Late"})
    assert (gone.status_code, gone.json()["error"]["code"]) == (410, "gone")

    _, sales_client = api.user("not-marketing", roles=["sales_member"])
    assert sales_client.patch(f"/intake-routes/{key}", json={"active": True}).status_code == 403
    _, outsider = api.user("other-marketer", roles=["marketing_member"])  # no access to the campaign (C2)
    hidden = outsider.post("/intake-routes", json={"key": "outsider", "campaign_id": campaign["id"]})
    assert hidden.status_code == 422 and "campaign_id" in hidden.json()["error"]["details"]
    assert outsider.patch(f"/intake-routes/{key}", json={"active": True}).status_code == 422
    plain = api.ok("POST", "/intake-routes", status=201, json={"key": "plain-form", "campaign_id": campaign["id"]})
    assert plain["owner_id"] == campaign["owner_id"]
    assert api.post("/intake-routes", json={"key": key, "campaign_id": campaign["id"]}).status_code == 409
    assert api.post("/intake-routes", json={"key": "other", "campaign_id": "nope"}).status_code == 422
    assert api.post("/intake-routes", json={"key": "other", "campaign_id": campaign["id"],
                                            "rule_id": "nope"}).status_code == 422
    wait_for(lambda: len(leads_of_campaign()) == 1, message="only the one good registration stored")
