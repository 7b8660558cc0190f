from alembic import context

from crmkit.migrations import run_env
from reporting.db import metadata

run_env(context, metadata)
