"""`python -m crmkit.migrate_all`: bring every service's database (and the gateway's) to head."""
import importlib

from .config import database_url
from .migrations import upgrade

COMPONENTS = ("campaign", "lead", "assignment", "reporting", "gateway")


def migrations_of(name):
    module = importlib.import_module(name if name == "gateway" else f"{name}.service")
    return module.MIGRATIONS


def migrate_all(components=COMPONENTS):
    for name in components:
        upgrade(name, database_url(name), migrations_of(name))


if __name__ == "__main__":
    migrate_all()
    print("migrated:", ", ".join(f"{n} ({database_url(n).split('://')[0]})" for n in COMPONENTS))
