"""This package owns the offline GraphiQL page and its assets.

Strawberry's built-in GraphiQL page loads React and GraphiQL from a CDN, which
breaks without internet access. Here the same tools are shipped inside the
package (``assets/``, pinned and checksummed by ``assets.lock.json``, rebuilt
by ``python -m fiche.graphiql.fetch_assets``) and served by the gateway
under :data:`ASSET_URL_PREFIX`. The page itself is ``page.html``; it refers to
same-origin URLs only.
"""

from __future__ import annotations

import json
from functools import lru_cache
from html.parser import HTMLParser
from pathlib import Path

from starlette.responses import Response
from starlette.routing import BaseRoute, Mount
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

__all__ = ["ASSETS_DIR", "ASSET_URL_PREFIX", "asset_routes", "graphiql_html", "referenced_assets"]

ASSETS_DIR: Path = Path(__file__).resolve().parent / "assets"
ASSET_URL_PREFIX = "/graphiql-assets"

_PAGE_TEMPLATE = Path(__file__).resolve().parent / "page.html"
_DEFAULT_HEADERS = {"Authorization": "Bearer PASTE-TOKEN-FROM-fiche-demo"}
_DEFAULT_QUERY = """\
# Welcome to Fiche GraphiQL.
#
# Get a token with `fiche demo` and paste it into
# the Headers tab below, replacing
# PASTE-TOKEN-FROM-fiche-demo.
#
# Run with Ctrl-Enter. Subscriptions use a
# WebSocket on this same path.

query Hello {
  __typename
}
"""
# Asset file names carry the package version, so their content never changes.
_CACHE_CONTROL = "public, max-age=31536000, immutable"


def _js_literal(value: object) -> str:
    """JSON for a value embedded in an inline <script>, safe against ``</script>`` breakout."""
    return (
        json.dumps(value)
        .replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("&", "\\u0026")
    )


@lru_cache(maxsize=1)
def _template() -> str:
    return _PAGE_TEMPLATE.read_text(encoding="utf-8")


def graphiql_html(endpoint: str = "/graphql") -> str:
    """The GraphiQL page for ``endpoint``, a same-origin path such as ``/graphql``.

    HTTP queries and mutations are POSTed to ``endpoint``; subscriptions use a
    ``graphql-transport-ws`` WebSocket on the same path (``ws:``/``wss:`` chosen
    in the browser from the page's own location).
    """
    if "://" in endpoint or endpoint.startswith("//") or "\\" in endpoint:
        raise ValueError(f"GraphiQL endpoint must be a same-origin path, got {endpoint!r}")
    return (
        _template()
        .replace("{{ASSET_URL_PREFIX}}", ASSET_URL_PREFIX)
        .replace("{{ENDPOINT_JSON}}", _js_literal(endpoint))
        .replace("{{DEFAULT_HEADERS_JSON}}", _js_literal(json.dumps(_DEFAULT_HEADERS, indent=2)))
        .replace("{{DEFAULT_QUERY_JSON}}", _js_literal(_DEFAULT_QUERY))
    )


class _AssetFiles(StaticFiles):
    """Static files with a long cache lifetime (the paths are versioned)."""

    async def get_response(self, path: str, scope: Scope) -> Response:
        response = await super().get_response(path, scope)
        if response.status_code in (200, 304):
            response.headers["Cache-Control"] = _CACHE_CONTROL
        return response


def asset_routes() -> list[BaseRoute]:
    """Routes serving the GraphiQL assets under :data:`ASSET_URL_PREFIX`."""
    return [Mount(ASSET_URL_PREFIX, app=_AssetFiles(directory=ASSETS_DIR), name="graphiql-assets")]


class _UrlCollector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name in ("src", "href") and value:
                self.urls.append(value)


def referenced_assets(html: str) -> list[str]:
    """The URLs the page loads through ``src``/``href`` attributes, in page order.

    Inline ``data:`` URLs are skipped, since the browser fetches nothing for them.
    """
    collector = _UrlCollector()
    collector.feed(html)
    collector.close()
    return [url for url in collector.urls if not url.lower().startswith("data:")]
