"""Printable documents: the one HTML-to-PDF service of the gateway, and the authenticated
route that downloads a document as a PDF.

Plugins that print (the interventions plugin's signed report, the billing plugin's quotes
and invoices) build an HTML page of their own and call :func:`render_pdf`; they expose it
with :func:`document_route`, so every download is authenticated and tenant-checked the same
way and answers the same errors.

The renderer is WeasyPrint. It never reaches the network or the file system: a document may
only refer to the resources it is given (``fiche:NAME`` URLs, e.g. a photo or a signature
read from the file storage) and to ``data:`` URLs; any other URL is refused and the element
is left out. Rendering is CPU-bound, so it runs in a worker thread, at most
:data:`CONCURRENT_RENDERS` at a time per process, and never blocks the event loop.
"""

from __future__ import annotations

import asyncio
import dataclasses
import html
import io
import mimetypes
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, unquote

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from fiche.files import download_headers, error_response, viewer_and_pk

if TYPE_CHECKING:
    from fiche.auth import Viewer
    from sqlalchemy.ext.asyncio import AsyncSession

    from fiche.settings import Settings
    from fiche.storage import FileStorage

__all__ = [
    "CONCURRENT_RENDERS",
    "Attachment",
    "DocumentRequest",
    "RenderedDocument",
    "document_route",
    "escape",
    "render_pdf",
    "resource_url",
]

CONCURRENT_RENDERS = 2
RESOURCE_SCHEME = "fiche:"

_render_slots: dict[int, asyncio.Semaphore] = {}


def escape(value: object) -> str:
    """``value`` as text safe inside an HTML document (None is empty)."""
    return "" if value is None else html.escape(str(value), quote=True)


def resource_url(name: str) -> str:
    """The URL by which a document refers to the resource ``name`` given to :func:`render_pdf`."""
    return RESOURCE_SCHEME + quote(name, safe="")


@dataclasses.dataclass(frozen=True, slots=True)
class Attachment:
    """A file embedded in the PDF (e.g. the Factur-X XML of an invoice)."""

    filename: str
    data: bytes
    description: str = ""
    relationship: str = "Data"


def _fetcher(resources: Mapping[str, bytes]) -> Any:
    from weasyprint.urls import URLFetcher, URLFetcherResponse

    class ResourceFetcher(URLFetcher):
        """Serves ``fiche:NAME`` from ``resources`` and ``data:`` URLs; refuses the rest."""

        def fetch(self, url: str, headers: Any = None) -> Any:
            if url.startswith(RESOURCE_SCHEME):
                name = unquote(url[len(RESOURCE_SCHEME) :])
                if name not in resources:
                    raise ValueError(f"unknown document resource {name!r}")
                mime_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
                return URLFetcherResponse(url, body=resources[name], headers={"Content-Type": mime_type})
            if url.startswith("data:"):
                return super().fetch(url, headers)
            raise ValueError("documents may not load resources from outside")

    return ResourceFetcher(allowed_protocols=("data",))


def _render(page: str, resources: Mapping[str, bytes], variant: str | None, attachments: Sequence[Attachment], identifier: bytes | None) -> bytes:
    from weasyprint import HTML, Attachment as WeasyAttachment

    options: dict[str, Any] = {}
    if variant:
        options["pdf_variant"] = variant
    if identifier is not None:
        options["pdf_identifier"] = identifier
    if attachments:
        options["attachments"] = [
            WeasyAttachment(
                string=None,
                file_obj=io.BytesIO(item.data),
                name=item.filename,
                description=item.description,
                relationship=item.relationship,
            )
            for item in attachments
        ]
    document = HTML(string=page, base_url=RESOURCE_SCHEME, url_fetcher=_fetcher(resources))
    pdf = document.write_pdf(**options)
    assert isinstance(pdf, bytes)
    return pdf


async def render_pdf(
    page: str,
    *,
    resources: Mapping[str, bytes] | None = None,
    variant: str | None = None,
    attachments: Sequence[Attachment] = (),
    identifier: bytes | None = None,
) -> bytes:
    """The PDF of the HTML ``page``.

    :param page: a whole HTML document; escape every value with :func:`escape`.
    :param resources: bytes the page refers to by :func:`resource_url` (images, fonts).
    :param variant: a WeasyPrint PDF variant, e.g. ``"pdf/a-3b"`` for an archivable
        document that may carry attachments (Factur-X).
    :param attachments: files embedded in the PDF.
    :param identifier: the PDF's permanent identifier (the first ``/ID`` entry), the same
        for every rendering of one document (the second entry changes with each).
    """
    loop = asyncio.get_running_loop()
    slots = _render_slots.get(id(loop))
    if slots is None:
        slots = _render_slots[id(loop)] = asyncio.Semaphore(CONCURRENT_RENDERS)
    async with slots:
        return await asyncio.to_thread(_render, page, dict(resources or {}), variant, tuple(attachments), identifier)


@dataclasses.dataclass(frozen=True, slots=True)
class RenderedDocument:
    """A document ready to download."""

    filename: str
    pdf: bytes


@dataclasses.dataclass(frozen=True, slots=True)
class DocumentRequest:
    """What a plugin's renderer gets for one download: the authenticated viewer, a session
    scoped to the viewer's organisation, the primary key asked for, and the gateway's
    file storage and settings."""

    viewer: Viewer
    session: AsyncSession
    pk: int
    storage: FileStorage
    settings: Settings
    pm: Any


def document_route(path: str, type_name: str, render: Callable[[DocumentRequest], Awaitable[RenderedDocument | None]]) -> Route:
    """``GET path`` (with an ``{id}`` global ID of ``type_name``) downloads a PDF.

    Authenticated like ``/graphql`` (``Authorization: Bearer``). ``render`` runs with a
    session scoped to the viewer's organisation and returns None for a document that does
    not exist or that the viewer may not see: both answer 404, exactly like another
    organisation's document."""
    missing = f"No such {type_name}."

    async def download(request: Request) -> Response:
        state = request.app.state.fiche
        asked = await viewer_and_pk(request, type_name)
        if isinstance(asked, Response):
            return asked
        viewer, pk = asked
        async with state.db.reader(viewer.organization_id) as session:
            document = await render(DocumentRequest(viewer, session, pk, state.storage, state.settings, state.pm))
        if document is None:
            return error_response(404, missing)
        return Response(
            document.pdf,
            media_type="application/pdf",
            headers=download_headers(document.filename, "inline"),
        )

    return Route(path, download, methods=["GET"])
