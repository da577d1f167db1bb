"""Invoicing interventions (B4) and quotes linked to interventions, with a stand-in plugin
answering the interventions hooks in place of the real one (disabled here); and billing's
fields that need them. Both real plugins together: tests/plugins/test_interventions_billing.py."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from sqlalchemy import Integer, literal, select

from fiche.relay import decode_id
from fiche.settings import Settings
from tests.plugins.billing.fixtures import customer, issue, line
from tests.plugins.billing.work_plugin import WorkPlugin
from tests.support import TestOrg

ERRORS = "errors { code message path }"
INVOICE_WORK = f"""
mutation ($input: BillableWorkInvoiceInput!) {{ invoiceBillableWork(input: $input) {{
  document {{ id kind status total lines {{ description quantity unit unitPrice netAmount workId }} }} {ERRORS} }} }}
"""
QUOTE_CREATE = f"mutation ($input: QuoteCreateInput!) {{ quoteCreate(input: $input) {{ document {{ id }} {ERRORS} }} }}"
STAND_IN = WorkPlugin()


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return dataclasses.replace(settings, disabled_plugins=("interventions",))


@pytest.fixture
def plugins() -> list[tuple[str, Any]]:
    STAND_IN.work.clear()
    STAND_IN.refuse_marking = False
    STAND_IN.sessions.clear()
    return [("work-stand-in", STAND_IN)]


def _pk(global_id: str) -> int:
    return decode_id(global_id)[1]


async def test_hook_billable_work_becomes_one_invoice_line_per_intervention(org: TestOrg) -> None:
    # given two finished interventions of a customer and one of another
    customer_id, other = await customer(org), await customer(org, "Autre")
    first = STAND_IN.add(1, _pk(customer_id), org.organization_id, "Intervention 1 — Entretien chaudière", hours="1.5")
    second = STAND_IN.add(2, _pk(customer_id), org.organization_id, "Intervention 2 — Dépannage")
    STAND_IN.add(3, _pk(other), org.organization_id, "Intervention 3 — Ailleurs", hours="2")
    # when
    data = await org.ok(INVOICE_WORK, {"input": {"customerId": customer_id, "unitPrice": "60", "vatRate": "10"}}, as_="member")
    # then
    payload = data["invoiceBillableWork"]
    assert payload["errors"] == []
    document = payload["document"]
    assert (document["kind"], document["status"], document["total"]) == ("INVOICE", "DRAFT", "165.00")
    assert [(l["description"], l["quantity"], l["unit"], l["netAmount"], l["workId"]) for l in document["lines"]] == [
        ("Intervention 1 — Entretien chaudière", "1.5", "h", "90.00", first),
        ("Intervention 2 — Dépannage", "1", "", "60.00", second),
    ]
    assert [STAND_IN.work[pk].invoiced_by for pk in (1, 2, 3)] == [document["id"], document["id"], None]


async def test_hook_work_invoiced_shares_the_invoices_transaction(org: TestOrg) -> None:
    # given marking the work fails
    customer_id = await customer(org)
    STAND_IN.add(1, _pk(customer_id), org.organization_id, "Intervention 1", hours="1")
    STAND_IN.refuse_marking = True
    # when
    payload = (await org.ok(INVOICE_WORK, {"input": {"customerId": customer_id, "unitPrice": "60", "vatRate": "10"}}))["invoiceBillableWork"]
    # then no invoice is left, and both hooks ran in the mutation's own session
    assert [e["code"] for e in payload["errors"]] == ["CONFLICT"] and payload["document"] is None
    listed = await org.ok("query ($id: ID!) { node(id: $id) { ... on Customer { billingDocuments { nodes { id } } } } }", {"id": customer_id})
    assert listed["node"]["billingDocuments"]["nodes"] == []
    assert len(STAND_IN.sessions) == 2 and STAND_IN.sessions[0] is STAND_IN.sessions[1]


async def test_hook_billable_work_nothing_to_invoice_and_bad_prices_are_field_errors(org: TestOrg) -> None:
    customer_id = await customer(org)
    empty = (await org.ok(INVOICE_WORK, {"input": {"customerId": customer_id, "unitPrice": "60", "vatRate": "10"}}))["invoiceBillableWork"]
    assert [(e["code"], e["path"]) for e in empty["errors"]] == [("INVALID", ["input", "workIds"])]
    STAND_IN.add(1, _pk(customer_id), org.organization_id, "Intervention 1")
    bad = (await org.ok(INVOICE_WORK, {"input": {"customerId": customer_id, "unitPrice": "1" + "0" * 20, "vatRate": "200"}}))["invoiceBillableWork"]
    assert sorted(tuple(e["path"]) for e in bad["errors"]) == [("input", "unitPrice"), ("input", "vatRate")]
    assert STAND_IN.work[1].invoiced_by is None


async def test_hook_intervention_customers_links_a_quote_to_its_customers_intervention(org: TestOrg) -> None:
    # given
    customer_id, other = await customer(org), await customer(org, "Autre")
    mine = STAND_IN.add(1, _pk(customer_id), org.organization_id, "Intervention 1")
    theirs = STAND_IN.add(2, _pk(other), org.organization_id, "Intervention 2")
    foreign = STAND_IN.add(3, _pk(customer_id), org.organization_id + 10_000, "Intervention 3")
    # when
    async def create(intervention: str) -> Any:
        return (await org.ok(QUOTE_CREATE, {"input": {"customerId": customer_id, "lines": [line()], "interventionId": intervention}}))["quoteCreate"]
    good, wrong_customer, missing = await create(mine), await create(theirs), await create(foreign)
    # then
    assert good["errors"] == []
    assert [(e["code"], e["path"]) for e in wrong_customer["errors"]] == [("INVALID", ["input", "interventionId"])]
    assert [(e["code"], e["path"]) for e in missing["errors"]] == [("NOT_FOUND", ["input", "interventionId"])]


async def test_hook_intervention_quote_condition_keeps_interventions_with_a_live_quote(org: TestOrg) -> None:
    # given a quote for intervention 1, a cancelled one for intervention 2, none for 3
    customer_id = await customer(org)
    for pk in (1, 2, 3):
        STAND_IN.add(pk, _pk(customer_id), org.organization_id, f"Intervention {pk}")
    await org.ok(QUOTE_CREATE, {"input": {"customerId": customer_id, "lines": [line()], "interventionId": STAND_IN.add(1, _pk(customer_id), org.organization_id, "I1")}})
    cancelled = (await org.ok(QUOTE_CREATE, {"input": {"customerId": customer_id, "lines": [line()], "interventionId": STAND_IN.add(2, _pk(customer_id), org.organization_id, "I2")}}))["quoteCreate"]["document"]["id"]
    await org.ok("mutation ($id: ID!) { quoteCancel(id: $id) { errors { code } } }", {"id": cancelled})
    # when
    pm = org.state.pm
    async with org.state.db.reader(org.organization_id) as session:
        async def answers(who: str, has_quote: bool) -> list[bool]:
            condition = [pm.hook.intervention_quote_condition(intervention_id=literal(pk, Integer), has_quote=has_quote, viewer=org.viewer(who)) for pk in (1, 2, 3)]
            return [bool(await session.scalar(select(item))) for item in condition]

        with_quote, without = await answers("member", True), await answers("member", False)
        technician = await answers("technician", True), await answers("technician", False)
    # then: a technician, who may not read billing, is told of no quote
    assert with_quote == [True, False, False] and without == [False, True, True]
    assert technician == ([False] * 3, [True] * 3)


async def test_the_fields_linked_to_interventions_are_in_the_schema_with_the_hooks(org: TestOrg) -> None:
    schema = org.schema._schema
    assert "invoiceBillableWork" in schema.mutation_type.fields
    assert "interventionId" in schema.type_map["QuoteCreateInput"].fields
    assert "intervention" in schema.type_map["BillingDocument"].fields


async def test_quote_intervention_is_readable(org: TestOrg) -> None:
    customer_id = await customer(org)
    intervention = STAND_IN.add(1, _pk(customer_id), org.organization_id, "I1")
    created = (await org.ok(QUOTE_CREATE, {"input": {"customerId": customer_id, "lines": [line()], "interventionId": intervention}}))["quoteCreate"]["document"]["id"]
    sent = await issue(org, created)
    assert sent["status"] == "SENT"
    data = await org.ok("query ($id: ID!) { node(id: $id) { ... on BillingDocument { intervention { id } } } }", {"id": created})
    assert data["node"] == {"intervention": None}  # the stand-in resolves no Intervention node
