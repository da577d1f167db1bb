"""The interventions and billing plugins together, both real, on SQLite and PostgreSQL:
invoicing finished interventions (B4), quotes made for interventions (``hasQuote``,
``Intervention.quotes``), the invoice of an intervention, and each plugin without the other."""

from __future__ import annotations

import asyncio
import dataclasses
from typing import Any

import pytest

from fiche.settings import Settings
from tests.plugins.billing.fixtures import line
from tests.plugins.interventions.fixtures import address, customer, intervention_type, user_id
from tests.support import TestOrg, count_statements

ERRORS = "errors { code message path }"
CREATE = f"""
mutation ($input: InterventionCreateInput!) {{ interventionCreate(input: $input) {{ intervention {{ id number }} {ERRORS} }} }}
"""
COMPLETE = f"mutation ($input: InterventionCompleteInput!) {{ interventionComplete(input: $input) {{ {ERRORS} }} }}"
INVOICE_WORK = f"""
mutation ($input: BillableWorkInvoiceInput!) {{ invoiceBillableWork(input: $input) {{
  document {{ id kind status total lines {{ description quantity unit unitPrice netAmount workId }} }} {ERRORS} }} }}
"""
QUOTE_CREATE = f"mutation ($input: QuoteCreateInput!) {{ quoteCreate(input: $input) {{ document {{ id }} {ERRORS} }} }}"
QUOTE_CANCEL = f"mutation ($id: ID!) {{ quoteCancel(id: $id) {{ {ERRORS} }} }}"
INVOICING = "id number toInvoice invoiceId invoice { id kind status }"
INTERVENTION = f"query ($id: ID!) {{ node(id: $id) {{ ... on Intervention {{ {INVOICING} quotes {{ nodes {{ id status }} }} }} }} }}"
ROOT_PAGE = """
query ($filter: InterventionFilter, $first: Int, $after: String) {
  interventions(filter: $filter, first: $first, after: $after) { nodes { id } pageInfo { hasNextPage endCursor } }
}
"""
CUSTOMER_PAGE = """
query ($id: ID!, $filter: InterventionFilter, $first: Int, $after: String) { node(id: $id) { ... on Customer {
  interventions(filter: $filter, first: $first, after: $after) { nodes { id } pageInfo { hasNextPage endCursor } } } } }
"""
INVOICES = """
query ($id: ID!) { node(id: $id) { ... on Customer { billingDocuments(first: 50, filter: {kinds: [INVOICE]}) {
  nodes { id lines { workId } } } } } }
"""


@dataclasses.dataclass
class Site:
    customer: str
    address: str
    kind: str


async def site(org: TestOrg, name: str = "Boulangerie Dupré") -> Site:
    client, kind = await customer(org, name), await intervention_type(org, f"Maintenance — {name}")
    return Site(client, await address(org, client), kind)


async def new_intervention(org: TestOrg, where: Site, title: str, *, to_invoice: bool = False, technicians: tuple[str, ...] = ()) -> dict[str, Any]:
    values = {"title": title, "typeId": where.kind, "customerId": where.customer, "addressId": where.address, "toInvoice": to_invoice,
              "technicianIds": [user_id(org, who) for who in technicians]}  # fmt: skip
    payload = (await org.ok(CREATE, {"input": values}, as_="manager"))["interventionCreate"]
    assert payload["errors"] == [], payload["errors"]
    return dict(payload["intervention"])


async def complete(org: TestOrg, intervention_id: str, start: str | None = None, end: str | None = None) -> None:
    values = {"id": intervention_id, **({"actualStart": start, "actualEnd": end} if start else {})}
    assert (await org.ok(COMPLETE, {"input": values}, as_="manager"))["interventionComplete"]["errors"] == []


async def done(org: TestOrg, where: Site, title: str, *, to_invoice: bool = True, start: str | None = None, end: str | None = None) -> dict[str, Any]:
    created = await new_intervention(org, where, title, to_invoice=to_invoice)
    await complete(org, created["id"], start, end)
    return created


async def invoice_work(org: TestOrg, customer_id: str, work_ids: list[str] | None = None, as_: str = "member") -> Any:
    values: dict[str, Any] = {"customerId": customer_id, "unitPrice": "60", "vatRate": "20"}
    if work_ids is not None:
        values["workIds"] = work_ids
    result = await org.gql(INVOICE_WORK, {"input": values}, as_=as_)
    assert result.errors == [], result.errors
    return result.data["invoiceBillableWork"]


