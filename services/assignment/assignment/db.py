"""The assignment service's tables, repositories and unit of work."""
import json

from sqlalchemy import (Boolean, Column, DateTime, Index, Integer, MetaData, String, Table, Text,
                        bindparam, insert, select, update)

from crmkit.db import BigId, SqlUnitOfWork, insert_ignore, messaging_tables

from .model import Rule

metadata = MetaData()
outbox, inbox = messaging_tables(metadata)

rules = Table(
    "rules", metadata,
    Column("id", String(32), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("description", Text),
    Column("active", Boolean, nullable=False),
    Column("usable_by", Text, nullable=False),
    Column("recipients", Text, nullable=False),
    Column("distribution", String(20), nullable=False),
    Column("condition", Text, nullable=False),
    Column("version", Integer, nullable=False),
    Column("turn", Integer, nullable=False, default=0),  # round-robin counter (A7), in the DB
    Column("created_by", String(32)),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

campaign_rules = Table(
    "campaign_rules", metadata,
    Column("campaign_id", String(32), primary_key=True),
    Column("rule_id", String(32), nullable=False),
    Column("set_by", String(32)),
    Column("set_at", DateTime(timezone=True), nullable=False),
)

decisions = Table(
    "decisions", metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("event_id", String(64), nullable=False, unique=True),
    Column("lead_id", String(32), nullable=False),
    Column("rule_id", String(32)),
    Column("rule_version", Integer),
    Column("matched", Boolean, nullable=False),
    Column("recipients", Text, nullable=False),
    Column("leaves", Text, nullable=False),
    Column("reason", Text, nullable=False),
    Column("state", String(10), nullable=False),  # pending → applied
    Column("at", DateTime(timezone=True), nullable=False),
    Index("ix_decisions_lead", "lead_id", "id"),
)


# Statements built once and reused: SQLAlchemy then skips rebuilding and re-keying them.
_GET_RULE = select(rules).where(rules.c.id == bindparam("id"))
_TAKE_TURN = (update(rules).where(rules.c.id == bindparam("rule_id"))
              .values(turn=rules.c.turn + 1).returning(rules.c.turn))
_RULE_FOR_CAMPAIGN = (select(rules).join(campaign_rules, campaign_rules.c.rule_id == rules.c.id)
                      .where(campaign_rules.c.campaign_id == bindparam("campaign_id")))
_DECISION_FOR_EVENT = select(decisions).where(decisions.c.event_id == bindparam("event_id"))
_DECISIONS_FOR_EVENTS = select(decisions).where(decisions.c.event_id.in_(bindparam("ids", expanding=True)))
_MARK_APPLIED = (update(decisions).where(decisions.c.event_id == bindparam("b_event_id"))
                 .values(state="applied"))


def _dump(value):
    return json.dumps(value, ensure_ascii=False, default=str)


class RuleRepository:
    def __init__(self, session):
        self.session = session

    def add(self, rule: Rule):
        self.session.execute(insert(rules).values(
            id=rule.id, name=rule.name, description=rule.description, active=rule.active,
            usable_by=_dump(rule.usable_by), recipients=_dump(rule.recipients),
            distribution=rule.distribution, condition=_dump(rule.condition), version=rule.version,
            turn=0, created_by=rule.created_by, created_at=rule.created_at, updated_at=rule.updated_at))

    def get(self, rule_id) -> Rule | None:
        row = self.session.execute(_GET_RULE, {"id": rule_id}).mappings().first()
        return self._rule(row) if row else None

    def list(self, limit, after):
        query = select(rules)
        if after:
            query = query.where(rules.c.id < after)
        return [self._rule(r) for r in self.session.execute(
            query.order_by(rules.c.id.desc()).limit(limit + 1)).mappings()]

    def take_turn(self, rule_id) -> int:
        """Advance the round-robin counter atomically (one UPDATE … RETURNING, which also
        locks the row on PostgreSQL); returns the turn taken."""
        return self.session.execute(_TAKE_TURN, {"rule_id": rule_id}).scalar_one() - 1

    def rule_for_campaign(self, campaign_id) -> Rule | None:
        row = self.session.execute(_RULE_FOR_CAMPAIGN, {"campaign_id": campaign_id}).mappings().first()
        return self._rule(row) if row else None

    def attach(self, campaign_id, rule_id, actor_id, at):
        done = self.session.execute(update(campaign_rules).where(
            campaign_rules.c.campaign_id == campaign_id).values(
            rule_id=rule_id, set_by=actor_id, set_at=at)).rowcount
        if not done:
            self.session.execute(insert(campaign_rules).values(
                campaign_id=campaign_id, rule_id=rule_id, set_by=actor_id, set_at=at))

    @staticmethod
    def _rule(row):
        return Rule(id=row["id"], name=row["name"], description=row["description"],
                    active=bool(row["active"]), usable_by=json.loads(row["usable_by"]),
                    recipients=json.loads(row["recipients"]), distribution=row["distribution"],
                    condition=json.loads(row["condition"]), version=row["version"],
                    created_by=row["created_by"], created_at=row["created_at"],
                    updated_at=row["updated_at"])


class DecisionRepository:
    def __init__(self, session):
        self.session = session

    def for_event(self, event_id):
        row = self.session.execute(_DECISION_FOR_EVENT, {"event_id": event_id}).mappings().first()
        return self._decision(row) if row else None

    def for_events(self, event_ids):
        return [self._decision(r) for r in self.session.execute(
            _DECISIONS_FOR_EVENTS, {"ids": list(event_ids)}).mappings()]

    def add(self, decision: dict) -> bool:
        """Store the decision for its event; False if that event was decided before."""
        return insert_ignore(self.session, decisions, ("event_id",), {
            **decision, "recipients": _dump(decision["recipients"]), "leaves": _dump(decision["leaves"])}) == 1

    def mark_applied(self, event_id):
        self.session.execute(_MARK_APPLIED, {"b_event_id": event_id})

    def for_lead(self, lead_id, limit, after):
        query = select(decisions).where(decisions.c.lead_id == lead_id)
        if after:
            query = query.where(decisions.c.id > after)
        return [self._decision(r) for r in self.session.execute(
            query.order_by(decisions.c.id).limit(limit + 1)).mappings()]

    @staticmethod
    def _decision(row):
        data = dict(row)
        data["recipients"] = json.loads(row["recipients"])
        data["leaves"] = json.loads(row["leaves"])
        return data


class AssignmentUnitOfWork(SqlUnitOfWork):
    def start(self):
        self.rules = RuleRepository(self.session)
        self.decisions = DecisionRepository(self.session)
