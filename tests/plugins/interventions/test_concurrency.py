"""Invariants under concurrent writers: 50 simultaneous creations get the numbers 1..50
exactly, and two invoicings never take the same work."""

from __future__ import annotations

import asyncio

from fiche.context import operation_context
from fiche.relay import decode_id, encode_id
from tests.plugins.interventions.fixtures import INTERVENTION_CREATE, address, customer, intervention_type, user_id
from tests.support import TestOrg

COMPLETE = "mutation ($input: InterventionCompleteInput!) { interventionComplete(input: $input) { errors { code message } } }"
NODE = "query ($id: ID!) { node(id: $id) { ... on Intervention { invoiceId toInvoice } } }"


async def test_fifty_concurrent_creations_are_numbered_1_to_50(org: TestOrg) -> None:
    # given
    client, kind = await customer(org), await intervention_type(org)
    place = await address(org, client)
    values = {"title": "Visite", "typeId": kind, "customerId": client, "addressId": place, "technicianIds": [user_id(org, "technician")]}
    # when
    results = await asyncio.gather(*(org.gql(INTERVENTION_CREATE, {"input": {**values, "title": f"Visite {i}"}}, as_="manager") for i in range(50)))
    # then
    assert all(result.errors == [] for result in results), [result.errors for result in results if result.errors][:1]
    payloads = [result.data["interventionCreate"] for result in results]
    assert [payload["errors"] for payload in payloads] == [[]] * 50
    assert sorted(payload["intervention"]["number"] for payload in payloads) == list(range(1, 51))


async def test_hook_billable_work_two_concurrent_invoicings_never_take_the_same_work(org: TestOrg) -> None:
    # given: three interventions done and flagged to invoice
    client, kind = await customer(org), await intervention_type(org)
    place = await address(org, client)
    ids = []
    for index in range(3):
        values = {"title": f"Travaux {index}", "typeId": kind, "customerId": client, "addressId": place, "toInvoice": True}
        created = (await org.ok(INTERVENTION_CREATE, {"input": values}, as_="manager"))["interventionCreate"]["intervention"]
        assert (await org.ok(COMPLETE, {"input": {"id": created["id"], "actualStart": "2030-01-01T08:00:00Z", "actualEnd": "2030-01-01T09:30:00Z"}}, as_="manager"))["interventionComplete"]["errors"] == []
        ids.append(created["id"])
    customer_pk = decode_id(client)[1]

    async def invoice(number: int) -> list[str]:
        async with operation_context(org.state, org.viewer("admin")) as context:
            work = await context.pm.hook.billable_work(context=context, customer_id=customer_pk, work_ids=None)
            await asyncio.sleep(0.05)  # hold the lock while the other invoicing waits
            for answer in context.pm.hook.work_invoiced(context=context, work=work, document_id=encode_id("Invoice", number)):
                await answer
            await context.commit()
            return [item.global_id for item in work]

    # when
    first, second = await asyncio.gather(invoice(1), invoice(2))
    # then
    assert sorted(first + second) == sorted(ids) and not set(first) & set(second)
    winner = encode_id("Invoice", 1) if first else encode_id("Invoice", 2)
    assert {(await org.ok(NODE, {"id": gid}))["node"]["invoiceId"] for gid in ids} == {winner}
    assert (first or second)[0] == ids[0]  # oldest first
    async with operation_context(org.state, org.viewer("admin")) as context:
        left = await context.pm.hook.billable_work(context=context, customer_id=customer_pk, work_ids=None)
        await context.rollback()
    assert left == []