async def read(org: TestOrg, intervention_id: str, as_: str = "admin") -> dict[str, Any]:
    return dict((await org.ok(INTERVENTION, {"id": intervention_id}, as_=as_))["node"])


async def quote_for(org: TestOrg, customer_id: str, intervention_id: str) -> dict[str, Any]:
    values = {"customerId": customer_id, "lines": [line()], "interventionId": intervention_id}
    return dict((await org.ok(QUOTE_CREATE, {"input": values}, as_="member"))["quoteCreate"])


async def test_hook_billable_work_finished_interventions_become_one_invoice_with_a_line_each(org: TestOrg) -> None:
    # given: two finished interventions to invoice (one with its times), and work that is not billable
    here, elsewhere = await site(org), await site(org, "Autre client")
    timed = await done(org, here, "Entretien chaudière", start="2030-01-01T08:00:00Z", end="2030-01-01T09:30:00Z")
    untimed = await done(org, here, "Dépannage")
    open_work = await new_intervention(org, here, "Pas encore fait", to_invoice=True)
    not_billed = await done(org, here, "Garantie", to_invoice=False)
    other_customer = await done(org, elsewhere, "Ailleurs")
    # when
    payload = await invoice_work(org, here.customer)
    # then: one draft invoice, a line per intervention, oldest first
    assert payload["errors"] == []
    invoice = payload["document"]
    assert (invoice["kind"], invoice["status"], invoice["total"]) == ("INVOICE", "DRAFT", "180.00")
    assert [(l["description"], l["quantity"], l["unit"], l["netAmount"], l["workId"]) for l in invoice["lines"]] == [
        (f"Intervention {timed['number']} — Entretien chaudière", "1.5", "h", "90.00", timed["id"]),
        (f"Intervention {untimed['number']} — Dépannage", "1", "", "60.00", untimed["id"]),
    ]
    # and the interventions know their invoice, which a client can follow
    for billed in (timed, untimed):
        assert (await read(org, billed["id"]))["invoice"] == {"id": invoice["id"], "kind": "INVOICE", "status": "DRAFT"}
        assert (await read(org, billed["id"]))["invoiceId"] == invoice["id"]
    for untouched in (open_work, not_billed, other_customer):
        assert {k: v for k, v in (await read(org, untouched["id"])).items() if k in ("invoiceId", "invoice")} == {"invoiceId": None, "invoice": None}
    # and a second invoicing finds nothing left
    again = await invoice_work(org, here.customer)
    assert again["document"] is None
    assert [(e["code"], e["path"]) for e in again["errors"]] == [("INVALID", ["input", "workIds"])]
    listed = (await org.ok(INVOICES, {"id": here.customer}))["node"]["billingDocuments"]["nodes"]
    assert [row["id"] for row in listed] == [invoice["id"]]


async def test_hook_billable_work_only_the_work_ids_given_and_never_another_customers(org: TestOrg) -> None:
    # given
    here, elsewhere = await site(org), await site(org, "Autre client")
    first, second = await done(org, here, "Un"), await done(org, here, "Deux")
    theirs = await done(org, elsewhere, "Ailleurs")
    # when
    picked = await invoice_work(org, here.customer, [second["id"], theirs["id"]])
    # then
    assert [row["workId"] for row in picked["document"]["lines"]] == [second["id"]]
    assert (await read(org, first["id"]))["invoiceId"] is None and (await read(org, theirs["id"]))["invoiceId"] is None
    rest = await invoice_work(org, here.customer)
    assert [row["workId"] for row in rest["document"]["lines"]] == [first["id"]]


