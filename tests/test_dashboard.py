"""The dashboard and the operators' page in a real headless Chromium (R5, P4): they render for a
seeded campaign, show the right numbers, and log no console errors."""
import os

import pytest

from tests.support import ADMIN_TOKEN, wait_for

pytestmark = pytest.mark.integration

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]


@pytest.fixture
def browser():
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"{CHROMIUM} is missing (apt-get install chromium; .ci/run installs it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield browser
        browser.close()


def open_page(browser, url):
    page = browser.new_page()
    problems = []
    page.on("console", lambda message: message.type == "error" and problems.append(message.text))
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.goto(url)
    return page, problems


def test_the_dashboard_shows_a_seeded_campaign_and_the_ops_page_its_services_R5_P4(make_stack, browser):
    stack = make_stack()
    api = stack.api
    api.ok("PATCH", "/settings", json={"default_hourly_rate": "40.00"})
    campaign = api.ok("POST", "/campaigns", status=201, json={
        "name": "春季研讨会", "type": "seminar", "budget": "5000", "expected_revenue": "20000"})
    cid = campaign["id"]
    api.ok("POST", f"/campaigns/{cid}/expenses", status=201, json={"amount": "920.00", "category": "场地"})
    lead = api.ok("POST", "/leads", status=201, json={"campaign_id": cid, "contact": {"name": "韩梅梅"}})
    api.ok("POST", f"/leads/{lead['id']}/activities", status=201,
           json={"type": "meeting", "subject": "会谈", "effort_hours": 2})  # 2 h × 40.00 (default rate)
    opportunity = api.ok("POST", f"/leads/{lead['id']}/convert", status=201,
                         json={"opportunities": [{"name": "培训包", "amount": "3000"}]})["opportunity_ids"][0]
    api.ok("POST", f"/opportunities/{opportunity}/won", json={})
    # cost 920.00 + 80.00 = 1000.00; won 3000.00; ROI (3000 − 1000) / 1000 = 200.0%
    def report():  # 404 until the campaign's first event reaches reporting
        answer = api.get(f"/reports/campaigns/{cid}")
        return answer.json() if answer.status_code == 200 else {"cost": {}, "revenue": {}}
    wait_for(lambda: report()["cost"].get("total") == "1000.00" and report()["revenue"].get("won") == "3000.00", 30,
             message="the seeded campaign in the report")

    page, problems = open_page(browser, f"{stack.url}/dashboard?token={ADMIN_TOKEN}&refresh=1")
    page.wait_for_selector(f'[data-roi="{cid}"]')
    assert page.text_content(f'[data-roi="{cid}"]') == "200.0%"
    page.wait_for_selector("#detail:not([hidden])")
    assert (page.text_content("#kpi-won"), page.text_content("#kpi-cost"), page.text_content("#kpi-roi")) == \
        ("3000.00", "1000.00", "200.0%")
    assert page.text_content("#detail-name") == "春季研讨会"
    assert page.text_content('#chart-cost [data-value="cost"]') == "920.00 + 80.00"
    assert page.text_content('#chart-funnel [data-value="won"]') == "1 (100.0%)"
    assert page.locator("#chart-revenue rect").count() == 2

    api.ok("POST", f"/campaigns/{cid}/expenses", status=201, json={"amount": "1000.00", "category": "餐饮"})
    page.wait_for_function("document.getElementById('kpi-cost').textContent === '2000.00'", timeout=15000)
    assert page.text_content("#kpi-roi") == "50.0%"  # it refreshes while open

    ops, ops_problems = open_page(browser, f"{stack.url}/api/v1/ops?token={ADMIN_TOKEN}")
    ops.wait_for_selector('#services tr[data-service="reporting"]')
    assert ops.text_content('#services tr[data-service="reporting"] td:nth-child(2)') == "ok"
    assert "reporting.on_lead_event" in ops.text_content("#queues")
    assert "events projected" in ops.text_content("#projection")
    assert problems == [] and ops_problems == []
