"""Documents (C9): upload through the GraphQL multipart request spec, list, download through
the authenticated route (tenant-checked), delete; size and type limits from settings."""

from __future__ import annotations

import dataclasses
import io
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import orjson
import pytest
from starlette.datastructures import Headers, UploadFile

from fiche.app import create_app
from fiche.context import AppState
from fiche.settings import Settings
from tests.plugins.customers.fixtures import company
from tests.support import TestOrg

LIMIT = 4096
PDF = b"%PDF-1.4\n" + b"x" * 200

UPLOAD = """
mutation Upload($input: CustomerDocumentUploadInput!) {
  customerDocumentUpload(input: $input) {
    document { id filename contentType size downloadUrl uploadedBy { handle } customer { displayName } }
    errors { code message path }
  }
}
"""

DOCUMENTS = """
query Documents($id: ID!, $first: Int, $after: String) {
  customer(id: $id) { documents(first: $first, after: $after) { nodes { filename } pageInfo { hasNextPage endCursor } } }
}
"""

DOCUMENT_DELETE = """
mutation Delete($id: ID!) { customerDocumentDelete(id: $id) { deletedId errors { code path } } }
"""

CUSTOMER_DELETE = """
mutation Delete($id: ID!) { customerDelete(id: $id) { deletedId errors { code } } }
"""

MERGE = """
mutation Merge($keep: ID!, $duplicate: ID!) { customerMerge(keepId: $keep, duplicateId: $duplicate) { errors { code } } }
"""


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return dataclasses.replace(settings, max_upload_bytes=LIMIT, public_url="https://fiche.example")


@pytest.fixture
async def client(state: AppState) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(state.settings, state=state)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as http:
        yield http


def _file(data: bytes = PDF, name: str = "devis.pdf", content_type: str = "application/pdf") -> UploadFile:
    return UploadFile(file=io.BytesIO(data), filename=name, headers=Headers({"content-type": content_type}))


async def _upload(org: TestOrg, customer_id: str, upload: UploadFile | None = None, as_: str = "member") -> dict:
    data = await org.ok(UPLOAD, {"input": {"customerId": customer_id, "file": upload or _file()}}, as_=as_)
    return dict(data["customerDocumentUpload"])


def _stored(state: AppState) -> list[Path]:
    return sorted(Path(state.settings.upload_dir).iterdir())


async def _multipart(client: httpx.AsyncClient, token: str, customer_id: str, data: bytes, name: str, content_type: str) -> httpx.Response:
    operations = {"query": UPLOAD, "variables": {"input": {"customerId": customer_id, "file": None}}}
    return await client.post(
        "/graphql",
        data={"operations": orjson.dumps(operations).decode(), "map": orjson.dumps({"0": ["variables.input.file"]}).decode()},
        files={"0": (name, data, content_type)},
        headers={"Authorization": f"Bearer {token}"},
    )


async def test_upload_stores_the_file_and_its_metadata(org: TestOrg) -> None:
    # given
    customer = await company(org, "Alpha")
    # when
    payload = await _upload(org, customer["id"], _file(name="../../etc/Devis été.pdf"))
    # then
    document = payload["document"]
    assert payload["errors"] == []
    assert {key: document[key] for key in ("filename", "contentType", "size", "uploadedBy", "customer")} == {
        "filename": "Devis été.pdf",
        "contentType": "application/pdf",
        "size": len(PDF),
        "uploadedBy": {"handle": "member"},
        "customer": {"displayName": "Alpha"},
    }
    assert document["downloadUrl"] == f"https://fiche.example/files/customer-documents/{document['id']}"
    assert [path.read_bytes() for path in _stored(org.state)] == [PDF]


