"""Fakes for the lead service (cosmicpython style) and the real unit of work on an Alembic-built SQLite.

The fake unit of work keeps committed state apart from the transaction's working copy, so a
use case that does not commit leaves nothing behind — as the real one does.
"""
import copy
import json
from decimal import Decimal

import pytest

from crmkit.testing import FakeUnitOfWork, migrated_sqlite, sqlite_unit_of_work
from crmkit.context import RequestContext
from crmkit.errors import Forbidden, NotFound
from lead.model import dedupe_keys, normalize_phone, phones_of


class FakeLeadRepository:
    def __init__(self, state):
        self._leads = state["leads"]
        self._state = state

    def add(self, lead):
        assert lead.id not in self._leads, "duplicate primary key"
        if lead.request_key is not None:
            if any(l.request_key == lead.request_key for l in self._leads.values()):
                return False
        self._leads[lead.id] = copy.deepcopy(lead)
        return True

    def count_in_campaign(self, campaign_id):
        """Deleted leads too, as the real table (C7)."""
        every = [*self._leads.values(), *self._state.get("deleted_leads", {}).values()]
        return sum(1 for lead in every if lead.campaign_id == campaign_id)

    def get_many(self, lead_ids):
        return [lead for lead in (self.get(lead_id) for lead_id in lead_ids) if lead is not None]

    def get(self, lead_id):
        lead = self._leads.get(lead_id)
        return copy.deepcopy(lead) if lead is not None else None

    def by_request_key(self, key):
        return next((copy.deepcopy(l) for l in self._leads.values() if l.request_key == key), None)

    def list(self, filters, limit, after):
        found = []
        for lead in sorted(self._leads.values(), key=lambda l: l.id, reverse=True):
            if after and not lead.id < after:
                continue
            if any(filters.get(k) and getattr(lead, k) != filters[k]
                   for k in ("campaign_id", "status", "owner_id", "pool_id", "source")):
                continue
            if filters.get("assignee_id") and filters["assignee_id"] not in lead.assignees:
                continue
            if filters.get("tag") and filters["tag"] not in lead.tags:
                continue
            if filters.get("unassigned") and lead.assignees:
                continue
            if filters.get("q"):
                texts = [lead.contact.get("name"), lead.company.get("name"), lead.contact.get("email"),
                         lead.contact.get("phone"), lead.contact.get("mobile"), lead.company.get("phone")]
                digits = normalize_phone(filters["q"])
                by_phone = (digits and len(digits) >= 4 and not filters["q"].strip("+-() 0123456789")
                            and digits in (phones_of(lead) or ""))
                if not by_phone and not any(t and filters["q"].lower() in t.lower() for t in texts):
                    continue
            viewer = filters.get("visible_to")
            if viewer and not self._visible(lead, viewer):
                continue
            found.append(copy.deepcopy(lead))
        return found[:limit + 1]

    def find_duplicates(self, keys_list):
        found = []
        for keys in keys_list:
            ids = set()
            for lead in self._leads.values():
                theirs = dedupe_keys(lead)
                if ((keys.get("email") and keys["email"] == theirs["email"])
                        or (keys.get("name") and keys["name"] == theirs["name"])
                        or set(keys.get("phones") or ()) & set(theirs["phones"])):
                    ids.add(lead.id)
            found.append(sorted(ids))
        return found

    def merge_records(self, from_ids, into_id, at):
        state = self._state
        for row in (*state["history"], *state["responses"]):
            if row["lead_id"] in from_ids:
                row["lead_id"] = into_id
        for table in ("activities", "opportunities", "accounts"):
            for row in state.get(table, {}).values():
                if row.lead_id in from_ids:
                    row.lead_id = into_id
        ratings = state["quality"].setdefault(into_id, {})
        for lead_id in from_ids:
            for user, rating in state["quality"].pop(lead_id, {}).items():
                ratings.setdefault(user, rating)
        if ratings:
            scores = [r["score"] for r in ratings.values()]
            state["leads"][into_id].quality = {"score": round(sum(scores) / len(scores)), "assessments": len(scores)}
        for lead_id in from_ids:
            lead = self._leads.pop(lead_id)
            lead.contact, lead.company, lead.need, lead.tags, lead.assignees = {}, {}, {}, [], {}
            lead.merged_into, lead.deleted_at = into_id, at
            state.setdefault("deleted_leads", {})[lead_id] = lead

    def merged_into(self, lead_id):
        lead = self._state.get("deleted_leads", {}).get(lead_id)
        return lead.merged_into if lead is not None else None

    def save(self, lead):
        stored = copy.deepcopy(lead)
        stored.assignees = self._leads[lead.id].assignees  # their own table: save_assignees
        self._leads[lead.id] = stored

    def save_assignees(self, lead, user_ids, now, actor_id):
        stored = self._leads[lead.id]
        for user in user_ids:
            if user in lead.assignees:
                stored.assignees[user] = copy.deepcopy(lead.assignees[user])
            else:
                stored.assignees.pop(user, None)
        stored.updated_at = lead.updated_at

    def save_assignees_many(self, entries, now):
        for lead, user_ids, actor_id in entries:
            self.save_assignees(lead, user_ids, now, actor_id)


    def _visible(self, lead, viewer):
        if viewer["user_id"] == lead.owner_id or viewer["user_id"] in lead.assignees:
            return True
        team = viewer.get("team")
        return bool(team) and any(self._teams.get(u) == team for u in (lead.owner_id, *lead.assignees))


