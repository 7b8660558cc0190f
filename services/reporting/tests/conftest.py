"""Fakes for the reporting service (cosmicpython style) and the real unit of work on an Alembic-built
SQLite database."""
from decimal import Decimal

import pytest

from crmkit.testing import FakeUnitOfWork, migrated_sqlite, sqlite_unit_of_work

LEAD_COLUMNS = ("id", "campaign_id", "status", "source", "assigned", "updated_at")


class FakeReportRepository:
    def __init__(self, state):
        self._state = state

    def put_campaign(self, data, at):
        row = self._state["campaigns"].setdefault(data["id"], {"id": data["id"]})
        row.update({"name": data.get("name"), "budget": data.get("budget"),
                    "expected_revenue": data.get("expected_revenue"), "updated_at": at})

    def touch_campaign(self, campaign_id, at):
        row = self._state["campaigns"].setdefault(
            campaign_id, {"id": campaign_id, "name": None, "budget": None, "expected_revenue": None})
        row["updated_at"] = at

    def campaign(self, campaign_id):
        row = self._state["campaigns"].get(campaign_id)
        return dict(row) if row is not None else None

    def add(self, campaign_id, dimension, key, delta):
        counters = self._state["counters"]
        counters[(campaign_id, dimension, key)] = counters.get((campaign_id, dimension, key), 0) + Decimal(delta)

    def counts(self, campaign_id):
        return {(dim, key): (int(v) if v == int(v) else v)
                for (cid, dim, key), v in self._state["counters"].items() if cid == campaign_id}

    def lead(self, lead_id):
        row = self._state["leads"].get(lead_id)
        return dict(row) if row is not None else None

    def add_lead(self, fact):
        if fact["id"] in self._state["leads"]:
            return False
        self._state["leads"][fact["id"]] = {**dict.fromkeys(LEAD_COLUMNS), **fact}
        return True

    def mark_assigned(self, lead_id, at):
        row = self._state["leads"].get(lead_id)
        if row is None or row["assigned"] == "1":
            return False
        row.update(assigned="1", updated_at=at)
        return True

    def add_many(self, campaign_id, deltas):
        for dimension, key, delta in deltas:
            self.add(campaign_id, dimension, key, delta)

    def last_change(self, campaign_id):
        times = [r["updated_at"] for r in self._state["leads"].values()
                 if r["campaign_id"] == campaign_id and r["updated_at"] is not None]
        return max(times) if times else None


class FakeReportingUnitOfWork(FakeUnitOfWork):
    def new_state(self):
        return {"campaigns": {}, "counters": {}, "leads": {}}

    def bind(self, work):
        self.reports = FakeReportRepository(work)


@pytest.fixture
def uow():
    return FakeReportingUnitOfWork()


@pytest.fixture(scope="session")
def reporting_schema(tmp_path_factory):
    from reporting import service

    return migrated_sqlite("reporting", service.MIGRATIONS, tmp_path_factory.mktemp("reporting-schema"))


@pytest.fixture
def sql_uow(reporting_schema, tmp_path):
    from reporting import db

    with sqlite_unit_of_work(reporting_schema, tmp_path, db.ReportingUnitOfWork, db, "reporting.events") as uow:
        yield uow


@pytest.fixture(params=["fake", "sqlite"])
def any_uow(request):
    """The contract (STYLE idiom 8): the same tests pass on the fake and on the real repository."""
    if request.param == "fake":
        return FakeReportingUnitOfWork()
    return request.getfixturevalue("sql_uow")
