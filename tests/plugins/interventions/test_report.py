"""The intervention report (I1 item 2): the assigned technician completes it with times,
work, equipment, photos and the customer's signature; it becomes DONE, followers are told,
and the signed report downloads as a PDF that shows all of it."""

from __future__ import annotations

import io
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from pypdf import PdfReader

from fiche.app import create_app
from fiche.context import AppState
from tests.plugins.interventions.fixtures import INTERVENTION_FIELDS, address, customer, intervention, intervention_type, png, user_id
from tests.support import TestOrg

COMPLETE = f"""
mutation ($input: InterventionCompleteInput!, $photos: [Upload!], $signature: Upload) {{
  interventionComplete(input: $input, photos: $photos, signature: $signature) {{
    intervention {{ {INTERVENTION_FIELDS} }} errors {{ code message path }}
  }}
}}
"""
EQUIPMENT_CREATE = """
mutation ($input: EquipmentCreateInput!) { equipmentCreate(input: $input) { equipment { id name } errors { code message path } } }
"""
FOLLOW = "mutation ($id: ID!) { customerFollow(customerId: $id) { errors { code } } }"
INBOX = "{ notifications(first: 20) { edges { node { kind message } } } }"


@pytest.fixture
async def client(state: AppState) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(state.settings, state=state)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as http:
        yield http


async def complete(
    client: httpx.AsyncClient, org: TestOrg, values: dict[str, Any], *, photos: list[tuple[str, bytes, str]] = (), signature: tuple[str, bytes, str] | None = None, as_: str = "technician"  # type: ignore[assignment]
) -> dict[str, Any]:
    """``interventionComplete`` as a multipart request (photos and signature uploaded)."""
    variables: dict[str, Any] = {"input": values, "photos": [None] * len(photos), "signature": None}
    mapping: dict[str, list[str]] = {}
    files: dict[str, tuple[str, bytes, str]] = {}
    for index, photo in enumerate(photos):
        mapping[str(index)] = [f"variables.photos.{index}"]
        files[str(index)] = photo
    if signature is not None:
        mapping["s"] = ["variables.signature"]
        files["s"] = signature
    headers = {"Authorization": f"Bearer {org.token(as_)}"}
    if files:
        form = {"operations": json.dumps({"query": COMPLETE, "variables": variables}), "map": json.dumps(mapping)}
        response = await client.post("/graphql", data=form, files=files, headers=headers)
    else:
        response = await client.post("/graphql", json={"query": COMPLETE, "variables": variables}, headers=headers)
    assert response.status_code == 200, response.text
    body = response.json()
    assert not body.get("errors"), body
    return dict(body["data"]["interventionComplete"])


async def planned(org: TestOrg) -> tuple[str, dict[str, Any], str]:
    client = await customer(org, "Hôtel des Célestins")
    place = await address(org, client)
    created = await intervention(org, client, place, await intervention_type(org), title="Entretien annuel chaudière")
    boiler = (await org.ok(EQUIPMENT_CREATE, {"input": {"customerId": client, "addressId": place, "name": "Chaudière Viessmann", "brand": "Viessmann", "model": "Vitodens 200", "serialNumber": "SN-778"}}))
    return client, created, boiler["equipmentCreate"]["equipment"]["id"]


async def test_the_technician_completes_a_signed_report_and_downloads_its_pdf(org: TestOrg, client: httpx.AsyncClient) -> None:
    # given
    customer_id, created, boiler = await planned(org)
    await org.ok(FOLLOW, {"id": customer_id}, as_="member")
    values = {"id": created["id"], "actualStart": "2030-03-04T08:00:00Z", "actualEnd": "2030-03-04T09:30:00Z",
              "workDone": "Nettoyage du brûleur, remplacement du joint", "equipmentIds": [boiler], "signerName": "Mme Lefèvre"}  # fmt: skip
    # when
    payload = await complete(client, org, values, photos=[("before.png", png(), "image/png"), ("after.png", png(colour=(0, 90, 200)), "image/jpeg")],
                             signature=("signature.png", png((200, 80), (10, 10, 10)), "image/png"))  # fmt: skip
    # then
    assert payload["errors"] == []
    done = payload["intervention"]
    report = done["report"]
    assert (done["status"], done["canComplete"], report["signed"], report["signerName"]) == ("DONE", False, True, "Mme Lefèvre")
    assert [photo["contentType"] for photo in report["photos"]] == ["image/png", "image/png"]  # the real type, not the claimed one
    assert [item["id"] for item in report["equipment"]] == [boiler]
    inbox = await org.ok(INBOX, as_="member")
    assert [edge["node"]["kind"] for edge in inbox["notifications"]["edges"]] == ["INTERVENTION_DONE"]
    # the PDF shows the organisation, customer, address, times, work, equipment, photos and signature
    response = await client.get(report["pdfUrl"], headers={"Authorization": f"Bearer {org.token('technician')}"})
    assert (response.status_code, response.headers["content-type"]) == (200, "application/pdf")
    pdf = PdfReader(io.BytesIO(response.content))
    text = " ".join(page.extract_text() for page in pdf.pages)
    for expected in ("Hôtel des Célestins", "1 place Bellecour, 69002 Lyon", "Entretien annuel chaudière", "Nettoyage du brûleur",
                     "Chaudière Viessmann", "SN-778", "Mme Lefèvre", "04/03/2030 09:00", "04/03/2030 10:30"):  # fmt: skip
        assert expected in text, expected
    images = [image for page in pdf.pages for image in page.images]
    assert len(images) == 3  # two photos and the signature
    # and the files download
    photo = await client.get(report["photos"][0]["downloadUrl"], headers={"Authorization": f"Bearer {org.token('manager')}"})
    signature = await client.get(report["signatureUrl"], headers={"Authorization": f"Bearer {org.token('manager')}"})
    assert (photo.status_code, photo.content[:8], signature.status_code) == (200, b"\x89PNG\r\n\x1a\n", 200)


