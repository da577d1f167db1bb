"""Automatic persisted queries (Apollo's protocol) and trusted documents.

*Automatic persisted queries*: a client sends ``extensions.persistedQuery =
{"version": 1, "sha256Hash": <hex>}`` and no ``query``; the gateway runs the document it
stored under that hash, or answers ``PERSISTED_QUERY_NOT_FOUND`` (message
``PersistedQueryNotFound``), and the client sends the hash again with the full text, which
is checked against the hash and stored. Queries then fit in a GET URL, so HTTP caches can
keep their answers (GET runs queries only, never mutations: Strawberry refuses them).
The store is per process, bounded in entries and in characters, least recently used out.

*Trusted documents* (``FICHE_TRUSTED_DOCUMENTS=<manifest.json>``): only the documents of
the manifest run, whatever the transport (HTTP, WebSocket): sent by ID (the persisted-query
extension, or a ``documentId``) or as their exact text. Anything else gets
``DOCUMENT_NOT_TRUSTED`` before it is parsed, so untrusted text cannot probe the schema
either. The manifest is Apollo's (``{"format": "apollo-persisted-query-manifest",
"operations": [{"id", "body", ...}]}``) or a plain ``{"<id>": "<document>"}`` object (the
GraphQL Code Generator client preset, Relay).

:class:`Documents` does both; :class:`fiche.schema.FicheSchema` calls it before every
operation, so every transport goes through it.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import OrderedDict
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from graphql import GraphQLError

__all__ = [
    "DOCUMENT_NOT_TRUSTED",
    "Documents",
    "MAX_STORED_CHARACTERS",
    "MAX_STORED_DOCUMENTS",
    "PERSISTED_QUERY_HASH_MISMATCH",
    "PERSISTED_QUERY_NOT_FOUND",
    "PERSISTED_QUERY_NOT_SUPPORTED",
    "load_manifest",
    "sha256",
]

PERSISTED_QUERY_NOT_FOUND = "PERSISTED_QUERY_NOT_FOUND"
PERSISTED_QUERY_NOT_SUPPORTED = "PERSISTED_QUERY_NOT_SUPPORTED"
PERSISTED_QUERY_HASH_MISMATCH = "PERSISTED_QUERY_HASH_MISMATCH"
DOCUMENT_NOT_TRUSTED = "DOCUMENT_NOT_TRUSTED"
CODES = frozenset({PERSISTED_QUERY_NOT_FOUND, PERSISTED_QUERY_NOT_SUPPORTED, PERSISTED_QUERY_HASH_MISMATCH, DOCUMENT_NOT_TRUSTED})

MAX_STORED_DOCUMENTS = 1000
MAX_STORED_CHARACTERS = 8 * 1024 * 1024
_SHA256 = re.compile(r"^[0-9a-f]{64}$")


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _error(code: str, message: str) -> GraphQLError:
    return GraphQLError(message, extensions={"code": code})


def _not_trusted() -> GraphQLError:
    return _error(
        DOCUMENT_NOT_TRUSTED,
        "This gateway runs only its trusted documents, and this one is not among them: send the ID of a document of the manifest.",
    )


class DocumentRefused(Exception):
    """The operation cannot run: its one error, with a code from :data:`CODES`."""

    def __init__(self, error: GraphQLError) -> None:
        super().__init__(error.message)
        self.error = error


def load_manifest(path: str) -> dict[str, str]:
    """ID → document of a trusted-documents manifest; ``ValueError`` saying what is wrong."""
    try:
        data = json.loads(Path(path).read_text())
    except (OSError, ValueError) as exc:
        raise ValueError(f"FICHE_TRUSTED_DOCUMENTS: cannot read {path}: {exc}") from exc
    if isinstance(data, dict) and isinstance(data.get("operations"), list):
        entries = [(op.get("id"), op.get("body")) for op in data["operations"] if isinstance(op, dict)]
        if len(entries) != len(data["operations"]):
            raise ValueError(f"FICHE_TRUSTED_DOCUMENTS: {path}: every operation must be an object with `id` and `body`")
    elif isinstance(data, dict):
        entries = list(data.items())
    else:
        raise ValueError(f"FICHE_TRUSTED_DOCUMENTS: {path} is neither an Apollo manifest nor an {{id: document}} object")
    manifest: dict[str, str] = {}
    for key, body in entries:
        if not isinstance(key, str) or not isinstance(body, str) or not key or not body:
            raise ValueError(f"FICHE_TRUSTED_DOCUMENTS: {path}: every entry needs a non-empty string id and document")
        manifest[key] = body
    return manifest


class Documents:
    """Turns what a client sent (text, hash, ID) into the document to run, or refuses it."""

    def __init__(self, trusted: Mapping[str, str] | None = None, *, max_documents: int = MAX_STORED_DOCUMENTS, max_characters: int = MAX_STORED_CHARACTERS) -> None:
        self.trusted = dict(trusted) if trusted is not None else None
        # Trusted text is recognised by its hash, whatever ID the manifest gives it.
        self._trusted_hashes = frozenset(sha256(body) for body in self.trusted.values()) if self.trusted is not None else frozenset()
        self._by_hash = {sha256(body): body for body in self.trusted.values()} if self.trusted is not None else {}
        self.max_documents = max_documents
        self.max_characters = max_characters
        self._stored: OrderedDict[str, str] = OrderedDict()
        self._characters = 0

    @classmethod
    def from_settings(cls, trusted_documents: str) -> Documents:
        return cls(load_manifest(trusted_documents) if trusted_documents else None)

    # -- the automatic persisted-query store ---------------------------------------------
    def _remember(self, digest: str, query: str) -> None:
        if digest in self._stored:
            self._stored.move_to_end(digest)
            return
        if len(query) > self.max_characters // 4:
            return  # too large to keep: the client keeps sending the text, and it still runs
        self._stored[digest] = query
        self._characters += len(query)
        while len(self._stored) > self.max_documents or self._characters > self.max_characters:
            _, evicted = self._stored.popitem(last=False)
            self._characters -= len(evicted)

    def _recall(self, digest: str) -> str | None:
        query = self._stored.get(digest)
        if query is not None:
            self._stored.move_to_end(digest)
        return query

    def __len__(self) -> int:
        return len(self._stored)

    # -- resolution ----------------------------------------------------------------------
    def resolve(self, query: str | None, extensions: Mapping[str, Any] | None) -> str | None:
        """The document to run; raises :class:`DocumentRefused`. ``None`` when the client
        sent neither text nor ID (Strawberry's own "no query" error follows)."""
        extensions = extensions or {}
        persisted = extensions.get("persistedQuery")
        document_id = extensions.get("documentId")
        if persisted is not None:
            digest = self._persisted_hash(persisted)
            if query is not None and sha256(query) != digest:
                raise DocumentRefused(_error(PERSISTED_QUERY_HASH_MISMATCH, "The `sha256Hash` of `persistedQuery` is not the SHA-256 of `query`."))
            if self.trusted is not None:
                body = self._by_hash.get(digest) or self.trusted.get(digest)
                if body is None and query is not None:
                    raise DocumentRefused(_not_trusted())
                if body is None:
                    raise DocumentRefused(_error(PERSISTED_QUERY_NOT_FOUND, "PersistedQueryNotFound"))
                return body
            if query is None:
                found = self._recall(digest)
                if found is None:
                    raise DocumentRefused(_error(PERSISTED_QUERY_NOT_FOUND, "PersistedQueryNotFound"))
                return found
            self._remember(digest, query)
            return query
        if isinstance(document_id, str) and query is None:
            body = (self.trusted or {}).get(document_id)
            if body is None:
                raise DocumentRefused(_error(PERSISTED_QUERY_NOT_FOUND, f"No trusted document has the ID {document_id[:80]!r}."))
            return body
        if self.trusted is not None and query is not None and sha256(query) not in self._trusted_hashes:
            raise DocumentRefused(_not_trusted())
        return query

    @staticmethod
    def _persisted_hash(persisted: Any) -> str:
        if not isinstance(persisted, Mapping) or persisted.get("version") != 1:
            raise DocumentRefused(_error(PERSISTED_QUERY_NOT_SUPPORTED, "Only `persistedQuery` version 1 is supported."))
        digest = persisted.get("sha256Hash")
        if not isinstance(digest, str) or not _SHA256.match(digest):
            raise DocumentRefused(_error(PERSISTED_QUERY_NOT_SUPPORTED, "`persistedQuery.sha256Hash` must be 64 lowercase hexadecimal digits."))
        return digest
