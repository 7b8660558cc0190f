from pathlib import Path

MIGRATIONS = str(Path(__file__).resolve().parent.parent / "migrations")
