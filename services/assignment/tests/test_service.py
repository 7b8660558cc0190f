"""The assignment service's Nameko entrypoints (no broker): schemas at the boundary, Invalid with
paths into the payload and into the condition tree (API.md "Assignment rules", A5)."""
import pytest
from nameko.testing.services import worker_factory

from crmkit import envelope
from crmkit.context import RequestContext
from crmkit.errors import Invalid, NotFound
from assignment.service import AssignmentService

CTX = RequestContext(user_id="mgr1", roles=("sales_manager",))
SHANGHAI = {"field": "company.city", "op": "eq", "value": "Shanghai"}
GOOD = {"name": "Shanghai leads", "recipients": [{"user_id": "s1"}], "condition": SHANGHAI}


class StubCampaigns:
    def describe_campaign(self, campaign_id):
        if campaign_id != "C1":
            raise NotFound("no such campaign")
        return {"id": campaign_id}


class StubLeads:
    def __init__(self):
        self.calls = []

    def assign_lead(self, lead_id, assignments, decision_key=None, channel=None, reason=None):
        self.calls.append((lead_id, assignments, decision_key, channel))
        return {"id": lead_id}

    def assign_leads(self, items):
        self.bulk_calls = getattr(self, "bulk_calls", 0) + 1
        for item in items:
            self.calls.append((item["lead_id"], item["assignments"], item["decision_key"], "rule"))
        return {"assigned": [item["lead_id"] for item in items], "missing": []}


@pytest.fixture
def leads():
    return StubLeads()


@pytest.fixture
def service(uow, leads):
    return worker_factory(AssignmentService, storage=uow, ctx=CTX, lead_rpc=leads, campaign_rpc=StubCampaigns())


def invalid_paths(call, *args):
    with pytest.raises(Invalid) as caught:
        call(*args)
    return caught.value.details


def test_a_good_rule_is_created_with_default_permissions_and_distribution_A1_A2(service):
    rule = service.create_rule(GOOD)

    assert rule["recipients"] == [{"user_id": "s1",
                                   "permissions": {"contact": "edit", "company": "edit", "need": "edit"}}]
    assert rule["distribution"] == "all"
    assert rule["condition_text"] == 'company.city = "Shanghai"'
    assert service.get_rule(rule["id"]) == rule


@pytest.mark.parametrize("change, path", [
    ({"name": ""}, "name"),
    ({"recipients": None}, "recipients"),
    ({"recipients": []}, "recipients"),
    ({"recipients": [{"permissions": {}}]}, "recipients.0.user_id"),
    ({"recipients": [{"user_id": "s1"}, {"user_id": "s2", "permissions": {"contact": "write"}}]},
     "recipients.1.permissions.contact"),
    ({"distribution": "random"}, "distribution"),
    ({"usable_by": "everyone"}, "usable_by"),
    ({"active": "perhaps"}, "active"),
    ({"condition": "company.city = Shanghai"}, "condition"),
    ({"condition": None}, "condition"),
    ({"condition": {"any": [SHANGHAI, {"field": "company.city", "op": "like", "value": "x"}]}},
     "condition.any.1.op"),
    ({"condition": {"all": [{"not": {"field": "company.town", "op": "empty"}}]}}, "condition.all.0.not.field"),
    ({"colour": "red"}, "colour"),
], ids=["empty-name", "null-recipients", "no-recipients", "recipient-without-user", "bad-permission",
        "unknown-distribution", "usable-by-not-a-list", "active-not-a-boolean", "condition-not-an-object",
        "no-condition", "bad-operator", "bad-field-deep", "unknown-key"])
def test_a_bad_rule_is_invalid_with_the_path_of_the_mistake_A5_P3(service, uow, change, path):
    assert path in invalid_paths(service.create_rule, {**GOOD, **change})
    assert uow.published() == []


def test_a_missing_payload_is_invalid_not_a_crash(service):
    details = invalid_paths(service.create_rule, None)

    assert {"name", "recipients"} <= set(details)


def test_attaching_a_rule_to_an_unknown_campaign_is_not_found_A6(service):
    rule = service.create_rule(GOOD)

    assert service.set_campaign_rule("C1", rule["id"]) == {"campaign_id": "C1", "rule_id": rule["id"]}
    with pytest.raises(NotFound):
        service.set_campaign_rule("C2", rule["id"])


def test_a_new_lead_event_reaches_the_lead_service_through_its_rpc_proxy_A6(service, leads):
    rule = service.create_rule(GOOD)
    service.set_campaign_rule("C1", rule["id"])
    event = envelope.new_event("lead.created", {"id": "L1", "campaign_id": "C1", "company": {"city": "shanghai"}})

    other = envelope.new_event("lead.created", {"id": "L2", "campaign_id": "C1", "company": {"city": "x"}})

    service.on_lead_created([event, other])  # events arrive in batches
    service.on_lead_created([event])

    assert leads.calls == [("L1", [{"user_id": "s1", "permissions": {"contact": "edit", "company": "edit",
                                                                     "need": "edit"}}],
                            event["event_id"], "rule")]
    assert leads.bulk_calls == 1  # one RPC for the batch; the repeat made none
    assert service.get_assignment_log("L1")["items"][0]["matched"] is True

