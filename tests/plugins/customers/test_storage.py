"""Documents go to whatever storage the ``file_storage`` hook provides: a plugin can replace
the local directory (C9)."""

from __future__ import annotations

import io
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.datastructures import Headers, UploadFile

from fiche import hookimpl
from fiche.app import create_app
from fiche.context import AppState
from fiche.settings import Settings
from tests.plugins.customers.fixtures import company
from tests.support import TestOrg

UPLOAD = """
mutation Upload($input: CustomerDocumentUploadInput!) {
  customerDocumentUpload(input: $input) { document { id } errors { code } }
}
"""

DELETE = "mutation Delete($id: ID!) { customerDocumentDelete(id: $id) { errors { code } } }"


class MemoryStorage:
    """A storage that keeps files in a dict (an object store would do the same)."""

    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}

    async def save(self, data: bytes, *, suffix: str = "") -> str:
        key = f"mem-{uuid.uuid4().hex}{suffix}"
        self.files[key] = data
        return key

    async def read(self, key: str) -> bytes:
        try:
            return self.files[key]
        except KeyError as exc:
            raise FileNotFoundError(key) from exc

    async def delete(self, key: str) -> None:
        self.files.pop(key, None)


class StoragePlugin:
    def __init__(self) -> None:
        self.storage = MemoryStorage()

    @hookimpl(tryfirst=True)
    def file_storage(self, settings: Settings) -> MemoryStorage:
        return self.storage


@pytest.fixture
def storage_plugin() -> StoragePlugin:
    return StoragePlugin()


@pytest.fixture
def plugins(storage_plugin: StoragePlugin) -> list[tuple[str, Any]]:
    return [("memory_storage", storage_plugin)]


@pytest.fixture
async def client(state: AppState) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(state.settings, state=state)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as http:
        yield http


async def test_documents_use_the_storage_a_plugin_provides(org: TestOrg, storage_plugin: StoragePlugin, client: httpx.AsyncClient) -> None:
    # given
    customer = await company(org, "Alpha")
    upload = UploadFile(file=io.BytesIO(b"hello"), filename="note.txt", headers=Headers({"content-type": "text/plain"}))
    # when
    data = await org.ok(UPLOAD, {"input": {"customerId": customer["id"], "file": upload}})
    document = data["customerDocumentUpload"]["document"]
    download = await client.get(f"/files/customer-documents/{document['id']}", headers={"Authorization": f"Bearer {org.token('member')}"})
    # then: the bytes are in the plugin's storage, not in the upload directory
    assert list(storage_plugin.storage.files.values()) == [b"hello"]
    assert list(Path(org.state.settings.upload_dir).iterdir()) == []
    assert download.content == b"hello"


async def test_deleting_a_document_deletes_it_from_the_plugins_storage(org: TestOrg, storage_plugin: StoragePlugin) -> None:
    # given
    customer = await company(org, "Alpha")
    upload = UploadFile(file=io.BytesIO(b"hello"), filename="note.txt", headers=Headers({"content-type": "text/plain"}))
    document = (await org.ok(UPLOAD, {"input": {"customerId": customer["id"], "file": upload}}))["customerDocumentUpload"]["document"]
    # when
    await org.ok(DELETE, {"id": document["id"]})
    # then
    assert storage_plugin.storage.files == {}
