"""Links with optional plugins: the ``hasQuote`` filter exists only when a plugin answers
``intervention_quote_condition`` (billing), and works with it; the gateway and the other
plugins work with the interventions plugin disabled."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from sqlalchemy import ColumnElement, false

from fiche import hookimpl
from fiche.relay import decode_id
from fiche.settings import Settings
from tests.plugins.interventions.fixtures import address, customer, intervention, intervention_type
from tests.support import TestOrg

FILTER_FIELDS = '{ __type(name: "InterventionFilter") { inputFields { name } } }'
PLANNING = "query ($filter: InterventionFilter) { interventions(filter: $filter) { edges { node { number } } } }"
ROOT_FIELDS = "{ __schema { queryType { fields { name } } mutationType { fields { name } } } }"
CUSTOMER_FIELDS = '{ __type(name: "Customer") { fields { name } } }'


class QuotesProbe:
    """A tiny stand-in for the billing plugin: the interventions in ``quoted`` have a quote."""

    def __init__(self) -> None:
        self.quoted: set[int] = set()

    @hookimpl
    def intervention_quote_condition(self, intervention_id: Any, has_quote: bool) -> ColumnElement[bool]:
        if not self.quoted:
            return false() if has_quote else intervention_id.is_not(None)
        return intervention_id.in_(sorted(self.quoted)) if has_quote else intervention_id.not_in(sorted(self.quoted))


PROBE = QuotesProbe()


async def field_names(org: TestOrg) -> set[str]:
    return {field["name"] for field in (await org.ok(FILTER_FIELDS))["__type"]["inputFields"]}


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """Without billing, the plugin that keeps quotes (both real plugins together:
    tests/plugins/test_interventions_billing.py)."""
    return dataclasses.replace(settings, disabled_plugins=("billing",))


async def test_without_a_quotes_plugin_has_quote_is_not_in_the_schema(org: TestOrg) -> None:
    # when
    names = await field_names(org)
    refused = await org.gql(PLANNING, {"filter": {"hasQuote": True}})
    # then
    assert "hasQuote" not in names and {"search", "statuses", "toInvoice"} <= names
    assert refused.data is None and "hasQuote" in refused.errors[0]["message"]  # an unknown input field fails validation


class TestWithQuotes:
    @pytest.fixture
    def plugins(self) -> list[tuple[str, Any]]:
        return [("quotes-probe", PROBE)]

    async def test_hook_intervention_quote_condition_filters_has_quote(self, org: TestOrg) -> None:
        # given
        client, kind = await customer(org), await intervention_type(org)
        place = await address(org, client)
        quoted = await intervention(org, client, place, kind, title="Devis chaudière")
        plain = await intervention(org, client, place, kind, title="Sans devis")
        PROBE.quoted = {decode_id(quoted["id"])[1]}
        try:
            # when
            with_quote = await org.ok(PLANNING, {"filter": {"hasQuote": True}})
            without = await org.ok(PLANNING, {"filter": {"hasQuote": False}})
        finally:
            PROBE.quoted = set()
        # then
        assert "hasQuote" in await field_names(org)
        assert [edge["node"]["number"] for edge in with_quote["interventions"]["edges"]] == [quoted["number"]]
        assert [edge["node"]["number"] for edge in without["interventions"]["edges"]] == [plain["number"]]


class TestDisabled:
    @pytest.fixture
    def settings(self, settings: Settings) -> Settings:
        return dataclasses.replace(settings, disabled_plugins=("interventions",))

    async def test_the_schema_builds_without_interventions_and_customers_still_work(self, org: TestOrg) -> None:
        # when
        roots = await org.ok(ROOT_FIELDS)
        customer_fields = {field["name"] for field in (await org.ok(CUSTOMER_FIELDS))["__type"]["fields"]}
        created = await customer(org, "Sans interventions")
        # then
        names = {field["name"] for field in roots["__schema"]["queryType"]["fields"] + roots["__schema"]["mutationType"]["fields"]}
        assert not {name for name in names if "ntervention" in name or name.startswith("equipment")}
        assert not {"interventions", "equipment"} & customer_fields and "activities" in customer_fields
        assert created
