"""What a resolver's selection asks for, read from Strawberry's ``info.selected_fields``:
the fields among selections (fragments looked inside) and the nodes of a connection.

Plugins use it to read only what a page's selection needs (a lean read when every field
asked for is one a lean row carries)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import strawberry
from strawberry.types.nodes import SelectedField

__all__ = ["connection_nodes", "fields_of", "named"]


def fields_of(selections: Sequence[Any]) -> Iterator[SelectedField]:
    """Every field among ``selections``, looking inside fragments."""
    for selection in selections:
        if isinstance(selection, SelectedField):
            yield selection
        else:
            yield from fields_of(selection.selections)


def named(selections: Sequence[Any], name: str) -> Iterator[SelectedField]:
    """The fields called ``name`` among ``selections``, looking inside fragments."""
    return (field for field in fields_of(selections) if field.name == name)


def connection_nodes(info: strawberry.Info) -> list[SelectedField]:
    """The node selections of the connection field being resolved: ``edges { node }`` and
    ``nodes``, of every field node the operation merged into this one."""
    nodes: list[SelectedField] = []
    for field in info.selected_fields:
        nodes += [node for edges in named(field.selections, "edges") for node in named(edges.selections, "node")]
        nodes += list(named(field.selections, "nodes"))
    return nodes
