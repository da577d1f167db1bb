"""A file stored for a row lives exactly as long as the transaction that adds the row
commits (``fiche.files.store_for_transaction``): rolled back, refused at the commit or
abandoned, the transaction takes its files with it; committed, they stay."""

from __future__ import annotations

import pytest

from fiche.context import ConnectionContext, OperationContext
from fiche.errors import UserErrors
from fiche.files import store_for_transaction
from tests.support import TestOrg


class Payload:
    def __init__(self, errors: object = None) -> None:
        self.errors = errors


def writer(org: TestOrg) -> OperationContext:
    return OperationContext(ConnectionContext(org.state, viewer=org.viewer("admin")))


async def stored(org: TestOrg, key: str) -> bool:
    try:
        await org.state.storage.read(key)
    except FileNotFoundError:
        return False
    return True


async def test_a_committed_transaction_keeps_its_files(org: TestOrg) -> None:
    context = writer(org)
    keys: list[str] = []

    async def change() -> Payload:
        await context.session()
        keys.append(await store_for_transaction(context, b"kept", suffix=".txt"))
        return Payload()

    await context.mutate(change, Payload)
    await context.close()
    assert await stored(org, keys[0])
    assert await org.state.storage.read(keys[0]) == b"kept"


async def test_a_client_mistake_after_storing_removes_the_file(org: TestOrg) -> None:
    context = writer(org)
    keys: list[str] = []

    async def change() -> Payload:
        await context.session()
        keys.append(await store_for_transaction(context, b"photo", suffix=".png"))
        raise UserErrors.invalid("Say who signed.", "input", "signerName")

    result = await context.mutate(change, Payload)
    assert result.errors
    assert not await stored(org, keys[0])


async def test_a_transaction_refused_at_the_commit_removes_its_files(org: TestOrg) -> None:
    context = writer(org)
    keys: list[str] = []

    async def refuse() -> None:
        raise RuntimeError("the database went away at the commit")

    async def change() -> Payload:
        await context.session()
        keys.append(await store_for_transaction(context, b"one"))
        keys.append(await store_for_transaction(context, b"two"))
        context.before_commit(refuse)
        return Payload()

    with pytest.raises(RuntimeError):
        await context.mutate(change, Payload)
    assert [await stored(org, key) for key in keys] == [False, False]


async def test_an_operation_that_ends_without_committing_removes_its_files(org: TestOrg) -> None:
    context = writer(org)
    await context.session()
    key = await store_for_transaction(context, b"abandoned")
    assert await stored(org, key)
    await context.close()
    assert not await stored(org, key)


async def test_files_of_an_earlier_committed_mutation_survive_a_later_rollback(org: TestOrg) -> None:
    """Mutations of one operation run one after the other on one context: a later
    mutation's rollback removes only its own files."""
    context = writer(org)
    keys: list[str] = []

    async def first() -> Payload:
        await context.session()
        keys.append(await store_for_transaction(context, b"first"))
        return Payload()

    async def second() -> Payload:
        keys.append(await store_for_transaction(context, b"second"))
        raise UserErrors.invalid("No.")

    await context.mutate(first, Payload)
    await context.mutate(second, Payload)
    await context.close()
    assert [await stored(org, key) for key in keys] == [True, False]
