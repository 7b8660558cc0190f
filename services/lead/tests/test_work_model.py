"""Activities, opportunities and accounts as pure domain objects (L10, L11, L12, C4)."""
from datetime import date, datetime, timezone
from decimal import Decimal

import pytest

from crmkit.errors import Conflict, Invalid
from lead.model import Lead
from lead.work import Account, Activity, Opportunity, convert, hours, money

T0 = datetime(2024, 5, 1, 9, 0, tzinfo=timezone.utc)
T1 = datetime(2024, 5, 2, 9, 0, tzinfo=timezone.utc)


def a_lead(**kw):
    kw.setdefault("contact", {"name": "王芳"})
    kw.setdefault("company", {"name": "上海明辉机械有限公司", "city": "上海"})
    return Lead.create(id="L1", now=T0, owner_id="owner1", campaign_id="C1", pool_id="P1", **kw)


def an_activity(**kw):
    values = {"type": "meeting", "subject": "拜访客户", "effort_hours": Decimal("2.5"), **kw}
    return Activity.log(id="A1", lead=a_lead(), worker_id="sales1", now=T1, **values)


def an_opportunity(**kw):
    values = {"name": "两台数控机床", "amount": Decimal("120000"), **kw}
    return Opportunity.open(id="O1", lead=a_lead(), owner_id="sales1", now=T0, **values)


def test_an_activity_keeps_the_leads_campaign_and_its_effort_C4():
    activity = an_activity(cost=Decimal("35.5"), outcome=" 对方有兴趣 ")

    data = activity.to_dict()
    assert (data["lead_id"], data["campaign_id"], data["worker_id"]) == ("L1", "C1", "sales1")
    assert (data["effort_hours"], data["cost"], data["outcome"]) == (2.5, "35.50", "对方有兴趣")
    assert data["occurred_at"] == data["created_at"] == "2024-05-02T09:00:00Z"


def test_an_activity_may_have_happened_before_it_is_logged():
    assert an_activity(occurred_at=T0).to_dict()["occurred_at"] == "2024-05-01T09:00:00Z"


@pytest.mark.parametrize("changes, path", [
    ({"effort_hours": Decimal(0)}, "effort_hours"),
    ({"effort_hours": Decimal("24.01")}, "effort_hours"),
    ({"effort_hours": "NaN"}, "effort_hours"),
    ({"type": "party"}, "type"),
    ({"subject": "  "}, "subject"),
    ({"cost": Decimal(-1)}, "cost"),
    ({"cost": Decimal(10 ** 12)}, "cost"),
], ids=["no-effort", "more-than-a-day", "nan", "type", "blank-subject", "negative-cost", "huge-cost"])
def test_a_bad_activity_is_invalid_with_the_fields_path(changes, path):
    with pytest.raises(Invalid) as caught:
        an_activity(**changes)
    assert path in caught.value.details


def test_a_whole_day_of_effort_is_allowed():
    assert an_activity(effort_hours=Decimal(24)).effort_hours == Decimal(24)


def test_an_opportunity_keeps_its_lead_campaign_and_pool_L10():
    data = an_opportunity(expected_close=date(2024, 9, 30)).to_dict()

    assert (data["lead_id"], data["campaign_id"], data["pool_id"]) == ("L1", "C1", "P1")
    assert (data["status"], data["stage"], data["probability"]) == ("open", "qualification", 10)
    assert (data["amount"], data["expected_close"], data["won_amount"]) == ("120000.00", "2024-09-30", None)


def test_an_opportunitys_probability_defaults_to_its_stages():
    assert an_opportunity(stage="negotiation").probability == 75
    assert an_opportunity(stage="proposal", probability=40).probability == 40


def test_changing_an_opportunity_says_what_changed_in_json_terms_L11():
    opportunity = an_opportunity()

    changes = opportunity.change({"amount": Decimal("99000.5"), "stage": "proposal", "probability": 10,
                                  "expected_close": date(2024, 12, 1)}, T1)

    assert changes == {"amount": {"from": "120000.00", "to": "99000.50"},
                       "stage": {"from": "qualification", "to": "proposal"},
                       "expected_close": {"from": None, "to": "2024-12-01"}}
    assert opportunity.updated_at == T1


@pytest.mark.parametrize("changes", [{"stage": "won"}, {"probability": 101}, {"probability": True},
                                     {"amount": "lots"}])
def test_a_bad_change_is_invalid(changes):
    with pytest.raises(Invalid):
        an_opportunity().change(changes, T1)


def test_won_takes_the_opportunitys_amount_unless_told_and_is_final_L11():
    opportunity = an_opportunity()
    opportunity.win(T1)
    assert (opportunity.status, opportunity.won_amount, opportunity.probability) == ("won", Decimal("120000"), 100)

    other = an_opportunity()
    other.win(T1, Decimal("100000"))
    assert money(other.won_amount) == "100000.00"

    for again in (lambda: other.win(T1), lambda: other.lose(T1, "late"), lambda: other.change({}, T1)):
        with pytest.raises(Conflict):
            again()


def test_lost_needs_a_reason_and_is_final_L11():
    opportunity = an_opportunity()
    with pytest.raises(Invalid):
        opportunity.lose(T1, " ")

    opportunity.lose(T1, "预算取消")

    assert (opportunity.status, opportunity.lost_reason, opportunity.closed_at) == ("lost", "预算取消", T1)
    with pytest.raises(Conflict):
        opportunity.win(T1)


def test_an_account_is_named_after_the_company_or_else_the_contact_L10():
    assert Account.from_lead(id="AC1", lead=a_lead(), now=T0).name == "上海明辉机械有限公司"
    assert Account.from_lead(id="AC1", lead=a_lead(company={}), now=T0).name == "王芳"
    account = Account.from_lead(id="AC1", lead=a_lead(), now=T0, name="明辉")
    assert (account.name, account.to_dict()["company"]["city"]) == ("明辉", "上海")


@pytest.mark.parametrize("status", ["raw", "usable", "working"])
def test_a_lead_is_converted_from_raw_usable_or_working(status):
    lead = a_lead()
    lead.status = status

    assert convert(lead, T1) == {"status": {"from": status, "to": "converted"}}
    assert lead.status == "converted"


@pytest.mark.parametrize("status", ["invalid", "converted"])
def test_an_invalid_or_converted_lead_is_not_converted(status):
    lead = a_lead()
    lead.status = status
    with pytest.raises(Conflict):
        convert(lead, T1)


def test_hours_are_numbers_to_the_hundredth():
    assert hours(Decimal("1.005")) == 1.0 and hours(3) == 3.0 and hours("2.25") == 2.25
