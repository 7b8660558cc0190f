"""The work entrypoints (mixed into LeadService, no broker): they load what the gateway sends (money as
strings, dates as ISO text) and answer bad input with Invalid and the field's path, never a crash."""
import pytest
from nameko.testing.services import worker_factory

from crmkit.context import RequestContext
from crmkit.errors import Conflict, Invalid, NotFound
from lead.service import LeadService

CTX = RequestContext(user_id="u1", roles=("marketing_member",), correlation_id="corr-9")
MEETING = {"type": "meeting", "subject": "技术交流会", "effort_hours": 1.5}
DEAL = {"name": "数控机床", "amount": "120000.00"}


@pytest.fixture
def service(uow, campaigns, rules):
    return worker_factory(LeadService, storage=uow, ctx=CTX, campaign_rpc=campaigns, assignment_rpc=rules)


@pytest.fixture
def lead_id(service):
    return service.create_lead({"contact": {"name": "王芳"}, "company": {"name": "明辉"}, "campaign_id": "C1"})["id"]


def invalid_paths(call, *args):
    with pytest.raises(Invalid) as caught:
        call(*args)
    return caught.value.details


def test_the_service_answers_the_work_entrypoints(service, lead_id, uow):
    activity = service.log_activity(lead_id, {**MEETING, "cost": "35.5",
                                              "occurred_at": "2024-05-01T09:30:00+08:00"})
    assert (activity["effort_hours"], activity["cost"], activity["occurred_at"]) == \
        (1.5, "35.50", "2024-05-01T01:30:00Z")
    assert service.list_lead_activities(lead_id)["items"] == [activity]
    assert service.list_activities({"campaign_id": "C1"}, 10)["items"] == [activity]

    converted = service.convert_lead(lead_id, {"opportunities": [{**DEAL, "expected_close": "2024-09-30",
                                                                  "stage": None, "probability": None}],
                                               "account": None})
    [deal] = converted["opportunity_ids"]
    assert service.get_opportunity(deal)["expected_close"] == "2024-09-30"
    assert service.get_account(converted["account_id"])["name"] == "明辉"
    assert service.update_opportunity(deal, {"amount": 99000, "expected_close": None})["amount"] == "99000.00"
    assert service.win_opportunity(deal, None)["won_amount"] == "99000.00"
    assert service.list_opportunities({"status": "won", "campaign_id": "C1"})["items"][0]["id"] == deal
    with pytest.raises(Conflict):
        service.lose_opportunity(deal, {"reason": "太晚"})

    assert service.delete_lead(lead_id) is None
    with pytest.raises(NotFound):
        service.delete_lead(lead_id)
    assert uow.published("lead.deleted")[0]["correlation_id"] == "corr-9"


@pytest.mark.parametrize("changes, path", [
    ({"effort_hours": 24.5}, "effort_hours"),
    ({"effort_hours": 0}, "effort_hours"),
    ({"effort_hours": "two"}, "effort_hours"),
    ({"effort_hours": None}, "effort_hours"),
    ({"type": "lunch"}, "type"),
    ({"subject": "x" * 201}, "subject"),
    ({"outcome": "x" * 10001}, "outcome"),
    ({"cost": "1e400"}, "cost"),
    ({"cost": "1000000000000"}, "cost"),
    ({"cost": -1}, "cost"),
    ({"cost": "NaN"}, "cost"),
    ({"occurred_at": "yesterday"}, "occurred_at"),
    ({"occurred_at": "2024-13-45T00:00:00Z"}, "occurred_at"),
    ({"mood": "good"}, "mood"),
], ids=["more-than-a-day", "no-effort", "not-a-number", "null-effort", "type", "long-subject", "long-outcome",
        "huge-exponent", "too-much-money", "negative", "nan", "not-a-time", "no-such-day", "unknown-field"])
def test_a_bad_activity_is_invalid_with_the_fields_path(service, lead_id, uow, changes, path):
    assert path in invalid_paths(service.log_activity, lead_id, {**MEETING, **changes})
    assert uow.published("activity.logged") == []


@pytest.mark.parametrize("payload, path", [
    ({"opportunities": []}, "opportunities"),
    ({"opportunities": [DEAL] * 21}, "opportunities"),
    ({}, "opportunities"),
    ({"opportunities": [{"name": "x"}]}, "opportunities.0.amount"),
    ({"opportunities": [{**DEAL, "probability": 50.5}]}, "opportunities.0.probability"),
    ({"opportunities": [{**DEAL, "probability": 101}]}, "opportunities.0.probability"),
    ({"opportunities": [{**DEAL, "stage": "won"}]}, "opportunities.0.stage"),
    ({"opportunities": [{**DEAL, "expected_close": "30/09/2024"}]}, "opportunities.0.expected_close"),
    ({"opportunities": [DEAL], "account": {"name": "x" * 201}}, "account.name"),
    ({"opportunities": [DEAL], "account": {"vat": "1"}}, "account.vat"),
    ({"opportunities": DEAL}, "opportunities"),
], ids=["none", "too-many", "missing", "no-amount", "fractional-probability", "probability-over-100", "stage",
        "date-format", "long-account-name", "unknown-account-field", "not-a-list"])
def test_a_bad_conversion_is_invalid_and_the_lead_stays_raw(service, lead_id, payload, path):
    assert path in invalid_paths(service.convert_lead, lead_id, payload)
    assert service.get_lead(lead_id)["status"] == "raw"


def test_bad_opportunity_changes_are_invalid(service, lead_id):
    [deal] = service.convert_lead(lead_id, {"opportunities": [DEAL]})["opportunity_ids"]

    assert "amount" in invalid_paths(service.update_opportunity, deal, {"amount": None})
    assert "stage" in invalid_paths(service.update_opportunity, deal, {"stage": None})
    assert "status" in invalid_paths(service.update_opportunity, deal, {"status": "won"})
    assert "amount" in invalid_paths(service.win_opportunity, deal, {"amount": "-3"})
    assert "reason" in invalid_paths(service.lose_opportunity, deal, {})
    assert "reason" in invalid_paths(service.lose_opportunity, deal, {"reason": "   "})
    assert "_schema" in invalid_paths(service.lose_opportunity, deal, ["reason"])


def test_unknown_filters_are_invalid(service):
    assert "colour" in invalid_paths(service.list_activities, {"colour": "red"})
    assert "status" in invalid_paths(service.list_opportunities, {"status": "maybe"})
    assert "limit" in invalid_paths(service.list_activities, {}, "many")
