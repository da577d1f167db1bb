"""The floor of the canonical heavy query: one hand-written PostgreSQL statement that
returns the same data as ``bench/queries/heavy.graphql`` (as the organisation's admin
sees it), JSON built by the database, timed over N runs from one asyncpg connection.

    python bench/floor.py --database-url postgresql://postgres@127.0.0.1:5432/fiche_bench \
        --organization-id 1 --requests 50

No GraphQL, no Python objects per row: what is left is PostgreSQL planning, executing
and serialising, plus the wire. The gateway's figures divided by these are its overhead.
Prints one JSON object (p50 / p99 / max latency, requests per second, response bytes);
``--output`` also writes the response, to compare it with the gateway's. The tables are
ANALYZEd first (a freshly seeded database has no planner statistics and gets plans several
times slower); ``--no-analyze`` skips that.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from pathlib import Path
from typing import Any

import asyncpg

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.stats import latency_figures  # noqa: E402


def gid(type_name: str, pk: str) -> str:
    """SQL for a Relay global ID: unpadded URL-safe base64 of ``<Type>:<pk>``."""
    return f"rtrim(translate(encode(convert_to('{type_name}:' || {pk}, 'UTF8'), 'base64'), '+/', '-_'), '=')"


# Same rows and order as the gateway: active customers (branches listed too) by folded
# name then id; activities and notes newest first, ties broken by id; reports oldest
# first. The admin may read every note, so no visibility condition applies.
HEAVY = f"""
SELECT json_build_object('data', json_build_object('customers', json_build_object('edges', coalesce(json_agg(
  json_build_object('node', json_build_object(
    'id', {gid('Customer', 'c.id')},
    'displayName', c.display_name,
    'preferredContact', pc.contact,
    'activities', json_build_object('edges', coalesce(acts.edges, '[]'::json)),
    'notes', json_build_object('edges', coalesce(ns.edges, '[]'::json))
  ))
  ORDER BY c.sort_name, c.id), '[]'::json))))
FROM (
  SELECT id, display_name, sort_name FROM customers
  WHERE organization_id = $1 AND NOT archived
  ORDER BY sort_name, id LIMIT 50
) AS c
LEFT JOIN LATERAL (
  SELECT json_build_object('name', pc.name, 'email', pc.email) AS contact
  FROM customer_contacts AS pc
  WHERE pc.organization_id = $1 AND pc.customer_id = c.id AND pc.preferred
) AS pc ON true
LEFT JOIN LATERAL (
  SELECT json_agg(json_build_object('node', json_build_object(
      'id', {gid('Activity', 'a.id')},
      'startsAt', a.starts_at,
      'endsAt', a.ends_at,
      'type', json_build_object('name', t.name, 'icon', t.icon, 'colour', t.colour),
      'assignee', CASE WHEN u.id IS NULL THEN NULL ELSE json_build_object('name', u.name) END,
      'reports', coalesce((
        SELECT json_agg(json_build_object('id', {gid('Report', 'r.id')}, 'submittedAt', r.submitted_at) ORDER BY r.submitted_at, r.id)
        FROM activity_reports AS r WHERE r.organization_id = $1 AND r.activity_id = a.id
      ), '[]'::json)
    )) ORDER BY a.starts_at DESC, a.id DESC) AS edges
  FROM (
    SELECT id, type_id, assignee_id, starts_at, ends_at FROM activities
    WHERE organization_id = $1 AND location_id = c.id
    ORDER BY starts_at DESC, id DESC LIMIT 20
  ) AS a
  JOIN activity_types AS t ON t.id = a.type_id AND t.organization_id = $1
  LEFT JOIN users AS u ON u.id = a.assignee_id AND u.organization_id = $1
) AS acts ON true
LEFT JOIN LATERAL (
  SELECT json_agg(json_build_object('node', json_build_object(
      'id', {gid('Note', 'n.id')},
      'body', n.body,
      'createdAt', n.created_at,
      'author', CASE WHEN u.id IS NULL THEN NULL ELSE json_build_object('name', u.name) END
    )) ORDER BY n.created_at DESC, n.id DESC) AS edges
  FROM (
    SELECT id, body, created_at, author_id FROM notes
    WHERE organization_id = $1 AND customer_id = c.id
    ORDER BY created_at DESC, id DESC LIMIT 10
  ) AS n
  LEFT JOIN users AS u ON u.id = n.author_id AND u.organization_id = $1
) AS ns ON true
"""


def _dsn(url: str) -> str:
    """asyncpg takes ``postgresql://``; accept the gateway's SQLAlchemy URL too."""
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


TABLES = ("customers", "customer_contacts", "activities", "activity_types", "activity_reports", "notes", "users")


async def measure(url: str, organization_id: int, requests: int, warmup: int, analyze: bool = True) -> tuple[dict[str, Any], str]:
    connection = await asyncpg.connect(_dsn(url), server_settings={"TimeZone": "UTC"})
    try:
        if analyze:
            await connection.execute(f"ANALYZE {', '.join(TABLES)}")
        statement = await connection.prepare(HEAVY)
        body = ""
        for _ in range(warmup):
            body = await statement.fetchval(organization_id)
        latencies: list[float] = []
        started = time.perf_counter()
        for _ in range(requests):
            began = time.perf_counter()
            body = await statement.fetchval(organization_id)
            latencies.append(time.perf_counter() - began)
        elapsed = time.perf_counter() - started
    finally:
        await connection.close()
    figures = {
        "requests": requests,
        "seconds": round(elapsed, 3),
        "requests_per_second": round(requests / elapsed, 2),
        **latency_figures(latencies, digits=2),
        "response_bytes": len(body.encode()),
    }
    return figures, body


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", required=True, help="postgresql://user@host:port/database (or postgresql+asyncpg://...)")
    parser.add_argument("--organization-id", required=True, type=int, help="the demo organisation's id")
    parser.add_argument("--requests", type=int, default=50)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--output", type=Path, help="write the JSON response here")
    parser.add_argument("--no-analyze", action="store_true", help="do not ANALYZE the tables first")
    args = parser.parse_args()
    figures, body = await measure(args.database_url, args.organization_id, args.requests, args.warmup, analyze=not args.no_analyze)
    if args.output:
        args.output.write_text(body)
    print(json.dumps({"query": "bench/queries/heavy.graphql (floor: one SQL statement)", "organization_id": args.organization_id, **figures}, indent=2))


if __name__ == "__main__":
    asyncio.run(main())
