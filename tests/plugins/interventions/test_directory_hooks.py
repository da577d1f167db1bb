"""The hooks through which the interventions plugin learns about customers without
importing their plugins: addresses and memo (customers), followers (notes), and the
invoicing link (``work_invoiced``)."""

from __future__ import annotations

from sqlalchemy import select

from fiche.context import operation_context
from fiche.directory import customer_addresses, customer_followers, customer_locations
from fiche.interop import BillableWork
from fiche.plugins.interventions import models
from fiche.relay import decode_id, encode_id
from tests.plugins.interventions.fixtures import address, customer, intervention, intervention_type
from tests.support import TestOrg

FOLLOW = "mutation ($id: ID!) { customerFollow(customerId: $id) { errors { code } } }"
MEMO_SET = "mutation ($id: ID!, $body: String!) { customerMemoSet(customerId: $id, body: $body) { errors { code } } }"
COMPLETE = "mutation ($input: InterventionCompleteInput!) { interventionComplete(input: $input) { errors { code } } }"
NODE = "query ($id: ID!) { node(id: $id) { ... on Intervention { invoiceId } } }"


async def test_hook_customer_addresses_tells_each_addresss_customer(org: TestOrg, other_org: TestOrg) -> None:
    # given
    client = await customer(org)
    place = await address(org, client, line1="8 rue Mercière", latitude=45.76, longitude=4.83)
    foreign = await address(other_org, await customer(other_org))
    # when
    async with org.state.db.reader(org.organization_id) as session:
        found = await customer_addresses(org.state.pm, session, [decode_id(place)[1], decode_id(foreign)[1]])
    # then
    (only,) = found.values()
    assert (only.customer_id, only.one_line, only.latitude) == (decode_id(client)[1], "8 rue Mercière, 69002 Lyon", 45.76)


async def test_hook_customer_followers_lists_who_follows_each_customer(org: TestOrg) -> None:
    # given
    followed, alone = await customer(org), await customer(org, "Seul")
    for who in ("member", "technician"):
        await org.ok(FOLLOW, {"id": followed}, as_=who)
    # when
    async with org.state.db.reader(org.organization_id) as session:
        found = await customer_followers(org.state.pm, session, [decode_id(followed)[1], decode_id(alone)[1]])
    # then
    assert {key: sorted(value) for key, value in found.items()} == {decode_id(followed)[1]: sorted([org.users["member"].id, org.users["technician"].id])}


async def test_customer_locations_carry_the_memo(org: TestOrg) -> None:
    # given
    client = await customer(org)
    await org.ok(MEMO_SET, {"id": client, "body": "Sonner deux fois"})
    # when
    async with org.state.db.reader(org.organization_id) as session:
        location = (await customer_locations(org.state.pm, session, [decode_id(client)[1]]))[decode_id(client)[1]]
    # then
    assert location.memo == "Sonner deux fois"


async def test_hook_work_invoiced_records_the_invoice_and_ignores_other_work(org: TestOrg) -> None:
    # given
    client, kind = await customer(org), await intervention_type(org)
    done = await intervention(org, client, await address(org, client), kind, toInvoice=True)
    assert (await org.ok(COMPLETE, {"input": {"id": done["id"]}}, as_="technician"))["interventionComplete"]["errors"] == []
    pk = decode_id(done["id"])[1]
    invoice = encode_id("Invoice", 7)
    foreign_work = BillableWork(pk=pk, global_id=encode_id("Activity", pk), customer_id=decode_id(client)[1], label="x", done_at=None)
    # when
    async with operation_context(org.state, org.viewer("admin")) as context:
        (work,) = [item for answer in [context.pm.hook.billable_work(context=context, customer_id=decode_id(client)[1], work_ids=[pk])] for item in await answer]
        for answer in context.pm.hook.work_invoiced(context=context, work=[foreign_work], document_id=encode_id("Invoice", 8)):
            await answer
        for answer in context.pm.hook.work_invoiced(context=context, work=[work], document_id=invoice):
            await answer
        await context.commit()
    # then
    assert (work.label, work.global_id) == (f"Intervention {done['number']} — Entretien chaudière", done["id"])
    assert (await org.ok(NODE, {"id": done["id"]}))["node"]["invoiceId"] == invoice
    async with org.state.db.reader(org.organization_id) as session:
        assert await session.scalar(select(models.Intervention.invoice_id)) == invoice
