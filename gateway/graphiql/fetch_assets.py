"""Rebuild or verify the GraphiQL assets from ``assets.lock.json``.

The lock file pins every npm package at an exact version, the ``integrity``
(sha512 SRI) of its tarball, and the sha256 of every file taken out of it.

Usage (from the repository root)::

    python -m fiche.graphiql.fetch_assets           # download, verify, (re)write assets/
    python -m fiche.graphiql.fetch_assets --check   # verify assets/ against the lock, no network
    python -m fiche.graphiql.fetch_assets --relock  # re-pin integrity and sha256 from the registry

``--relock`` trusts whatever the registry serves for the pinned versions, so
only use it after changing a version, and review the resulting diff.

The registry is ``npm config get registry`` when npm is installed, otherwise
``$NPM_CONFIG_REGISTRY``, otherwise the public npm registry.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import io
import json
import os
import shutil
import subprocess
import sys
import tarfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import quote

import httpx

PACKAGE_DIR = Path(__file__).resolve().parent
ASSETS_DIR = PACKAGE_DIR / "assets"
LOCK_PATH = PACKAGE_DIR / "assets.lock.json"
LICENSES_NAME = "LICENSES.txt"
DEFAULT_REGISTRY = "https://registry.npmjs.org/"

_TIMEOUT = httpx.Timeout(60.0, connect=15.0)


class AssetError(RuntimeError):
    """The registry or the files on disk do not match the lock."""


@dataclass(frozen=True)
class _Built:
    """Everything that a fetch produced, held in memory until all of it is verified."""

    files: dict[str, bytes]  # path relative to the assets dir -> content
    integrities: dict[str, str]  # "name@version" -> integrity of the tarball that was used


# ---------------------------------------------------------------- lock file


def load_lock(path: Path = LOCK_PATH) -> dict[str, Any]:
    with path.open(encoding="utf-8") as fh:
        lock = json.load(fh)
    if lock.get("lockfile_version") != 1:
        raise AssetError(f"{path}: unsupported lockfile_version {lock.get('lockfile_version')!r}")
    for package in lock["packages"]:
        for entry in package["files"]:
            _safe_relative(entry["path"])
    return lock


def write_lock(lock: Mapping[str, Any], path: Path = LOCK_PATH) -> None:
    path.write_text(json.dumps(lock, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def expected_files(lock: Mapping[str, Any]) -> dict[str, str | None]:
    """Map of asset path (relative to the assets dir) to its pinned sha256."""
    expected: dict[str, str | None] = {}
    for package in lock["packages"]:
        for entry in package["files"]:
            expected[entry["path"]] = entry.get("sha256")
    expected[LICENSES_NAME] = lock.get("generated", {}).get(LICENSES_NAME)
    return expected


def _safe_relative(path: str) -> PurePosixPath:
    pure = PurePosixPath(path)
    if pure.is_absolute() or not pure.parts or any(part in ("", ".", "..") for part in pure.parts):
        raise AssetError(f"unsafe asset path in lock file: {path!r}")
    return pure


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# ---------------------------------------------------------------- --check


def check_assets(assets_dir: Path = ASSETS_DIR, lock: Mapping[str, Any] | None = None) -> list[str]:
    """Compare the files in ``assets_dir`` with the lock; return the problems (empty when fine).

    Needs no network. Files in ``assets_dir`` that the lock does not list are
    problems too, so nothing unreviewed gets served.
    """
    if lock is None:
        lock = load_lock()
    problems: list[str] = []
    expected = expected_files(lock)
    for rel, digest in sorted(expected.items()):
        file = assets_dir / rel
        if digest is None:
            problems.append(f"{rel}: no sha256 pinned in the lock file (run --relock)")
        elif not file.is_file():
            problems.append(f"{rel}: missing")
        else:
            actual = _sha256(file.read_bytes())
            if actual != digest:
                problems.append(f"{rel}: sha256 {actual} does not match the lock ({digest})")
    if assets_dir.is_dir():
        for file in sorted(p for p in assets_dir.rglob("*") if p.is_file()):
            rel = file.relative_to(assets_dir).as_posix()
            if rel not in expected:
                problems.append(f"{rel}: not listed in the lock file")
    return problems


# ---------------------------------------------------------------- registry


def registry_url() -> str:
    """The npm registry to use, always ending with a slash."""
    url = ""
    npm = shutil.which("npm")
    if npm:
        try:
            result = subprocess.run(
                [npm, "config", "get", "registry"],
                capture_output=True,
                text=True,
                timeout=30,
                check=False,
            )
        except (OSError, subprocess.SubprocessError):
            result = None
        if result is not None and result.returncode == 0:
            url = result.stdout.strip()
    if not url or url in ("undefined", "null"):
        url = os.environ.get("NPM_CONFIG_REGISTRY") or os.environ.get("npm_config_registry") or ""
    url = url.strip() or DEFAULT_REGISTRY
    return url if url.endswith("/") else url + "/"


def verify_integrity(data: bytes, integrity: str, what: str) -> None:
    """Check ``data`` against an SRI string; only sha512 entries are accepted."""
    expected = [tok.split("-", 1)[1] for tok in integrity.split() if tok.startswith("sha512-")]
    if not expected:
        raise AssetError(f"{what}: pinned integrity {integrity!r} has no sha512 entry")
    actual = base64.b64encode(hashlib.sha512(data).digest()).decode("ascii")
    # SRI allows options after a '?'; npm never writes them, but ignore them if present.
    if actual not in {value.split("?", 1)[0] for value in expected}:
        raise AssetError(
            f"{what}: tarball sha512 INTEGRITY MISMATCH\n"
            f"  expected {integrity}\n"
            f"  got      sha512-{actual}\n"
            "Refusing to use it: the registry served different bytes than the ones pinned."
        )


def _manifest(client: httpx.Client, registry: str, name: str, version: str) -> dict[str, Any]:
    url = f"{registry}{quote(name, safe='@')}/{quote(version, safe='')}"
    response = client.get(url, headers={"Accept": "application/json"})
    if response.status_code != 200:
        raise AssetError(f"{name}@{version}: registry answered {response.status_code} for {url}")
    manifest = response.json()
    if manifest.get("version") != version or "dist" not in manifest:
        raise AssetError(f"{name}@{version}: unexpected manifest from {url}")
    return manifest


def _download_tarball(
    client: httpx.Client, registry: str, name: str, version: str, pinned: str | None
) -> tuple[bytes, str]:
    """Fetch the tarball; verify it against ``pinned`` (or, when relocking, the registry's value)."""
    what = f"{name}@{version}"
    dist = _manifest(client, registry, name, version)["dist"]
    advertised = dist.get("integrity")
    if pinned is not None and advertised is not None and advertised != pinned:
        raise AssetError(
            f"{what}: the registry advertises integrity {advertised}, "
            f"but the lock pins {pinned}. Refusing to continue."
        )
    integrity = pinned or advertised
    if not integrity:
        raise AssetError(f"{what}: the registry gives no integrity for the tarball")
    tarball_url = dist.get("tarball")
    if not tarball_url:
        raise AssetError(f"{what}: the registry gives no tarball URL")
    print(f"  downloading {what} ...", file=sys.stderr)
    response = client.get(tarball_url)
    if response.status_code != 200:
        raise AssetError(f"{what}: tarball download answered {response.status_code}")
    data = response.content
    verify_integrity(data, integrity, what)
    return data, integrity


def _read_members(tarball: bytes, names: Iterable[str], what: str) -> dict[str, bytes]:
    """Read the named regular files out of a .tgz, without extracting anything else."""
    wanted = set(names)
    found: dict[str, bytes] = {}
    with tarfile.open(fileobj=io.BytesIO(tarball), mode="r:gz") as archive:
        for member in archive:
            if member.name in wanted and member.isfile():
                extracted = archive.extractfile(member)
                if extracted is not None:
                    found[member.name] = extracted.read()
    missing = sorted(wanted - found.keys())
    if missing:
        raise AssetError(f"{what}: tarball lacks {', '.join(missing)}")
    return found


def render_licenses(lock: Mapping[str, Any], texts: Mapping[str, list[str]]) -> bytes:
    """Build LICENSES.txt from the licence texts found in the tarballs (keyed by package name)."""
    rule = "=" * 78
    lines = [
        "Third-party software shipped in this directory",
        "",
        "These files are copied unmodified from the npm packages listed below",
        "(see ../assets.lock.json for versions and checksums, and",
        "../fetch_assets.py for how they are fetched and verified).",
        "",
    ]
    for package in lock["packages"]:
        name, version = package["name"], package["version"]
        lines += [rule, f"{name} {version}", f"License: {package['license']}"]
        shipped = [entry["path"] for entry in package["files"]]
        lines.append("Files: " + (", ".join(shipped) if shipped else "(none shipped separately)"))
        if package.get("note"):
            lines.append(f"Note: {package['note']}")
        lines += [rule, ""]
        source = package.get("license_from", name)
        body = texts.get(source)
        if not body:
            raise AssetError(f"{name}@{version}: no licence text available")
        for text in body:
            lines += [text.strip("\n"), ""]
    return ("\n".join(lines).rstrip("\n") + "\n").encode("utf-8")


def build(
    lock: Mapping[str, Any],
    *,
    client: httpx.Client,
    registry: str,
    relock: bool = False,
) -> _Built:
    """Download every package, verify it, and return the asset files in memory."""
    files: dict[str, bytes] = {}
    integrities: dict[str, str] = {}
    licence_texts: dict[str, list[str]] = {}
    for package in lock["packages"]:
        name, version = package["name"], package["version"]
        what = f"{name}@{version}"
        pinned = None if relock else package.get("integrity")
        if not relock and not pinned:
            raise AssetError(f"{what}: no integrity pinned in the lock file (run --relock)")
        tarball, integrity = _download_tarball(client, registry, name, version, pinned)
        integrities[what] = integrity
        sources = [entry["source"] for entry in package["files"]]
        licence_sources = list(package.get("license_files", []))
        members = _read_members(tarball, [*sources, *licence_sources], what)
        for entry in package["files"]:
            data = members[entry["source"]]
            if not relock and _sha256(data) != entry.get("sha256"):
                raise AssetError(
                    f"{what}: {entry['source']} sha256 {_sha256(data)} does not match the lock "
                    f"({entry.get('sha256')})"
                )
            files[entry["path"]] = data
        licence_texts[name] = [members[src].decode("utf-8") for src in licence_sources]
    licenses = render_licenses(lock, licence_texts)
    if not relock:
        pinned_licenses = lock.get("generated", {}).get(LICENSES_NAME)
        if _sha256(licenses) != pinned_licenses:
            raise AssetError(
                f"{LICENSES_NAME}: generated sha256 {_sha256(licenses)} does not match the lock "
                f"({pinned_licenses}); run --relock if the licence layout changed on purpose"
            )
    files[LICENSES_NAME] = licenses
    return _Built(files=files, integrities=integrities)


def relocked(lock: Mapping[str, Any], built: _Built) -> dict[str, Any]:
    """A copy of ``lock`` with integrity and sha256 values taken from ``built``."""
    new = json.loads(json.dumps(lock))
    for package in new["packages"]:
        package["integrity"] = built.integrities[f"{package['name']}@{package['version']}"]
        for entry in package["files"]:
            entry["sha256"] = _sha256(built.files[entry["path"]])
    new["generated"] = {LICENSES_NAME: _sha256(built.files[LICENSES_NAME])}
    return new


def write_assets(built: _Built, assets_dir: Path = ASSETS_DIR) -> None:
    """Write the built files and delete anything else in ``assets_dir``."""
    assets_dir.mkdir(parents=True, exist_ok=True)
    for rel, data in built.files.items():
        target = assets_dir.joinpath(*_safe_relative(rel).parts)
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(target.name + ".tmp")
        tmp.write_bytes(data)
        tmp.replace(target)
    keep = set(built.files)
    for file in sorted(p for p in assets_dir.rglob("*") if p.is_file()):
        if file.relative_to(assets_dir).as_posix() not in keep:
            print(f"  removing stale {file.relative_to(assets_dir)}", file=sys.stderr)
            file.unlink()
    for directory in sorted((p for p in assets_dir.rglob("*") if p.is_dir()), reverse=True):
        if not any(directory.iterdir()):
            directory.rmdir()


def fetch_assets(
    *,
    assets_dir: Path = ASSETS_DIR,
    lock_path: Path = LOCK_PATH,
    relock: bool = False,
    client: httpx.Client | None = None,
    registry: str | None = None,
) -> None:
    """Download, verify and write the assets (and, with ``relock``, rewrite the lock)."""
    lock = load_lock(lock_path)
    registry = registry or registry_url()
    print(f"Using npm registry {registry}", file=sys.stderr)
    own_client = client is None
    if client is None:
        client = httpx.Client(timeout=_TIMEOUT, follow_redirects=True)
    try:
        built = build(lock, client=client, registry=registry, relock=relock)
    finally:
        if own_client:
            client.close()
    if relock:
        write_lock(relocked(lock, built), lock_path)
    write_assets(built, assets_dir)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m fiche.graphiql.fetch_assets",
        description="(Re)create the offline GraphiQL assets from the npm registry.",
    )
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--check", action="store_true", help="verify files on disk only (no network)")
    mode.add_argument(
        "--relock",
        action="store_true",
        help="re-pin integrity and sha256 in the lock from what the registry serves",
    )
    args = parser.parse_args(argv)

    if args.check:
        problems = check_assets()
        for problem in problems:
            print(f"MISMATCH {problem}", file=sys.stderr)
        if problems:
            print("GraphiQL assets do NOT match assets.lock.json", file=sys.stderr)
            return 1
        print("GraphiQL assets match assets.lock.json")
        return 0

    try:
        fetch_assets(relock=args.relock)
    except (AssetError, httpx.HTTPError) as exc:
        print(f"ERROR: {exc}", file=sys.stderr)
        return 1
    problems = check_assets()
    if problems:
        for problem in problems:
            print(f"MISMATCH {problem}", file=sys.stderr)
        return 1
    print("GraphiQL assets written and verified")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
