"""The work repositories' contract (STYLE idioms 8, 9): the fakes and the SQLAlchemy repositories on an
Alembic-built SQLite database behave the same; and migration 0003 builds what work_db declares."""
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

from crmkit.envelope import iso, new_id
from lead.model import Lead
from lead.work import Account, Activity, Opportunity

T0 = datetime(2024, 5, 1, 9, 0, 0, 123456, tzinfo=timezone.utc)


def a_lead(campaign_id="C1"):
    return Lead.create(id=new_id(), now=T0, owner_id="owner1", campaign_id=campaign_id, pool_id="P1",
                       contact={"name": "Zhang Wei", "mobile": "13800138000"}, company={"name": "ACME 上海"},
                       tags=["vip"])


def an_activity(lead, n=0, **kw):
    values = {"type": "visit", "subject": f"拜访 {n}", "effort_hours": Decimal("1.5"), "worker_id": "sales1",
              "cost": Decimal("12.3"), "outcome": "好", **kw}
    return Activity.log(id=f"{n:032d}", lead=lead, now=T0 + timedelta(minutes=n), **values)


def an_opportunity(lead, n=0, **kw):
    return Opportunity.open(id=f"{n:032d}", lead=lead, owner_id="sales1", now=T0, name=f"机会 {n}",
                            amount=Decimal("1000.5"), expected_close=date(2024, 9, 30), **kw)


def store(uow, *items):
    with uow:
        for item in items:
            {Lead: uow.leads, Activity: uow.activities, Opportunity: uow.opportunities,
             Account: uow.accounts}[type(item)].add(item)
        uow.commit()


def test_an_activity_comes_back_as_it_was(any_uow):
    lead = a_lead()
    activity = an_activity(lead, opportunity_id="O1")
    store(any_uow, lead, activity)

    with any_uow:
        [loaded] = any_uow.activities.list({"lead_id": lead.id}, 10, None)

    assert loaded.to_dict() == activity.to_dict()
    assert loaded.effort_hours == Decimal("1.5") and loaded.cost == Decimal("12.30")


def test_activities_are_filtered_and_paged_oldest_first(any_uow):
    lead, other = a_lead(), a_lead("C2")
    activities = [an_activity(lead, 1), an_activity(lead, 2, worker_id="sales2"), an_activity(other, 3),
                  an_activity(lead, 4)]
    store(any_uow, lead, other, *activities)

    def ids(filters, limit=10, after=None):
        with any_uow:
            return [a.id for a in any_uow.activities.list(filters, limit, after)]

    assert ids({"campaign_id": "C1"}) == [activities[0].id, activities[1].id, activities[3].id]
    assert ids({"campaign_id": "C1"}, limit=1) == [activities[0].id, activities[1].id]  # limit + 1
    assert ids({"campaign_id": "C1"}, after=activities[1].id) == [activities[3].id]
    assert ids({"worker_id": "sales2"}) == [activities[1].id]
    assert ids({"lead_id": other.id, "campaign_id": "C2"}) == [activities[2].id]


def test_effort_adds_up_per_lead_and_per_campaign(any_uow):
    lead, other = a_lead(), a_lead()
    store(any_uow, lead, other, an_activity(lead, 1), an_activity(lead, 2, effort_hours=Decimal("0.25")),
          an_activity(other, 3, effort_hours=Decimal(8)))

    with any_uow:
        by_lead = any_uow.activities.effort(lead_id=lead.id)
        by_campaign = any_uow.activities.effort(campaign_id="C1")
        nothing = any_uow.activities.effort(campaign_id="C9")

    assert (by_lead[0], Decimal(str(by_lead[1]))) == (2, Decimal("1.75"))
    assert (by_campaign[0], Decimal(str(by_campaign[1]))) == (3, Decimal("9.75"))
    assert (nothing[0], Decimal(str(nothing[1]))) == (0, 0)


def test_an_opportunity_comes_back_as_it_was_and_saves_its_changes(any_uow):
    lead = a_lead()
    opportunity = an_opportunity(lead, account_id="AC1")
    store(any_uow, lead, opportunity)

    with any_uow:
        loaded = any_uow.opportunities.get(opportunity.id)
        assert loaded.to_dict() == opportunity.to_dict()
        loaded.change({"stage": "proposal", "expected_close": None}, T0 + timedelta(days=1))
        loaded.win(T0 + timedelta(days=2), Decimal("999.99"))
        any_uow.opportunities.save(loaded)
        any_uow.commit()

    with any_uow:
        again = any_uow.opportunities.get(opportunity.id)
    assert again.to_dict() == loaded.to_dict()
    assert (again.status, again.won_amount, again.expected_close) == ("won", Decimal("999.99"), None)


