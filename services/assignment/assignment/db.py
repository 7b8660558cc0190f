"""The assignment service's tables, repositories and unit of work."""
import json
from datetime import timezone

from sqlalchemy import (Boolean, Column, DateTime, Index, Integer, MetaData, String, Table, Text,
                        bindparam, delete, func, insert, select, update)

from crmkit import fastjson
from crmkit.db import (BigId, SqlUnitOfWork, chunks, insert_many, insert_new, key_chunks, messaging_tables, one_of,
                       update_many)

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
    Column("continues", Boolean, nullable=False, default=False),  # match, then try the next rule too
    Column("deleted_at", DateTime(timezone=True)),
    Column("created_by", String(32)),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

campaign_rules = Table(  # a campaign's rules, run in priority order (lowest first) (A6)
    "campaign_rules", metadata,
    Column("campaign_id", String(32), primary_key=True),
    Column("rule_id", String(32), primary_key=True),
    Column("priority", Integer, nullable=False),
    Column("set_by", String(32)),
    Column("set_at", DateTime(timezone=True), nullable=False),
    Index("ix_campaign_rules_order", "campaign_id", "priority"),
)

leads = Table(  # the lead service's leads as lead.events tell them (A6-A8): a projection
    "leads", metadata,
    Column("id", String(32), primary_key=True),
    Column("campaign_id", String(32)),
    Column("owner_id", String(32)),
    Column("open", Boolean, nullable=False),  # not converted, invalid or deleted
    Column("deleted", Boolean, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("data", Text, nullable=False),
    Index("ix_leads_campaign", "campaign_id", "id"),
)

lead_assignees = Table(
    "lead_assignees", metadata,
    Column("lead_id", String(32), primary_key=True),
    Column("user_id", String(32), primary_key=True),
    Index("ix_lead_assignees_user", "user_id"),
)

users = Table(  # from the gateway's user.created / user.updated (A7: teams, inactive users)
    "users", metadata,
    Column("id", String(32), primary_key=True),
    Column("team", String(200)),
    Column("active", Boolean, nullable=False),
    Column("as_of", DateTime(timezone=True), nullable=False),
    Index("ix_users_team", "team"),
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
_GET_RULE = select(rules).where(rules.c.id == bindparam("id"), rules.c.deleted_at.is_(None))
_TAKE_TURN = (update(rules).where(rules.c.id == bindparam("rule_id"))
              .values(turn=rules.c.turn + 1).returning(rules.c.turn))
_RULES_FOR_CAMPAIGN = (select(rules, campaign_rules.c.priority)
                       .join(campaign_rules, campaign_rules.c.rule_id == rules.c.id)
                       .where(campaign_rules.c.campaign_id == bindparam("campaign_id"), rules.c.deleted_at.is_(None))
                       .order_by(campaign_rules.c.priority, campaign_rules.c.set_at, rules.c.id))
_RULES_FOR_CAMPAIGNS = (select(rules, campaign_rules.c.priority, campaign_rules.c.campaign_id.label("for_campaign"))
                        .join(campaign_rules, campaign_rules.c.rule_id == rules.c.id)
                        .where(campaign_rules.c.campaign_id.in_(bindparam("ids", expanding=True)),
                               rules.c.deleted_at.is_(None))
                        .order_by(campaign_rules.c.priority, campaign_rules.c.set_at, rules.c.id))
_DECISION_FOR_EVENT = select(decisions).where(decisions.c.event_id == bindparam("event_id"))
_DECISIONS_FOR_EVENTS = select(decisions).where(one_of(decisions.c.event_id, "ids"))
_PROJECTED = select(leads.c.id, leads.c.updated_at, leads.c.deleted).where(one_of(leads.c.id, "ids"))
_UNASSIGN = delete(lead_assignees).where(one_of(lead_assignees.c.lead_id, "ids"))


def _dump(value):
    return fastjson.dumps(value, default=str)


class RuleRepository:
    def __init__(self, session):
        self.session = session

    def add(self, rule: Rule):
        self.session.execute(insert(rules).values(
            id=rule.id, name=rule.name, description=rule.description, active=rule.active,
            usable_by=_dump(rule.usable_by), recipients=_dump(rule.recipients),
            distribution=rule.distribution, condition=_dump(rule.condition), version=rule.version,
            turn=0, continues=rule.continues, created_by=rule.created_by, created_at=rule.created_at,
            updated_at=rule.updated_at))

    def update(self, rule: Rule):
        """Store an edited rule (its version already bumped); the round-robin turn stays."""
        self.session.execute(update(rules).where(rules.c.id == rule.id).values(
            name=rule.name, description=rule.description, active=rule.active,
            usable_by=_dump(rule.usable_by), recipients=_dump(rule.recipients),
            distribution=rule.distribution, condition=_dump(rule.condition), version=rule.version,
            continues=rule.continues, updated_at=rule.updated_at))

    def delete(self, rule_id, at):
        """Soft delete (its decisions keep naming it); it leaves every campaign."""
        self.session.execute(update(rules).where(rules.c.id == rule_id).values(deleted_at=at))
        self.session.execute(delete(campaign_rules).where(campaign_rules.c.rule_id == rule_id))

    def get(self, rule_id) -> Rule | None:
        row = self.session.execute(_GET_RULE, {"id": rule_id}).mappings().first()
        return self._rule(row) if row else None

    def list(self, limit, after):
        query = select(rules).where(rules.c.deleted_at.is_(None))
        if after:
            query = query.where(rules.c.id < after)
        return [self._rule(r) for r in self.session.execute(
            query.order_by(rules.c.id.desc()).limit(limit + 1)).mappings()]

    def take_turn(self, rule_id) -> int:
        """Advance the round-robin counter atomically (one UPDATE … RETURNING, which also
        locks the row on PostgreSQL); returns the turn taken."""
        return self.session.execute(_TAKE_TURN, {"rule_id": rule_id}).scalar_one() - 1

    def rules_for_campaign(self, campaign_id) -> list:
        """The campaign's rules in the order they run: [(Rule, priority)]."""
        return [(self._rule(row), row["priority"])
                for row in self.session.execute(_RULES_FOR_CAMPAIGN, {"campaign_id": campaign_id}).mappings()]

    def rules_for_campaigns(self, campaign_ids) -> dict:
        """rules_for_campaign of several campaigns in one query: {campaign_id: [(Rule, priority)]}, a
        campaign without rules included with []."""
        found = {campaign_id: [] for campaign_id in campaign_ids}
        for chunk in chunks(found):
            for row in self.session.execute(_RULES_FOR_CAMPAIGNS, {"ids": chunk}).mappings():
                found[row["for_campaign"]].append((self._rule(row), row["priority"]))
        return found

    def set_campaign_rules(self, campaign_id, entries, actor_id, at):
        """Replace the campaign's rules with [(rule_id, priority)]."""
        self.session.execute(delete(campaign_rules).where(campaign_rules.c.campaign_id == campaign_id))
        if entries:
            self.session.execute(insert(campaign_rules), [
                {"campaign_id": campaign_id, "rule_id": rule_id, "priority": priority, "set_by": actor_id,
                 "set_at": at} for rule_id, priority in entries])

    def campaigns_of(self, rule_id) -> list:
        return list(self.session.execute(select(campaign_rules.c.campaign_id).where(
            campaign_rules.c.rule_id == rule_id).order_by(campaign_rules.c.campaign_id)).scalars())

    @staticmethod
    def _rule(row):
        return Rule(id=row["id"], name=row["name"], description=row["description"],
                    active=bool(row["active"]), usable_by=json.loads(row["usable_by"]),
                    recipients=json.loads(row["recipients"]), distribution=row["distribution"],
                    condition=json.loads(row["condition"]), version=row["version"],
                    continues=bool(row["continues"]), created_by=row["created_by"], created_at=row["created_at"],
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
        return decision["event_id"] in self.add_many([decision])

    def add_many(self, decisions_) -> set:
        """add() for many in one statement: the event ids whose decisions were stored (the others
        were decided before)."""
        if not decisions_:
            return set()
        return insert_new(self.session, decisions, ("event_id",), [
            {**d, "recipients": _dump(d["recipients"]), "leaves": _dump(d["leaves"])} for d in decisions_], "event_id")

    def mark_applied(self, event_id):
        self.mark_applied_many([event_id])

    def mark_applied_many(self, event_ids):
        update_many(self.session, decisions, ("event_id",),
                    [{"event_id": event_id, "state": "applied"} for event_id in event_ids])

    def decided_leads(self, rule_id, lead_ids) -> set:
        """Of these leads, those this rule has matched before (a rule edit never reassigns them)."""
        return set(self.session.execute(select(decisions.c.lead_id).where(
            decisions.c.rule_id == rule_id, decisions.c.matched.is_(True),
            decisions.c.lead_id.in_(list(lead_ids)))).scalars())

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


def _aware(moment):
    return moment if moment is None or moment.tzinfo else moment.replace(tzinfo=timezone.utc)


class LeadProjection:
    """The leads as lead.events last told them; an older event never overwrites a newer one."""

    def __init__(self, session):
        self.session = session

    def put(self, lead: dict, updated_at, open_, deleted=False) -> bool:
        return bool(self.put_many([(lead, updated_at, open_, deleted)]))

    def put_many(self, items) -> list:
        """Apply (lead, updated_at, open, deleted) in order, as put() one by one would (a deleted
        lead stays deleted, an older state never overwrites a newer one), in a few statements:
        one read, then inserts, updates and assignee rows each as one statement (insert_many,
        update_many). Returns the ids whose state changed."""
        ids = list(dict.fromkeys(item[0]["id"] for item in items))
        stored = {}
        for chunk in key_chunks(self.session, ids):
            stored.update({row.id: (_aware(row.updated_at), row.deleted)
                           for row in self.session.execute(_PROJECTED, {"ids": chunk})})
        final = {}
        for lead, updated_at, open_, deleted in items:
            current = final.get(lead["id"])
            state = (current["updated_at"], current["deleted"]) if current else stored.get(lead["id"])
            if state is not None and (state[1] or state[0] > updated_at):
                continue
            final[lead["id"]] = {"id": lead["id"], "campaign_id": lead.get("campaign_id"),
                                 "owner_id": lead.get("owner_id"), "open": open_, "deleted": deleted,
                                 "updated_at": updated_at, "data": _dump(lead),
                                 "_assignees": sorted({a["user_id"] for a in lead.get("assignees") or ()})
                                 if not deleted else []}
        if not final:
            return []
        rows = list(final.values())
        assignees = [{"lead_id": row["id"], "user_id": user} for row in rows for user in row.pop("_assignees")]
        insert_many(self.session, leads, [row for row in rows if row["id"] not in stored])
        update_many(self.session, leads, ("id",), [row for row in rows if row["id"] in stored])
        changed = [row["id"] for row in rows]
        # a lead new to the projection has no assignee rows yet (they are written with it, here)
        for chunk in key_chunks(self.session, [lead_id for lead_id in changed if lead_id in stored]):
            self.session.execute(_UNASSIGN, {"ids": chunk})
        insert_many(self.session, lead_assignees, assignees)
        return changed

    def get_many(self, lead_ids) -> dict:
        rows = self.session.execute(select(leads.c.data).where(
            leads.c.id.in_(list(lead_ids)), leads.c.deleted.is_(False))).scalars()
        return {lead["id"]: lead for lead in map(fastjson.loads, rows)}

    def of_campaign(self, campaign_id, limit):
        rows = self.session.execute(select(leads.c.data).where(
            leads.c.campaign_id == campaign_id, leads.c.deleted.is_(False)).order_by(leads.c.id).limit(limit))
        return [fastjson.loads(data) for data in rows.scalars()]

    def open_load(self, user_ids) -> dict:
        """Open leads per user (A7 least_loaded); users with none are 0."""
        rows = self.session.execute(
            select(lead_assignees.c.user_id, func.count()).join(leads, leads.c.id == lead_assignees.c.lead_id)
            .where(lead_assignees.c.user_id.in_(list(user_ids)), leads.c.open.is_(True))
            .group_by(lead_assignees.c.user_id))
        return {**{u: 0 for u in user_ids}, **{user: count for user, count in rows}}


class UserDirectory:
    """Users as the gateway's user events tell them: teams and who is active (A7)."""

    def __init__(self, session):
        self.session = session

    def put(self, user_id, team, active, as_of) -> bool:
        row = self.session.execute(select(users.c.as_of).where(users.c.id == user_id)).first()
        if row is not None and _aware(row.as_of) > as_of:
            return False
        values = {"team": team, "active": active, "as_of": as_of}
        if row is None:
            self.session.execute(insert(users).values(id=user_id, **values))
        else:
            self.session.execute(update(users).where(users.c.id == user_id).values(**values))
        return True

    def known(self, user_ids) -> dict:
        """{user_id: {"team", "active"}} for the users heard of."""
        rows = self.session.execute(select(users).where(users.c.id.in_(list(user_ids)))).mappings()
        return {r["id"]: {"team": r["team"], "active": bool(r["active"])} for r in rows}

    def active_members(self, team) -> list:
        return list(self.session.execute(select(users.c.id).where(
            users.c.team == team, users.c.active.is_(True)).order_by(users.c.id)).scalars())


class AssignmentUnitOfWork(SqlUnitOfWork):
    def start(self):
        self.rules = RuleRepository(self.session)
        self.decisions = DecisionRepository(self.session)
        self.leads = LeadProjection(self.session)
        self.users = UserDirectory(self.session)