class FakeUserDirectory:
    def __init__(self, state):
        self._users = state["users"]

    def teams_of(self, user_ids):
        return {u: self._users[u]["team"] for u in user_ids if u in self._users}

    def put(self, user_id, team, active, as_of):
        if user_id in self._users and self._users[user_id]["as_of"] > as_of:
            return False
        self._users[user_id] = {"team": team, "active": active, "as_of": as_of}
        return True


class FakeResponseRepository:
    def __init__(self, state):
        self._state = state

    def add(self, lead, user_id, response, note, at):
        self._state["seq"] += 1
        self._state["responses"].append({"id": self._state["seq"], "lead_id": lead.id, "user_id": user_id,
                                         "response": response, "note": note, "at": at})
        self._state["leads"][lead.id].last_response = {"response": response, "at": at.isoformat()}

    def list(self, lead_id, limit, after):
        rows = [r for r in self._state["responses"] if r["lead_id"] == lead_id and (not after or r["id"] > after)]
        return [dict(r) for r in rows[:limit + 1]]


class FakeQualityRepository:
    def __init__(self, state):
        self._state = state

    def put(self, lead_id, user_id, assessment, at):
        mine = self._state["quality"].setdefault(lead_id, {})
        mine[user_id] = dict(assessment)
        scores = [a["score"] for a in mine.values()]
        summary = {"score": round(sum(scores) / len(scores)), "assessments": len(scores)}
        self._state["leads"][lead_id].quality = summary
        return summary


class FakeHistoryRepository:
    def __init__(self, state):
        self._state = state

    def record(self, lead_id, at, ctx, action, changes, reason=None):
        self._state["seq"] += 1
        self._state["history"].append({
            "id": self._state["seq"], "lead_id": lead_id, "at": at, "actor_id": ctx.user_id,
            "action": action, "changes": json.dumps(changes, ensure_ascii=False, default=str),
            "channel": ctx.channel, "reason": reason or ctx.reason})

    def record_many(self, entries):
        for entry in entries:
            self.record(*entry)

    def list(self, lead_id, limit, after):
        rows = [r for r in self._state["history"] if r["lead_id"] == lead_id and (not after or r["id"] > after)]
        return [dict(r) for r in rows[:limit + 1]]


class FakeCampaignRepository:
    def __init__(self, state):
        self._campaigns = state["campaigns"]

    def get(self, campaign_id):
        return self._campaigns.get(campaign_id)

    def put(self, campaign, at):
        self._campaigns[campaign.id] = campaign


class FakeIntakeRouteRepository:
    def __init__(self, state):
        self._routes = state["intake_routes"]

    def add(self, route):
        if route.key in self._routes:
            return False
        self._routes[route.key] = copy.deepcopy(route)
        return True

    def get(self, key):
        return copy.deepcopy(self._routes.get(key))

    def list(self, limit, after):
        keys = sorted(k for k in self._routes if not after or k > after)
        return [copy.deepcopy(self._routes[k]) for k in keys[:limit + 1]]

    def save(self, route):
        self._routes[route.key] = copy.deepcopy(route)


