"""Fakes for the assignment service (cosmicpython style) and the real unit of work on an Alembic-built
SQLite database."""
import copy

import pytest

from crmkit.testing import FakeUnitOfWork, migrated_sqlite, sqlite_unit_of_work
from crmkit.context import RequestContext


class FakeRuleRepository:
    def __init__(self, state):
        self._state = state

    def add(self, rule):
        assert rule.id not in self._state["rules"], "duplicate primary key"
        self._state["rules"][rule.id] = copy.deepcopy(rule)
        self._state["turns"][rule.id] = 0

    def get(self, rule_id):
        rule = self._state["rules"].get(rule_id)
        return copy.deepcopy(rule) if rule is not None else None

    def list(self, limit, after):
        ids = sorted((i for i in self._state["rules"] if not after or i < after), reverse=True)
        return [self.get(i) for i in ids[:limit + 1]]

    def take_turn(self, rule_id):
        turn = self._state["turns"][rule_id]
        self._state["turns"][rule_id] = turn + 1
        return turn

    def update(self, rule):
        self._state["rules"][rule.id] = copy.deepcopy(rule)

    def delete(self, rule_id, at):
        del self._state["rules"][rule_id]
        for entries in self._state["campaign_rules"].values():
            entries[:] = [e for e in entries if e[0] != rule_id]

    def rules_for_campaign(self, campaign_id):
        entries = sorted(enumerate(self._state["campaign_rules"].get(campaign_id, [])),
                         key=lambda item: (item[1][1], item[0]))
        return [(self.get(rule_id), priority) for _, (rule_id, priority) in entries]

    def rules_for_campaigns(self, campaign_ids):
        return {campaign_id: self.rules_for_campaign(campaign_id) for campaign_id in campaign_ids}

    def set_campaign_rules(self, campaign_id, entries, actor_id, at):
        self._state["campaign_rules"][campaign_id] = [tuple(e) for e in entries]

    def campaigns_of(self, rule_id):
        return sorted(c for c, entries in self._state["campaign_rules"].items() if any(e[0] == rule_id for e in entries))


class FakeDecisionRepository:
    def __init__(self, state):
        self._state = state

    def for_events(self, event_ids):
        return [copy.deepcopy(d) for d in self._state["decisions"] if d["event_id"] in set(event_ids)]

    def for_event(self, event_id):
        return next((copy.deepcopy(d) for d in self._state["decisions"] if d["event_id"] == event_id), None)

    def add(self, decision):
        if self.for_event(decision["event_id"]) is not None:
            return False
        self._state["seq"] += 1
        self._state["decisions"].append({**copy.deepcopy(decision), "id": self._state["seq"]})
        return True

    def add_many(self, decisions):
        return {d["event_id"] for d in decisions if self.add(d)}

    def mark_applied_many(self, event_ids):
        for event_id in event_ids:
            self.mark_applied(event_id)

    def mark_applied(self, event_id):
        for decision in self._state["decisions"]:
            if decision["event_id"] == event_id:
                decision["state"] = "applied"

    def decided_leads(self, rule_id, lead_ids):
        return {d["lead_id"] for d in self._state["decisions"]
                if d["rule_id"] == rule_id and d["matched"] and d["lead_id"] in set(lead_ids)}

    def for_lead(self, lead_id, limit, after):
        rows = [d for d in self._state["decisions"] if d["lead_id"] == lead_id and (not after or d["id"] > after)]
        return copy.deepcopy(rows[:limit + 1])


class FakeLeadProjection:
    def __init__(self, state):
        self._state = state

    def put(self, lead, updated_at, open_, deleted=False):
        stored = self._state["leads"].get(lead["id"])
        if stored is not None and (stored["deleted"] or stored["updated_at"] > updated_at):
            return False
        self._state["leads"][lead["id"]] = {"data": copy.deepcopy(lead), "updated_at": updated_at, "open": open_,
                                            "deleted": deleted}
        return True

    def put_many(self, items):
        return list(dict.fromkeys(item[0]["id"] for item in items if self.put(*item)))

    def get_many(self, lead_ids):
        return {i: copy.deepcopy(row["data"]) for i, row in self._state["leads"].items()
                if i in set(lead_ids) and not row["deleted"]}

    def of_campaign(self, campaign_id, limit):
        return [copy.deepcopy(row["data"]) for i, row in sorted(self._state["leads"].items())
                if row["data"].get("campaign_id") == campaign_id and not row["deleted"]][:limit]

    def open_load(self, user_ids):
        load = {u: 0 for u in user_ids}
        for row in self._state["leads"].values():
            if row["open"] and not row["deleted"]:
                for assignee in row["data"].get("assignees") or ():
                    if assignee["user_id"] in load:
                        load[assignee["user_id"]] += 1
        return load


class FakeUserDirectory:
    def __init__(self, state):
        self._state = state

    def put(self, user_id, team, active, as_of):
        stored = self._state["users"].get(user_id)
        if stored is not None and stored["as_of"] > as_of:
            return False
        self._state["users"][user_id] = {"team": team, "active": active, "as_of": as_of}
        return True

    def known(self, user_ids):
        return {u: {"team": v["team"], "active": v["active"]} for u, v in self._state["users"].items()
                if u in set(user_ids)}

    def active_members(self, team):
        return sorted(u for u, v in self._state["users"].items() if v["team"] == team and v["active"])


class FakeAssignmentUnitOfWork(FakeUnitOfWork):
    def new_state(self):
        return {"rules": {}, "turns": {}, "campaign_rules": {}, "decisions": [], "seq": 0, "leads": {},
                "users": {}}

    def bind(self, work):
        self.rules = FakeRuleRepository(work)
        self.decisions = FakeDecisionRepository(work)
        self.leads = FakeLeadProjection(work)
        self.users = FakeUserDirectory(work)


class RecordingAssign:
    """Stands in for lead.assign_lead over RPC; can fail the first n calls."""

    def __init__(self, fail_times=0):
        self.calls = []
        self.fail_times = fail_times

    def __call__(self, lead_id, assignments, decision_key=None, channel=None, reason=None):
        self.calls.append({"lead_id": lead_id, "assignments": assignments, "decision_key": decision_key,
                           "channel": channel, "reason": reason})
        if self.fail_times:
            self.fail_times -= 1
            raise TimeoutError("lead.assign_lead did not answer")
        return {"id": lead_id}


@pytest.fixture
def uow():
    return FakeAssignmentUnitOfWork()


@pytest.fixture
def manager():
    return RequestContext(user_id="mgr1", roles=("sales_manager",), correlation_id="req-1")


@pytest.fixture
def assign():
    return RecordingAssign()


@pytest.fixture(scope="session")
def assignment_schema(tmp_path_factory):
    from assignment import service

    return migrated_sqlite("assignment", service.MIGRATIONS, tmp_path_factory.mktemp("assignment-schema"))


@pytest.fixture
def sql_uow(assignment_schema, tmp_path):
    from assignment import db

    with sqlite_unit_of_work(assignment_schema, tmp_path, db.AssignmentUnitOfWork, db, "assignment.events") as uow:
        yield uow


@pytest.fixture(params=["fake", "sqlite"])
def any_uow(request):
    """The contract (STYLE idiom 8): the same tests pass on the fake and on the real repository."""
    if request.param == "fake":
        return FakeAssignmentUnitOfWork()
    return request.getfixturevalue("sql_uow")
