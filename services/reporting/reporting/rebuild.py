"""`python -m reporting.rebuild`: replay every event reporting kept into empty projections (R6).

Uses REPORTING_DATABASE_URL (else var/reporting.db). Safe while the service runs: the rebuild is
one transaction, and live events wait for it.
"""
import json

from crmkit.config import database_url
from crmkit.db import make_engine, session_factory

from . import db, handlers
from .service import MIGRATIONS


def rebuild(url=None):
    from crmkit.migrations import upgrade

    url = url or database_url("reporting")
    upgrade("reporting", url, MIGRATIONS)
    engine = make_engine(url)
    try:
        uow = db.ReportingUnitOfWork(session_factory(engine), db.outbox, db.inbox, "reporting.events")
        return handlers.rebuild(uow)
    finally:
        engine.dispose()


if __name__ == "__main__":
    print(json.dumps(rebuild()))
