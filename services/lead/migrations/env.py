from alembic import context

from crmkit.migrations import run_env
from lead.db import metadata

run_env(context, metadata)
