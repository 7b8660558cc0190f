"""The campaign service's Nameko entrypoints (no broker): schemas at the boundary, Invalid with field
paths (API.md "Errors"), model errors passed through as they are."""
import pytest
from nameko.testing.services import worker_factory

from crmkit.context import RequestContext
from crmkit.errors import Conflict, Invalid, NotFound
from campaign.service import CampaignService

CTX = RequestContext(user_id="u1", roles=("marketing_member",))


@pytest.fixture
def service(uow):
    return worker_factory(CampaignService, storage=uow, ctx=CTX)


def invalid_paths(call, *args):
    with pytest.raises(Invalid) as caught:
        call(*args)
    return caught.value.details


def test_a_good_payload_creates_a_campaign_owned_by_the_caller_C1(service, uow):
    campaign = service.create_campaign({"name": "广交会", "type": "trade_show", "budget": "12000.5",
                                        "start_date": "2024-04-15", "end_date": None, "currency": "CNY"})

    assert campaign["owner_id"] == "u1"
    assert campaign["budget"] == "12000.50"
    assert campaign["start_date"] == "2024-04-15"
    assert uow.published("campaign.created")[0]["data"]["id"] == campaign["id"]


@pytest.mark.parametrize("payload, path", [
    ({"type": "trade_show"}, "name"),
    ({"name": "", "type": "trade_show"}, "name"),
    ({"name": "x" * 201, "type": "trade_show"}, "name"),
    ({"name": "Expo"}, "type"),
    ({"name": "Expo", "type": "party"}, "type"),
    ({"name": "Expo", "type": "trade_show", "status": "running"}, "status"),
    ({"name": "Expo", "type": "trade_show", "start_date": "15/04/2024"}, "start_date"),
    ({"name": "Expo", "type": "trade_show", "budget": "-1"}, "budget"),
    ({"name": "Expo", "type": "trade_show", "budget": "lots"}, "budget"),
    ({"name": "Expo", "type": "trade_show", "budget": "1e20"}, "budget"),
    ({"name": "Expo", "type": "trade_show", "expected_revenue": "1000000000000"}, "expected_revenue"),
    ({"name": "Expo", "type": "trade_show", "expected_leads": -5}, "expected_leads"),
    ({"name": "Expo", "type": "trade_show", "currency": "rmb"}, "currency"),
    ({"name": "Expo", "type": "trade_show", "description": "x" * 10001}, "description"),
    ({"name": "Expo", "type": "trade_show", "colour": "red"}, "colour"),
    ({"name": "Expo", "type": "trade_show", "start_date": "2024-05-02", "end_date": "2024-05-01"}, "end_date"),
])
def test_a_bad_campaign_is_invalid_with_the_fields_path_C1_P3(service, uow, payload, path):
    assert path in invalid_paths(service.create_campaign, payload)
    assert uow.published() == []


def test_a_partial_update_needs_no_name_or_type(service):
    campaign = service.create_campaign({"name": "Expo", "type": "trade_show"})

    updated = service.update_campaign(campaign["id"], {"status": "active", "description": "Hall 3"})

    assert (updated["name"], updated["status"], updated["description"]) == ("Expo", "active", "Hall 3")


@pytest.mark.parametrize("payload, path", [({"status": "done"}, "status"), ({"name": None}, "name"),
                                           ({"archived": True}, "archived"), ({"type": "party"}, "type")])
def test_a_bad_update_is_invalid_with_the_fields_path(service, payload, path):
    campaign = service.create_campaign({"name": "Expo", "type": "trade_show"})

    assert path in invalid_paths(service.update_campaign, campaign["id"], payload)


def test_an_illegal_status_move_is_a_conflict_not_a_validation_error_C1(service):
    campaign = service.create_campaign({"name": "Expo", "type": "trade_show"})

    with pytest.raises(Conflict):
        service.update_campaign(campaign["id"], {"status": "completed"})


def test_bad_list_filters_are_invalid(service):
    assert "colour" in invalid_paths(service.list_campaigns, {"colour": "red"})
    assert "include_archived" in invalid_paths(service.list_campaigns, {"include_archived": "maybe"})


def test_an_unknown_campaign_is_not_found(service):
    with pytest.raises(NotFound):
        service.get_campaign("nope")


@pytest.mark.parametrize("payload, path", [
    ({"user_id": "x", "permission": "view"}, "_schema"),          # not a list
    ([{"user_id": "x", "permission": "own"}], "0.permission"),
    ([{"permission": "view"}], "0.user_id"),
    ([{"user_id": "x", "permission": "view", "role": "boss"}], "0.role"),
])
def test_participants_are_a_list_of_user_and_permission_C2(service, payload, path):
    campaign = service.create_campaign({"name": "Expo", "type": "trade_show"})

    assert path in invalid_paths(service.set_participants, campaign["id"], payload)


def test_authorize_campaign_answers_for_a_level_and_refuses_an_unknown_one_C2(service):
    campaign = service.create_campaign({"name": "Expo", "type": "trade_show"})

    assert service.authorize_campaign(campaign["id"], "manage")["id"] == campaign["id"]
    assert "level" in invalid_paths(service.authorize_campaign, campaign["id"], "own")
    with pytest.raises(NotFound):
        service.authorize_campaign("nope", "view")
