"""Fakes for the campaign service (cosmicpython style) and the real unit of work on an Alembic-built SQLite."""
import copy
import shutil

import pytest
from sqlalchemy import select

from crmkit import db as crmdb
from crmkit import envelope
from crmkit.context import RequestContext
from crmkit.db import AlreadyProcessed
from crmkit.migrations import upgrade


class FakeCampaignRepository:
    def __init__(self, state):
        self._campaigns = state["campaigns"]

    def add(self, campaign):
        assert campaign.id not in self._campaigns, "duplicate primary key"
        self._campaigns[campaign.id] = copy.deepcopy(campaign)

    def save(self, campaign):
        assert campaign.id in self._campaigns
        if campaign.currency is None:  # the column is NOT NULL, as in the real table
            raise ValueError("campaigns.currency may not be null")
        self._campaigns[campaign.id] = copy.deepcopy(campaign)

    def get(self, campaign_id):
        campaign = self._campaigns.get(campaign_id)
        return copy.deepcopy(campaign) if campaign is not None else None

    def list(self, filters, limit, after):
        found = []
        for campaign in sorted(self._campaigns.values(), key=lambda c: c.id, reverse=True):
            if not filters.get("include_archived") and campaign.archived_at is not None:
                continue
            if any(filters.get(k) and getattr(campaign, k) != filters[k]
                   for k in ("status", "type", "owner_id", "parent_id")):
                continue
            if filters.get("q") and filters["q"].lower() not in campaign.name.lower():
                continue
            if after and not campaign.id < after:
                continue
            found.append(copy.deepcopy(campaign))
        return found[:limit + 1]


class FakeCampaignUnitOfWork:
    def __init__(self):
        self.state = {"campaigns": {}}
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
        self.campaigns = FakeCampaignRepository(self._work)
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

    def published(self, event_type=None):
        return [e for e in self.outbox if event_type is None or e["type"] == event_type]


@pytest.fixture
def uow():
    return FakeCampaignUnitOfWork()


@pytest.fixture
def owner():
    return RequestContext(user_id="owner1", roles=("marketing_member",), correlation_id="req-1")


@pytest.fixture(scope="session")
def campaign_schema(tmp_path_factory):
    from campaign import service

    path = tmp_path_factory.mktemp("campaign-schema") / "template.db"
    upgrade("campaign", f"sqlite:///{path}", service.MIGRATIONS)
    return path


@pytest.fixture
def sql_uow(campaign_schema, tmp_path):
    from campaign import db

    path = tmp_path / "campaign.db"
    shutil.copy(campaign_schema, path)
    engine = crmdb.make_engine(f"sqlite:///{path}")
    uow = db.CampaignUnitOfWork(crmdb.session_factory(engine), db.outbox, db.inbox, "campaign.events")

    def published(event_type=None):
        with engine.connect() as conn:
            rows = conn.execute(select(db.outbox.c.payload).order_by(db.outbox.c.id)).scalars().all()
        events = [envelope.parse(r) for r in rows]
        return [e for e in events if event_type is None or e["type"] == event_type]

    uow.published = published
    yield uow
    engine.dispose()


@pytest.fixture(params=["fake", "sqlite"])
def any_uow(request):
    """The contract (STYLE idiom 8): the same tests pass on the fake and on the real repository."""
    if request.param == "fake":
        return FakeCampaignUnitOfWork()
    return request.getfixturevalue("sql_uow")
