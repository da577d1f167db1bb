"""The plugin host (G1): a partner distribution found through its entry point adds its
part of the schema, disabling it removes exactly that part, and assembly errors are loud."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pluggy
import pytest
import strawberry
from graphql import GraphQLInputObjectType, GraphQLInterfaceType, GraphQLNamedType, GraphQLObjectType, GraphQLSchema

from fiche import plugin_host as gateway_plugins
from fiche.app import build_state
from fiche.context import operation_context
from fiche.plugin_host import get_plugin_manager, plugin_names
from fiche.schema import SchemaAssemblyError, build_schema, export_sdl
from fiche.settings import Settings
from tests.gateway import probe_plugins
from tests.gateway.conftest import PROBE
from tests.support import TestOrg, partner_installed

SETTINGS = Settings(database_url="sqlite+aiosqlite:///:memory:", secret_key="plugin-host-tests-secret-key-long-enough")
PARTNER_TYPES = {"LoyaltyCard", "LoyaltyCardPayload"}

LOYALTY_TIERS = "{ loyaltyTiers }"
LOYALTY_BADGE = "{ viewer { user { handle loyaltyBadge } } }"


@pytest.fixture
def partner_site(tmp_path: Path) -> Iterator[Path]:
    """The partner distribution installed as pip would, for the duration of the test."""
    site = tmp_path / "site-packages"
    site.mkdir()
    with partner_installed(str(site)):
        yield site


@pytest.fixture
def plugins(partner_site: Path) -> list[tuple[str, Any]]:
    # Depending on partner_site makes the `state` fixture's plugin manager find the partner.
    return []


def _schema(settings: Settings = SETTINGS, extra: list[tuple[str, Any]] | None = None) -> strawberry.Schema:
    return build_schema(get_plugin_manager(settings, extra=extra or []), settings)


def _fields(named: GraphQLNamedType) -> dict[str, str]:
    """Field name -> printed type and arguments, for types that have fields."""
    if isinstance(named, (GraphQLObjectType, GraphQLInterfaceType)):
        return {
            name: f"{field.type}({', '.join(f'{arg}: {value.type}' for arg, value in field.args.items())})"
            for name, field in named.fields.items()
        }
    if isinstance(named, GraphQLInputObjectType):
        return {name: str(field.type) for name, field in named.fields.items()}
    return {}


def _parts(schema: GraphQLSchema) -> set[tuple[str, ...]]:
    """Every type, and every field with its signature, of a schema."""
    parts: set[tuple[str, ...]] = set()
    for type_name, named in schema.type_map.items():
        parts.add((type_name,))
        for field_name, signature in _fields(named).items():
            parts.add((type_name, field_name, signature))
    return parts


# ------------------------------------------------------------------ discovery and contributions


def test_partner_plugin_is_loaded_from_its_entry_point(partner_site: Path) -> None:
    # when
    pm = get_plugin_manager(SETTINGS)
    # then
    assert "loyalty" in plugin_names(pm)
    assert pm.get_plugin("loyalty").__name__ == "fiche_loyalty.hooks"


def test_partner_plugin_is_absent_when_not_installed() -> None:
    # when
    pm = get_plugin_manager(SETTINGS)
    # then
    assert "loyalty" not in plugin_names(pm)


def test_partner_plugin_adds_a_type_a_root_field_and_a_field_on_a_builtin_type(partner_site: Path) -> None:
    # when
    schema = _schema()._schema
    # then
    assert "LoyaltyCard" in schema.type_map
    assert "loyaltyTiers" in schema.query_type.fields
    assert "loyaltyBadge" in schema.type_map["User"].fields


async def test_partner_root_field_answers(org: TestOrg) -> None:
    # when
    data = await org.ok(LOYALTY_TIERS, as_="member")
    # then
    assert data == {"loyaltyTiers": ["bronze", "silver", "gold"]}


async def test_partner_field_on_the_builtin_user_type_answers(org: TestOrg) -> None:
    # given
    expected = "gold" if org.users["member"].id % 2 else "silver"
    # when
    data = await org.ok(LOYALTY_BADGE, as_="member")
    # then
    assert data == {"viewer": {"user": {"handle": "member", "loyaltyBadge": expected}}}


async def test_partner_plugin_adds_its_loader_to_each_operation(partner_site: Path) -> None:
    # given
    state = build_state(SETTINGS, get_plugin_manager(SETTINGS))
    # when
    async with operation_context(state, viewer=None) as context:
        loader = context.loaders["loyalty_cards_by_customer"]
    # then
    assert type(loader).__name__ == "LoyaltyCardsByCustomerLoader"
    assert type(loader).__module__ == "fiche_loyalty.hooks"
    await state.db.dispose()


# ------------------------------------------------------------------ disabling


def test_disabling_the_partner_unregisters_it(partner_site: Path) -> None:
    # given
    settings = dataclasses.replace(SETTINGS, disabled_plugins=("loyalty",))
    # when
    pm = get_plugin_manager(settings)
    # then
    assert "loyalty" not in plugin_names(pm)
    assert pm.is_blocked("loyalty")


def test_disabling_the_partner_gives_the_sdl_of_a_gateway_without_it(tmp_path: Path) -> None:
    # given
    never_installed = export_sdl(_schema())
    site = tmp_path / "site-packages"
    site.mkdir()
    with partner_installed(str(site)):
        with_partner = export_sdl(_schema())
        # when
        disabled = export_sdl(_schema(dataclasses.replace(SETTINGS, disabled_plugins=("loyalty",))))
    # then
    assert with_partner != never_installed
    assert disabled == never_installed


def test_disabling_the_partner_removes_exactly_its_part_of_the_schema(tmp_path: Path) -> None:
    # given: the schema of a gateway where the partner was never installed
    never_installed = _schema()._schema
    site = tmp_path / "site-packages"
    site.mkdir()
    with partner_installed(str(site)):
        with_partner = _schema()._schema
        disabled = _schema(dataclasses.replace(SETTINGS, disabled_plugins=("loyalty",)))._schema
    # when
    added = _parts(with_partner) - _parts(never_installed)
    removed = _parts(never_installed) - _parts(with_partner)
    # then: the partner only adds, and only its own types and fields
    assert removed == set()
    assert {part[0] for part in added if len(part) == 1} == PARTNER_TYPES
    added_fields = {(part[0], part[1]) for part in added if len(part) == 3 and part[0] not in PARTNER_TYPES}
    expected = {("Query", "loyaltyTiers"), ("Mutation", "loyaltyCardCreate"), ("User", "loyaltyBadge")}
    if "Customer" in never_installed.type_map:
        expected.add(("Customer", "loyaltyCard"))
    assert added_fields == expected
    # and disabling it gives back exactly the schema without it
    assert _parts(disabled) == _parts(never_installed)


def test_disabling_a_builtin_plugin_removes_it_and_its_schema(monkeypatch: pytest.MonkeyPatch) -> None:
    # given: the probe shipped as a built-in plugin
    monkeypatch.setattr(gateway_plugins, "BUILTIN_PLUGINS", (("probe", "tests.gateway.probe_plugins"),))
    enabled_schema = _schema()._schema
    assert "probeBoom" in enabled_schema.query_type.fields
    # when
    settings = dataclasses.replace(SETTINGS, disabled_plugins=("probe",))
    pm = get_plugin_manager(settings)
    disabled_schema = build_schema(pm, settings)._schema
    # then
    assert "probe" not in plugin_names(pm)
    assert not any(name.startswith("probe") for name in disabled_schema.query_type.fields)
    assert "ProbeThing" not in disabled_schema.type_map
    assert "probeShout" not in disabled_schema.type_map["User"].fields


@pytest.mark.parametrize("core", ["core", "accounts", "notifications"])
def test_disabling_a_core_feature_is_refused(core: str) -> None:
    # given
    settings = dataclasses.replace(SETTINGS, disabled_plugins=(core,))
    # when / then
    with pytest.raises(ValueError, match=core):
        get_plugin_manager(settings)


def test_builtin_plugins_of_this_checkout_can_each_be_disabled() -> None:
    # given: every built-in plugin present in this checkout
    available = [name for name, module in gateway_plugins.BUILTIN_PLUGINS if gateway_plugins._available(module)]
    assert available, "the built-in domain plugins should be importable"
    full = plugin_names(get_plugin_manager(SETTINGS))
    # when
    for name in available:
        settings = dataclasses.replace(SETTINGS, disabled_plugins=(name,))
        pm = get_plugin_manager(settings)
        # then: the rest still assembles a schema
        assert name not in plugin_names(pm)
        assert set(plugin_names(pm)) == set(full) - {name}
        build_schema(pm, settings)


# ------------------------------------------------------------------ assembly errors


def test_duplicate_root_field_between_two_plugins_is_an_error() -> None:
    # given
    extra = [*PROBE, ("duplicate", probe_plugins.DuplicateRootFieldProbe())]
    # when / then
    with pytest.raises(SchemaAssemblyError, match="Query.probeBoom"):
        _schema(extra=extra)


def test_extension_field_clashing_with_an_existing_field_is_an_error() -> None:
    # given
    extra = [("clash", probe_plugins.ClashingExtensionProbe())]
    # when / then
    with pytest.raises(SchemaAssemblyError, match="User.email"):
        _schema(extra=extra)


def test_two_plugins_adding_the_same_field_to_a_type_is_an_error() -> None:
    # given
    extra = [*PROBE, ("clash", probe_plugins.ClashingExtensionsProbe())]
    # when / then
    with pytest.raises(SchemaAssemblyError, match="User.probeShout"):
        _schema(extra=extra)


def test_extension_of_a_type_in_the_schema_that_cannot_be_extended_is_an_error() -> None:
    # given
    extra = [("unregistered", probe_plugins.UnregisteredTargetProbe())]
    # when / then: never a silently missing field
    with pytest.raises(SchemaAssemblyError, match="PageInfo"):
        _schema(extra=extra)


def test_a_failed_assembly_leaves_later_schemas_correct() -> None:
    # given: an assembly that failed half-way through the extensions
    with pytest.raises(SchemaAssemblyError):
        _schema(extra=[*PROBE, ("clash", probe_plugins.ClashingExtensionsProbe())])
    # when
    schema = _schema()._schema
    # then
    assert "probeShout" not in schema.type_map["User"].fields


def test_misspelt_hook_implementation_fails_loudly() -> None:
    # when / then
    with pytest.raises(pluggy.PluginValidationError, match="register_querys"):
        get_plugin_manager(SETTINGS, extra=[("typo", probe_plugins.MisspeltHookProbe())])


def test_plugin_manager_is_a_fresh_factory_product() -> None:
    # when
    first = get_plugin_manager(SETTINGS, extra=PROBE)
    second = get_plugin_manager(SETTINGS)
    # then: registering a plugin in one manager does not leak into another
    assert "probe" in plugin_names(first)
    assert "probe" not in plugin_names(second)
