"""Django set-up shared by the benchmarks: pick the database, migrate it."""

from __future__ import annotations

import os
import time
from pathlib import Path


def setup(throwaway_sqlite: Path) -> tuple[str, float]:
    """Configure Django before anything imports settings; return (database, migrate seconds).

    ``DATABASE_URL`` wins; without it the benchmark runs on ``throwaway_sqlite``
    so it never touches the repository's db.sqlite3.
    """
    os.environ.setdefault("DATABASE_URL", f"sqlite:///{throwaway_sqlite}")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

    import django
    from django.core.management import call_command
    from django.db import connection

    django.setup()
    start = time.perf_counter()
    call_command("migrate", verbosity=0, interactive=False)
    migrate_seconds = time.perf_counter() - start
    name = connection.settings_dict["NAME"]
    return f"{connection.vendor} {name}", migrate_seconds