async def test_hook_work_released_deleting_the_draft_invoice_makes_the_work_billable_again(org: TestOrg) -> None:
    # given two interventions invoiced together, one invoiced apart
    here = await site(org)
    work = [await done(org, here, f"Travaux {index}") for index in range(3)]
    kept = (await invoice_work(org, here.customer, [work[2]["id"]]))["document"]
    draft = (await invoice_work(org, here.customer))["document"]
    # when the draft is deleted
    deleted = await org.ok(f"mutation ($id: ID!) {{ billingDocumentDelete(id: $id) {{ deletedDocumentId {ERRORS} }} }}", {"id": draft["id"]}, as_="member")
    # then its interventions are billable again, the other keeps its invoice
    assert deleted["billingDocumentDelete"] == {"deletedDocumentId": draft["id"], "errors": []}
    assert [(await read(org, item["id"]))["invoiceId"] for item in work] == [None, None, kept["id"]]
    again = (await invoice_work(org, here.customer))["document"]
    assert [row["workId"] for row in again["lines"]] == [work[0]["id"], work[1]["id"]]
    assert [(await read(org, item["id"]))["invoice"]["id"] for item in work] == [again["id"], again["id"], kept["id"]]


async def test_hook_work_invoiced_concurrent_invoicings_never_bill_an_intervention_twice(org: TestOrg) -> None:
    # given: four finished interventions to invoice
    here = await site(org)
    work = [await done(org, here, f"Travaux {index}") for index in range(4)]
    ids = [item["id"] for item in work]
    # when: invoicings of all the work and of overlapping parts run at once
    payloads = await asyncio.gather(
        invoice_work(org, here.customer), invoice_work(org, here.customer), invoice_work(org, here.customer, ids[:2]), invoice_work(org, here.customer, ids[1:3])
    )
    # then: every intervention is on exactly one invoice, the one its invoiceId names
    made = [payload["document"] for payload in payloads if payload["errors"] == []]
    refused = [payload for payload in payloads if payload["errors"] != []]
    assert made and all([e["code"] for e in payload["errors"]] == ["INVALID"] and payload["document"] is None for payload in refused)
    billed = [(row["workId"], document["id"]) for document in made for row in document["lines"]]
    assert sorted(gid for gid, _ in billed) == sorted(ids)
    for gid, invoice_id in billed:
        assert (await read(org, gid))["invoiceId"] == invoice_id
    listed = (await org.ok(INVOICES, {"id": here.customer}))["node"]["billingDocuments"]["nodes"]
    assert sorted(row["id"] for row in listed) == sorted(document["id"] for document in made)
    assert sorted(row["workId"] for invoice in listed for row in invoice["lines"]) == sorted(ids)


async def pages(org: TestOrg, query: str, variables: dict[str, Any], path: tuple[str, ...], size: int) -> list[str]:
    """Every node ID, following the cursors ``size`` at a time."""
    found: list[str] = []
    after = None
    while True:
        data = await org.ok(query, {**variables, "first": size, "after": after})
        for key in path:
            data = data[key]
        found += [node["id"] for node in data["nodes"]]
        if not data["pageInfo"]["hasNextPage"]:
            return found
        after = data["pageInfo"]["endCursor"]


async def test_hook_intervention_quote_condition_has_quote_at_the_root_and_on_the_customer(org: TestOrg) -> None:
    # given: five interventions of a customer, two with a quote, one whose only quote was cancelled
    here, elsewhere = await site(org), await site(org, "Autre client")
    work = [await new_intervention(org, here, f"Visite {index}", technicians=("technician",)) for index in range(5)]
    other = await new_intervention(org, elsewhere, "Ailleurs")
    quoted = [work[1], work[3]]
    quotes = [await quote_for(org, here.customer, item["id"]) for item in quoted]
    assert [payload["errors"] for payload in quotes] == [[], []]
    cancelled = await quote_for(org, here.customer, work[4]["id"])
    assert (await org.ok(QUOTE_CANCEL, {"id": cancelled["document"]["id"]}))["quoteCancel"]["errors"] == []
    with_quote = sorted(item["id"] for item in quoted)
    without = sorted(item["id"] for item in (work[0], work[2], work[4]))
    # when / then: at the root, whole and page by page
    for has_quote, expected in ((True, with_quote), (False, [*without, other["id"]])):
        variables = {"filter": {"hasQuote": has_quote}}
        whole = (await org.ok(ROOT_PAGE, {**variables, "first": 50}))["interventions"]["nodes"]
        assert sorted(node["id"] for node in whole) == sorted(expected)
        assert await pages(org, ROOT_PAGE, variables, ("interventions",), 1) == [node["id"] for node in whole]
    # and on the customer
    for has_quote, expected in ((True, with_quote), (False, without)):
        variables = {"id": here.customer, "filter": {"hasQuote": has_quote}}
        whole = (await org.ok(CUSTOMER_PAGE, {**variables, "first": 50}))["node"]["interventions"]["nodes"]
        assert sorted(node["id"] for node in whole) == expected
        assert await pages(org, CUSTOMER_PAGE, variables, ("node", "interventions"), 2) == [node["id"] for node in whole]
    # and a technician, who may not read billing, is told of no quote
    for has_quote, expected in ((True, []), (False, sorted(item["id"] for item in work))):
        variables = {"filter": {"hasQuote": has_quote}, "first": 50}
        seen = (await org.ok(ROOT_PAGE, variables, as_="technician"))["interventions"]["nodes"]
        assert sorted(node["id"] for node in seen) == expected
    # and each intervention lists its quotes, the cancelled one included
    assert [row["id"] for row in (await read(org, work[1]["id"]))["quotes"]["nodes"]] == [quotes[0]["document"]["id"]]
    assert (await read(org, work[4]["id"]))["quotes"]["nodes"] == [{"id": cancelled["document"]["id"], "status": "CANCELLED"}]
    assert (await read(org, work[0]["id"]))["quotes"]["nodes"] == []


