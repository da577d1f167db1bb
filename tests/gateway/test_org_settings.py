"""Organisation settings (``register_settings``): listed with their defaults, changed by
admins only, validated against their type and bounds, kept per organisation."""

from __future__ import annotations

from typing import Any

import pytest

from starlette.requests import Request

from fiche.app import FicheGraphQL
from fiche.context import ConnectionContext, OperationContext, operation_context
from fiche.org_settings import get_setting, organization_zone
from tests.gateway.conftest import PROBE
from tests.support import TestOrg, count_statements

SETTINGS = "{ organizationSettings { key value default description } }"
SETTING_SET = """
mutation Set($key: String!, $value: JSON!) {
  organizationSettingSet(key: $key, value: $value) { setting { key value default } errors { code message path } }
}
"""


@pytest.fixture
def plugins() -> list[tuple[str, Any]]:
    return PROBE


async def values(tenant: TestOrg) -> dict[str, Any]:
    data = await tenant.ok(SETTINGS, as_="member")
    return {setting["key"]: setting["value"] for setting in data["organizationSettings"]}


async def set_setting(tenant: TestOrg, key: str, value: Any, as_: str = "admin") -> dict[str, Any]:
    data = await tenant.ok(SETTING_SET, {"key": key, "value": value}, as_=as_)
    return dict(data["organizationSettingSet"])


async def test_hook_register_settings(org: TestOrg) -> None:
    # when
    data = await org.ok(SETTINGS, as_="member")
    # then: every registered setting, by key, with its default as value
    assert data["organizationSettings"] == [
        {
            "key": "organization.time_zone",
            "value": "Europe/Paris",
            "default": "Europe/Paris",
            "description": 'The organisation\'s IANA time zone: what "today", a day of the calendar and a late appointment mean.',
        },
        {"key": "probe.enabled", "value": False, "default": False, "description": "A probe switch."},
        {"key": "probe.label", "value": "probe", "default": "probe", "description": "A probe label."},
        {"key": "probe.radius_m", "value": 100, "default": 100, "description": "A probe radius in metres."},
        {"key": "probe.ratio", "value": 0.5, "default": 0.5, "description": "A probe ratio."},
    ]


async def test_admin_sets_a_setting(org: TestOrg) -> None:
    # when
    payload = await set_setting(org, "probe.radius_m", 250)
    # then
    assert payload == {"setting": {"key": "probe.radius_m", "value": 250, "default": 100}, "errors": []}
    assert (await values(org))["probe.radius_m"] == 250


async def test_setting_set_twice_keeps_the_last_value(org: TestOrg) -> None:
    # given
    await set_setting(org, "probe.label", "first")
    # when
    payload = await set_setting(org, "probe.label", "second")
    # then
    assert payload["errors"] == []
    assert (await values(org))["probe.label"] == "second"


async def test_plugins_read_the_organisation_value_or_the_default(org: TestOrg) -> None:
    # given
    await set_setting(org, "probe.enabled", True)
    async with operation_context(org.state, org.viewer("member")) as context:
        # when
        enabled = await get_setting(context, "probe.enabled")
        radius = await get_setting(context, "probe.radius_m")
    # then
    assert (enabled, radius) == (True, 100)


@pytest.mark.parametrize("who", ["manager", "member", "technician"])
async def test_only_admins_change_settings(org: TestOrg, who: str) -> None:
    # when
    payload = await set_setting(org, "probe.radius_m", 250, as_=who)
    # then
    assert payload["setting"] is None
    assert [error["code"] for error in payload["errors"]] == ["FORBIDDEN"]
    assert (await values(org))["probe.radius_m"] == 100


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("probe.radius_m", "250"),
        ("probe.radius_m", 2.5),
        ("probe.radius_m", True),
        ("probe.ratio", "half"),
        ("probe.enabled", 1),
        ("probe.enabled", "yes"),
        ("probe.label", 3),
        ("probe.radius_m", [250]),
    ],
)
async def test_value_of_the_wrong_type_is_invalid(org: TestOrg, key: str, value: Any) -> None:
    # when
    payload = await set_setting(org, key, value)
    # then
    assert payload["setting"] is None
    assert [(error["code"], error["path"]) for error in payload["errors"]] == [("INVALID", ["value"])]


async def test_null_value_is_refused_with_an_explanation(org: TestOrg) -> None:
    # when
    result = await org.gql(SETTING_SET, {"key": "probe.label", "value": None})
    # then
    assert "JSON!" in result.errors[0]["message"]
    assert (await values(org))["probe.label"] == "probe"