class FakeLeadUnitOfWork(FakeUnitOfWork):
    def new_state(self):
        return {"leads": {}, "history": [], "campaigns": {}, "intake_routes": {}, "seq": 0, "users": {},
                "responses": [], "quality": {}}

    def bind(self, work):
        self.leads = FakeLeadRepository(work)
        self.history = FakeHistoryRepository(work)
        self.campaigns = FakeCampaignRepository(work)
        self.intake_routes = FakeIntakeRouteRepository(work)
        bind_work_fakes(self, work)  # activities, opportunities, accounts, lead endings (below)
        bind_import_fakes(self, work)  # import jobs (L13, at the end)
        self.users = FakeUserDirectory(work)
        self.responses = FakeResponseRepository(work)
        self.quality = FakeQualityRepository(work)
        self.leads._teams = {u: v["team"] for u, v in work["users"].items()}


class StubCampaigns:
    """The campaign service as the lead service sees it: describe_campaign(id) → dict or NotFound."""

    def __init__(self, **campaigns):
        self.campaigns = campaigns
        self.calls = []

    def describe_campaign(self, campaign_id):
        self.calls.append(campaign_id)
        if campaign_id not in self.campaigns:
            raise NotFound(f"Campaign {campaign_id} does not exist.")
        return {"id": campaign_id, **self.campaigns[campaign_id]}

    def authorize_campaign(self, campaign_id, permission):
        """The caller may `permission` the campaign unless the campaign lists it in "denied"."""
        campaign = self.describe_campaign(campaign_id)
        if permission in campaign.get("denied", ()):
            raise Forbidden(f"You may not {permission} this campaign.")
        return campaign


class StubRules:
    """The assignment service as the lead service sees it: get_rule(id) → dict or NotFound."""

    def __init__(self, *rule_ids):
        self.rule_ids = set(rule_ids)

    def get_rule(self, rule_id):
        if rule_id not in self.rule_ids:
            raise NotFound(f"Rule {rule_id} does not exist.")
        return {"id": rule_id}


@pytest.fixture
def uow():
    return FakeLeadUnitOfWork()


@pytest.fixture
def campaigns():
    return StubCampaigns(C1={"status": "active", "archived": False, "owner_id": "mkt1"},
                         C2={"status": "active", "archived": False, "owner_id": "mkt2"},
                         OLD={"status": "completed", "archived": True, "owner_id": "mkt1"},
                         THEIRS={"status": "active", "archived": False, "owner_id": "mkt2",
                                 "denied": ("edit",)})


@pytest.fixture
def rules():
    return StubRules("R1", "R2")


@pytest.fixture
def owner():
    return RequestContext(user_id="owner1", roles=("marketing_member",), correlation_id="req-1")


# -- the real thing, on a schema built by Alembic (STYLE idiom 9) -----------------------------------

@pytest.fixture(scope="session")
def lead_schema(tmp_path_factory):
    from lead import service

    return migrated_sqlite("lead", service.MIGRATIONS, tmp_path_factory.mktemp("lead-schema"))


@pytest.fixture
def sql_uow(lead_schema, tmp_path):
    from lead import db

    with sqlite_unit_of_work(lead_schema, tmp_path, db.LeadUnitOfWork, db, "lead.events") as uow:
        yield uow


@pytest.fixture(params=["fake", "sqlite"])
def any_uow(request):
    """The contract (STYLE idiom 8): the same tests pass on the fake and on the real repository."""
    if request.param == "fake":
        return FakeLeadUnitOfWork()
    return request.getfixturevalue("sql_uow")


# -- work on leads: activities, opportunities, accounts, lead endings (issue 5, C7) ---------------------
# Their state lives in the same working copy under keys of their own, created on first use.

def bind_work_fakes(uow, work):
    uow.activities = FakeActivityRepository(work)
    uow.opportunities = FakeOpportunityRepository(work)
    uow.accounts = FakeAccountRepository(work)
    uow.lead_endings = FakeLeadEndingRepository(work)


class _FakeTable:
    key = None

    def __init__(self, work):
        self._work = work

    @property
    def _rows(self):
        return self._work.setdefault(self.key, {})

    def add(self, item):
        assert item.id not in self._rows, "duplicate primary key"
        self._rows[item.id] = copy.deepcopy(item)

    def get(self, item_id):
        return copy.deepcopy(self._rows.get(item_id))

    def _select(self, filters, keys, limit, after, newest_first=False):
        found = []
        for item_id in sorted(self._rows, reverse=newest_first):
            item = self._rows[item_id]
            if after and not (item_id < after if newest_first else item_id > after):
                continue
            if any(filters.get(k) and getattr(item, k) != filters[k] for k in keys):
                continue
            found.append(copy.deepcopy(item))
        return found[:limit + 1]


