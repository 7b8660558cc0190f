"""Fakes for the reporting service (cosmicpython style) and the real unit of work on an Alembic-built
SQLite database."""
import copy
import shutil
from decimal import Decimal

import pytest

from crmkit import db as crmdb
from crmkit import envelope
from crmkit.db import AlreadyProcessed
from crmkit.migrations import upgrade

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


class FakeReportingUnitOfWork:
    def __init__(self):
        self.state = {"campaigns": {}, "counters": {}, "leads": {}}
        self.inbox = set()
        self.outbox = []
        self.events = []
        self.commits = 0

    @property
    def committed(self):
        return self.commits > 0

    def __enter__(self):
        self._work = copy.deepcopy(self.state)
        self._marks = []
        self.events = []
        self.reports = FakeReportRepository(self._work)
        return self

    def __exit__(self, *exc_info):
        self._work = None
        self.events = []

    def emit(self, event_type, data, ctx, version=1):
        event = envelope.new_event(event_type, copy.deepcopy(data), actor_id=ctx.user_id,
                                   correlation_id=ctx.correlation_id, causation_id=ctx.causation_id,
                                   version=version)
        self.events.append(event)
        return event

    def already_processed(self, event_id, handler):
        return (event_id, handler) in self.inbox

    def first_time(self, event_id, handler):
        """Like the real inbox's insert-or-ignore: True the first time only."""
        if (event_id, handler) in self.inbox or (event_id, handler) in self._marks:
            return False
        self._marks.append((event_id, handler))
        return True

    def mark_processed(self, event_id, handler):
        """Like the real inbox: a repeat fails at once on the primary key."""
        if (event_id, handler) in self.inbox or (event_id, handler) in self._marks:
            self.rollback()
            raise AlreadyProcessed()
        self._marks.append((event_id, handler))

    def commit(self):
        marks, self._marks = self._marks, []
        if len(set(marks)) != len(marks) or self.inbox & set(marks):
            self.rollback()
            raise AlreadyProcessed()
        self.state = copy.deepcopy(self._work)
        self.inbox |= set(marks)
        self.outbox += self.events
        self.events = []
        self.commits += 1

    def rollback(self):
        self.events = []
        self._marks = []
        self._work.clear()
        self._work.update(copy.deepcopy(self.state))


@pytest.fixture
def uow():
    return FakeReportingUnitOfWork()


@pytest.fixture(scope="session")
def reporting_schema(tmp_path_factory):
    from reporting import service

    path = tmp_path_factory.mktemp("reporting-schema") / "template.db"
    upgrade("reporting", f"sqlite:///{path}", service.MIGRATIONS)
    return path


@pytest.fixture
def sql_uow(reporting_schema, tmp_path):
    from reporting import db

    path = tmp_path / "reporting.db"
    shutil.copy(reporting_schema, path)
    engine = crmdb.make_engine(f"sqlite:///{path}")
    yield db.ReportingUnitOfWork(crmdb.session_factory(engine), db.outbox, db.inbox, "reporting.events")
    engine.dispose()


@pytest.fixture(params=["fake", "sqlite"])
def any_uow(request):
    """The contract (STYLE idiom 8): the same tests pass on the fake and on the real repository."""
    if request.param == "fake":
        return FakeReportingUnitOfWork()
    return request.getfixturevalue("sql_uow")