async def test_integer_is_accepted_for_a_decimal_setting(org: TestOrg) -> None:
    # when
    payload = await set_setting(org, "probe.ratio", 1)
    # then
    assert payload["errors"] == []
    assert (await values(org))["probe.ratio"] == 1.0


@pytest.mark.parametrize(("value", "bound"), [(9, "at least 10"), (5001, "at most 5000")])
async def test_value_out_of_bounds_is_invalid(org: TestOrg, value: int, bound: str) -> None:
    # when
    payload = await set_setting(org, "probe.radius_m", value)
    # then
    assert [(error["code"], error["path"]) for error in payload["errors"]] == [("INVALID", ["value"])]
    assert bound in payload["errors"][0]["message"]


@pytest.mark.parametrize("value", [10, 5000])
async def test_bounds_are_inclusive(org: TestOrg, value: int) -> None:
    # when
    payload = await set_setting(org, "probe.radius_m", value)
    # then
    assert payload["errors"] == []


async def test_unknown_setting_is_not_found(org: TestOrg) -> None:
    # when
    payload = await set_setting(org, "probe.no_such_key", 1)
    # then
    assert payload["setting"] is None
    assert [(error["code"], error["path"]) for error in payload["errors"]] == [("NOT_FOUND", ["key"])]


async def test_settings_belong_to_one_organisation(org: TestOrg, other_org: TestOrg) -> None:
    # given
    await set_setting(org, "probe.radius_m", 300)
    # when
    theirs = await values(other_org)
    # then
    assert theirs["probe.radius_m"] == 100
    assert (await values(org))["probe.radius_m"] == 300


async def test_the_time_zone_is_an_iana_name_and_reaches_plugins(org: TestOrg) -> None:
    # given
    refused = await set_setting(org, "organization.time_zone", "Mars/Olympus")
    accepted = await set_setting(org, "organization.time_zone", "America/Cayenne")
    # then
    assert refused["errors"] == [
        {"code": "INVALID", "message": "`organization.time_zone`: 'Mars/Olympus' is not an IANA time zone (e.g. Europe/Paris).", "path": ["value"]}
    ]
    assert accepted["errors"] == []
    async with operation_context(org.state, org.viewer("member")) as context:
        assert str(await organization_zone(context)) == "America/Cayenne"


async def http_connection(tenant: TestOrg, who: str = "admin") -> ConnectionContext:
    """The connection context the HTTP view makes for a request with ``who``'s token."""
    view = FicheGraphQL(tenant.state, tenant.schema)
    request = Request({"type": "http", "method": "POST", "path": "/graphql", "headers": [(b"authorization", f"Bearer {tenant.token(who)}".encode())]})
    return await view.get_context(request, None)


async def test_an_http_request_reads_the_time_zone_with_its_viewer(org: TestOrg, other_org: TestOrg) -> None:
    # given
    await set_setting(org, "organization.time_zone", "America/Cayenne")
    await set_setting(other_org, "organization.time_zone", "Asia/Tokyo")
    # when: the viewer loaded as for an HTTP request, then the zone asked for
    with count_statements(org.state.db) as counter:
        connection = await http_connection(org)
        zone = await organization_zone(OperationContext(connection))
    # then: one statement for both, and this organisation's value
    assert counter.count == 1
    assert str(zone) == "America/Cayenne"


async def test_an_http_request_without_a_stored_time_zone_gets_the_default(org: TestOrg, other_org: TestOrg) -> None:
    # given: only the other organisation set one
    await set_setting(other_org, "organization.time_zone", "Asia/Tokyo")
    # when
    connection = await http_connection(org, "member")
    zone = await organization_zone(OperationContext(connection))
    # then
    assert connection.organization_settings == {"organization.time_zone": None}
    assert str(zone) == "Europe/Paris"


async def test_a_setting_changed_by_the_request_is_read_again(org: TestOrg) -> None:
    # given: a request that read the zone with its viewer
    connection = await http_connection(org)
    # when: the same request changes it
    result = await org.schema.execute(SETTING_SET, variable_values={"key": "organization.time_zone", "value": "America/Cayenne"}, context_value=connection)
    # then: later fields of the request read the new value, not what came with the viewer
    assert not result.errors
    assert str(await organization_zone(OperationContext(connection))) == "America/Cayenne"