class FakeActivityRepository(_FakeTable):
    key = "activities"

    def list(self, filters, limit, after):
        return self._select(filters, ("lead_id", "campaign_id", "worker_id"), limit, after)

    def effort(self, lead_id=None, campaign_id=None):
        chosen = [a for a in self._rows.values()
                  if (not lead_id or a.lead_id == lead_id) and (not campaign_id or a.campaign_id == campaign_id)]
        return len(chosen), sum((a.effort_hours for a in chosen), Decimal(0))


class FakeOpportunityRepository(_FakeTable):
    key = "opportunities"

    def save(self, opportunity):
        self._rows[opportunity.id] = copy.deepcopy(opportunity)

    def list(self, filters, limit, after):
        return self._select(filters, ("campaign_id", "lead_id", "status"), limit, after, newest_first=True)


class FakeAccountRepository(_FakeTable):
    key = "accounts"


class FakeLeadEndingRepository:
    """A deleted lead leaves `leads` (so reads miss it) for `deleted_leads`, blanked; like the real
    table, count_in_campaign still counts it."""

    def __init__(self, work):
        self._work = work

    def set_status(self, lead_id, status, at, from_status):
        lead = self._work["leads"].get(lead_id)
        if lead is None or lead.status != from_status:
            return False
        lead.status, lead.updated_at = status, at
        return True

    def tombstone(self, lead_id, at):
        lead = self._work["leads"].pop(lead_id, None)
        if lead is None:
            return False
        lead.contact, lead.company, lead.need, lead.tags = {}, {}, {}, []
        lead.updated_at = lead.deleted_at = at
        self._work.setdefault("deleted_leads", {})[lead_id] = lead
        return True


# -- spreadsheet import (L13, imports_db.py): jobs, file parts, row errors; batched lead inserts -----------
# Their state lives in the working copy under keys of their own, created on first use.

class FakeImportRepository:
    def __init__(self, work, uow):
        self._work = work
        self._uow = uow

    @property
    def _jobs(self):
        return self._work.setdefault("import_jobs", {})

    def _list(self, key):
        return self._work.setdefault(key, {})

    def refresh_statistics(self):
        pass

    def add(self, job):
        self._jobs[job["id"]] = {"status": "receiving", "encoding": None, "total": None, "next_row": 0,
                                 "imported": 0, "duplicates": 0, "error_count": 0, "runner": None,
                                 "lease_until": None, "attempts": 0, "failure": None, "finished_at": None,
                                 **copy.deepcopy(job)}

    def get(self, job_id):
        return copy.deepcopy(self._jobs.get(job_id))

    def add_part(self, job_id, seq, data):
        assert (job_id, seq) not in self._list("import_parts"), "duplicate primary key"
        self._list("import_parts")[(job_id, seq)] = bytes(data)

    def content(self, job_id):
        parts = self._list("import_parts")
        return b"".join(parts[key] for key in sorted(k for k in parts if k[0] == job_id))

    def size(self, job_id):
        return len(self.content(job_id))

    def drop_parts(self, job_id):
        for key in [k for k in self._list("import_parts") if k[0] == job_id]:
            del self._list("import_parts")[key]

    def update(self, job_id, runner=None, **values):
        job = self._jobs.get(job_id)
        if job is None or (runner is not None and (job["runner"] != runner or job["status"] != "running")):
            return False
        job.update(copy.deepcopy(values))
        return True

    def runnable(self, now, limit=5):
        jobs = sorted(self._jobs.values(), key=lambda j: j["created_at"])
        return [j["id"] for j in jobs if j["status"] == "queued"
                or (j["status"] == "running" and j["lease_until"] < now)][:limit]

    def claim(self, job_id, runner, now, until):
        job = self._jobs[job_id]
        if not (job["status"] == "queued" or (job["status"] == "running" and job["lease_until"] < now)):
            return False
        job.update(status="running", runner=runner, lease_until=until, updated_at=now, attempts=job["attempts"] + 1)
        return True

    def add_errors(self, job_id, first_seq, errors):
        for n, error in enumerate(errors):
            self._list("import_errors")[(job_id, first_seq + n)] = dict(error)

    def errors(self, job_id, limit=1000):
        found = self._list("import_errors")
        return [dict(found[k]) for k in sorted(k for k in found if k[0] == job_id)][:limit]

    def add_leads(self, new_leads, at, ctx, history_changes, keys=None):
        for lead, changes in zip(new_leads, history_changes):
            self._uow.leads.add(lead)
            self._uow.history.record(lead.id, at, ctx, "created", changes)


def bind_import_fakes(uow, work):
    uow.imports = FakeImportRepository(work, uow)
