"""Fakes for the campaign service (cosmicpython style) and the real unit of work on an Alembic-built SQLite."""
import copy

import pytest

from crmkit.testing import FakeUnitOfWork, migrated_sqlite, sqlite_unit_of_work
from crmkit.context import RequestContext


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
        stored = copy.deepcopy(campaign)
        stored.participants = self._campaigns[campaign.id].participants  # their own table: save_participants
        self._campaigns[campaign.id] = stored

    def save_participants(self, campaign, actor_id):
        self._campaigns[campaign.id].participants = dict(campaign.participants)

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
            viewer = filters.get("visible_to")
            if viewer is not None and viewer != campaign.owner_id and viewer not in campaign.participants:
                continue
            if filters.get("participant_id") and filters["participant_id"] not in campaign.participants:
                continue
            if (filters.get("date_from") or filters.get("date_to")) and not _overlaps(campaign, filters):
                continue
            if filters.get("q") and not any(filters["q"].lower() in (text or "").lower()
                                             for text in (campaign.name, campaign.description)):
                continue
            if after and not campaign.id < after:
                continue
            found.append(copy.deepcopy(campaign))
        return found[:limit + 1]

    def has_children(self, campaign_id):
        return any(c.parent_id == campaign_id for c in self._campaigns.values())

    def lock_tree(self):
        pass

    def remove(self, campaign_id):
        self._campaigns.pop(campaign_id, None)


def _overlaps(campaign, filters):
    if campaign.start_date is None and campaign.end_date is None:
        return False
    return ((not filters.get("date_from") or campaign.end_date is None or campaign.end_date >= filters["date_from"])
            and (not filters.get("date_to") or campaign.start_date is None or campaign.start_date <= filters["date_to"]))


class FakeExpenseRepository:
    def __init__(self, state):
        self._expenses = state["expenses"]

    def add(self, expense):
        assert expense.id not in self._expenses, "duplicate primary key"
        self._expenses[expense.id] = copy.deepcopy(expense)

    def save(self, expense):
        self._expenses[expense.id] = copy.deepcopy(expense)

    def get(self, campaign_id, expense_id):
        expense = self._expenses.get(expense_id)
        return copy.deepcopy(expense) if expense is not None and expense.campaign_id == campaign_id else None

    def list(self, campaign_id, limit, after, include_removed=False):
        found = [copy.deepcopy(e) for e in sorted(self._expenses.values(), key=lambda e: e.id)
                 if e.campaign_id == campaign_id and (include_removed or e.removed_at is None)
                 and (not after or e.id > after)]
        return found[:limit + 1]

    def count(self, campaign_id):
        return sum(1 for e in self._expenses.values() if e.campaign_id == campaign_id)


class FakeCampaignUnitOfWork(FakeUnitOfWork):
    def new_state(self):
        return {"campaigns": {}, "expenses": {}}

    def bind(self, work):
        self.campaigns = FakeCampaignRepository(work)
        self.expenses = FakeExpenseRepository(work)


@pytest.fixture
def uow():
    return FakeCampaignUnitOfWork()


@pytest.fixture
def owner():
    return RequestContext(user_id="owner1", roles=("marketing_member",), correlation_id="req-1")


@pytest.fixture(scope="session")
def campaign_schema(tmp_path_factory):
    from campaign import service

    return migrated_sqlite("campaign", service.MIGRATIONS, tmp_path_factory.mktemp("campaign-schema"))


@pytest.fixture
def sql_uow(campaign_schema, tmp_path):
    from campaign import db

    with sqlite_unit_of_work(campaign_schema, tmp_path, db.CampaignUnitOfWork, db, "campaign.events") as uow:
        yield uow


@pytest.fixture(params=["fake", "sqlite"])
def any_uow(request):
    """The contract (STYLE idiom 8): the same tests pass on the fake and on the real repository."""
    if request.param == "fake":
        return FakeCampaignUnitOfWork()
    return request.getfixturevalue("sql_uow")
