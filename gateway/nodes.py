"""``node(id:)`` and ``nodes(ids:)``: resolve any global ID through the resolvers plugins
register, tenant-checked and visibility-checked by those resolvers."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Annotated, TYPE_CHECKING, Any

import strawberry

from fiche.cost import list_size
from fiche.errors import PublicError
from fiche.relay import InvalidID, Node, decode_id

if TYPE_CHECKING:
    from fiche.context import OperationContext

__all__ = ["NodeQueries", "NodeResolver"]

NodeResolver = Callable[["OperationContext", Sequence[int]], Awaitable[Sequence[Any]]]


@strawberry.type
class NodeQueries:
    @strawberry.field(description="The object with this global ID, or null when it does not exist or you may not see it.")
    async def node(self, info: strawberry.Info, id: Annotated[strawberry.ID, strawberry.argument(description="A global ID.")]) -> Node | None:
        context: OperationContext = info.context
        context.require_viewer()
        try:
            return await context.load_node(id)
        except InvalidID as exc:
            raise PublicError.bad_request(str(exc)) from exc

    @strawberry.field(description="The objects with these global IDs, in order; null for each one missing or hidden.", metadata=list_size(argument="ids"))
    async def nodes(self, info: strawberry.Info, ids: Annotated[list[strawberry.ID], strawberry.argument(description="Global IDs; at most the maximum page size.")]) -> list[Node | None]:
        context: OperationContext = info.context
        context.require_viewer()
        if len(ids) > context.settings.max_page_size:
            raise PublicError.bad_request(f"At most {context.settings.max_page_size} IDs at once.")
        try:
            for global_id in ids:
                decode_id(global_id)
        except InvalidID as exc:
            raise PublicError.bad_request(str(exc)) from exc
        return list(await context.load_nodes(ids))
