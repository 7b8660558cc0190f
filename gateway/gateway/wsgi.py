"""WSGI entry for gunicorn: `gunicorn gateway.wsgi:app`. Migrates the gateway's DB first."""
from crmkit.config import database_url
from crmkit.migrations import upgrade

from . import MIGRATIONS
from .app import create_app

upgrade("gateway", database_url("gateway"), MIGRATIONS)
app = create_app()
