"""The offline GraphiQL page: same-origin assets only, served, and matching the lock."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import re
import tarfile
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette
from starlette.responses import HTMLResponse
from starlette.routing import Route

from fiche.graphiql import (
    ASSET_URL_PREFIX,
    ASSETS_DIR,
    asset_routes,
    graphiql_html,
    referenced_assets,
)
from fiche.graphiql import fetch_assets as fa

EXTERNAL_URL = re.compile(r"https?://", re.IGNORECASE)
PROTOCOL_RELATIVE_ATTR = re.compile(r"""(?:src|href)\s*=\s*["']?\s*//""", re.IGNORECASE)
FAKE_REGISTRY = "https://registry.example.test/"


def make_app(endpoint: str = "/graphql") -> Starlette:
    return Starlette(
        routes=[
            Route(endpoint, lambda request: HTMLResponse(graphiql_html(endpoint))),
            *asset_routes(),
        ]
    )


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=make_app()), base_url="http://test") as test_client:
        yield test_client


# ------------------------------------------------------------------ the page


def test_page_contains_no_external_url() -> None:
    html = graphiql_html("/graphql")
    assert EXTERNAL_URL.search(html) is None
    assert PROTOCOL_RELATIVE_ATTR.search(html) is None
    # Stronger than the above: no "//" at all, not even in a comment.
    assert "//" not in html
    assert "unpkg" not in html.lower()


def test_page_references_only_assets_under_the_prefix() -> None:
    assets = referenced_assets(graphiql_html())
    assert assets, "the page should load its scripts and styles"
    for url in assets:
        assert url.startswith(ASSET_URL_PREFIX + "/"), url


def test_page_loads_react_graphiql_and_graphql_ws() -> None:
    names = [url.rsplit("/", 1)[-1] for url in referenced_assets(graphiql_html())]
    for expected in (
        "react.production.min.js",
        "react-dom.production.min.js",
        "graphiql.min.js",
        "graphiql.min.css",
        "graphql-ws.min.js",
    ):
        assert expected in names


def test_page_references_the_endpoint() -> None:
    html = graphiql_html("/api/v2/graphql")
    assert 'const ENDPOINT = "/api/v2/graphql";' in html
    assert '"/graphql"' not in html


async def test_page_served_at_the_endpoint(client: httpx.AsyncClient) -> None:
    response = await client.get("/graphql")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "<title>Fiche GraphiQL</title>" in response.text
    assert 'const ENDPOINT = "/graphql";' in response.text


def test_endpoint_cannot_break_out_of_the_script() -> None:
    html = graphiql_html('/graphql"</script><script>alert(1)</script>')
    assert "</script><script>alert(1)" not in html
    assert html.count("</script>") == len(
        [url for url in referenced_assets(html) if url.endswith(".js")]
    ) + 1


@pytest.mark.parametrize("endpoint", ["https://evil.example/graphql", "//evil.example/graphql"])
def test_non_same_origin_endpoint_is_rejected(endpoint: str) -> None:
    with pytest.raises(ValueError):
        graphiql_html(endpoint)


def test_headers_default_to_a_bearer_placeholder_and_persist() -> None:
    html = graphiql_html()
    match = re.search(r"const DEFAULT_HEADERS = (.*);\n", html)
    assert match is not None
    headers = json.loads(json.loads(match.group(1)))
    assert headers == {"Authorization": "Bearer PASTE-TOKEN-FROM-fiche-demo"}
    assert "shouldPersistHeaders: true" in html


def test_subscriptions_use_graphql_ws_with_authorization_in_connection_params() -> None:
    html = graphiql_html()
    assert "graphqlWs.createClient(" in html
    assert "{ Authorization: authorization }" in html
    assert '"wss:" : "ws:"' in html


# ------------------------------------------------------------------ serving


async def test_every_referenced_asset_is_served(client: httpx.AsyncClient) -> None:
    for url in referenced_assets(graphiql_html()):
        response = await client.get(url)
        assert response.status_code == 200, url
        assert response.content, url
        content_type = response.headers["content-type"]
        if url.endswith(".js"):
            assert "javascript" in content_type, (url, content_type)
        elif url.endswith(".css"):
            assert content_type.startswith("text/css"), (url, content_type)
        else:
            pytest.fail(f"unexpected asset type: {url}")
        assert "max-age=" in response.headers["cache-control"]


async def test_unknown_asset_is_not_found(client: httpx.AsyncClient) -> None:
    assert (await client.get(f"{ASSET_URL_PREFIX}/nope.js")).status_code == 404
    assert (await client.get(f"{ASSET_URL_PREFIX}/../assets.lock.json")).status_code == 404


# ------------------------------------------------------------------ lock file


def test_assets_on_disk_match_the_lock() -> None:
    assert fa.check_assets() == []


def test_lock_pins_exact_versions_with_sha512_integrity() -> None:
    lock = fa.load_lock()
    versions = {package["name"]: package["version"] for package in lock["packages"]}
    assert versions["react"] == "18.2.0"
    assert versions["react-dom"] == "18.2.0"
    assert versions["graphiql"].startswith("3.")
    assert versions["graphql-ws"].startswith("5.")
    for package in lock["packages"]:
        assert re.fullmatch(r"\d+\.\d+\.\d+", package["version"]), package
        assert package["integrity"].startswith("sha512-"), package
        for entry in package["files"]:
            assert re.fullmatch(r"[0-9a-f]{64}", entry["sha256"]), entry


