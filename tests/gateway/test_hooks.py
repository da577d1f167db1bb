"""Every hook is documented and has a test of its own; the gateway-level hooks are tested
here with the probe plugin (``authenticate`` in test_auth, ``register_settings`` in
test_org_settings, ``timeline_entries`` in test_timeline)."""

from __future__ import annotations

import ast
import dataclasses
import datetime as dt
import inspect
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, inspect as sql_inspect, select
from sqlalchemy.ext.asyncio import create_async_engine

from fiche import hookimpl, hookspecs
from fiche.accounts import models
from fiche.app import build_state
from fiche.context import AppState, ConnectionContext, operation_context
from fiche.demo import DemoContext, create_demo
from fiche.directory import CustomerLocation, customer_branches, customer_locations
from fiche.migrate import alembic_config, upgrade
from fiche.plugin_host import get_plugin_manager
from fiche.relay import decode_id, encode_id
from fiche.settings import Settings
from fiche.storage import LocalFileStorage
from tests.gateway import probe_plugins
from tests.gateway.conftest import DOMAIN_PLUGINS, PROBE
from tests.support import TestOrg

TESTS_ROOT = Path(__file__).resolve().parent.parent
HOST_ONLY = Settings(
    database_url="sqlite+aiosqlite:///:memory:",
    secret_key="hook-tests-secret-key-long-enough-for-hs256",
    disabled_plugins=DOMAIN_PLUGINS,
)

PROBE_NUMBER = "{ probeNumber(key: 4) }"
PROBE_NOTIFY_NOBODY = "mutation { probeNotify(recipientIds: []) { notified errors { code } } }"
PROBE_COUNT = "subscription { probeCount(to: 2) }"
SHOUT = "{ viewer { user { probeShout } } }"
NODE = "query Node($id: ID!) { node(id: $id) { __typename id ... on ProbeThing { label } } }"


@pytest.fixture
def plugins() -> list[tuple[str, Any]]:
    return PROBE


def hook_specs() -> list[tuple[str, Any]]:
    return [(name, function) for name, function in inspect.getmembers(hookspecs, inspect.isfunction) if hasattr(function, "fiche_spec")]