async def test_the_pdf_is_hidden_from_other_organisations_and_other_technicians(org: TestOrg, other_org: TestOrg, client: httpx.AsyncClient) -> None:
    # given
    _, created, _ = await planned(org)
    payload = await complete(client, org, {"id": created["id"], "signerName": "M. Roux"}, photos=[("p.png", png(), "image/png")], signature=("s.png", png(), "image/png"))
    report = payload["intervention"]["report"]
    urls = {"pdf": report["pdfUrl"], "photo": report["photos"][0]["downloadUrl"], "signature": report["signatureUrl"]}
    # when
    answers = {
        (who, what): (await client.get(url, headers={"Authorization": f"Bearer {token}"})).status_code
        for who, token in (("other org", other_org.token("admin")), ("anonymous", ""), ("member", org.token("member")))
        for what, url in urls.items()
    }
    photo_node = await other_org.ok("query ($id: ID!) { node(id: $id) { id } }", {"id": report["photos"][0]["id"]})
    # then
    assert answers == {
        **{("other org", what): 404 for what in urls}, **{("anonymous", what): 401 for what in urls}, **{("member", what): 200 for what in urls},
    }  # fmt: skip
    assert photo_node["node"] is None
    # and a technician taken off the intervention no longer downloads its files
    assign = "mutation ($id: ID!, $ids: [ID!]!) { interventionAssign(id: $id, technicianIds: $ids) { errors { code } } }"
    assert (await org.ok(assign, {"id": created["id"], "ids": [user_id(org, "member2")]}, as_="manager"))["interventionAssign"]["errors"] == []
    taken_off = {what: (await client.get(url, headers={"Authorization": f"Bearer {org.token('technician')}"})).status_code for what, url in urls.items()}
    assert taken_off == dict.fromkeys(urls, 404)


async def test_a_non_image_signature_or_photo_is_refused_and_nothing_is_kept(org: TestOrg, client: httpx.AsyncClient) -> None:
    # given
    _, created, _ = await planned(org)
    values = {"id": created["id"], "signerName": "M. Roux"}
    # when
    bad_photo = await complete(client, org, values, photos=[("photo.png", b"%PDF-1.4 not an image", "image/png")])
    bad_signature = await complete(client, org, values, signature=("s.png", b"GIF89a broken", "image/png"))
    # then
    assert [(error["code"], error["path"]) for error in bad_photo["errors"]] == [("INVALID", ["photos", "0"])]
    assert [(error["code"], error["path"]) for error in bad_signature["errors"]] == [("INVALID", ["signature", "0"])]
    node = await org.ok("query ($id: ID!) { node(id: $id) { ... on Intervention { status report { completedAt } } } }", {"id": created["id"]})
    assert node["node"] == {"status": "UNSCHEDULED", "report": None}


async def test_only_an_assigned_technician_or_a_planner_completes_and_only_once(org: TestOrg, client: httpx.AsyncClient) -> None:
    # given
    customer_id, created, _ = await planned(org)
    other = await intervention(org, customer_id, created["address"]["id"], created["type"]["id"], technicians=("member2",))
    # when
    hidden = await complete(client, org, {"id": other["id"]})
    member = await complete(client, org, {"id": created["id"]}, as_="member")
    first = await complete(client, org, {"id": created["id"], "actualStart": "2030-01-01T10:00:00Z", "actualEnd": "2030-01-01T09:00:00Z"})
    done = await complete(client, org, {"id": created["id"], "workDone": "OK"})
    again = await complete(client, org, {"id": created["id"]})
    # then
    assert [error["code"] for error in hidden["errors"]] == ["NOT_FOUND"]
    assert [error["code"] for error in member["errors"]] == ["FORBIDDEN"]
    assert [(error["code"], error["path"]) for error in first["errors"]] == [("INVALID", ["input", "actualEnd"])]
    assert done["errors"] == [] and done["intervention"]["report"]["pdfUrl"] is None  # not signed: no PDF
    assert [error["code"] for error in again["errors"]] == ["CONFLICT"]


async def test_equipment_of_another_customer_is_refused(org: TestOrg, client: httpx.AsyncClient) -> None:
    # given
    _, created, _ = await planned(org)
    elsewhere = await customer(org, "Autre")
    theirs = (await org.ok(EQUIPMENT_CREATE, {"input": {"customerId": elsewhere, "name": "Pompe"}}))["equipmentCreate"]["equipment"]["id"]
    # when
    payload = await complete(client, org, {"id": created["id"], "equipmentIds": [theirs]})
    # then
    assert [(error["code"], error["path"]) for error in payload["errors"]] == [("INVALID", ["input", "equipmentIds", "0"])]
