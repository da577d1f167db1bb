"""``fiche.files``: uploads are checked against the gateway's limits before anything is
stored, and client-given names are only ever cleaned copies."""

from __future__ import annotations

import io

import pytest

from fiche.errors import ErrorCode, UserErrors
from fiche.files import accept_upload, clean_filename
from fiche.settings import Settings

SETTINGS = Settings(secret_key="x", max_upload_bytes=10, allowed_upload_types=("text/plain", "application/pdf"))


class Upload(io.BytesIO):
    def __init__(self, data: bytes, filename: str | None, content_type: str | None) -> None:
        super().__init__(data)
        self.filename = filename
        self.content_type = content_type
        self.bytes_read = 0

    def read(self, size: int | None = -1) -> bytes:
        chunk = super().read(size)
        self.bytes_read += len(chunk)
        return chunk


async def test_an_accepted_upload_keeps_its_bytes_type_and_clean_name() -> None:
    accepted = await accept_upload(Upload(b"hello", "../../etc/rapport.txt", "text/plain; charset=utf-8"), SETTINGS, "file")
    assert (accepted.data, accepted.filename, accepted.content_type, accepted.suffix) == (b"hello", "rapport.txt", "text/plain", ".txt")


async def test_an_oversized_upload_is_refused_without_reading_it_all() -> None:
    upload = Upload(b"x" * 1_000_000, "big.txt", "text/plain")
    with pytest.raises(UserErrors) as refused:
        await accept_upload(upload, SETTINGS, "input", "file")
    assert refused.value.errors[0].code is ErrorCode.LIMIT_EXCEEDED
    assert refused.value.errors[0].path == ["input", "file"]
    assert upload.bytes_read < 1_000_000


async def test_a_type_outside_the_accepted_list_is_refused() -> None:
    with pytest.raises(UserErrors) as refused:
        await accept_upload(Upload(b"MZ", "tool.exe", "application/x-msdownload"), SETTINGS, "file")
    assert refused.value.errors[0].code is ErrorCode.INVALID


async def test_an_empty_upload_is_refused() -> None:
    with pytest.raises(UserErrors) as refused:
        await accept_upload(Upload(b"", "empty.txt", "text/plain"), SETTINGS, "file")
    assert "empty" in refused.value.errors[0].message


@pytest.mark.parametrize(
    ("given", "expected"),
    [("C:\\Users\\a\\devis.pdf", "devis.pdf"), ("\x00\x1b.hidden", "hidden"), ("", "file"), (None, "file"), ("a" * 300 + ".pdf", "a" * 247 + ".pdf")],
)
def test_client_file_names_are_cleaned(given: str | None, expected: str) -> None:
    assert clean_filename(given) == expected
