"""The lead model, pure: L1 (contact@company), L2/L3 (assignees, section permissions), L6, L15."""
from datetime import datetime, timedelta, timezone

import pytest

from crmkit.errors import Conflict, Gone, Invalid
from lead.model import (DEFAULT_PERMISSIONS, SECTION_FIELDS, TRANSITIONS, IntakeRoute, KnownCampaign, Lead,
                        clean_section, clean_utm, permissions_of)

NOW = datetime(2024, 5, 1, 9, 0, tzinfo=timezone.utc)
LATER = NOW + timedelta(hours=1)


def make(**kw):
    kw.setdefault("contact", {"name": "张伟"})
    return Lead.create(id="L1", now=NOW, owner_id="owner1", **kw)


@pytest.mark.parametrize("contact, company", [
    ({"name": "Zhang Wei"}, None),
    (None, {"name": "ACME Ltd"}),
    ({"name": "Zhang Wei"}, {"name": "ACME Ltd"}),
])
def test_a_lead_is_contact_at_company_and_one_of_them_is_enough_L1(contact, company):
    lead = Lead.create(id="L1", now=NOW, owner_id="o", contact=contact, company=company)

    assert lead.contact.get("name") or lead.company.get("name")


@pytest.mark.parametrize("contact, company", [
    (None, None),
    ({}, {}),
    ({"email": "a@b.cn", "phone": "021-62991640"}, {"city": "Shanghai"}),
    ({"name": "   "}, {"name": ""}),
    ({"name": None}, {"name": "\t\n"}),
])
def test_a_lead_needs_a_contact_or_company_name_L1(contact, company):
    with pytest.raises(Invalid) as caught:
        Lead.create(id="L1", now=NOW, owner_id="o", contact=contact, company=company)

    assert set(caught.value.details) == {"contact.name", "company.name"}


def test_the_need_may_be_empty_a_business_card_is_a_lead_L1():
    lead = Lead.create(id="L1", now=NOW, owner_id="o", company={"name": "ACME"}, need=None)

    assert lead.need == {}
    assert lead.to_dict()["need"] == {"description": None, "products": None, "budget": None,
                                      "timeframe": None}


def test_clean_section_trims_text_and_drops_empty_values():
    cleaned = clean_section("contact", {"name": "  Li Na ", "title": "", "email": None, "phone": "  "})

    assert cleaned == {"name": "Li Na"}


def test_clean_section_keeps_only_the_sections_fields():
    cleaned = clean_section("company", {"name": "ACME", "city": "上海", "nickname": "x", "email": "a@b.c"})

    assert cleaned == {"name": "ACME", "city": "上海"}


def test_clean_section_accepts_nothing():
    assert clean_section("need", None) == {}


def test_a_new_lead_is_raw_manual_and_owned_by_whoever_is_named_L2_L6():
    lead = make()

    assert lead.status == "raw"
    assert lead.source == "manual"
    assert lead.owner_id == "owner1"
    assert lead.assignees == {}
    assert lead.created_at == lead.updated_at == NOW


def test_tags_are_kept_once_and_sorted():
    assert make(tags=["vip", "expo", "vip"]).tags == ["expo", "vip"]


def test_the_status_transitions_are_the_ones_api_md_allows_L6():
    assert TRANSITIONS == {
        "raw": {"usable", "working", "invalid"},
        "usable": {"working", "invalid"},
        "working": {"usable", "invalid"},
        "invalid": {"raw", "usable"},
        "converted": set(),
    }


def test_assigning_gives_edit_on_every_section_by_default_L3():
    lead = make()

    changes = lead.assign("sales1", None, LATER)

    assert lead.assignees == {"sales1": DEFAULT_PERMISSIONS}
    assert DEFAULT_PERMISSIONS == {"contact": "edit", "company": "edit", "need": "edit"}
    assert changes == {"assignees.sales1": {"from": None, "to": DEFAULT_PERMISSIONS}}
    assert lead.updated_at == LATER


def test_the_owner_sets_a_permission_per_section_L3():
    lead = make()

    lead.assign("sales1", {"contact": "read", "need": "read"}, LATER)

    assert lead.assignees["sales1"] == {"contact": "read", "company": "edit", "need": "read"}


def test_a_lead_may_go_to_several_assignees_and_owner_and_assignee_may_differ_L2():
    lead = make()

    lead.assign("sales1", None, LATER)
    lead.assign("sales2", {"company": "read"}, LATER)

    assert set(lead.assignees) == {"sales1", "sales2"}
    assert lead.owner_id == "owner1"


def test_changing_an_assignees_permissions_reports_from_and_to_L15():
    lead = make()
    lead.assign("sales1", None, NOW)

    changes = lead.assign("sales1", {"need": "read"}, LATER)

    assert changes == {"assignees.sales1": {
        "from": {"contact": "edit", "company": "edit", "need": "edit"},
        "to": {"contact": "edit", "company": "edit", "need": "read"}}}


def test_assigning_the_same_permissions_again_changes_nothing():
    lead = make()
    lead.assign("sales1", {"need": "read"}, NOW)

    assert lead.assign("sales1", {"need": "read"}, LATER) == {}
    assert lead.updated_at == NOW


