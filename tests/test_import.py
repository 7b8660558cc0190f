"""Spreadsheet import through the gateway (L13), with real processes: a GBK file from Excel with Chinese
headers, a bad row and duplicates gives the right totals and row errors; the good leads land in the
campaign and its rule assigns them like any new lead."""
import pytest

from tests.events import Subscriber, publish
from tests.scenario import campaign_with_rule, new_lead, wait_assigned
from tests.support import wait_for

pytestmark = pytest.mark.integration

GBK_CSV = ("姓名,公司名称,手机,邮箱,城市,需求\r\n"
           "张三,上海某某科技有限公司,138-0013-8000,zhang@example.cn,Shanghai,两台叉车\r\n"
           "李四,上海另一家公司,13900139000,li@example,Shanghai,\r\n"          # row 3: bad e-mail
           "\r\n"
           "王五,,,wang@example.cn,Shanghai,\r\n"
           "张三,上海某某科技有限公司,+86 138 0013 8000,,Shanghai,\r\n"         # row 6: duplicates row 2
           "赵六,上海某某科技有限公司 0,,li0@example.cn,Shanghai,\r\n"          # row 7: a stored lead's e-mail
           ",,13700137000,,Beijing,\r\n").encode("gbk")                        # row 8: no name


def upload(api, campaign_id, content, **fields):
    return api.post("/leads/import", json=None, data={"campaign_id": campaign_id, **fields},
                    files={"file": ("线索.csv", content, "text/csv")})


def test_a_gbk_csv_with_a_bad_row_and_duplicates_lands_its_good_rows_and_assigns_them_L13(make_stack, tmp_path,
                                                                                          capsys):
    stack = make_stack()
    api = stack.api
    campaign, rule, [sales] = campaign_with_rule(api)
    stored = new_lead(api, campaign["id"])  # li0@example.cn
    subscriber = Subscriber(stack.env["AMQP_URI"], "lead.events", ("lead.#",))
    member, as_member = api.user("importer", roles=["marketing_member"])
    _, as_sales = api.user("seller", roles=["sales_member"])

    assert upload(as_sales, campaign["id"], GBK_CSV).status_code == 403
    refused = upload(as_member, campaign["id"], b"foo,bar\n1,2\n")
    assert (refused.status_code, refused.json()["error"]["code"]) == (422, "validation_error")
    assert upload(as_member, "no-such-campaign", GBK_CSV).status_code == 422
    accepted = upload(as_member, campaign["id"], GBK_CSV, pool_id="P-import")
    assert accepted.status_code == 202, accepted.text

    job_id = accepted.json()["job_id"]
    job = wait_for(lambda: (j := as_member.ok("GET", f"/imports/{job_id}"))["status"] in ("done", "failed") and j,
                   timeout=20, message="import done")
    assert {k: job[k] for k in ("status", "total", "imported", "duplicates")} == \
        {"status": "done", "total": 6, "imported": 2, "duplicates": 2}
    assert [(e["row"], e["field"]) for e in job["errors"]] == [(3, "contact.email"), (8, "contact.name")]

    imported = as_member.ok("GET", "/leads", params={"campaign_id": campaign["id"], "source": "import"})["items"]
    leads = {lead["contact"]["name"]: lead for lead in imported}
    assert set(leads) == {"张三", "王五"}
    assert (leads["张三"]["company"]["name"], leads["张三"]["contact"]["mobile"], leads["张三"]["need"]["description"],
            leads["张三"]["owner_id"], leads["张三"]["pool_id"]) == \
        ("上海某某科技有限公司", "138-0013-8000", "两台叉车", member["id"], "P-import")
    for lead in leads.values():
        assert [a["user_id"] for a in wait_assigned(api, lead["id"])] == [sales["id"]]
    [decision] = api.ok("GET", f"/leads/{leads['王五']['id']}/assignment-log")["items"]
    assert (decision["rule_id"], decision["matched"]) == (rule["id"], True)
    assert api.ok("GET", f"/leads/{stored['id']}")["contact"]["name"] == stored["contact"]["name"]  # skipped, untouched

    # A chunk's lead.created events travel packed, one message for the chunk, each inner event as it
    # would travel alone; the bulk assignment's lead.assigned too. Delivered again, nothing happens twice.
    try:
        [packed] = subscriber.wait_for(lambda e: e["routing_key"] == "lead.created.batch", messages=True)
        assigned = subscriber.wait_for(lambda e: e["body"]["type"] == "lead.assigned")
    finally:
        subscriber.close()
    inner = packed["body"]["data"]["events"]
    assert packed["body"]["type"] == "lead.created.batch" and packed["body"]["data"]["count"] == 2
    assert {e["type"] for e in inner} == {"lead.created"}
    assert sorted(e["data"]["id"] for e in inner) == sorted(lead["id"] for lead in leads.values())
    assert {e["data"]["contact"]["name"] for e in inner} == {"张三", "王五"}  # Chinese intact
    assert {e["body"]["data"]["id"] for e in assigned} >= {lead["id"] for lead in leads.values()}
    for _ in range(2):
        publish(stack.env["AMQP_URI"], "lead.events", "lead.created.batch", packed["body"], packed["body"]["event_id"])
    marker = new_lead(api, campaign["id"], n=9)  # travels behind the repeats
    wait_assigned(api, marker["id"])
    wait_for(lambda: api.ok("GET", f"/reports/campaigns/{campaign['id']}")["leads"]["assigned"] == 4, 30,
             message="the marker counted")
    report = api.ok("GET", f"/reports/campaigns/{campaign['id']}")
    assert (report["leads"]["total"], report["leads"]["assigned"]) == (4, 4)
    for lead in leads.values():
        assert [h["action"] for h in api.ok("GET", f"/leads/{lead['id']}/history")["items"]] == ["created", "assigned"]
        assert len(api.ok("GET", f"/leads/{lead['id']}/assignment-log")["items"]) == 1
    assert api.ok("GET", "/health")["dead_letters"] == 0

    # The CLI does the same from a file, with a progress bar (UTF-8 with BOM this time).
    from lead import import_file

    path = tmp_path / "more.csv"
    path.write_bytes("\ufeffname,company,city\n孙八,孙记,Shanghai\n".encode("utf-8"))
    assert import_file.main([str(path), "--campaign-id", campaign["id"], "--url", api.base[:-len("/api/v1")],
                             "--token", as_member.token, "--interval", "0.2"]) == 0
    assert "1/1 rows  imported 1" in capsys.readouterr().out
    assert wait_for(lambda: as_member.ok("GET", "/leads", params={"campaign_id": campaign["id"], "q": "孙八"})["items"])
