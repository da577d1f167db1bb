"""Orders (B3): numbered per organisation, lines and status, a subject of notes and tasks."""

from __future__ import annotations

import asyncio
from typing import Any

from tests.plugins.billing.fixtures import customer, line
from tests.support import TestOrg, count_statements

ERRORS = "errors { code message path }"
ORDER_FIELDS = "id number status orderedOn total lines { description netAmount } customer { id }"
CREATE = f"mutation ($input: OrderCreateInput!) {{ orderCreate(input: $input) {{ order {{ {ORDER_FIELDS} }} {ERRORS} }} }}"
UPDATE = f"mutation ($input: OrderUpdateInput!) {{ orderUpdate(input: $input) {{ order {{ {ORDER_FIELDS} }} {ERRORS} }} }}"
STATUS = f"mutation ($id: ID!, $status: OrderStatus!) {{ orderStatusSet(id: $id, status: $status) {{ order {{ status }} {ERRORS} }} }}"
TASK = "mutation ($input: TaskCreateInput!) { taskCreate(input: $input) { task { id target { id } } errors { code } } }"
ORDER_NOTES = "query ($id: ID!) { node(id: $id) { ... on Order { number notes { nodes { id body isTask } } } } }"
CUSTOMER_ORDERS = "query ($first: Int!) { customers(first: $first) { nodes { orders(first: 3) { nodes { number total lines { netAmount } } } } } }"


async def _create(org: TestOrg, customer_id: str, lines: list[dict[str, Any]] | None = None, as_: str = "member") -> dict[str, Any]:
    return dict((await org.ok(CREATE, {"input": {"customerId": customer_id, "lines": lines or [line()]}}, as_=as_))["orderCreate"])


async def test_orders_are_numbered_changed_while_drafts_and_moved_on(org: TestOrg) -> None:
    customer_id = await customer(org)
    first = (await _create(org, customer_id))["order"]
    second = (await _create(org, customer_id, [line(quantity="2", unit_price="19.99", vat_rate="5.5")]))["order"]
    assert (first["number"], second["number"], second["total"], first["status"]) == ("CMD-00001", "CMD-00002", "42.18", "DRAFT")
    updated = (await org.ok(UPDATE, {"input": {"id": first["id"], "lines": [line(unit_price="10")]}}))["orderUpdate"]
    assert updated["order"]["total"] == "12.00"
    assert (await org.ok(STATUS, {"id": first["id"], "status": "CONFIRMED"}))["orderStatusSet"]["order"]["status"] == "CONFIRMED"
    refused = (await org.ok(UPDATE, {"input": {"id": first["id"], "lines": [line()]}}))["orderUpdate"]
    assert [e["code"] for e in refused["errors"]] == ["CONFLICT"]
    backwards = (await org.ok(STATUS, {"id": first["id"], "status": "DRAFT"}))["orderStatusSet"]
    assert [e["code"] for e in backwards["errors"]] == ["CONFLICT"]


async def test_concurrent_orders_get_consecutive_numbers(org: TestOrg) -> None:
    customer_id = await customer(org)
    results = await asyncio.gather(*(org.gql(CREATE, {"input": {"customerId": customer_id, "lines": [line()]}}) for _ in range(12)))
    numbers = sorted(result.data["orderCreate"]["order"]["number"] for result in results)
    assert numbers == [f"CMD-{n:05d}" for n in range(1, 13)]


async def test_a_task_created_from_an_order_is_in_the_orders_history(org: TestOrg) -> None:
    # given
    customer_id = await customer(org)
    order = (await _create(org, customer_id))["order"]
    # when
    task = (await org.ok(TASK, {"input": {"body": "Relancer pour la livraison", "targetId": order["id"]}}, as_="member"))["taskCreate"]
    # then
    assert task["errors"] == [] and task["task"]["target"] == {"id": order["id"]}
    history = (await org.ok(ORDER_NOTES, {"id": order["id"]}))["node"]
    assert history["notes"]["nodes"] == [{"id": task["task"]["id"], "body": "Relancer pour la livraison", "isTask": True}]


async def test_orders_of_a_page_of_customers_cost_a_constant_number_of_statements(org: TestOrg) -> None:
    for index in range(5):
        customer_id = await customer(org, f"Client {index}")
        await _create(org, customer_id)
    with count_statements(org.state.db) as few:
        await org.ok(CUSTOMER_ORDERS, {"first": 2})
    with count_statements(org.state.db) as many:
        data = await org.ok(CUSTOMER_ORDERS, {"first": 5})
    assert few.count == many.count
    assert all(len(node["orders"]["nodes"]) == 1 for node in data["customers"]["nodes"])


async def test_orders_are_tenant_isolated_hidden_from_technicians_and_block_deletion(org: TestOrg, other_org: TestOrg) -> None:
    customer_id = await customer(org)
    order = (await _create(org, customer_id))["order"]
    assert (await other_org.ok("query ($id: ID!) { node(id: $id) { id } }", {"id": order["id"]}))["node"] is None
    theirs = (await other_org.ok(STATUS, {"id": order["id"], "status": "CANCELLED"}))["orderStatusSet"]
    assert [e["code"] for e in theirs["errors"]] == ["NOT_FOUND"]
    assert (await org.ok("query ($id: ID!) { node(id: $id) { id } }", {"id": order["id"]}, as_="technician"))["node"] is None
    technician = (await org.ok(CREATE, {"input": {"customerId": customer_id, "lines": [line()]}}, as_="technician"))["orderCreate"]
    assert [e["code"] for e in technician["errors"]] == ["FORBIDDEN"]
    deleted = (await org.ok("mutation ($id: ID!) { customerDelete(id: $id) { errors { code } } }", {"id": customer_id}))["customerDelete"]
    assert [e["code"] for e in deleted["errors"]] == ["CONFLICT"]