def test_opportunities_are_filtered_and_paged_newest_first(any_uow):
    lead, other = a_lead(), a_lead("C2")
    deals = [an_opportunity(lead, 1), an_opportunity(lead, 2), an_opportunity(other, 3)]
    deals[1].lose(T0, "no budget")
    store(any_uow, lead, other, *deals)

    def ids(filters, limit=10, after=None):
        with any_uow:
            return [o.id for o in any_uow.opportunities.list(filters, limit, after)]

    assert ids({}) == [deals[2].id, deals[1].id, deals[0].id]
    assert ids({"campaign_id": "C1"}, after=deals[1].id) == [deals[0].id]
    assert ids({"lead_id": lead.id, "status": "open"}) == [deals[0].id]
    assert ids({"status": "lost"}, limit=1) == [deals[1].id]
    with any_uow:
        assert any_uow.opportunities.get("nope") is None


def test_an_account_comes_back_as_it_was(any_uow):
    lead = a_lead()
    account = Account.from_lead(id=new_id(), lead=lead, now=T0)
    store(any_uow, lead, account)

    with any_uow:
        assert any_uow.accounts.get(account.id).to_dict() == account.to_dict()
        assert any_uow.accounts.get("nope") is None


def test_a_lead_moves_to_converted_only_from_the_status_it_was_read_in(any_uow):
    lead = a_lead()
    store(any_uow, lead)

    with any_uow:
        assert any_uow.lead_endings.set_status(lead.id, "converted", T0 + timedelta(hours=1), "raw") is True
        assert any_uow.lead_endings.set_status(lead.id, "converted", T0, "raw") is False  # not raw any more
        assert any_uow.lead_endings.set_status("nope", "converted", T0, "raw") is False
        any_uow.commit()

    with any_uow:
        loaded = any_uow.leads.get(lead.id)
    assert (loaded.status, iso(loaded.updated_at)) == ("converted", iso(T0 + timedelta(hours=1)))


def test_a_tombstoned_lead_is_gone_once_and_its_activities_stay_C7(any_uow):
    lead = a_lead()
    activity = an_activity(lead)
    store(any_uow, lead, activity)

    with any_uow:
        assert any_uow.lead_endings.tombstone(lead.id, T0) is True
        any_uow.commit()

    with any_uow:
        assert any_uow.leads.get(lead.id) is None
        assert any_uow.leads.list({"campaign_id": "C1"}, 10, None) == []
        assert any_uow.lead_endings.tombstone(lead.id, T0) is False
        assert [a.id for a in any_uow.activities.list({"campaign_id": "C1"}, 10, None)] == [activity.id]


def test_what_is_not_committed_is_not_stored(any_uow):
    lead = a_lead()
    store(any_uow, lead)
    with any_uow:
        any_uow.activities.add(an_activity(lead))
        any_uow.opportunities.add(an_opportunity(lead))
        any_uow.lead_endings.tombstone(lead.id, T0)

    with any_uow:
        assert any_uow.activities.list({}, 10, None) == []
        assert any_uow.opportunities.list({}, 10, None) == []
        assert any_uow.leads.get(lead.id) is not None


# -- the real table only ------------------------------------------------------------------------------

def test_a_tombstone_blanks_the_personal_data_in_the_row_C7(sql_uow):
    from sqlalchemy import select

    from lead.db import leads
    from lead.work_db import PERSONAL_COLUMNS

    lead = a_lead()
    store(sql_uow, lead)
    with sql_uow:
        sql_uow.lead_endings.tombstone(lead.id, T0)
        sql_uow.commit()

    with sql_uow:
        row = sql_uow.session.execute(select(leads).where(leads.c.id == lead.id)).mappings().one()
    assert all(row[name] is None for name in PERSONAL_COLUMNS) and row["tags"] == "[]"
    assert (row["campaign_id"], row["owner_id"], row["deleted_at"] is not None) == ("C1", "owner1", True)


def test_migration_0003_builds_the_work_tables_as_declared(lead_schema):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    from sqlalchemy import create_engine

    from lead.db import metadata

    engine = create_engine(f"sqlite:///{lead_schema}")
    with engine.connect() as conn:
        diffs = compare_metadata(MigrationContext.configure(conn), metadata)
    engine.dispose()

    def table_of(diff):
        item = diff[0] if isinstance(diff, list) else diff
        for part in item[1:]:
            name = getattr(part, "name", None) if not isinstance(part, str) else part
            table = getattr(part, "table", None)
            if table is not None:
                return table.name
            if name in ("activities", "opportunities", "accounts"):
                return name
        return None

    mine = [d for d in diffs if table_of(d) in ("activities", "opportunities", "accounts")]
    assert mine == []
