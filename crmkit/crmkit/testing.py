"""Test support: an in-memory unit of work that behaves like crmkit.db.SqlUnitOfWork.

Services subclass it with their state and fake repositories (STYLE idiom 8: fakes over
mocks). Committed state is kept apart from the working copy, so what is not committed
disappears as with the real one; the inbox fails a repeat at once (mark_processed) or
ignores it (first_time); events reach `outbox` only on commit.
"""
import contextlib
import copy
import shutil

from . import envelope
from .db import AlreadyProcessed


class FakeUnitOfWork:
    def __init__(self):
        self.state = self.new_state()  # committed
        self.inbox = set()             # committed (event_id, handler)
        self.outbox = []               # committed envelopes, in commit order
        self.events = []
        self.commits = 0
        self._work = None
        self._marks = []

    def new_state(self) -> dict:
        """The empty committed state of the service's fake repositories."""
        return {}

    def bind(self, work):
        """Make the fake repositories over the working copy `work`."""

    @property
    def committed(self):
        return self.commits > 0

    def __enter__(self):
        self._work = copy.deepcopy(self.state)
        self._marks = []
        self.events = []
        self.bind(self._work)
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

    def first_times(self, event_ids, handler):
        return {event_id for event_id in event_ids if self.first_time(event_id, handler)}

    def pack_events(self):
        """Packing is the real unit of work's business at commit; the fake keeps events as emitted."""

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


def migrated_sqlite(service, migrations, directory):
    """A SQLite file built by the service's Alembic migrations (STYLE idiom 9), to copy per test."""
    from .migrations import upgrade

    path = directory / "template.db"
    upgrade(service, f"sqlite:///{path}", migrations)
    return path


@contextlib.contextmanager
def sqlite_unit_of_work(template, directory, uow_class, db_module, exchange):
    """The service's real unit of work on a fresh copy of `template`, with `published()` like
    the fake's: the envelopes in its outbox, in commit order, packed ones unpacked as a consumer
    sees them (`published(..., unpack=False)`: the messages as they are sent)."""
    from sqlalchemy import select

    from .db import make_engine, session_factory

    path = directory / "service.db"
    shutil.copy(template, path)
    engine = make_engine(f"sqlite:///{path}")
    uow = uow_class(session_factory(engine), db_module.outbox, db_module.inbox, exchange)

    def published(event_type=None, unpack=True):
        with engine.connect() as conn:
            rows = conn.execute(select(db_module.outbox.c.payload).order_by(db_module.outbox.c.id)).scalars()
            events = [envelope.parse(r) for r in rows]
        if unpack:
            events = [inner for event in events for inner in envelope.unpack(event)]
        return [e for e in events if event_type is None or e["type"] == event_type]

    uow.published = published
    try:
        yield uow
    finally:
        engine.dispose()