async def test_documents_are_listed_newest_first_and_paginated(org: TestOrg) -> None:
    # given
    customer = await company(org, "Alpha")
    for name in ("un.pdf", "deux.pdf", "trois.pdf"):
        await _upload(org, customer["id"], _file(name=name))
    # when
    first = (await org.ok(DOCUMENTS, {"id": customer["id"], "first": 2}))["customer"]["documents"]
    rest = (await org.ok(DOCUMENTS, {"id": customer["id"], "first": 2, "after": first["pageInfo"]["endCursor"]}))["customer"]["documents"]
    # then
    assert [node["filename"] for node in first["nodes"] + rest["nodes"]] == ["trois.pdf", "deux.pdf", "un.pdf"]
    assert (first["pageInfo"]["hasNextPage"], rest["pageInfo"]["hasNextPage"]) == (True, False)


async def test_oversized_upload_is_refused_and_nothing_is_stored(org: TestOrg) -> None:
    # given
    customer = await company(org, "Alpha")
    # when
    payload = await _upload(org, customer["id"], _file(b"x" * (LIMIT + 1)))
    # then
    assert payload["document"] is None
    assert [(error["code"], error["path"]) for error in payload["errors"]] == [("LIMIT_EXCEEDED", ["input", "file"])]
    assert _stored(org.state) == []


async def test_upload_of_exactly_the_limit_is_accepted(org: TestOrg) -> None:
    # given
    customer = await company(org, "Alpha")
    # when
    payload = await _upload(org, customer["id"], _file(b"x" * LIMIT))
    # then
    assert payload["document"]["size"] == LIMIT


async def test_upload_of_a_refused_type_is_invalid(org: TestOrg) -> None:
    # given
    customer = await company(org, "Alpha")
    # when
    payload = await _upload(org, customer["id"], _file(b"MZ...", name="setup.exe", content_type="application/x-msdownload"))
    # then
    assert [(error["code"], error["path"]) for error in payload["errors"]] == [("INVALID", ["input", "file"])]
    assert _stored(org.state) == []


async def test_empty_upload_is_invalid(org: TestOrg) -> None:
    # given
    customer = await company(org, "Alpha")
    # when
    payload = await _upload(org, customer["id"], _file(b""))
    # then
    assert [(error["code"], error["path"]) for error in payload["errors"]] == [("INVALID", ["input", "file"])]


async def test_upload_to_another_organisations_customer_is_not_found(org: TestOrg, other_org: TestOrg) -> None:
    # given
    theirs = await company(other_org, "Theirs")
    # when
    payload = await _upload(org, theirs["id"])
    # then
    assert [(error["code"], error["path"]) for error in payload["errors"]] == [("NOT_FOUND", ["input", "customerId"])]
    assert _stored(org.state) == []


async def test_delete_removes_the_row_and_the_file(org: TestOrg) -> None:
    # given
    customer = await company(org, "Alpha")
    document = (await _upload(org, customer["id"]))["document"]
    # when
    data = await org.ok(DOCUMENT_DELETE, {"id": document["id"]})
    # then
    assert data["customerDocumentDelete"] == {"deletedId": document["id"], "errors": []}
    assert (await org.ok(DOCUMENTS, {"id": customer["id"]}))["customer"]["documents"]["nodes"] == []
    assert _stored(org.state) == []


async def test_only_the_uploader_a_manager_or_an_admin_deletes_a_document(org: TestOrg) -> None:
    # given: member uploads two documents
    customer = await company(org, "Alpha")
    first = (await _upload(org, customer["id"], as_="member"))["document"]
    second = (await _upload(org, customer["id"], as_="member"))["document"]
    # when
    colleague = (await org.ok(DOCUMENT_DELETE, {"id": first["id"]}, as_="member2"))["customerDocumentDelete"]
    uploader = (await org.ok(DOCUMENT_DELETE, {"id": first["id"]}, as_="member"))["customerDocumentDelete"]
    manager = (await org.ok(DOCUMENT_DELETE, {"id": second["id"]}, as_="manager"))["customerDocumentDelete"]
    # then
    assert colleague == {"deletedId": None, "errors": [{"code": "FORBIDDEN", "path": ["id"]}]}
    assert uploader["deletedId"] == first["id"] and manager["deletedId"] == second["id"]
    assert _stored(org.state) == []


