"""Fakes for the assignment service (cosmicpython style) and the real unit of work on an Alembic-built
SQLite database."""
import copy
import shutil

import pytest
from sqlalchemy import select

from crmkit import db as crmdb
from crmkit import envelope
from crmkit.context import RequestContext
from crmkit.db import AlreadyProcessed
from crmkit.migrations import upgrade


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

    def rule_for_campaign(self, campaign_id):
        rule_id = self._state["campaign_rules"].get(campaign_id)
        return self.get(rule_id) if rule_id else None

    def attach(self, campaign_id, rule_id, actor_id, at):
        self._state["campaign_rules"][campaign_id] = rule_id


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

    def mark_applied(self, event_id):
        for decision in self._state["decisions"]:
            if decision["event_id"] == event_id:
                decision["state"] = "applied"

    def for_lead(self, lead_id, limit, after):
        rows = [d for d in self._state["decisions"] if d["lead_id"] == lead_id and (not after or d["id"] > after)]
        return copy.deepcopy(rows[:limit + 1])


class FakeAssignmentUnitOfWork:
    def __init__(self):
        self.state = {"rules": {}, "turns": {}, "campaign_rules": {}, "decisions": [], "seq": 0}
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
        self.rules = FakeRuleRepository(self._work)
        self.decisions = FakeDecisionRepository(self._work)
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

    path = tmp_path_factory.mktemp("assignment-schema") / "template.db"
    upgrade("assignment", f"sqlite:///{path}", service.MIGRATIONS)
    return path


@pytest.fixture
def sql_uow(assignment_schema, tmp_path):
    from assignment import db

    path = tmp_path / "assignment.db"
    shutil.copy(assignment_schema, path)
    engine = crmdb.make_engine(f"sqlite:///{path}")
    uow = db.AssignmentUnitOfWork(crmdb.session_factory(engine), db.outbox, db.inbox, "assignment.events")

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
        return FakeAssignmentUnitOfWork()
    return request.getfixturevalue("sql_uow")
