"""Attachments of activities (A2): uploaded with a GraphQL multipart request into the
gateway's file storage under its size and type limits, listed on the activity, downloaded
through an authenticated, tenant-checked route, removed with the activity."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from fiche.app import create_app
from fiche.context import AppState
from fiche.settings import Settings
from tests.plugins.activities.fixtures import activity, customer
from tests.support import TestOrg

ATTACH = """
mutation ($activityId: ID!, $file: Upload!) {
  activityAttachmentAdd(activityId: $activityId, file: $file) {
    attachment { id filename contentType size downloadUrl uploadedBy { name } }
    errors { code message path }
  }
}
"""
ATTACHMENTS = "query ($id: ID!) { node(id: $id) { ... on Activity { attachments { id filename } } } }"
DETACH = "mutation ($id: ID!) { activityAttachmentDelete(id: $id) { deletedId errors { code } } }"
ACTIVITY_DELETE = "mutation ($id: ID!) { activityDelete(id: $id) { deletedId errors { code } } }"
CUSTOMER_DELETE = "mutation ($id: ID!) { customerDelete(id: $id) { deletedId errors { code message } } }"
PDF = b"%PDF-1.4 minutes of the meeting"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return dataclasses.replace(settings, max_upload_bytes=1024)


@pytest.fixture
async def client(state: AppState) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(state.settings, state=state)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as http:
        yield http


async def upload(client: httpx.AsyncClient, org: TestOrg, activity_id: str, content: bytes, name: str, content_type: str, as_: str = "admin") -> dict[str, Any]:
    operations = {"query": ATTACH, "variables": {"activityId": activity_id, "file": None}}
    response = await client.post(
        "/graphql",
        data={"operations": json.dumps(operations), "map": json.dumps({"0": ["variables.file"]})},
        files={"0": (name, content, content_type)},
        headers={"Authorization": f"Bearer {org.token(as_)}"},
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert not body.get("errors"), body
    return dict(body["data"]["activityAttachmentAdd"])


def files(upload_dir: Path) -> list[Path]:
    return sorted(path for path in upload_dir.iterdir() if path.is_file())


async def test_a_file_is_attached_listed_and_downloaded(org: TestOrg, client: httpx.AsyncClient) -> None:
    # given
    created = await activity(org, await customer(org), as_="member")
    # when
    payload = await upload(client, org, created["id"], PDF, "compte-rendu.pdf", "application/pdf", as_="member")
    # then
    attachment = payload["attachment"]
    assert payload["errors"] == []
    assert (attachment["filename"], attachment["contentType"], attachment["size"], attachment["uploadedBy"]["name"]) == (
        "compte-rendu.pdf", "application/pdf", len(PDF), "Member Test",
    )  # fmt: skip
    listed = (await org.ok(ATTACHMENTS, {"id": created["id"]}))["node"]["attachments"]
    assert listed == [{"id": attachment["id"], "filename": "compte-rendu.pdf"}]
    response = await client.get(attachment["downloadUrl"], headers={"Authorization": f"Bearer {org.token('member2')}"})
    assert (response.status_code, response.content, response.headers["content-type"]) == (200, PDF, "application/pdf")
    assert "compte-rendu.pdf" in response.headers["content-disposition"]


async def test_a_file_over_the_size_limit_is_refused(org: TestOrg, client: httpx.AsyncClient, upload_dir: Path) -> None:
    # given
    created = await activity(org, await customer(org))
    # when
    payload = await upload(client, org, created["id"], b"x" * 1025, "big.txt", "text/plain")
    # then
    assert payload["attachment"] is None and [(e["code"], e["path"]) for e in payload["errors"]] == [("LIMIT_EXCEEDED", ["file"])]
    assert files(upload_dir) == []


async def test_a_file_of_a_refused_type_is_refused(org: TestOrg, client: httpx.AsyncClient, upload_dir: Path) -> None:
    # given
    created = await activity(org, await customer(org))
    # when
    payload = await upload(client, org, created["id"], b"MZ...", "tool.exe", "application/x-msdownload")
    # then
    assert [(e["code"], e["path"]) for e in payload["errors"]] == [("INVALID", ["file"])] and files(upload_dir) == []


async def test_a_colleague_cannot_attach_to_someone_elses_activity(org: TestOrg, client: httpx.AsyncClient, upload_dir: Path) -> None:
    # given
    created = await activity(org, await customer(org), as_="member")
    # when
    payload = await upload(client, org, created["id"], PDF, "x.pdf", "application/pdf", as_="member2")
    # then
    assert [e["code"] for e in payload["errors"]] == ["FORBIDDEN"] and files(upload_dir) == []


async def test_download_needs_a_token(org: TestOrg, client: httpx.AsyncClient) -> None:
    # given
    created = await activity(org, await customer(org))
    attachment = (await upload(client, org, created["id"], PDF, "x.pdf", "application/pdf"))["attachment"]
    # when
    response = await client.get(attachment["downloadUrl"])
    # then
    assert response.status_code == 401


async def test_another_organisation_cannot_download(org: TestOrg, other_org: TestOrg, client: httpx.AsyncClient) -> None:
    # given
    created = await activity(org, await customer(org))
    attachment = (await upload(client, org, created["id"], PDF, "x.pdf", "application/pdf"))["attachment"]
    # when
    response = await client.get(attachment["downloadUrl"], headers={"Authorization": f"Bearer {other_org.token('admin')}"})
    # then
    assert response.status_code == 404


async def test_removing_an_attachment_deletes_its_file(org: TestOrg, client: httpx.AsyncClient, upload_dir: Path) -> None:
    # given
    created = await activity(org, await customer(org))
    attachment = (await upload(client, org, created["id"], PDF, "x.pdf", "application/pdf"))["attachment"]
    assert len(files(upload_dir)) == 1
    # when
    payload = (await org.ok(DETACH, {"id": attachment["id"]}))["activityAttachmentDelete"]
    # then
    assert payload == {"deletedId": attachment["id"], "errors": []} and files(upload_dir) == []
    assert (await org.ok(ATTACHMENTS, {"id": created["id"]}))["node"]["attachments"] == []


async def test_deleting_the_activity_deletes_its_files(org: TestOrg, client: httpx.AsyncClient, upload_dir: Path) -> None:
    # given
    created = await activity(org, await customer(org))
    await upload(client, org, created["id"], PDF, "a.pdf", "application/pdf")
    await upload(client, org, created["id"], b"notes", "b.txt", "text/plain")
    # when
    payload = (await org.ok(ACTIVITY_DELETE, {"id": created["id"]}))["activityDelete"]
    # then
    assert payload["errors"] == [] and files(upload_dir) == []


async def test_deleting_the_customer_deletes_its_activities_files(org: TestOrg, client: httpx.AsyncClient, upload_dir: Path) -> None:
    # given
    location = await customer(org)
    created = await activity(org, location)
    await upload(client, org, created["id"], PDF, "a.pdf", "application/pdf")
    assert len(files(upload_dir)) == 1
    # when
    payload = (await org.ok(CUSTOMER_DELETE, {"id": location}, as_="manager"))["customerDelete"]
    # then
    assert payload["errors"] == [] and files(upload_dir) == []


async def test_the_stored_name_is_never_the_clients(org: TestOrg, client: httpx.AsyncClient, upload_dir: Path) -> None:
    # given
    created = await activity(org, await customer(org))
    # when
    payload = await upload(client, org, created["id"], PDF, "../../etc/passwd.pdf", "application/pdf")
    # then
    assert payload["attachment"]["filename"] == "passwd.pdf"
    assert [path.parent for path in files(upload_dir)] == [upload_dir] and "passwd" not in files(upload_dir)[0].name
