"""A long fuzzing run of the real application over HTTP (the suite's
``tests/gateway/test_fuzz.py`` runs a few hundred requests; this runs thousands).

Operations generated from the schema (valid ones and ones with one violation) and request
bodies of every wrong shape are sent with an admin's token to a fresh database holding a
demo organisation. Prints one JSON object: requests, status distribution, failures (5xx,
a 200 that is not JSON, a masked "Unexpected error.") with the first few examples.

    python bench/fuzz.py --count 5000                 # SQLite in a temporary folder
    python bench/fuzz.py --count 5000 --postgres      # a fresh PostgreSQL database
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import json
import os
import sys
import tempfile
import time
import uuid
from pathlib import Path

from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from fiche.migrate import upgrade  # noqa: E402
from fiche.plugin_host import get_plugin_manager  # noqa: E402
from fiche.settings import Settings  # noqa: E402
from tests.fuzzing import FuzzTarget, bodies, operations  # noqa: E402
from tests.support import admin_sql  # noqa: E402

ADMIN_URL = os.environ.get("FICHE_BENCH_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test")
SECRET = "bench-secret-key-long-enough-for-hs256-signatures"


def run(url: str, count: int, seed_value: int, upload_dir: str) -> dict[str, object]:
    asyncio.run(upgrade(get_plugin_manager(Settings(database_url=url, secret_key=SECRET)), url))
    with FuzzTarget(url, secret_key=SECRET, demo_size=10, upload_dir=upload_dir) as target:
        requests = st.one_of(operations(target.schema_sdl, target.real_ids, target.real_cursors).map(lambda doc: ("operation", doc)), bodies(target.real_ids).map(lambda body: ("body", body)))

        @settings(max_examples=count, database=None, deadline=None, suppress_health_check=list(HealthCheck))
        @given(requests)
        def send(request: tuple[str, object]) -> None:
            kind, payload = request
            if kind == "operation":
                assert isinstance(payload, str)
                target.operation(payload)
            else:
                assert isinstance(payload, bytes)
                target.body(payload)

        started = time.perf_counter()
        seed(seed_value)(send)()
        elapsed = time.perf_counter() - started
        outcome = target.outcome
    return {
        "requests": outcome.requests,
        "seconds": round(elapsed, 1),
        "statuses": dict(sorted(outcome.statuses.items())),
        "failures": len(outcome.failures),
        "failure_kinds": dict(collections.Counter(failure.kind for failure in outcome.failures).most_common()),
        "examples": [{"status": f.status, "detail": f.detail, "request": f.request[:400]} for f in outcome.failures[:10]],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=3000, help="how many requests (Hypothesis examples)")
    parser.add_argument("--seed", type=int, default=20261129)
    parser.add_argument("--postgres", action="store_true", help="fuzz a fresh PostgreSQL database instead of SQLite")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="fiche-fuzz-") as folder:
        if args.postgres:
            name = f"fiche_fuzz_{uuid.uuid4().hex[:12]}"
            asyncio.run(admin_sql(f'CREATE DATABASE "{name}"', ADMIN_URL))
            url = ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
        else:
            name = ""
            url = f"sqlite+aiosqlite:///{folder}/fuzz.db"
        try:
            result = run(url, args.count, args.seed, folder)
        finally:
            if name:
                asyncio.run(admin_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', ADMIN_URL))
    print(json.dumps({"database": "postgresql" if args.postgres else "sqlite", **result}, indent=2))


if __name__ == "__main__":
    main()
