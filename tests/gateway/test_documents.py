"""The HTML-to-PDF service (fiche.documents) and the image check (fiche.images)."""

from __future__ import annotations

import io

import pytest
from PIL import Image
from pypdf import PdfReader

from fiche.documents import Attachment, escape, render_pdf, resource_url
from fiche.errors import UserErrors
from fiche.files import AcceptedFile
from fiche.images import THUMBNAIL_SIZE, check_image


def png(width: int, height: int, mode: str = "RGB") -> bytes:
    out = io.BytesIO()
    Image.new(mode, (width, height), "red").save(out, "PNG")
    return out.getvalue()


def page(body: str) -> str:
    return f"<!doctype html><html><head><meta charset='utf-8'></head><body>{body}</body></html>"


async def test_render_pdf_writes_the_text_and_embeds_given_images() -> None:
    pdf = await render_pdf(
        page(f"<h1>Bon d'intervention</h1><p>{escape('Chaudière <révisée> & testée')}</p><img src='{resource_url('photo 1.png')}'>"),
        resources={"photo 1.png": png(40, 30)},
    )
    reader = PdfReader(io.BytesIO(pdf))
    text = reader.pages[0].extract_text()
    assert "Bon d'intervention" in text
    assert "Chaudière <révisée> & testée" in text
    images = reader.pages[0].images
    assert len(images) == 1
    assert images[0].image is not None and images[0].image.size == (40, 30)


async def test_render_pdf_never_loads_outside_resources(tmp_path: object) -> None:
    # A file and a network address are refused: the element is left out, nothing is read.
    pdf = await render_pdf(
        page("<p>x</p><img src='file:///etc/hostname'><img src='http://127.0.0.1:9/x.png'><img src='fiche:missing.png'>")
    )
    reader = PdfReader(io.BytesIO(pdf))
    assert len(reader.pages[0].images) == 0


async def test_render_pdf_a3_carries_attachments_and_a_permanent_identifier() -> None:
    attachment = Attachment("factur-x.xml", b"<?xml version='1.0'?><x/>", "invoice data", "Alternative")
    first = await render_pdf(page("<p>Facture</p>"), variant="pdf/a-3b", attachments=[attachment], identifier=b"doc-1")
    reader = PdfReader(io.BytesIO(first))
    assert reader.attachments == {"factur-x.xml": [b"<?xml version='1.0'?><x/>"]}
    metadata = reader.trailer["/Root"]["/Metadata"].get_object().get_data()
    assert b'pdfaid:part="3"' in metadata and b'pdfaid:conformance="B"' in metadata
    again = await render_pdf(page("<p>Facture</p>"), variant="pdf/a-3b", attachments=[attachment], identifier=b"doc-1")
    # The first /ID entry is the document's permanent identifier; the second changes with each rendering.
    assert PdfReader(io.BytesIO(again)).trailer["/ID"][0] == reader.trailer["/ID"][0] == "doc-1"


async def test_check_image_reads_the_real_format_and_makes_a_thumbnail() -> None:
    checked = await check_image(AcceptedFile(png(1200, 600), "photo.jpg", "image/jpeg"), "input", "picture")
    assert checked.file.content_type == "image/png"  # what the bytes are, not what was claimed
    assert (checked.width, checked.height) == (1200, 600)
    thumbnail = Image.open(io.BytesIO(checked.thumbnail))
    assert max(thumbnail.size) == THUMBNAIL_SIZE and thumbnail.size == (THUMBNAIL_SIZE, THUMBNAIL_SIZE // 2)
    transparent = await check_image(AcceptedFile(png(10, 10, "RGBA"), "sig.png", "image/png"), "signature")
    assert transparent.thumbnail_type == "image/png"


@pytest.mark.parametrize(
    "data",
    [b"%PDF-1.4 not an image", b"", b"\x89PNG\r\n\x1a\n" + b"\x00" * 40, b"<svg xmlns='http://www.w3.org/2000/svg'/>"],
    ids=["pdf", "empty", "truncated-png", "svg"],
)
async def test_check_image_refuses_what_is_not_an_image(data: bytes) -> None:
    with pytest.raises(UserErrors) as refused:
        await check_image(AcceptedFile(data, "x.png", "image/png"), "input", "picture")
    (error,) = refused.value.errors
    assert error.code.value == "INVALID" and error.path == ["input", "picture"]


async def test_check_image_refuses_a_decompression_bomb() -> None:
    out = io.BytesIO()
    Image.new("1", (20_000, 20_000)).save(out, "PNG")  # 400 Mpx in a few kB
    assert len(out.getvalue()) < 200_000
    with pytest.raises(UserErrors) as refused:
        await check_image(AcceptedFile(out.getvalue(), "bomb.png", "image/png"), "picture")
    assert "pixels" in refused.value.errors[0].message or "not an image" in refused.value.errors[0].message