@pytest.mark.parametrize("permissions, path", [
    ({"phone": "edit"}, "permissions.phone"),
    ({"need": "write"}, "permissions.need"),
    ({"contact": None}, "permissions.contact"),
])
def test_a_section_permission_is_edit_or_read_on_a_real_section_L3(permissions, path):
    with pytest.raises(Invalid) as caught:
        permissions_of(permissions)

    assert list(caught.value.details) == [path]


def test_a_converted_lead_is_not_assigned_any_more_L6():
    lead = make()
    lead.status = "converted"

    with pytest.raises(Conflict):
        lead.assign("sales1", None, LATER)
    assert lead.assignees == {}


def test_the_creation_is_logged_field_by_field_from_nothing_L15():
    lead = make(contact={"name": "Li Na", "email": "li@acme.cn"}, company={"city": "上海"},
                campaign_id="C1", source="trade_show")

    changes = lead.created_changes()

    assert changes["contact.name"] == {"from": None, "to": "Li Na"}
    assert changes["contact.email"] == {"from": None, "to": "li@acme.cn"}
    assert changes["company.city"] == {"from": None, "to": "上海"}
    assert changes["campaign_id"] == {"from": None, "to": "C1"}
    assert changes["status"] == {"from": None, "to": "raw"}
    assert changes["source"] == {"from": None, "to": "trade_show"}
    assert changes["owner_id"] == {"from": None, "to": "owner1"}
    assert "pool_id" not in changes  # nothing was set, nothing changed
    assert "contact.title" not in changes


def test_a_lead_shows_every_field_of_every_section_as_api_md_documents():
    lead = make(company={"name": "ACME"})
    lead.assign("sales1", {"need": "read"}, LATER)

    data = lead.to_dict()

    for section, keys in SECTION_FIELDS.items():
        assert set(data[section]) == set(keys)
    assert data["assignees"] == [{"user_id": "sales1",
                                  "permissions": {"contact": "edit", "company": "edit", "need": "read"}}]
    assert data["created_at"] == "2024-05-01T09:00:00Z"
    assert data["updated_at"] == "2024-05-01T10:00:00Z"
    assert {"id", "campaign_id", "pool_id", "owner_id", "source", "status", "invalid_reason",
            "tags"} <= set(data)


def test_an_archived_campaign_takes_no_new_leads_C8():
    with pytest.raises(Conflict) as caught:
        KnownCampaign("C1", "completed", archived=True).require_open()

    assert "campaign_id" in caught.value.details
    KnownCampaign("C2", "completed", archived=False).require_open()  # finished but not archived: fine


# -- web registrations (C6) -------------------------------------------------------------------------------

def test_a_leads_utm_is_shown_and_becomes_tags_C6():
    lead = make(utm={"source": " baidu ", "medium": "cpc", "campaign": "车展"}, tags=["vip"], rule_id="R1")

    data = lead.to_dict()
    assert data["utm"] == {"source": "baidu", "medium": "cpc", "campaign": "车展"}
    assert data["rule_id"] == "R1"
    assert data["tags"] == ["utm_campaign:车展", "utm_medium:cpc", "utm_source:baidu", "vip"]
    assert lead.created_changes()["utm"]["to"]["source"] == "baidu"


@pytest.mark.parametrize("utm", [None, {}, {"source": "  ", "medium": None}])
def test_a_lead_without_utm_values_has_utm_null_and_no_utm_tags_C6(utm):
    data = make(utm=utm).to_dict()

    assert (data["utm"], data["rule_id"], data["tags"]) == (None, None, [])


def test_a_partial_utm_keeps_all_three_keys_C6():
    assert clean_utm({"medium": "email"}) == {"source": None, "medium": "email", "campaign": None}


def a_route(**kw):
    return IntakeRoute(**{"key": "expo-2026", "campaign_id": "C1", "owner_id": "mkt1", "created_at": NOW,
                          "updated_at": NOW, **kw})


def test_a_route_gives_its_leads_campaign_owner_pool_rule_and_the_web_form_source_C6():
    route = a_route(pool_id="P1", rule_id="R1")

    assert route.lead_fields() == {"campaign_id": "C1", "owner_id": "mkt1", "pool_id": "P1",
                                   "rule_id": "R1", "source": "web_form"}


def test_a_switched_off_route_is_gone_C6():
    route = a_route()
    route.require_active()

    assert route.change({"active": False, "pool_id": None}, LATER) == {"active": {"from": True, "to": False}}
    assert route.updated_at == LATER
    with pytest.raises(Gone):
        route.require_active()


def test_changing_a_route_to_what_it_is_changes_nothing_C6():
    route = a_route(pool_id="P1")

    assert route.change({"owner_id": "mkt1", "pool_id": "P1", "active": True, "key": "other"}, LATER) == {}
    assert (route.updated_at, route.key) == (NOW, "expo-2026")
    assert route.to_dict()["updated_at"] == route.to_dict()["created_at"]
