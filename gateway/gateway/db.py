"""The gateway's own data: users and their bearer tokens (stored hashed)."""
import hashlib
import json
import secrets

from sqlalchemy import (Boolean, Column, DateTime, ForeignKey, MetaData, Numeric, String, Table, Text,
                        bindparam, insert, select)
from sqlalchemy.exc import IntegrityError

from crmkit.db import make_engine
from crmkit.envelope import iso, new_id, now
from crmkit.errors import Conflict

metadata = MetaData()

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
    def __init__(self, url):
        self.engine = make_engine(url, pool_size=8)

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

    def create(self, data: dict) -> dict:
        user_id = new_id()
        try:
            with self.engine.begin() as conn:
                conn.execute(insert(users).values(
                    id=user_id, username=data["username"], name=data.get("name"),
                    roles=json.dumps(sorted(set(data.get("roles") or []))), team=data.get("team"),
                    hourly_rate=data.get("hourly_rate"), active=True, created_at=now()))
        except IntegrityError:
            raise Conflict("That username is taken.", {"username": "Already exists."}) from None
        return self.get(user_id)

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
