from alembic import context

from crmkit.migrations import run_env
from campaign.db import metadata

run_env(context, metadata)