def collected_test_names() -> set[str]:
    """Names of the test functions in every test module under ``tests/`` (read with ``ast``)."""
    names: set[str] = set()
    for path in TESTS_ROOT.rglob("test_*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name.startswith("test_"):
                names.add(node.name)
    return names


# ------------------------------------------------------------------ the hooks themselves


def test_specifications_are_found() -> None:
    # then: the checks below really look at the specifications
    assert {"register_queries", "authenticate", "timeline_entries"} <= {name for name, _ in hook_specs()}


@pytest.mark.parametrize("name", [name for name, _ in hook_specs()])
def test_every_hook_spec_documents_each_parameter(name: str) -> None:
    # given
    spec = dict(hook_specs())[name]
    doc = inspect.getdoc(spec) or ""
    # then
    assert doc.strip(), f"{name} has no docstring"
    for parameter in inspect.signature(spec).parameters:
        assert f":param {parameter}:" in doc, f"{name} does not document {parameter}"


@pytest.mark.parametrize("name", [name for name, _ in hook_specs()])
def test_every_hook_has_a_test_of_its_own(name: str) -> None:
    # given
    tests = collected_test_names()
    # then
    assert any(test == f"test_hook_{name}" or test.startswith(f"test_hook_{name}_") for test in tests), (
        f"no test named test_hook_{name} under tests/"
    )


def test_every_hook_test_names_a_hook() -> None:
    # given
    hooks = [name for name, _ in hook_specs()]
    # when
    strays = [
        test
        for test in collected_test_names()
        if test.startswith("test_hook_") and not any(test == f"test_hook_{hook}" or test.startswith(f"test_hook_{hook}_") for hook in hooks)
    ]
    # then
    assert strays == []


# ------------------------------------------------------------------ schema contributions


async def test_hook_register_types(org: TestOrg) -> None:
    # then: a type no root field returns is still in the schema
    assert "ProbeThing" in org.schema._schema.type_map
    assert "ProbeThing" not in org.schema._schema.query_type.fields


async def test_hook_register_queries(org: TestOrg) -> None:
    # when
    data = await org.ok(PROBE_NUMBER, as_="member")
    # then
    assert data == {"probeNumber": 40}


async def test_hook_register_mutations(org: TestOrg) -> None:
    # when
    data = await org.ok(PROBE_NOTIFY_NOBODY, as_="member")
    # then
    assert data == {"probeNotify": {"notified": [], "errors": []}}


async def test_hook_register_subscriptions(org: TestOrg) -> None:
    # given
    context = ConnectionContext(org.state, viewer=org.viewer("member"))
    # when
    stream = await org.schema.subscribe(PROBE_COUNT, context_value=context)
    results = [result async for result in stream]  # type: ignore[union-attr]
    # then
    assert [result.data["probeCount"].split(":")[0] for result in results] == ["1", "2"]  # type: ignore[index]


async def test_hook_register_type_extensions(org: TestOrg) -> None:
    # when
    data = await org.ok(SHOUT, as_="member")
    # then
    assert data == {"viewer": {"user": {"probeShout": "MEMBER TEST"}}}


async def test_hook_register_type_extensions_of_an_absent_type_are_skipped(org: TestOrg) -> None:
    # then: the probe also extends `NoSuchType`; the schema simply has no such field
    assert "NoSuchType" not in org.schema._schema.type_map
    assert all("probeOrphan" not in getattr(named, "fields", {}) for named in org.schema._schema.type_map.values())


# ------------------------------------------------------------------ per-operation registries


async def test_hook_register_loaders(org: TestOrg) -> None:
    # given
    async with operation_context(org.state, org.viewer("member")) as context:
        # when
        loader = context.loaders["probe_numbers"]
        # then: made for this operation, with it, once
        assert isinstance(loader, probe_plugins.ProbeNumbersLoader)
        assert loader.context is context
        assert context.loaders["probe_numbers"] is loader
        assert await loader.load(3) == 30


class LoaderNameClash:
    @hookimpl
    def register_loaders(self, context: Any) -> dict[str, Any]:
        return {"users_by_id": object()}


async def test_hook_register_loaders_refuses_a_name_two_plugins_use(state: AppState) -> None:
    # given
    pm = get_plugin_manager(state.settings, extra=[("clash", LoaderNameClash())])
    clashing = dataclasses.replace(state, pm=pm)
    async with operation_context(clashing, viewer=None) as context:
        # when / then
        with pytest.raises(RuntimeError, match="users_by_id"):
            context.loaders


async def test_hook_register_node_types(org: TestOrg) -> None:
    # given
    existing, missing = encode_id("ProbeThing", 4), encode_id("ProbeThing", 5)
    # when
    found = await org.ok(NODE, {"id": existing}, as_="member")
    absent = await org.ok(NODE, {"id": missing}, as_="member")
    # then
    assert found == {"node": {"__typename": "ProbeThing", "id": existing, "label": "thing 4"}}
    assert absent == {"node": None}


class NodeTypeClash:
    @hookimpl
    def register_node_types(self) -> dict[str, Any]:
        return {"User": probe_plugins._probe_things}


def test_hook_register_node_types_refuses_a_type_two_plugins_resolve() -> None:
    # given
    pm = get_plugin_manager(HOST_ONLY, extra=[("clash", NodeTypeClash())])
    # when / then
    with pytest.raises(RuntimeError, match="User"):
        build_state(HOST_ONLY, pm)


def test_hook_register_subject_types() -> None:
    # when
    state = build_state(HOST_ONLY, get_plugin_manager(HOST_ONLY, extra=PROBE))
    # then
    assert "ProbeThing" in state.subject_types


class SubjectWithoutNode:
    @hookimpl
    def register_subject_types(self) -> list[str]:
        return ["Ghost"]


def test_hook_register_subject_types_needs_a_node_resolver() -> None:
    # given
    pm = get_plugin_manager(HOST_ONLY, extra=[("ghost", SubjectWithoutNode())])
    # when / then
    with pytest.raises(RuntimeError, match="Ghost"):
        build_state(HOST_ONLY, pm)


def test_hook_register_notification_kinds() -> None:
    # when
    state = build_state(HOST_ONLY, get_plugin_manager(HOST_ONLY, extra=PROBE))
    # then
    assert state.notification_kinds["PROBE_PING"] is probe_plugins.PING
    assert state.notification_kinds["PROBE_DIGEST"].default_enabled is False


# ------------------------------------------------------------------ migrations, routes, storage


async def test_hook_register_migrations(tmp_path: Path) -> None:
    # given
    probe = probe_plugins.MigrationsProbe(tmp_path / "probe_versions")
    pm = get_plugin_manager(HOST_ONLY, extra=[("probe-migrations", probe)])
    url = f"sqlite+aiosqlite:///{tmp_path}/fresh.db"
    # when
    await upgrade(pm, url)
    # then
    assert str(probe.directory) in alembic_config(pm).get_main_option("version_locations", "")
    engine = create_async_engine(url)
    try:
        async with engine.connect() as connection:
            tables = await connection.run_sync(lambda sync: set(sql_inspect(sync).get_table_names()))
    finally:
        await engine.dispose()
    assert {"probe_migrated", "users"} <= tables


async def test_hook_register_routes(client: httpx.AsyncClient) -> None:
    # when
    response = await client.get("/probe/hello")
    # then
    assert response.status_code == 200
    assert response.text == "probe route of http://127.0.0.1:8000"


async def test_hook_file_storage(state: AppState) -> None:
    # given
    storage = state.storage
    # when
    key = await storage.save(b"probe bytes", suffix=".txt")
    # then
    assert isinstance(storage, probe_plugins.ProbeStorage)
    assert storage.settings is state.settings
    assert await storage.read(key) == b"probe bytes"


def test_hook_file_storage_defaults_to_a_local_directory(tmp_path: Path) -> None:
    # given
    settings = dataclasses.replace(HOST_ONLY, upload_dir=str(tmp_path / "uploads"))
    # when
    state = build_state(settings, get_plugin_manager(settings))
    # then
    assert isinstance(state.storage, LocalFileStorage)
    assert state.storage.root == tmp_path / "uploads"


# ------------------------------------------------------------------ demo, directory, tasks


async def test_hook_seed_demo(state: AppState) -> None:
    # given
    probe_plugins.SEEN_DEMOS.clear()
    # when
    result = await create_demo(state.settings, state.db, state.pm, size=3, seed=7)
    # then: the probe got the demo's context ...
    (demo,) = probe_plugins.SEEN_DEMOS
    assert isinstance(demo, DemoContext)
    assert demo.organization.id == result.organization_id
    assert demo.size == 3
    assert len(demo.users) == 7 and {"Direction", "Techniciens"} <= demo.teams.keys()
    # ... and what it added was committed with the demo organisation
    async with state.db.reader(result.organization_id) as session:
        count = await session.scalar(select(func.count()).select_from(models.Team).where(models.Team.name == "Probe team of 3"))
    assert count == 1


async def test_hook_seed_demo_random_generator_is_seeded(state: AppState) -> None:
    # given
    probe_plugins.SEEN_DEMOS.clear()
    # when
    await create_demo(state.settings, state.db, state.pm, size=1, seed=42)
    await create_demo(state.settings, state.db, state.pm, size=1, seed=42)
    # then: both runs drew the same numbers (the probe's own draws come after none)
    first, second = probe_plugins.SEEN_DEMOS
    assert first.rng.random() == second.rng.random()


SENTINEL_SESSION: Any = object()


async def test_hook_customer_branches() -> None:
    # given
    pm = get_plugin_manager(HOST_ONLY, extra=PROBE)
    # when
    branches = await customer_branches(pm, SENTINEL_SESSION, [1, 5])
    # then
    assert branches == {1: [2, 3], 5: []}


async def test_hook_customer_branches_without_a_customers_plugin_are_empty() -> None:
    # when
    branches = await customer_branches(get_plugin_manager(HOST_ONLY), SENTINEL_SESSION, [1, 5])
    # then
    assert branches == {1: [], 5: []}


async def test_hook_customer_locations() -> None:
    # given
    pm = get_plugin_manager(HOST_ONLY, extra=PROBE)
    # when
    locations = await customer_locations(pm, SENTINEL_SESSION, [1, 100])
    # then
    assert locations == {
        1: CustomerLocation(
            customer_id=1, parent_id=None, display_name="Probe customer 1", latitude=48.85, longitude=2.35, preferred_contact_id=None
        )
    }


async def test_hook_customer_locations_without_a_customers_plugin_are_empty() -> None:
    # when / then
    assert await customer_locations(get_plugin_manager(HOST_ONLY), SENTINEL_SESSION, [1]) == {}


async def test_hook_create_task(org: TestOrg) -> None:
    # given
    probe_plugins.CREATED_TASKS.clear()
    due = dt.datetime(2026, 12, 1, 9, tzinfo=dt.UTC)
    async with operation_context(org.state, org.viewer("manager")) as context:
        # when
        task_id = await org.state.pm.hook.create_task(
            context=context, body="Call back", assignee_id=org.users["member"].id, target_id=encode_id("ProbeThing", 2), due_at=due
        )
    # then
    assert decode_id(task_id) == ("ProbeTask", 1)
    assert probe_plugins.CREATED_TASKS == [
        {"by": org.users["manager"].id, "body": "Call back", "assignee_id": org.users["member"].id, "target_id": encode_id("ProbeThing", 2), "due_at": due}
    ]


def test_hook_create_task_has_no_answer_without_a_task_plugin() -> None:
    # given
    pm = get_plugin_manager(HOST_ONLY)
    # when
    answer = pm.hook.create_task(context=None, body="x", assignee_id=1, target_id=None, due_at=None)
    # then
    assert answer is None