async def test_another_organisation_cannot_delete_a_document(org: TestOrg, other_org: TestOrg) -> None:
    # given
    theirs = await company(other_org, "Theirs")
    document = (await _upload(other_org, theirs["id"]))["document"]
    # when
    data = await org.ok(DOCUMENT_DELETE, {"id": document["id"]})
    # then
    assert data["customerDocumentDelete"] == {"deletedId": None, "errors": [{"code": "NOT_FOUND", "path": ["id"]}]}
    assert len(_stored(org.state)) == 1


async def test_deleting_a_customer_removes_its_files(org: TestOrg) -> None:
    # given
    customer = await company(org, "Alpha")
    await _upload(org, customer["id"])
    # when
    data = await org.ok(CUSTOMER_DELETE, {"id": customer["id"]}, as_="manager")
    # then
    assert data["customerDelete"]["errors"] == []
    assert _stored(org.state) == []


async def test_merge_moves_documents_to_the_kept_customer(org: TestOrg) -> None:
    # given
    keep, duplicate = await company(org, "Dupré"), await company(org, "Dupre")
    await _upload(org, duplicate["id"], _file(name="contrat.pdf"))
    # when
    await org.ok(MERGE, {"keep": keep["id"], "duplicate": duplicate["id"]}, as_="manager")
    # then
    assert (await org.ok(DOCUMENTS, {"id": keep["id"]}))["customer"]["documents"]["nodes"] == [{"filename": "contrat.pdf"}]
    assert len(_stored(org.state)) == 1


async def test_multipart_upload_then_download_through_the_http_route(org: TestOrg, client: httpx.AsyncClient) -> None:
    # given
    customer = await company(org, "Alpha")
    token = org.token("member")
    # when
    uploaded = await _multipart(client, token, customer["id"], b"col1,col2\n1,2\n", "export clients.csv", "text/csv")
    document = uploaded.json()["data"]["customerDocumentUpload"]["document"]
    download = await client.get(f"/files/customer-documents/{document['id']}", headers={"Authorization": f"Bearer {token}"})
    # then
    assert uploaded.status_code == 200
    assert download.status_code == 200
    assert download.content == b"col1,col2\n1,2\n"
    assert download.headers["content-type"].startswith("text/csv")
    assert download.headers["content-disposition"].startswith('attachment; filename="export clients.csv"')


async def test_multipart_upload_over_the_limit_is_refused(org: TestOrg, client: httpx.AsyncClient) -> None:
    # given
    customer = await company(org, "Alpha")
    # when
    response = await _multipart(client, org.token("member"), customer["id"], b"x" * (LIMIT + 10), "big.pdf", "application/pdf")
    # then
    payload = response.json()["data"]["customerDocumentUpload"]
    assert payload["document"] is None
    assert [error["code"] for error in payload["errors"]] == ["LIMIT_EXCEEDED"]


async def test_download_needs_a_valid_token(org: TestOrg, client: httpx.AsyncClient) -> None:
    # given
    customer = await company(org, "Alpha")
    document = (await _upload(org, customer["id"]))["document"]
    # when
    anonymous = await client.get(f"/files/customer-documents/{document['id']}")
    forged = await client.get(f"/files/customer-documents/{document['id']}", headers={"Authorization": "Bearer forged"})
    # then
    assert (anonymous.status_code, forged.status_code) == (401, 401)


async def test_download_of_another_organisations_document_is_like_a_missing_one(
    org: TestOrg, other_org: TestOrg, client: httpx.AsyncClient
) -> None:
    # given
    theirs = await company(other_org, "Theirs")
    document = (await _upload(other_org, theirs["id"]))["document"]
    headers = {"Authorization": f"Bearer {org.token('admin')}"}
    # when
    stolen = await client.get(f"/files/customer-documents/{document['id']}", headers=headers)
    missing = await client.get("/files/customer-documents/Q3VzdG9tZXJEb2N1bWVudDo5OTk5OTk5", headers=headers)
    garbage = await client.get("/files/customer-documents/garbage", headers=headers)
    # then
    assert (stolen.status_code, missing.status_code, garbage.status_code) == (404, 404, 404)
    assert stolen.json() == missing.json() == garbage.json()
