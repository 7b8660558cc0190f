"""The lead service's tables, repositories and unit of work (SQLAlchemy 2 Core)."""
import json

from sqlalchemy import (Boolean, Column, DateTime, ForeignKey, Index, Integer, MetaData, String, Table, Text,
                        bindparam, delete, exists, func, insert, or_, select, text, update)

from sqlalchemy.exc import IntegrityError

from crmkit import fastjson
from crmkit.db import (BigId, SqlUnitOfWork, chunks, delete_many, insert_ignore, insert_many, key_chunks,
                       messaging_tables, one_of, update_many)
from crmkit.envelope import iso

from .model import SECTION_FIELDS, IntakeRoute, KnownCampaign, Lead, dedupe_keys, normalize_phone, phones_of

metadata = MetaData()
outbox, inbox = messaging_tables(metadata)

SECTION_COLUMNS = [f"{section}_{key}" for section, keys in SECTION_FIELDS.items() for key in keys]
_LONG = {"need_description", "need_products", "company_address"}

PARTIAL_INDEXES = {"ix_leads_pool_newest": ("pool_id", "id"), "ix_leads_claimed_by": ("claimed_by",),
                   "ix_leads_phone_key": ("phone_key",)}

leads = Table(
    "leads", metadata,
    Column("id", String(32), primary_key=True),
    Column("campaign_id", String(32)),
    Column("pool_id", String(32)),
    Column("owner_id", String(32)),
    Column("source", String(50), nullable=False),
    Column("status", String(20), nullable=False, index=True),
    Column("invalid_reason", String(200)),
    *[Column(name, Text if name in _LONG else String(200)) for name in SECTION_COLUMNS],
    Column("tags", Text, nullable=False, default="[]"),
    Column("request_key", String(100), unique=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("deleted_at", DateTime(timezone=True)),
    Column("utm", Text),
    Column("rule_id", String(32)),
    Column("invalid_note", Text),
    Column("phones", String(200)),          # normalised numbers, space-separated (L1)
    Column("search_text", Text),            # what `q` searches, lower-cased; indexed by trigrams
    Column("email_key", String(200), index=True),    # L14 duplicate keys (model.dedupe_keys)
    Column("phone_key", String(40)),
    Column("mobile_key", String(40), index=True),
    Column("name_key", String(401), index=True),
    Column("duplicate_of", Text),                    # JSON list of lead ids
    Column("merged_into", String(32)),
    Column("claimed_by", String(32)),                 # L9: pulled from its pool by this person
    Column("claimed_at", DateTime(timezone=True)),
    Column("quality_score", Integer),       # mean of the assessments, 0-100 (L8)
    Column("quality_count", Integer, nullable=False, default=0, server_default="0"),
    Column("last_response", String(20)),    # L7
    Column("last_response_at", DateTime(timezone=True)),
    # A filter and the newest-first order of lists served by one index each (1,000,000 leads).
    Index("ix_leads_campaign_newest", "campaign_id", "id"),
    Index("ix_leads_owner_newest", "owner_id", "id"),
    # Columns most leads leave empty are indexed where they are set (migration 0009): every query
    # of them asks for a value, and the index of the NULLs only cost each insert.
    *[Index(name, *columns, sqlite_where=text(f"{columns[0]} IS NOT NULL"),
            postgresql_where=text(f"{columns[0]} IS NOT NULL")) for name, columns in PARTIAL_INDEXES.items()],
)

known_users = Table(
    "known_users", metadata,
    Column("id", String(32), primary_key=True),
    Column("team", String(100), index=True),
    Column("active", Boolean, nullable=False, default=True),
    Column("as_of", DateTime(timezone=True), nullable=False),  # occurred_at of the event applied
)

pools = Table(
    "pools", metadata,
    Column("id", String(32), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("parent_id", String(32), index=True),
    Column("level", Integer, nullable=False),              # 1 = the total pool; at most 3
    Column("team", String(100)),                           # a market team's sub-pool
    Column("claim_limit", Integer),                        # open claimed leads a person may hold
    Column("recycle_days", Integer),                       # a claimed lead idle this long goes back
    Column("cooldown_hours", Integer),                     # before a releaser may claim it again
    Column("created_by", String(32)),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

lead_releases = Table(
    "lead_releases", metadata,
    Column("lead_id", String(32), primary_key=True),
    Column("user_id", String(32), primary_key=True),
    Column("released_at", DateTime(timezone=True), nullable=False),
)

lead_responses = Table(
    "lead_responses", metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("lead_id", String(32), nullable=False),
    Column("campaign_id", String(32)),
    Column("user_id", String(32)),
    Column("response", String(20), nullable=False),
    Column("note", Text),
    Column("at", DateTime(timezone=True), nullable=False),
    Index("ix_lead_responses_lead", "lead_id", "id"),
)

lead_quality = Table(
    "lead_quality", metadata,
    Column("lead_id", String(32), primary_key=True),
    Column("user_id", String(32), primary_key=True),
    Column("valid", Boolean, nullable=False),
    Column("reachable", Boolean, nullable=False),
    Column("intent", Integer, nullable=False),
    Column("score", Integer, nullable=False),
    Column("note", Text),
    Column("at", DateTime(timezone=True), nullable=False),
)

lead_assignees = Table(
    "lead_assignees", metadata,
    Column("lead_id", String(32), ForeignKey("leads.id"), primary_key=True),
    Column("user_id", String(32), primary_key=True),
    Column("perm_contact", String(4), nullable=False),
    Column("perm_company", String(4), nullable=False),
    Column("perm_need", String(4), nullable=False),
    Column("assigned_at", DateTime(timezone=True), nullable=False),
    Column("assigned_by", String(32)),
    Index("ix_lead_assignees_user", "user_id"),
)

lead_history = Table(
    "lead_history", metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("lead_id", String(32), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("actor_id", String(32)),
    Column("action", String(50), nullable=False),
    Column("changes", Text, nullable=False),
    Column("channel", String(20), nullable=False),
    Column("reason", Text),
    Index("ix_lead_history_lead", "lead_id", "id"),
)

known_campaigns = Table(
    "known_campaigns", metadata,
    Column("id", String(32), primary_key=True),
    Column("status", String(20)),
    Column("archived", Boolean, nullable=False, default=False),
    Column("updated_at", DateTime(timezone=True)),
)

intake_routes = Table(
    "intake_routes", metadata,
    Column("key", String(100), primary_key=True),
    Column("campaign_id", String(32), nullable=False, index=True),
    Column("owner_id", String(32)),
    Column("pool_id", String(32)),
    Column("rule_id", String(32)),
    Column("active", Boolean, nullable=False),
    Column("created_by", String(32)),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)


# Statements built once and reused: SQLAlchemy then skips rebuilding and re-keying them.
_INSERT_LEAD = insert(leads)
_GET_LEAD = select(leads).where(leads.c.id == bindparam("lead_id"), leads.c.deleted_at.is_(None))
_GET_LEADS = select(leads).where(one_of(leads.c.id, "ids"), leads.c.deleted_at.is_(None))
_BY_REQUEST_KEY = select(leads).where(leads.c.request_key == bindparam("key"))
_ASSIGNEES_OF = (select(lead_assignees).where(one_of(lead_assignees.c.lead_id, "ids"))
                 .order_by(lead_assignees.c.assigned_at))
_DUPLICATES_OF = select(leads.c.id).where(leads.c.deleted_at.is_(None), or_(
    leads.c.email_key == bindparam("email"), leads.c.name_key == bindparam("name"),
    leads.c.phone_key.in_(bindparam("phones", expanding=True)),
    leads.c.mobile_key.in_(bindparam("phones", expanding=True))))
# an import chunk's duplicate look-ups (find_duplicates): one array per key kind on PostgreSQL
_LIVE = leads.c.deleted_at.is_(None)
_BY_EMAIL_KEYS = select(leads.c.id, leads.c.email_key).where(_LIVE, one_of(leads.c.email_key, "keys"))
_BY_PHONE_KEYS = select(leads.c.id, leads.c.phone_key, leads.c.mobile_key).where(
    _LIVE, or_(one_of(leads.c.phone_key, "keys"), one_of(leads.c.mobile_key, "keys")))
_BY_NAME_KEYS = select(leads.c.id, leads.c.name_key).where(_LIVE, one_of(leads.c.name_key, "keys"))
_GET_CAMPAIGN = select(known_campaigns).where(known_campaigns.c.id == bindparam("campaign_id"))
_UPDATE_CAMPAIGN = (update(known_campaigns).where(known_campaigns.c.id == bindparam("campaign_id"))
                    .values(status=bindparam("b_status"), archived=bindparam("b_archived"),
                            updated_at=bindparam("b_at")))
_INDEX_SEARCH = text("INSERT INTO lead_search(rowid, search_text) SELECT rowid, search_text FROM leads "
                     "WHERE id IN :ids").bindparams(bindparam("ids", expanding=True))
_GET_ROUTE = select(intake_routes).where(intake_routes.c.key == bindparam("route_key"))


class LeadRepository:
    def __init__(self, session):
        self.session = session

    def add(self, lead: Lead) -> bool:
        """Insert the lead; False if a lead with its request_key is stored already (nothing
        else is written then: the caller rolls back)."""
        row = {**self._row(lead), "source": lead.source, "request_key": lead.request_key,
               "created_at": lead.created_at}
        try:
            self.session.execute(_INSERT_LEAD, row)
        except IntegrityError as exc:
            if lead.request_key and "request_key" in str(exc.orig):
                return False
            raise
        self.index_search([lead.id])
        if lead.assignees:
            self._write_assignees(lead, lead.created_at, None)
        return True

    def index_search(self, lead_ids):
        """SQLite: add the new leads' search_text to the FTS5 trigram index, one statement per 500
        (migration 0009: no per-row trigger). PostgreSQL's pg_trgm index is an index: nothing."""
        if self.session.dialect.name == "sqlite":
            for chunk in chunks(lead_ids):
                self.session.execute(_INDEX_SEARCH, {"ids": chunk})

    @staticmethod
    def _row(lead: Lead, dedupe=None) -> dict:
        """The columns a change may touch, as the lead now has them (`dedupe`: its dedupe_keys,
        if the caller has them already)."""
        row = {"id": lead.id, "campaign_id": lead.campaign_id, "pool_id": lead.pool_id,
               "owner_id": lead.owner_id, "status": lead.status, "invalid_reason": lead.invalid_reason,
               "invalid_note": lead.invalid_note, "tags": json.dumps(lead.tags, ensure_ascii=False) if lead.tags else "[]",
               "updated_at": lead.updated_at, "utm": json.dumps(lead.utm, ensure_ascii=False) if lead.utm else None,
               "rule_id": lead.rule_id, "phones": phones_of(lead)}
        for section, keys in SECTION_FIELDS.items():
            values = getattr(lead, section)
            row.update({f"{section}_{key}": values.get(key) for key in keys})
        row["search_text"] = " ".join(str(row[c]) for c in SEARCHED if row[c]).lower() or None
        keys = dedupe or dedupe_keys(lead)
        row.update(email_key=keys["email"], name_key=keys["name"],
                   phone_key=_long_enough(normalize_phone(lead.contact.get("phone"))),
                   mobile_key=_long_enough(normalize_phone(lead.contact.get("mobile"))),
                   duplicate_of=json.dumps(lead.duplicate_of) if lead.duplicate_of else None,
                   merged_into=lead.merged_into)
        return row

    def merge_records(self, from_ids, into_id, at):
        """L14: everything recorded against the merged leads now belongs to `into_id`; they become
        tombstones (deleted, personal data blanked) pointing at it."""
        from .work_db import accounts, activities, opportunities

        for table in (lead_history, lead_responses, activities, opportunities, accounts):
            self.session.execute(update(table).where(table.c.lead_id.in_(from_ids)).values(lead_id=into_id))
        rated = select(lead_quality.c.user_id).where(lead_quality.c.lead_id == into_id).scalar_subquery()
        self.session.execute(delete(lead_quality).where(lead_quality.c.lead_id.in_(from_ids),
                                                        lead_quality.c.user_id.in_(rated)))
        self.session.execute(update(lead_quality).where(lead_quality.c.lead_id.in_(from_ids)).values(lead_id=into_id))
        self.session.execute(delete(lead_assignees).where(lead_assignees.c.lead_id.in_(from_ids)))
        self.session.execute(update(leads).where(leads.c.id.in_(from_ids)).values(
            deleted_at=at, updated_at=at, merged_into=into_id, tags="[]", claimed_by=None,
            **{name: None for name in MERGED_BLANK}))
        mean, count = self.session.execute(select(func.avg(lead_quality.c.score), func.count()).where(
            lead_quality.c.lead_id == into_id)).one()
        self.session.execute(update(leads).where(leads.c.id == into_id).values(
            quality_score=round(float(mean)) if count else None, quality_count=count))

    def merged_into(self, lead_id):
        """The survivor a merged lead points at, or None."""
        return self.session.execute(select(leads.c.merged_into).where(leads.c.id == lead_id)).scalar()

    def find_duplicates(self, keys_list) -> list:
        """L14: for each {"email", "phones", "name"} the ids of stored, live leads that share one of
        them, in a few batched queries (one prepared query for a single lead: the create path)."""
        if len(keys_list) == 1:
            keys = keys_list[0]
            if not (keys.get("email") or keys.get("name") or keys.get("phones")):
                return [[]]
            rows = self.session.execute(_DUPLICATES_OF, {"email": keys.get("email"), "name": keys.get("name"),
                                                         "phones": list(keys.get("phones") or ())})
            return [sorted(rows.scalars())]
        emails = {k["email"] for k in keys_list if k.get("email")}
        phones = {p for k in keys_list for p in k.get("phones") or ()}
        names = {k["name"] for k in keys_list if k.get("name")}
        by_email, by_phone, by_name = {}, {}, {}
        for chunk in key_chunks(self.session, sorted(emails)):
            for row in self.session.execute(_BY_EMAIL_KEYS, {"keys": chunk}):
                by_email.setdefault(row.email_key, []).append(row.id)
        for chunk in key_chunks(self.session, sorted(phones)):
            wanted = set(chunk)
            for row in self.session.execute(_BY_PHONE_KEYS, {"keys": chunk}):
                for key in {row.phone_key, row.mobile_key} & wanted:
                    by_phone.setdefault(key, []).append(row.id)
        for chunk in key_chunks(self.session, sorted(names)):
            for row in self.session.execute(_BY_NAME_KEYS, {"keys": chunk}):
                by_name.setdefault(row.name_key, []).append(row.id)
        found = []
        for keys in keys_list:
            ids = set(by_email.get(keys.get("email"), ())) | set(by_name.get(keys.get("name"), ()))
            for phone in keys.get("phones") or ():
                ids |= set(by_phone.get(phone, ()))
            found.append(sorted(ids))
        return found

    def save(self, lead: Lead):
        """Write the lead's own row (sections, tags, status, campaign, pool, owner)."""
        row = self._row(lead)
        self.session.execute(update(leads).where(leads.c.id == row.pop("id")).values(**row))

    def get(self, lead_id) -> Lead | None:
        row = self.session.execute(_GET_LEAD, {"lead_id": lead_id}).mappings().first()
        return self._load([row])[0] if row else None

    def get_many(self, lead_ids) -> list:
        if not lead_ids:
            return []
        return self._load(self.session.execute(_GET_LEADS, {"ids": list(lead_ids)}).mappings().all())

    def count_in_campaign(self, campaign_id) -> int:
        """Every lead the campaign ever got, deleted ones included (C7)."""
        return self.session.execute(select(func.count()).select_from(leads).where(
            leads.c.campaign_id == campaign_id)).scalar_one()

    def by_request_key(self, key) -> Lead | None:
        row = self.session.execute(_BY_REQUEST_KEY, {"key": key}).mappings().first()
        return self._load([row])[0] if row else None

    def list(self, filters: dict, limit: int, after: str | None):
        query = select(leads).where(leads.c.deleted_at.is_(None))
        for key in ("campaign_id", "status", "owner_id", "pool_id", "source"):
            if filters.get(key):
                query = query.where(getattr(leads.c, key) == filters[key])
        if filters.get("assignee_id"):
            query = query.where(leads.c.id.in_(select(lead_assignees.c.lead_id).where(
                lead_assignees.c.user_id == filters["assignee_id"])))
        if filters.get("tag"):
            query = query.where(leads.c.tags.contains(json.dumps(filters["tag"], ensure_ascii=False),
                                                      autoescape=True))
        if filters.get("unassigned"):  # A8: leads no rule or person took (still with their owner/pool)
            # NOT EXISTS, an anti-join on PostgreSQL; its NOT IN (subquery) turns into a scan per lead
            query = query.where(~exists().where(lead_assignees.c.lead_id == leads.c.id))
        if filters.get("q"):
            query = query.where(self._search(filters["q"]))
        if filters.get("visible_to"):
            query = query.where(self._visible(filters["visible_to"]))
        if after:
            query = query.where(leads.c.id < after)
        rows = self.session.execute(query.order_by(leads.c.id.desc()).limit(limit + 1)).mappings().all()
        return self._load(rows)

    def _search(self, q):
        """`q` in names, company, e-mail and phones (a phone typed any way: 021-6299 finds
        +86 21 62991640), through a trigram index: FTS5 on SQLite, pg_trgm on PostgreSQL."""
        terms = [q.strip().lower()]
        digits = normalize_phone(q)
        if digits and len(digits) >= 4 and not q.strip("+-() 0123456789"):
            terms.append(digits)
        # FTS5's trigrams need 3 characters; shorter terms (a two-character Chinese name) scan.
        if (self.session.dialect.name == "sqlite" and not any(c in q for c in "%_\\")
                and min(len(term) for term in terms) >= 3):
            # one indexed LIKE per term, UNIONed: FTS5 serves no OR of LIKEs from its index
            clause = " UNION ".join(f"SELECT rowid FROM lead_search WHERE search_text LIKE :term{n}"
                                    for n in range(len(terms)))
            return text(f"leads.rowid IN ({clause})").bindparams(
                **{f"term{n}": f"%{term}%" for n, term in enumerate(terms)})
        return or_(*[leads.c.search_text.like(_like(t), escape="\\") for t in terms])

    @staticmethod
    def _visible(viewer):
        """L4 for lists: leads the viewer owns or is assigned, or (team) whose owner or an
        assignee is in their team."""
        mine = or_(leads.c.owner_id == viewer["user_id"], leads.c.id.in_(
            select(lead_assignees.c.lead_id).where(lead_assignees.c.user_id == viewer["user_id"])))
        if not viewer.get("team"):
            return mine
        team = select(known_users.c.id).where(known_users.c.team == viewer["team"])
        return or_(mine, leads.c.owner_id.in_(team), leads.c.id.in_(
            select(lead_assignees.c.lead_id).where(lead_assignees.c.user_id.in_(team))))

    def save_assignees(self, lead: Lead, user_ids, now, actor_id):
        """Write the given assignees as the lead now has them; the others keep their rows
        (and so when and by whom they were assigned)."""
        self.save_assignees_many([(lead, user_ids, actor_id)], now)

    def save_assignees_many(self, entries, now):
        """save_assignees for many leads: [(lead, user_ids, actor_id)], each statement once."""
        if not entries:
            return
        delete_many(self.session, lead_assignees, ("lead_id", "user_id"),
                    [{"lead_id": lead.id, "user_id": user} for lead, user_ids, _ in entries for user in user_ids])
        insert_many(self.session, lead_assignees, [
            self._assignee_row(lead, user, now, actor_id)
            for lead, user_ids, actor_id in entries for user in user_ids if user in lead.assignees])
        update_many(self.session, leads, ("id",), list({lead.id: {"id": lead.id, "updated_at": lead.updated_at}
                                                        for lead, _, _ in entries}.values()))

    @staticmethod
    def _assignee_row(lead, user, now, actor_id):
        return {"lead_id": lead.id, "user_id": user, "perm_contact": lead.assignees[user]["contact"],
                "perm_company": lead.assignees[user]["company"], "perm_need": lead.assignees[user]["need"],
                "assigned_at": now, "assigned_by": actor_id}

    def _write_assignees(self, lead, now, actor_id):
        insert_many(self.session, lead_assignees, [self._assignee_row(lead, user, now, actor_id)
                                                   for user in lead.assignees])

    def _load(self, rows):
        if not rows:
            return []
        ids = [row["id"] for row in rows]
        assigned = {}
        for a in self.session.execute(_ASSIGNEES_OF, {"ids": ids}).mappings():
            assigned.setdefault(a["lead_id"], {})[a["user_id"]] = {
                "contact": a["perm_contact"], "company": a["perm_company"], "need": a["perm_need"]}
        result = []
        for row in rows:
            sections = {section: {key: row[f"{section}_{key}"] for key in keys
                                  if row[f"{section}_{key}"] is not None}
                        for section, keys in SECTION_FIELDS.items()}
            result.append(Lead(
                id=row["id"], owner_id=row["owner_id"], created_at=row["created_at"],
                updated_at=row["updated_at"], campaign_id=row["campaign_id"], pool_id=row["pool_id"],
                source=row["source"], status=row["status"], invalid_reason=row["invalid_reason"],
                tags=json.loads(row["tags"] or "[]"), assignees=assigned.get(row["id"], {}),
                request_key=row["request_key"], rule_id=row["rule_id"],
                utm=json.loads(row["utm"]) if row["utm"] else None, invalid_note=row["invalid_note"],
                quality={"score": row["quality_score"], "assessments": row["quality_count"]}
                if row["quality_count"] else None,
                last_response={"response": row["last_response"], "at": iso(row["last_response_at"])}
                if row["last_response"] else None, duplicate_of=json.loads(row["duplicate_of"] or "[]"),
                merged_into=row["merged_into"], **sections))
        return result


SEARCHED = ("contact_name", "company_name", "contact_email", "contact_phone", "contact_mobile", "company_phone",
            "phones")


MERGED_BLANK = (*SECTION_COLUMNS, "phones", "search_text", "email_key", "phone_key", "mobile_key", "name_key")


def _long_enough(phone):
    return phone if phone and len(phone) >= 7 else None




def _like(value):
    escaped = value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


class UserDirectory:
    """The users the lead service has heard of (gateway.events): their teams, for L4."""

    def __init__(self, session):
        self.session = session

    def teams_of(self, user_ids) -> dict:
        ids = [u for u in set(user_ids) if u]
        if not ids:
            return {}
        rows = self.session.execute(select(known_users.c.id, known_users.c.team).where(known_users.c.id.in_(ids)))
        return {row.id: row.team for row in rows}

    def put(self, user_id, team, active, as_of) -> bool:
        """Record the user as of `as_of`; an older event than the one applied changes nothing."""
        row = self.session.execute(select(known_users.c.as_of).where(known_users.c.id == user_id)).first()
        if row is None:
            self.session.execute(insert(known_users).values(id=user_id, team=team, active=active, as_of=as_of))
            return True
        stored = row.as_of if row.as_of.tzinfo else row.as_of.replace(tzinfo=as_of.tzinfo)
        if stored > as_of:
            return False
        self.session.execute(update(known_users).where(known_users.c.id == user_id).values(
            team=team, active=active, as_of=as_of))
        return True


class ResponseRepository:
    """L7: the responses to follow-up, per lead."""

    def __init__(self, session):
        self.session = session

    def add(self, lead: Lead, user_id, response, note, at):
        self.session.execute(insert(lead_responses).values(lead_id=lead.id, campaign_id=lead.campaign_id,
                                                           user_id=user_id, response=response, note=note, at=at))
        self.session.execute(update(leads).where(leads.c.id == lead.id).values(
            last_response=response, last_response_at=at, updated_at=at))

    def list(self, lead_id, limit, after):
        query = select(lead_responses).where(lead_responses.c.lead_id == lead_id)
        if after:
            query = query.where(lead_responses.c.id > after)
        return self.session.execute(query.order_by(lead_responses.c.id).limit(limit + 1)).mappings().all()


class QualityRepository:
    """L8: one assessment per assessor and lead (a new one replaces theirs); the lead keeps the mean."""

    def __init__(self, session):
        self.session = session

    def put(self, lead_id, user_id, assessment: dict, at) -> dict:
        self.session.execute(delete(lead_quality).where(lead_quality.c.lead_id == lead_id,
                                                        lead_quality.c.user_id == user_id))
        self.session.execute(insert(lead_quality).values(lead_id=lead_id, user_id=user_id, at=at, **assessment))
        mean, count = self.session.execute(select(func.avg(lead_quality.c.score), func.count()).where(
            lead_quality.c.lead_id == lead_id)).one()
        summary = {"score": round(float(mean)), "assessments": count}
        self.session.execute(update(leads).where(leads.c.id == lead_id).values(
            quality_score=summary["score"], quality_count=count, updated_at=at))
        return summary


class HistoryRepository:
    def __init__(self, session):
        self.session = session

    def record(self, lead_id, at, ctx, action, changes, reason=None):
        self.record_many([(lead_id, at, ctx, action, changes, reason)])

    def record_many(self, entries):
        """record() for many: [(lead_id, at, ctx, action, changes, reason)], one statement."""
        if entries:
            insert_many(self.session, lead_history, [
                {"lead_id": lead_id, "at": at, "actor_id": ctx.user_id, "action": action,
                 "changes": fastjson.dumps(changes, default=str),
                 "channel": ctx.channel, "reason": reason or ctx.reason}
                for lead_id, at, ctx, action, changes, reason in entries])

    def list(self, lead_id, limit, after):
        query = select(lead_history).where(lead_history.c.lead_id == lead_id)
        if after:
            query = query.where(lead_history.c.id > after)
        return self.session.execute(query.order_by(lead_history.c.id).limit(limit + 1)).mappings().all()


class CampaignRepository:
    def __init__(self, session):
        self.session = session

    def get(self, campaign_id) -> KnownCampaign | None:
        row = self.session.execute(_GET_CAMPAIGN, {"campaign_id": campaign_id}).mappings().first()
        return KnownCampaign(row["id"], row["status"], bool(row["archived"])) if row else None

    def put(self, campaign: KnownCampaign, at):
        """Insert or update the campaign's row. Two transactions may learn of a new campaign at once
        (a new lead naming it, and campaign.created): on PostgreSQL the second insert waits for the
        first and is then skipped (ON CONFLICT DO NOTHING), and the update runs again on the row now
        there, as if it had come second all along."""
        changes = {"campaign_id": campaign.id, "b_status": campaign.status, "b_archived": campaign.archived,
                   "b_at": at}
        if self.session.execute(_UPDATE_CAMPAIGN, changes).rowcount:
            return
        if not insert_ignore(self.session, known_campaigns, ("id",), {
                "id": campaign.id, "status": campaign.status, "archived": campaign.archived, "updated_at": at}):
            self.session.execute(_UPDATE_CAMPAIGN, changes)


class IntakeRouteRepository:
    def __init__(self, session):
        self.session = session

    def add(self, route: IntakeRoute) -> bool:
        """Insert the route; False (and nothing written) if its key is taken."""
        return insert_ignore(self.session, intake_routes, ("key",), self._row(route)) == 1

    def get(self, key) -> IntakeRoute | None:
        row = self.session.execute(_GET_ROUTE, {"route_key": key}).mappings().first()
        return IntakeRoute(**row) if row else None

    def list(self, limit: int, after: str | None):
        query = select(intake_routes)
        if after:
            query = query.where(intake_routes.c.key > after)
        rows = self.session.execute(query.order_by(intake_routes.c.key).limit(limit + 1)).mappings()
        return [IntakeRoute(**row) for row in rows]

    def save(self, route: IntakeRoute):
        row = self._row(route)
        self.session.execute(update(intake_routes).where(intake_routes.c.key == route.key).values(
            {key: row[key] for key in ("owner_id", "pool_id", "rule_id", "active", "updated_at")}))

    @staticmethod
    def _row(route):
        return {"key": route.key, "campaign_id": route.campaign_id, "owner_id": route.owner_id,
                "pool_id": route.pool_id, "rule_id": route.rule_id, "active": route.active,
                "created_by": route.created_by, "created_at": route.created_at,
                "updated_at": route.updated_at}


class LeadUnitOfWork(SqlUnitOfWork):
    def start(self):
        self.leads = LeadRepository(self.session)
        self.history = HistoryRepository(self.session)
        self.campaigns = CampaignRepository(self.session)
        self.intake_routes = IntakeRouteRepository(self.session)
        self.activities = work_db.ActivityRepository(self.session)
        self.opportunities = work_db.OpportunityRepository(self.session)
        self.accounts = work_db.AccountRepository(self.session)
        self.lead_endings = work_db.LeadEndingRepository(self.session)
        self.users = UserDirectory(self.session)
        self.responses = ResponseRepository(self.session)
        self.quality = QualityRepository(self.session)
        self.pools = PoolRepository(self.session)
        self.imports = imports_db.ImportRepository(self.session)  # L13 import jobs (imports_db.py)


from . import work_db  # noqa: E402 - its tables join `metadata`; it imports this module
from . import imports_db  # noqa: E402 - L13: its tables join `metadata` too
from .pools_db import PoolRepository  # noqa: E402 - L9; it reads this module's tables