async def test_intervention_quotes_newest_first_paginated_and_the_quote_leads_back(org: TestOrg) -> None:
    here = await site(org)
    item = await new_intervention(org, here, "Remplacement chaudière")
    made = [(await quote_for(org, here.customer, item["id"]))["document"]["id"] for _ in range(3)]
    query = "query ($id: ID!, $first: Int, $after: String) { node(id: $id) { ... on Intervention { quotes(first: $first, after: $after) { nodes { id } pageInfo { hasNextPage endCursor } } } } }"
    assert await pages(org, query, {"id": item["id"]}, ("node", "quotes"), 2) == list(reversed(made))
    back = "query ($id: ID!) { node(id: $id) { ... on BillingDocument { intervention { ... on Intervention { id number } } } } }"
    assert (await org.ok(back, {"id": made[0]}))["node"]["intervention"] == item


async def test_hook_intervention_customers_refuses_another_customers_or_organisations_intervention(org: TestOrg, other_org: TestOrg) -> None:
    # given
    here, elsewhere = await site(org), await site(org, "Autre client")
    theirs = await new_intervention(org, elsewhere, "Chez un autre")
    foreign = await new_intervention(other_org, await site(other_org), "Autre organisation")
    # when
    wrong_customer = await quote_for(org, here.customer, theirs["id"])
    wrong_org = await quote_for(org, here.customer, foreign["id"])
    missing = await quote_for(org, here.customer, "SW50ZXJ2ZW50aW9uOjIxNDc0ODM2NDc")  # Intervention:2147483647
    # then
    assert [(e["code"], e["path"]) for e in wrong_customer["errors"]] == [("INVALID", ["input", "interventionId"])]
    assert wrong_org["errors"] == missing["errors"]
    assert [(e["code"], e["path"]) for e in wrong_org["errors"]] == [("NOT_FOUND", ["input", "interventionId"])]
    assert wrong_customer["document"] is None and wrong_org["document"] is None
    documents = "query ($id: ID!) { node(id: $id) { ... on Customer { billingDocuments { nodes { id } } } } }"
    assert (await org.ok(documents, {"id": here.customer}))["node"]["billingDocuments"]["nodes"] == []
    assert (await read(other_org, foreign["id"]))["quotes"]["nodes"] == []


async def test_technicians_see_no_quotes_nor_invoice_of_their_interventions(org: TestOrg) -> None:
    # given an intervention of the technician, quoted and invoiced
    here = await site(org)
    created = await new_intervention(org, here, "Visite", to_invoice=True, technicians=("technician",))
    await quote_for(org, here.customer, created["id"])
    await complete(org, created["id"])
    invoice = (await invoice_work(org, here.customer))["document"]
    # when
    seen = await read(org, created["id"], as_="technician")
    member = await read(org, created["id"], as_="member")
    # then: like a missing document, without an error (the invoice's ID stays a plain field)
    assert (seen["invoice"], seen["quotes"]["nodes"], seen["invoiceId"]) == (None, [], invoice["id"])
    assert member["invoice"]["id"] == invoice["id"] and len(member["quotes"]["nodes"]) == 1


