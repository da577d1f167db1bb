"""The per-operation context lets go of what its operation loaded as soon as it closes."""

from __future__ import annotations

import asyncio
import gc
import weakref

from fiche.context import operation_context
from tests.support import TestOrg


async def test_what_an_operation_loaded_is_freed_when_it_closes_without_the_cyclic_collector(org: TestOrg) -> None:
    # given: an operation that loaded a user through a loader (the loaders hold the
    # context, the context holds the loaders)
    viewer = org.viewer("admin")
    gc.disable()
    try:
        async with operation_context(org.state, viewer) as context:
            user = await context.loaders["users_by_id"].load(viewer.user_id)
            loaded = weakref.ref(user)
            del user
            assert loaded() is not None
        # when: the operation is over, nothing else refers to its context, and the event
        # loop has run the callbacks that still held the load's future
        del context
        for _ in range(3):
            await asyncio.sleep(0)
        # then: reference counting alone freed the loaded object
        assert loaded() is None
    finally:
        gc.enable()
