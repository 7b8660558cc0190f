"""The reporting service's real unit of work on an Alembic-built SQLite database (STYLE idiom 9).

The projections are the repository's SQL (upserts, version guards, counters), so the tests run
them on the real tables rather than on a fake that would re-implement them.
"""
import pytest

from crmkit.testing import migrated_sqlite, sqlite_unit_of_work


@pytest.fixture(scope="session")
def reporting_schema(tmp_path_factory):
    from reporting import service

    return migrated_sqlite("reporting", service.MIGRATIONS, tmp_path_factory.mktemp("reporting-schema"))


@pytest.fixture
def make_uow(reporting_schema, tmp_path):
    """make_uow() → a fresh reporting database each call."""
    from contextlib import ExitStack

    from reporting import db

    with ExitStack() as stack:
        def make():
            directory = tmp_path / f"db{len(stack._exit_callbacks)}"
            directory.mkdir()
            return stack.enter_context(sqlite_unit_of_work(reporting_schema, directory, db.ReportingUnitOfWork,
                                                           db, "reporting.events"))
        yield make


@pytest.fixture
def uow(make_uow):
    return make_uow()