# The invoice's lines are left out: they would come in a round of their own or with the
# quotes' lines, depending on which of the two parents the database answers first.
PAGE = """
query ($first: Int!) { interventions(first: $first) { nodes {
  number invoiceId invoice { id number total status customer { id } }
  quotes(first: 5) { nodes { id status total lines { description } intervention { id } } }
} } }
"""


async def test_quotes_and_invoice_of_a_page_cost_the_same_statements_whatever_its_size(org: TestOrg) -> None:
    # given six finished interventions, each with a quote, all invoiced
    here = await site(org)
    work = [await done(org, here, f"Travaux {index}") for index in range(6)]
    for item in work:
        await quote_for(org, here.customer, item["id"])
    await invoice_work(org, here.customer)
    # when
    with count_statements(org.state.db) as few:
        small = await org.ok(PAGE, {"first": 2})
    with count_statements(org.state.db) as many:
        large = await org.ok(PAGE, {"first": 6})
    # then
    assert len(small["interventions"]["nodes"]) == 2 and len(large["interventions"]["nodes"]) == 6
    assert all(node["invoice"]["id"] == node["invoiceId"] and len(node["quotes"]["nodes"]) == 1 for node in large["interventions"]["nodes"])
    assert few.count == many.count, (few.statements, many.statements)


class TestBillingDisabled:
    @pytest.fixture
    def settings(self, settings: Settings) -> Settings:
        return dataclasses.replace(settings, disabled_plugins=("billing",))

    async def test_the_billing_fields_are_absent_and_interventions_work(self, org: TestOrg) -> None:
        # then: nothing of billing
        schema = org.schema._schema
        assert "hasQuote" not in schema.type_map["InterventionFilter"].fields
        assert not {"quotes", "invoice"} & set(schema.type_map["Intervention"].fields)
        assert "invoiceBillableWork" not in schema.mutation_type.fields and "BillingDocument" not in schema.type_map
        # and the interventions' key queries still work
        here = await site(org)
        billable = await done(org, here, "Entretien", start="2030-01-01T08:00:00Z", end="2030-01-01T09:00:00Z")
        await new_intervention(org, here, "Visite")
        listing = await org.ok(ROOT_PAGE, {"filter": {"toInvoice": True}, "first": 10})
        assert [node["id"] for node in listing["interventions"]["nodes"]] == [billable["id"]]
        on_customer = await org.ok(CUSTOMER_PAGE, {"id": here.customer, "first": 10})
        assert len(on_customer["node"]["interventions"]["nodes"]) == 2
        node = "query ($id: ID!) { node(id: $id) { ... on Intervention { status toInvoice invoiceId report { actualStart } } } }"
        assert (await org.ok(node, {"id": billable["id"]}))["node"] == {
            "status": "DONE", "toInvoice": True, "invoiceId": None, "report": {"actualStart": "2030-01-01T08:00:00+00:00"},
        }  # fmt: skip


class TestInterventionsDisabled:
    @pytest.fixture
    def settings(self, settings: Settings) -> Settings:
        return dataclasses.replace(settings, disabled_plugins=("interventions",))

    async def test_billing_works_without_the_intervention_fields(self, org: TestOrg) -> None:
        # then: no intervention field
        schema = org.schema._schema
        assert "Intervention" not in schema.type_map and "InterventionFilter" not in schema.type_map
        assert "invoiceBillableWork" not in schema.mutation_type.fields
        assert "interventionId" not in schema.type_map["QuoteCreateInput"].fields
        assert "intervention" not in schema.type_map["BillingDocument"].fields
        # and billing works
        client = await customer(org)
        payload = (await org.ok(QUOTE_CREATE, {"input": {"customerId": client, "lines": [line()]}}, as_="member"))["quoteCreate"]
        assert payload["errors"] == []
        listed = await org.ok("query ($id: ID!) { node(id: $id) { ... on Customer { billingDocuments { nodes { id kind total } } } } }", {"id": client})
        assert listed["node"]["billingDocuments"]["nodes"] == [{"id": payload["document"]["id"], "kind": "QUOTE", "total": "120.00"}]
