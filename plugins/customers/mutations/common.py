"""Helpers shared by the mutations: IDs from input, fields the client actually sent."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import strawberry

from fiche.relay import input_pk as pk_of
from fiche.relay import encode_id
from fiche.plugins.customers.services.custom_fields import ValueIn

__all__ = ["INPUT", "custom_values", "gid", "optional_pk", "pk_of", "sent"]

INPUT = "What to create or change."


def optional_pk(global_id: str | None, type_name: str, *path: str) -> int | None:
    return None if global_id is None else pk_of(global_id, type_name, *path)


def gid(type_name: str, pk: int) -> strawberry.ID:
    return strawberry.ID(encode_id(type_name, pk))


def sent(source: Any, names: Mapping[str, str]) -> dict[str, Any]:
    """``{service field: value}`` for each input attribute the client sent (null included)."""
    return {field: getattr(source, attribute) for attribute, field in names.items() if getattr(source, attribute) is not strawberry.UNSET}


def custom_values(values: Any) -> list[ValueIn]:
    return [
        ValueIn(key=value.key, text=value.text, number=value.number, date=value.date, boolean=value.boolean, choice=value.choice)
        for value in values or ()
    ]
