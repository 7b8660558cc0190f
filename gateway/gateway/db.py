"""The gateway's own data: users, their bearer tokens (stored hashed) and the settings.

The gateway owns users and settings, so it publishes their changes like a service does:
`user.created`, `user.updated` and `settings.updated` on `gateway.events`, written to its
own outbox in the same transaction as the change (the lead service needs teams for role
permissions, reporting needs hourly rates for effort cost).
"""
import hashlib
import json
import secrets
from decimal import Decimal

from sqlalchemy import (Boolean, Column, DateTime, ForeignKey, MetaData, Numeric, String, Table, Text,
                        bindparam, insert, select, update)
from sqlalchemy.exc import IntegrityError

from crmkit.context import RequestContext
from crmkit.db import SqlUnitOfWork, make_engine, messaging_tables, session_factory
from crmkit.envelope import iso, new_id, now
from crmkit.errors import Conflict, NotFound

EXCHANGE = "gateway.events"
POLICIES = ("assignment_wins", "role_wins", "most_permissive", "most_restrictive")
DEFAULT_SETTINGS = {"permission_conflict_policy": "assignment_wins", "default_hourly_rate": "0.00"}

metadata = MetaData()
outbox, inbox = messaging_tables(metadata)

settings_table = Table(
    "settings", metadata,
    Column("key", String(100), primary_key=True),
    Column("value", Text, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("updated_by", String(32)),
)

users = Table(
    "users", metadata,
    Column("id", String(32), primary_key=True),
    Column("username", String(100), nullable=False, unique=True),
    Column("name", String(200)),
    Column("roles", Text, nullable=False),
    Column("team", String(100)),
    Column("hourly_rate", Numeric(10, 2)),
    Column("active", Boolean, nullable=False, default=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

tokens = Table(
    "tokens", metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("user_id", String(32), ForeignKey("users.id"), nullable=False, index=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

ADMIN_ID = "0" * 32
# Every request looks its token up: the statement is built once (SQLAlchemy then skips
# rebuilding and re-keying it).
_USER_BY_TOKEN = select(users).join(tokens, tokens.c.user_id == users.c.id).where(
    tokens.c.token_hash == bindparam("digest"), users.c.active.is_(True))


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def user_dict(row) -> dict:
    return {"id": row["id"], "username": row["username"], "name": row["name"],
            "roles": json.loads(row["roles"]), "team": row["team"],
            "hourly_rate": None if row["hourly_rate"] is None else f"{row['hourly_rate']:.2f}",
            "active": bool(row["active"]), "created_at": iso(row["created_at"])}


class UserStore:
    def __init__(self, url, on_commit=None):
        self.engine = make_engine(url, pool_size=8)
        self._sessions = session_factory(self.engine)
        self.on_commit = on_commit  # the relay's publish_now, set by the app

    def unit_of_work(self):
        return SqlUnitOfWork(self._sessions, outbox, inbox, EXCHANGE, on_commit=self.on_commit)

    def bootstrap_admin(self, admin_token: str):
        """The administrator of API.md: its token comes from CRM_ADMIN_TOKEN.

        Gateway replicas starting together may race here; the loser finds the rows there.
        """
        try:
            self._bootstrap_admin(admin_token)
        except IntegrityError:
            self._bootstrap_admin(admin_token)

    def _bootstrap_admin(self, admin_token):
        with self.engine.begin() as conn:
            if conn.execute(select(users.c.id).where(users.c.id == ADMIN_ID)).first() is None:
                conn.execute(insert(users).values(id=ADMIN_ID, username="admin", name="Administrator",
                                                  roles=json.dumps(["admin"]), active=True,
                                                  created_at=now()))
            digest = token_hash(admin_token)
            if conn.execute(select(tokens.c.user_id).where(tokens.c.token_hash == digest)).first() is None:
                conn.execute(insert(tokens).values(token_hash=digest, user_id=ADMIN_ID, created_at=now()))

    def by_token(self, token: str):
        with self.engine.connect() as conn:
            row = conn.execute(_USER_BY_TOKEN, {"digest": token_hash(token)}).mappings().first()
        return user_dict(row) if row else None

    def get(self, user_id):
        with self.engine.connect() as conn:
            row = conn.execute(select(users).where(users.c.id == user_id)).mappings().first()
        return user_dict(row) if row else None

    def create(self, data: dict, ctx: RequestContext) -> dict:
        """A new user; emits user.created."""
        user_id = new_id()
        try:
            with self.unit_of_work() as uow:
                uow.session.execute(insert(users).values(
                    id=user_id, username=data["username"], name=data.get("name"),
                    roles=json.dumps(sorted(set(data.get("roles") or []))), team=data.get("team"),
                    hourly_rate=data.get("hourly_rate"), active=True, created_at=now()))
                user = self._get(uow.session, user_id)
                uow.emit("user.created", user, ctx)
                uow.commit()
        except IntegrityError:
            raise Conflict("That username is taken.", {"username": "Already exists."}) from None
        return user

    def update(self, user_id, changes: dict, ctx: RequestContext) -> dict:
        """Change name, roles, team, hourly rate or active; emits user.updated with the changes."""
        with self.unit_of_work() as uow:
            before = self._get(uow.session, user_id)
            if before is None:
                raise NotFound("No such user.", {"user_id": user_id})
            values = dict(changes)
            if "roles" in values:
                values["roles"] = json.dumps(sorted(set(values["roles"] or [])))
            uow.session.execute(update(users).where(users.c.id == user_id).values(**values))
            user = self._get(uow.session, user_id)
            diff = {k: {"from": before[k], "to": user[k]} for k in changes if before[k] != user[k]}
            if diff:
                uow.emit("user.updated", {**user, "changes": diff}, ctx)
            uow.commit()
        return user

    @staticmethod
    def _get(conn, user_id):
        row = conn.execute(select(users).where(users.c.id == user_id)).mappings().first()
        return user_dict(row) if row else None

    def settings(self) -> dict:
        with self.engine.connect() as conn:
            stored = {r.key: json.loads(r.value) for r in conn.execute(select(settings_table))}
        return {**DEFAULT_SETTINGS, **stored}

    def update_settings(self, changes: dict, ctx: RequestContext) -> dict:
        """Admin settings (API.md "Settings"); emits settings.updated with the whole set."""
        if changes.get("default_hourly_rate") is not None:
            changes = {**changes, "default_hourly_rate": f"{Decimal(changes['default_hourly_rate']):.2f}"}
        with self.unit_of_work() as uow:
            stored = {r.key: json.loads(r.value) for r in uow.session.execute(select(settings_table))}
            current = {**DEFAULT_SETTINGS, **stored}
            diff = {k: {"from": current[k], "to": v} for k, v in changes.items() if current[k] != v}
            for key in diff:
                value = json.dumps(changes[key])
                if key in stored:
                    uow.session.execute(update(settings_table).where(settings_table.c.key == key)
                                        .values(value=value, updated_at=now(), updated_by=ctx.user_id))
                else:
                    uow.session.execute(insert(settings_table).values(key=key, value=value, updated_at=now(),
                                                                      updated_by=ctx.user_id))
            result = {**current, **changes}
            if diff:
                uow.emit("settings.updated", {**result, "changes": diff}, ctx)
            uow.commit()
        return result

    def list(self, limit, after):
        query = select(users)
        if after:
            query = query.where(users.c.id > after)
        with self.engine.connect() as conn:
            rows = conn.execute(query.order_by(users.c.id).limit(limit + 1)).mappings().all()
        return [user_dict(r) for r in rows]

    def existing(self, user_ids) -> set:
        with self.engine.connect() as conn:
            return set(conn.execute(select(users.c.id).where(users.c.id.in_(list(user_ids)))).scalars())

    def issue_token(self, user_id) -> str:
        token = secrets.token_urlsafe(32)
        with self.engine.begin() as conn:
            conn.execute(insert(tokens).values(token_hash=token_hash(token), user_id=user_id,
                                               created_at=now()))
        return token
