"""Parsing client JSON (request bodies, GET ``variables``/``extensions``, multipart
``operations``/``map``, WebSocket messages) with a nesting limit.

A document nested thousands of levels deep is no GraphQL request: left to a recursive
parser or to graphql-core's recursive value coercion it ends in a ``RecursionError``, an
HTTP 500. Parsing refuses it up front with a :class:`json.JSONDecodeError`, the error the
HTTP view answers with 400 and the ``graphql-transport-ws`` handler with close code 4400.
"""

from __future__ import annotations

import json

import orjson

__all__ = ["MAX_JSON_DEPTH", "JSONTooDeep", "NotAnObject", "loads", "loads_object"]

# Containers in one document, the request envelope included: a POST body
# ``{"variables": {"input": {...}}}`` spends two levels before the first input value.
# Generous for any real input (the deepest in the schema nests a handful of levels) and far
# below the interpreter's recursion limit.
MAX_JSON_DEPTH = 64


class JSONTooDeep(json.JSONDecodeError):
    """A JSON document with more nested arrays and objects than allowed."""

    def __init__(self, document: str, max_depth: int) -> None:
        super().__init__(f"JSON nested deeper than {max_depth} levels", document, 0)
        self.max_depth = max_depth


class NotAnObject(json.JSONDecodeError):
    """Valid JSON that is not the object expected (a number, a string, a list, null)."""

    def __init__(self, document: str) -> None:
        super().__init__("expected a JSON object", document, 0)


def _depth_exceeds(value: object, max_depth: int) -> bool:
    """Whether ``value`` nests more than ``max_depth`` containers (iteratively: no
    recursion on client data)."""
    stack: list[tuple[object, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children: list[object] | tuple[object, ...] = list(item.values())
        elif isinstance(item, list):
            children = item
        else:
            continue
        if depth > max_depth:
            return True
        stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return False


def loads(data: str | bytes, max_depth: int = MAX_JSON_DEPTH) -> object:
    """The JSON value of ``data``; :class:`json.JSONDecodeError` (an ``orjson`` one for
    invalid JSON, :class:`JSONTooDeep` past ``max_depth``) otherwise.

    ``orjson`` stops at 1,024 levels by itself, so a deeper document costs no more than
    reading its first kilobyte."""
    try:
        value = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        # orjson's own limit (1,024 levels) speaks of "depth limit exceeded": the same
        # mistake, told the same way (any other wording is still a JSONDecodeError).
        if exc.msg.startswith("depth limit"):
            raise JSONTooDeep(exc.doc, max_depth) from exc
        raise
    if _depth_exceeds(value, max_depth):
        raise JSONTooDeep(data if isinstance(data, str) else "", max_depth)
    return value


def loads_object(data: str | bytes, max_depth: int = MAX_JSON_DEPTH) -> dict[str, object]:
    """Like :func:`loads` for a document that must be a JSON object (:class:`NotAnObject`)."""
    value = loads(data, max_depth)
    if not isinstance(value, dict):
        raise NotAnObject(data if isinstance(data, str) else "")
    return value
