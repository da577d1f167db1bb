"""Equipment (I3): recorded per customer at one of its addresses, with a picture whose
content is checked as an image and a thumbnail, and its history of interventions."""

from __future__ import annotations

import io
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from PIL import Image

from fiche.app import create_app
from fiche.context import AppState
from tests.plugins.interventions.fixtures import address, customer, intervention, intervention_type, png
from tests.support import TestOrg

FIELDS = "id name brand model reference serialNumber installedOn customer { id } address { id } picture { contentType url thumbnailUrl }"
CREATE = f"""
mutation ($input: EquipmentCreateInput!, $picture: Upload) {{
  equipmentCreate(input: $input, picture: $picture) {{ equipment {{ {FIELDS} }} errors {{ code message path }} }}
}}
"""
UPDATE = f"""
mutation ($input: EquipmentUpdateInput!) {{ equipmentUpdate(input: $input) {{ equipment {{ {FIELDS} }} errors {{ code message path }} }} }}
"""
DELETE = "mutation ($id: ID!) { equipmentDelete(id: $id) { deletedId errors { code path } } }"
COMPLETE = "mutation ($input: InterventionCompleteInput!) { interventionComplete(input: $input) { errors { code message } } }"
HISTORY = """
query ($id: ID!) { node(id: $id) { ... on Equipment { name interventions(first: 10) { edges { node { number status } } } } } }
"""
CUSTOMER_EQUIPMENT = "query ($id: ID!) { node(id: $id) { ... on Customer { equipment(first: 10) { edges { node { name } } } } } }"


@pytest.fixture
async def client(state: AppState) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(state.settings, state=state)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as http:
        yield http


async def create(client: httpx.AsyncClient, org: TestOrg, values: dict[str, Any], picture: tuple[str, bytes, str] | None = None, as_: str = "technician") -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {org.token(as_)}"}
    variables = {"input": values, "picture": None}
    if picture is None:
        response = await client.post("/graphql", json={"query": CREATE, "variables": variables}, headers=headers)
    else:
        form = {"operations": json.dumps({"query": CREATE, "variables": variables}), "map": json.dumps({"0": ["variables.picture"]})}
        response = await client.post("/graphql", data=form, files={"0": picture}, headers=headers)
    assert response.status_code == 200, response.text
    body = response.json()
    assert not body.get("errors"), body
    return dict(body["data"]["equipmentCreate"])


async def test_a_technician_records_equipment_with_a_picture_and_its_thumbnail(org: TestOrg, client: httpx.AsyncClient) -> None:
    # given
    owner = await customer(org)
    place = await address(org, owner)
    values = {"customerId": owner, "addressId": place, "name": "Pompe à chaleur", "brand": "Daikin", "model": "Altherma 3",
              "reference": "EHBH08", "serialNumber": "D-4411", "installedOn": "2021-03-15"}  # fmt: skip
    # when
    payload = await create(client, org, values, picture=("pac.jpg", png((800, 600)), "image/jpeg"))
    # then
    assert payload["errors"] == []
    equipment = payload["equipment"]
    assert (equipment["name"], equipment["serialNumber"], equipment["installedOn"], equipment["address"]["id"]) == ("Pompe à chaleur", "D-4411", "2021-03-15", place)
    assert equipment["picture"]["contentType"] == "image/png"
    headers = {"Authorization": f"Bearer {org.token('member')}"}
    picture = await client.get(equipment["picture"]["url"], headers=headers)
    thumbnail = await client.get(equipment["picture"]["thumbnailUrl"], headers=headers)
    assert (picture.status_code, thumbnail.status_code) == (200, 200)
    assert Image.open(io.BytesIO(picture.content)).size == (800, 600)
    assert max(Image.open(io.BytesIO(thumbnail.content)).size) <= 256
    listed = await org.ok(CUSTOMER_EQUIPMENT, {"id": owner})
    assert [edge["node"]["name"] for edge in listed["node"]["equipment"]["edges"]] == ["Pompe à chaleur"]


async def test_a_non_image_picture_and_an_address_of_another_customer_are_refused(org: TestOrg, client: httpx.AsyncClient) -> None:
    # given
    owner, other = await customer(org), await customer(org, "Autre")
    foreign = await address(org, other)
    # when
    not_image = await create(client, org, {"customerId": owner, "name": "Chaudière"}, picture=("boiler.png", b"<svg>not really</svg>", "image/png"))
    wrong_place = await create(client, org, {"customerId": owner, "addressId": foreign, "name": "Chaudière"})
    member = await create(client, org, {"customerId": owner, "name": "Chaudière"}, as_="member")
    # then
    assert [(error["code"], error["path"]) for error in not_image["errors"]] == [("INVALID", ["picture"])]
    assert [(error["code"], error["path"]) for error in wrong_place["errors"]] == [("INVALID", ["input", "addressId"])]
    assert [error["code"] for error in member["errors"]] == ["FORBIDDEN"]


async def test_history_lists_the_interventions_that_serviced_it(org: TestOrg, client: httpx.AsyncClient) -> None:
    # given
    owner, kind = await customer(org), await intervention_type(org)
    place = await address(org, owner)
    boiler = (await create(client, org, {"customerId": owner, "addressId": place, "name": "Chaudière"}))["equipment"]["id"]
    serviced = [await intervention(org, owner, place, kind) for _ in range(2)]
    await intervention(org, owner, place, kind)  # did not service it
    for item in serviced:
        assert (await org.ok(COMPLETE, {"input": {"id": item["id"], "equipmentIds": [boiler]}}, as_="technician"))["interventionComplete"]["errors"] == []
    # when
    history = await org.ok(HISTORY, {"id": boiler})
    # then
    assert [edge["node"] for edge in history["node"]["interventions"]["edges"]] == [{"number": 2, "status": "DONE"}, {"number": 1, "status": "DONE"}]


async def test_update_delete_and_tenant_isolation(org: TestOrg, other_org: TestOrg, client: httpx.AsyncClient) -> None:
    # given
    owner = await customer(org)
    boiler = (await create(client, org, {"customerId": owner, "name": "Chaudière", "brand": "Viessmann"}))["equipment"]["id"]
    # when
    changed = (await org.ok(UPDATE, {"input": {"id": boiler, "name": "Chaudière gaz", "brand": None}}, as_="technician"))["equipmentUpdate"]
    foreign_update = (await other_org.ok(UPDATE, {"input": {"id": boiler, "name": "X"}}))["equipmentUpdate"]
    foreign_node = await other_org.ok("query ($id: ID!) { node(id: $id) { id } }", {"id": boiler})
    foreign_picture = await client.get(f"/interventions/equipment/{boiler}/picture", headers={"Authorization": f"Bearer {other_org.token('admin')}"})
    by_technician = (await org.ok(DELETE, {"id": boiler}, as_="technician"))["equipmentDelete"]
    deleted = (await org.ok(DELETE, {"id": boiler}, as_="manager"))["equipmentDelete"]
    # then
    assert (changed["equipment"]["name"], changed["equipment"]["brand"]) == ("Chaudière gaz", None)
    assert [error["code"] for error in foreign_update["errors"]] == ["NOT_FOUND"] and foreign_node["node"] is None
    assert foreign_picture.status_code == 404
    assert [error["code"] for error in by_technician["errors"]] == ["FORBIDDEN"]
    assert deleted == {"deletedId": boiler, "errors": []}
    assert (await org.ok("query ($id: ID!) { node(id: $id) { id } }", {"id": boiler}))["node"] is None
