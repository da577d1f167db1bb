"""How operations are executed: the breadth-first executor and the batch-resolver API.

``FICHE_EXECUTOR=breadth`` (the default) runs operations with
:class:`~gateway.execution.executor.BreadthFirstExecutor`; ``graphql-core`` keeps
graphql-core's depth-first executor. Plugins declare the batch form of a field with
:func:`~gateway.execution.batch.batched`.
"""

from __future__ import annotations

from typing import Any

from fiche.execution.batch import BatchResolverError, batch_form, batched, load_optional
from fiche.execution.executor import FALLBACKS, BreadthFirstExecutor

__all__ = ["EXECUTORS", "FALLBACKS", "BatchResolverError", "BreadthFirstExecutor", "batch_form", "batched", "executor_class", "load_optional"]

# ``FICHE_EXECUTOR`` values and the graphql-core executor class each selects (None:
# Strawberry's default, graphql-core's own executor).
EXECUTORS: dict[str, type[Any] | None] = {"breadth": BreadthFirstExecutor, "graphql-core": None}


def executor_class(name: str) -> type[Any] | None:
    """The executor class for a ``FICHE_EXECUTOR`` value; raises ValueError on an unknown one."""
    try:
        return EXECUTORS[name]
    except KeyError:
        raise ValueError(f"FICHE_EXECUTOR must be one of {', '.join(EXECUTORS)}, not {name!r}") from None
