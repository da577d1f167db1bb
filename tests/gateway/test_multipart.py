"""Multipart uploads (GraphQL multipart request spec): the uploaded files live as long as
the operation that reads them, and are closed once the request is answered."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from tests.gateway import probe_plugins
from tests.gateway.conftest import PROBE
from tests.support import TestOrg

PROBE_UPLOAD = "mutation Upload($file: Upload!) { probeUpload(file: $file) }"


@pytest.fixture
def plugins() -> list[tuple[str, Any]]:
    return PROBE


async def test_uploaded_file_is_read_then_closed_once_the_request_is_answered(org: TestOrg, client: httpx.AsyncClient) -> None:
    # given
    operations = {"query": PROBE_UPLOAD, "variables": {"file": None}}
    # when
    response = await client.post(
        "/graphql",
        data={"operations": json.dumps(operations), "map": json.dumps({"0": ["variables.file"]})},
        files={"0": ("note.txt", b"hello", "text/plain")},
        headers={"Authorization": f"Bearer {org.token('member')}"},
    )
    # then
    assert response.json() == {"data": {"probeUpload": 5}}
    assert probe_plugins.UPLOADS[-1].file.closed  # type: ignore[attr-defined]
