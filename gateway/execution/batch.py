"""Batch resolvers: a field resolved once for every parent at a selection position.

A plugin writes the batch form of a field — parents in, one value per parent out, in the
same order — and decorates it with :func:`batched`::

    @strawberry.field(description="Who wrote it; null if the user was removed.")
    @batched
    async def author(notes: Sequence[Note], info: strawberry.Info) -> list[User | None]:
        return await users_by_id(info).load_many_optional([note.author_pk for note in notes])

The decorator returns an ordinary per-object resolver (``root``, ``info`` and the GraphQL
arguments; its GraphQL type is the element type of the ``list[...]`` return annotation),
so graphql-core's executor, and any code that calls the field per object, keeps working:
it calls the batch form with a list of one parent, and a DataLoader behind it still
merges those calls into one statement. The breadth-first executor
(:mod:`fiche.execution.executor`) finds the batch form on the field and calls it once
per position with every parent. The first parameter is the parents; the second must be
named ``info``; further parameters are the field's GraphQL arguments, as in any
Strawberry resolver. An item of the returned list that is an ``Exception`` becomes that
parent's field error.
"""

from __future__ import annotations

import inspect
import re
import typing
from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import Any, Protocol, TypeVar

from strawberry.types.field import StrawberryField

__all__ = ["BatchFunction", "BatchResolverError", "batch_form", "batched", "load_optional"]

BatchFunction = Callable[..., Any]
K = TypeVar("K")
V = TypeVar("V")
K_contra = TypeVar("K_contra", contravariant=True)
V_co = TypeVar("V_co", covariant=True)


class _Loader(Protocol[K_contra, V_co]):
    def load_many(self, keys: Iterable[K_contra], /) -> Awaitable[Sequence[V_co]]: ...

_BATCH_ATTRIBUTE = "__fiche_batch__"
_LIST_ANNOTATION = re.compile(r"^\s*(?:list|Sequence|typing\.Sequence|collections\.abc\.Sequence)\[(?P<item>.*)\]\s*$", re.S)


class BatchResolverError(TypeError):
    """A batch resolver's signature cannot be turned into a field resolver."""


def _item_annotation(annotation: Any, name: str) -> Any:
    """``X`` from ``list[X]`` / ``Sequence[X]``, given as a string or as a type."""
    if isinstance(annotation, str):
        match = _LIST_ANNOTATION.match(annotation)
        if match:
            return match.group("item")
    elif typing.get_origin(annotation) in (list, Sequence):
        (item,) = typing.get_args(annotation)
        return item
    raise BatchResolverError(f"the batch resolver {name} must be annotated to return list[...], one value per parent")


def batched(batch: BatchFunction) -> Callable[..., Any]:
    """Turn the batch form of a field into its per-object resolver, keeping the batch
    form for the breadth-first executor (see the module docstring)."""
    if not inspect.iscoroutinefunction(batch):
        raise BatchResolverError(f"the batch resolver {batch.__qualname__} must be `async def`")
    signature = inspect.signature(batch)
    parameters = list(signature.parameters.values())
    if len(parameters) < 2 or parameters[1].name != "info":
        raise BatchResolverError(f"the batch resolver {batch.__qualname__} must take (parents, info, ...arguments)")
    parents = parameters[0].name
    item = _item_annotation(signature.return_annotation, batch.__qualname__)

    async def per_object(root: Any, info: Any, **arguments: Any) -> Any:
        (value,) = await batch([root], info, **arguments)
        if isinstance(value, Exception):
            raise value
        return value

    per_object.__name__ = batch.__name__
    per_object.__qualname__ = batch.__qualname__
    per_object.__module__ = batch.__module__
    per_object.__doc__ = batch.__doc__
    per_object.__signature__ = signature.replace(  # type: ignore[attr-defined]
        parameters=[inspect.Parameter("root", inspect.Parameter.POSITIONAL_OR_KEYWORD), *parameters[1:]],
        return_annotation=item,
    )
    annotations = {name: value for name, value in batch.__annotations__.items() if name not in (parents, "return")}
    per_object.__annotations__ = {**annotations, "return": item}
    setattr(per_object, _BATCH_ATTRIBUTE, batch)
    return per_object


def batch_form(field: StrawberryField) -> BatchFunction | None:
    """The batch form of ``field``'s resolver, or None when it has only a per-object one."""
    resolver = field.base_resolver
    if resolver is None:
        return None
    return getattr(resolver._unbound_wrapped_func, _BATCH_ATTRIBUTE, None)


async def load_optional(loader: _Loader[K, V], keys: Sequence[K | None]) -> list[V | None]:
    """``loader.load_many(keys)`` in one batch, with None for each None key (a nullable
    foreign key: a DataLoader refuses ``load(None)``)."""
    present = [key for key in keys if key is not None]
    loaded = iter(await loader.load_many(present) if present else ())
    return [None if key is None else next(loaded) for key in keys]
