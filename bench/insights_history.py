"""Customer insights (issue 13, A6) of one customer with a busy year of history, timed
in-process on a fresh PostgreSQL database: the demo organisation, plus, on its first
customer, ``--activities`` activities spread over the last 365 days (a report on every
other one, with a low rating now and then), ``--notes`` notes (some raising problems, some
mentioning a colleague) and ``--tasks`` open tasks, some overdue. Prints the SQL statements
of one request and the latency of ``--requests`` executions of the query with the offline
provider (schema execution, no HTTP).

    .venv/bin/python bench/insights_history.py --activities 200 --notes 150 --tasks 20 --requests 100
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import platform
import random
import sys
import time
import uuid
from pathlib import Path
from typing import Any

from sqlalchemy import insert, select

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from fiche.accounts import models as accounts  # noqa: E402
from fiche.app import build_state  # noqa: E402
from fiche.auth import Identity, load_viewer  # noqa: E402
from fiche.context import ConnectionContext  # noqa: E402
from fiche.demo import create_demo  # noqa: E402
from fiche.migrate import upgrade  # noqa: E402
from fiche.plugin_host import get_plugin_manager  # noqa: E402
from fiche.plugins.activities import models as activities  # noqa: E402
from fiche.plugins.notes import models as notes  # noqa: E402
from fiche.relay import encode_id  # noqa: E402
from fiche.schema import build_schema  # noqa: E402
from fiche.settings import Settings  # noqa: E402
from bench.stats import latency_figures  # noqa: E402
from tests.support import POSTGRES_ADMIN_URL, admin_sql, count_statements  # noqa: E402

QUERY = (ROOT / "bench" / "queries" / "insights.graphql").read_text()
PROBLEMS = ("Livraison en retard de deux jours.", "Le client se plaint d'un défaut sur la machine.", "Facture impayée depuis un mois.", "Hausse de prix mal acceptée.")
ROUTINE = ("Point sur le stock.", "Présentation du catalogue.", "Commande passée sans souci.", "Appel de courtoisie.")


async def seed_year(session: Any, organization_id: int, customer_id: int, users: list[int], sizes: argparse.Namespace, rng: random.Random) -> None:
    now = dt.datetime.now(dt.UTC)
    type_id = await session.scalar(select(activities.ActivityType.id).where(activities.ActivityType.code == "visit"))
    form_id = await session.scalar(select(activities.ReportForm.id).order_by(activities.ReportForm.id))
    stamp = {"organization_id": organization_id, "created_by_id": users[0], "updated_by_id": users[0], "created_at": now, "updated_at": now}
    rows = []
    for index in range(sizes.activities):
        start = now - dt.timedelta(days=365 * index / sizes.activities, hours=rng.randint(0, 8))
        rows.append({**stamp, "type_id": type_id, "location_id": customer_id, "starts_at": start, "ends_at": start + dt.timedelta(hours=1),
                     "description": f"<p>{rng.choice(PROBLEMS + ROUTINE)}</p>", "assignee_id": rng.choice(users)})  # fmt: skip
    ids = (await session.scalars(insert(activities.Activity).returning(activities.Activity.id, sort_by_parameter_order=True), rows)).all()
    reports = [
        {**stamp, "activity_id": activity_id, "form_id": form_id, "submitted_at": row["ends_at"],
         "values": {"summary": rng.choice(PROBLEMS + ROUTINE), "satisfaction": rng.choice((2, 3, 4, 4, 5)), "next_step": "Relance"}}
        for activity_id, row in zip(ids, rows, strict=True) if activity_id % 2 == 0
    ]  # fmt: skip
    if reports:
        await session.execute(insert(activities.Report), reports)
    note_rows = []
    for index in range(sizes.notes + sizes.tasks):
        task = index >= sizes.notes
        created = now - dt.timedelta(days=rng.randint(0, 364), minutes=rng.randint(0, 600))
        note_rows.append({**stamp, "body": rng.choice(PROBLEMS + ROUTINE), "search_text": "", "author_id": rng.choice(users), "target_type": "Customer",
                          "target_id": customer_id, "customer_id": customer_id, "is_task": task, "assignee_id": rng.choice(users) if task else None,
                          "due_at": now + dt.timedelta(days=rng.randint(-20, 20)) if task else None, "created_at": created, "updated_at": created,
                          "visibility": notes.Visibility.ORGANIZATION})  # fmt: skip
    note_ids = (await session.scalars(insert(notes.Note).returning(notes.Note.id, sort_by_parameter_order=True), note_rows)).all()
    mentions = [{"organization_id": organization_id, "note_id": note_id, "user_id": rng.choice(users), "start": 0, "stop": 5} for note_id in note_ids[::5]]
    if mentions:
        await session.execute(insert(notes.NoteMention), mentions)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--activities", type=int, default=200)
    parser.add_argument("--notes", type=int, default=150)
    parser.add_argument("--tasks", type=int, default=20)
    parser.add_argument("--requests", type=int, default=100)
    args = parser.parse_args()
    name = f"fiche_bench_{uuid.uuid4().hex[:10]}"
    url = POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    await admin_sql(f'CREATE DATABASE "{name}"')
    try:
        settings = Settings(database_url=url, secret_key="bench-secret-key-long-enough-for-hs256-signatures")
        pm = get_plugin_manager(settings)
        await upgrade(pm, url)
        state = build_state(settings, pm)
        try:
            demo = await create_demo(settings, state.db, pm, size=20)
            async with state.db.session(organization_id=demo.organization_id) as session, session.begin():
                users = list((await session.scalars(select(accounts.User.id).order_by(accounts.User.id))).all())
                customer_id = await session.scalar(select(activities.Activity.location_id).order_by(activities.Activity.location_id))
                await seed_year(session, demo.organization_id, customer_id, users, args, random.Random(1))
            viewer = await load_viewer(state.db, Identity(user_id=users[0], organization_id=demo.organization_id))
            schema = build_schema(pm, settings)
            variables = {"id": encode_id("Customer", customer_id)}
            first = await schema.execute(QUERY, variable_values=variables, context_value=ConnectionContext(state, viewer=viewer))
            assert first.errors is None, first.errors
            with count_statements(state.db) as counter:
                await schema.execute(QUERY, variable_values=variables, context_value=ConnectionContext(state, viewer=viewer))
            latencies = []
            for _ in range(args.requests):
                started = time.perf_counter()
                await schema.execute(QUERY, variable_values=variables, context_value=ConnectionContext(state, viewer=viewer))
                latencies.append(time.perf_counter() - started)
            insights = first.data["node"]["insights"]  # type: ignore[index]
            print(json.dumps({
                "history": vars(args), "sql_statements": counter.count, **latency_figures(latencies),
                "items": {key: len(value) for key, value in insights.items() if isinstance(value, list)},
                "machine": f"{platform.machine()}, Python {platform.python_version()}", "database": "PostgreSQL",
            }, indent=1))  # fmt: skip
        finally:
            await state.db.dispose()
    finally:
        await admin_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    asyncio.run(main())
