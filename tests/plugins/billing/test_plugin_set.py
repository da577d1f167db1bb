"""Billing with and without its neighbours: without the interventions plugin its
intervention fields are absent; without billing, customers work and nothing of billing shows.
(Billing with the real interventions plugin: tests/plugins/test_interventions_billing.py.)"""

from __future__ import annotations

import dataclasses

import pytest

from fiche.settings import Settings
from tests.plugins.billing.fixtures import customer
from tests.support import TestOrg


class TestInterventionsDisabled:
    @pytest.fixture
    def settings(self, settings: Settings) -> Settings:
        return dataclasses.replace(settings, disabled_plugins=("interventions",))

    async def test_without_a_plugin_answering_the_intervention_hooks_those_fields_are_absent(self, org: TestOrg) -> None:
        schema = org.schema._schema
        assert "invoiceBillableWork" not in schema.mutation_type.fields
        assert "interventionId" not in schema.type_map["QuoteCreateInput"].fields
        assert "intervention" not in schema.type_map["BillingDocument"].fields
        assert "quoteCreate" in schema.mutation_type.fields


class TestBillingDisabled:
    @pytest.fixture
    def settings(self, settings: Settings) -> Settings:
        return dataclasses.replace(settings, disabled_plugins=("billing",))

    async def test_customers_work_and_billing_is_absent(self, org: TestOrg) -> None:
        schema = org.schema._schema
        assert "BillingDocument" not in schema.type_map and "ExactDecimal" not in schema.type_map
        assert "billingDocuments" not in schema.type_map["Customer"].fields
        customer_id = await customer(org)
        deleted = await org.ok("mutation ($id: ID!) { customerDelete(id: $id) { deletedId errors { code } } }", {"id": customer_id})
        assert deleted["customerDelete"] == {"deletedId": customer_id, "errors": []}


class TestCustomersDisabled:
    @pytest.fixture
    def settings(self, settings: Settings) -> Settings:
        return dataclasses.replace(settings, disabled_plugins=("customers",))

    async def test_billing_builds_and_refuses_unknown_customers(self, org: TestOrg) -> None:
        schema = org.schema._schema
        assert "Customer" not in schema.type_map and "BillingDocument" in schema.type_map
        assert "addressId" not in schema.type_map["BillingInformationInput"].fields
        query = "mutation ($input: QuoteCreateInput!) { quoteCreate(input: $input) { errors { code path } } }"
        customer_id = "Q3VzdG9tZXI6MQ"  # Customer:1
        payload = (await org.ok(query, {"input": {"customerId": customer_id, "lines": [{"description": "x", "quantity": "1", "unitPrice": "1", "vatRate": "20"}]}}))["quoteCreate"]
        assert payload["errors"] == [{"code": "NOT_FOUND", "path": ["input", "customerId"]}]
