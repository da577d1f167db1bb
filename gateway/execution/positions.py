"""Where values stand in a response, and what marks a failed one.

The breadth-first executor (:mod:`fiche.execution.executor`) handles columns of values,
one per slot of a selection position. A slot's response path is only needed for a
per-object resolver's ``info`` or for an error, so :class:`Spots` make paths on demand; a
failed slot holds :class:`Failed`, and a null bound for the nearest nullable position
travels up as :class:`Propagate`.
"""

from __future__ import annotations

from bisect import bisect_right

from graphql import GraphQLError
from graphql.pyutils import Path

__all__ = ["ROOT", "Failed", "FieldSpots", "ItemSpots", "Propagate", "Record", "RootSpots", "Spots", "Subset"]


class Record:
    """One field error and the position its null landed on (None: the whole data)."""

    __slots__ = ("error", "position")

    def __init__(self, error: GraphQLError) -> None:
        self.error = error
        self.position: Path | None = None


class Failed:
    """A slot whose field failed; the nullability of the slot decides what it becomes."""

    __slots__ = ("record",)

    def __init__(self, record: Record) -> None:
        self.record = record


class Propagate:
    """A null travelling up from a non-null position, with the errors that caused it."""

    __slots__ = ("records",)

    def __init__(self, records: list[Record]) -> None:
        self.records = records


class Spots:
    """The response paths of a column of values, made only when something needs them
    (a per-object resolver's ``info``, an error): most values never get one."""

    __slots__ = ()

    def path(self, index: int) -> Path | None:
        raise NotImplementedError

    def at(self, index: int) -> Path:
        """The path of a value's slot (a field or a list item: never the root)."""
        path = self.path(index)
        assert path is not None, "a value's slot is below the root"
        return path


class RootSpots(Spots):
    """The root value's position: the response itself."""

    __slots__ = ()

    def path(self, index: int) -> Path | None:
        return None


class FieldSpots(Spots):
    """A field of each parent: ``parent path + response name``."""

    __slots__ = ("_cache", "name", "parents", "typename")

    def __init__(self, parents: Spots, name: str, typename: str) -> None:
        self.parents = parents
        self.name = name
        self.typename = typename
        self._cache: dict[int, Path] = {}

    def path(self, index: int) -> Path:
        path = self._cache.get(index)
        if path is None:
            path = self._cache[index] = Path(self.parents.path(index), self.name, self.typename)
        return path


class ItemSpots(Spots):
    """The items of a column of lists, flattened: ``list path + index``."""

    __slots__ = ("owners", "parent", "starts")

    def __init__(self, parent: Spots, starts: list[int], owners: list[int]) -> None:
        self.parent = parent
        self.starts = starts  # flat index where each non-empty list begins
        self.owners = owners  # the parent slot of each of those lists

    def path(self, index: int) -> Path:
        at = bisect_right(self.starts, index) - 1
        return Path(self.parent.path(self.owners[at]), index - self.starts[at], None)


class Subset(Spots):
    """Some slots of another column (the non-null objects, one runtime type, ...)."""

    __slots__ = ("parent", "slots")

    def __init__(self, parent: Spots, slots: list[int]) -> None:
        self.parent = parent
        self.slots = slots

    def path(self, index: int) -> Path | None:
        return self.parent.path(self.slots[index])


ROOT = RootSpots()