def test_licenses_file_lists_every_package() -> None:
    text = (ASSETS_DIR / "LICENSES.txt").read_text(encoding="utf-8")
    for package in fa.load_lock()["packages"]:
        assert f"{package['name']} {package['version']}" in text
    assert "Permission is hereby granted" in text


def test_check_reports_changed_missing_and_unlisted_files(tmp_path: Path) -> None:
    lock = fa.load_lock()
    first = lock["packages"][0]["files"][0]["path"]
    changed = tmp_path / first
    changed.parent.mkdir(parents=True)
    changed.write_bytes(b"tampered")
    (tmp_path / "extra.js").write_text("alert(1)")

    problems = fa.check_assets(tmp_path, lock)

    assert any(p.startswith(f"{first}: sha256") for p in problems)
    assert any(p.endswith(": missing") for p in problems)
    assert "extra.js: not listed in the lock file" in problems


def test_check_mode_exit_status() -> None:
    assert fa.main(["--check"]) == 0


# ------------------------------------------------------------------ fetching (no network)


def _sri(data: bytes) -> str:
    return "sha512-" + base64.b64encode(hashlib.sha512(data).digest()).decode()


def _tarball(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def _fake_registry(tarball: bytes, advertised_integrity: str) -> httpx.Client:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/demo-pkg/1.0.0":
            return httpx.Response(
                200,
                json={
                    "name": "demo-pkg",
                    "version": "1.0.0",
                    "dist": {
                        "integrity": advertised_integrity,
                        "tarball": f"{FAKE_REGISTRY}demo-pkg/-/demo-pkg-1.0.0.tgz",
                    },
                },
            )
        if request.url.path == "/demo-pkg/-/demo-pkg-1.0.0.tgz":
            return httpx.Response(200, content=tarball)
        return httpx.Response(404)

    return httpx.Client(transport=httpx.MockTransport(handler))


def _demo_lock(tmp_path: Path) -> Path:
    lock_path = tmp_path / "assets.lock.json"
    lock = {
        "lockfile_version": 1,
        "packages": [
            {
                "name": "demo-pkg",
                "version": "1.0.0",
                "license": "MIT",
                "license_files": ["package/LICENSE"],
                "files": [{"source": "package/dist/demo.min.js", "path": "demo-1.0.0/demo.min.js"}],
            }
        ],
    }
    lock_path.write_text(json.dumps(lock))
    return lock_path


def test_fetch_pins_then_verifies_and_writes_only_the_needed_files(tmp_path: Path) -> None:
    tarball = _tarball(
        {
            "package/dist/demo.min.js": b"console.log(1);",
            "package/dist/demo.js": b"console.log( 1 );",
            "package/LICENSE": b"MIT License\n\nCopyright (c) Demo\n",
        }
    )
    lock_path, assets = _demo_lock(tmp_path), tmp_path / "assets"

    with _fake_registry(tarball, _sri(tarball)) as registry:
        fa.fetch_assets(
            assets_dir=assets, lock_path=lock_path, relock=True, client=registry, registry=FAKE_REGISTRY
        )
        lock = fa.load_lock(lock_path)
        assert lock["packages"][0]["integrity"] == _sri(tarball)
        assert fa.check_assets(assets, lock) == []

        (assets / "demo-1.0.0" / "demo.min.js").write_bytes(b"changed")
        (assets / "stale.js").write_bytes(b"old")
        fa.fetch_assets(assets_dir=assets, lock_path=lock_path, client=registry, registry=FAKE_REGISTRY)

    assert fa.check_assets(assets, lock) == []
    assert sorted(p.relative_to(assets).as_posix() for p in assets.rglob("*") if p.is_file()) == [
        "LICENSES.txt",
        "demo-1.0.0/demo.min.js",
    ]
    assert "Copyright (c) Demo" in (assets / "LICENSES.txt").read_text()


def test_fetch_refuses_a_tarball_that_differs_from_the_pinned_integrity(tmp_path: Path) -> None:
    good = _tarball({"package/dist/demo.min.js": b"good", "package/LICENSE": b"MIT"})
    evil = _tarball({"package/dist/demo.min.js": b"evil", "package/LICENSE": b"MIT"})
    lock_path, assets = _demo_lock(tmp_path), tmp_path / "assets"
    with _fake_registry(good, _sri(good)) as registry:
        fa.fetch_assets(
            assets_dir=assets, lock_path=lock_path, relock=True, client=registry, registry=FAKE_REGISTRY
        )

    # The registry serves other bytes, whether or not its metadata admits it.
    for advertised in (_sri(good), _sri(evil)):
        with _fake_registry(evil, advertised) as registry, pytest.raises(fa.AssetError):
            fa.fetch_assets(assets_dir=assets, lock_path=lock_path, client=registry, registry=FAKE_REGISTRY)

    assert (assets / "demo-1.0.0" / "demo.min.js").read_bytes() == b"good"


def test_verify_integrity_needs_a_matching_sha512() -> None:
    fa.verify_integrity(b"abc", _sri(b"abc"), "abc")
    with pytest.raises(fa.AssetError, match="MISMATCH"):
        fa.verify_integrity(b"abd", _sri(b"abc"), "abd")
    sha1_only = "sha1-" + base64.b64encode(hashlib.sha1(b"abc").digest()).decode()
    with pytest.raises(fa.AssetError, match="no sha512"):
        fa.verify_integrity(b"abc", sha1_only, "abc")
