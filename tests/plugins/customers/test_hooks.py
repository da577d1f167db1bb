"""The hooks the customers plugin calls on every other plugin when customers merge or are
deleted, proved with a recording plugin registered for these tests."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from fiche import hookimpl
from fiche.errors import UserErrors
from fiche.relay import decode_id
from fiche.plugins.customers import models
from tests.plugins.customers.fixtures import add_contact, company
from tests.support import TestOrg

MERGE = """
mutation Merge($keep: ID!, $duplicate: ID!) {
  customerMerge(keepId: $keep, duplicateId: $duplicate) { customer { id } errors { code message path } }
}
"""

DELETE = """
mutation Delete($id: ID!) { customerDelete(id: $id) { deletedId errors { code message path } } }
"""

PROFILE = """
query Profile($id: ID!) { customer(id: $id) { id contacts { nodes { name } } } }
"""


class Recorder:
    """A plugin that records the customer hooks it receives, and can object to them."""

    def __init__(self) -> None:
        self.merges: list[tuple[int, int, int]] = []
        self.deleted: list[tuple[int, bool]] = []
        self.blockers: dict[int, list[str]] = {}
        self.refuse_merge = False

    @hookimpl
    async def merge_customers(self, session: AsyncSession, source_id: int, target_id: int) -> None:
        # What the plugin sees: the duplicate's contacts already moved, in the same transaction.
        moved = (await session.scalars(select(models.Contact.id).where(models.Contact.customer_id == target_id))).all()
        self.merges.append((source_id, target_id, len(moved)))
        if self.refuse_merge:
            raise UserErrors.conflict("The loyalty programme forbids this merge.")

    @hookimpl
    async def customer_deletion_blockers(self, session: AsyncSession, customer_id: int) -> list[str]:
        return self.blockers.get(customer_id, [])

    @hookimpl
    async def customer_deleted(self, session: AsyncSession, customer_id: int, context: Any) -> None:
        still_there = await session.scalar(select(models.Customer.id).where(models.Customer.id == customer_id))
        self.deleted.append((customer_id, still_there is not None))


class SyncBlocker:
    """A second plugin answering synchronously: the answers of every plugin are collected."""

    def __init__(self) -> None:
        self.blocked: set[int] = set()

    @hookimpl
    def customer_deletion_blockers(self, customer_id: int) -> list[str]:
        return ["2 open invoices"] if customer_id in self.blocked else []


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
def sync_blocker() -> SyncBlocker:
    return SyncBlocker()


@pytest.fixture
def plugins(recorder: Recorder, sync_blocker: SyncBlocker) -> list[tuple[str, Any]]:
    return [("recorder", recorder), ("sync_blocker", sync_blocker)]


def _pk(customer: dict) -> int:
    return decode_id(customer["id"])[1]


async def test_hook_merge_customers_is_called_inside_the_merge(org: TestOrg, recorder: Recorder) -> None:
    # given
    keep, duplicate = await company(org, "Dupré"), await company(org, "Dupre")
    await add_contact(org, duplicate["id"], "Bruno")
    # when
    data = await org.ok(MERGE, {"keep": keep["id"], "duplicate": duplicate["id"]}, as_="manager")
    # then
    assert data["customerMerge"]["errors"] == []
    assert recorder.merges == [(_pk(duplicate), _pk(keep), 1)]


async def test_hook_merge_customers_objection_rolls_the_whole_merge_back(org: TestOrg, recorder: Recorder) -> None:
    # given
    keep, duplicate = await company(org, "Dupré"), await company(org, "Dupre")
    await add_contact(org, duplicate["id"], "Bruno")
    recorder.refuse_merge = True
    # when
    data = await org.ok(MERGE, {"keep": keep["id"], "duplicate": duplicate["id"]}, as_="manager")
    # then: nothing moved, the duplicate is still there
    assert data["customerMerge"] == {
        "customer": None,
        "errors": [{"code": "CONFLICT", "message": "The loyalty programme forbids this merge.", "path": []}],
    }
    assert (await org.ok(PROFILE, {"id": duplicate["id"]}))["customer"]["contacts"]["nodes"] == [{"name": "Bruno"}]
    assert (await org.ok(PROFILE, {"id": keep["id"]}))["customer"]["contacts"]["nodes"] == []


async def test_hook_customer_deletion_blockers_refuse_with_every_reason(
    org: TestOrg, recorder: Recorder, sync_blocker: SyncBlocker
) -> None:
    # given
    customer = await company(org, "Dupré")
    recorder.blockers[_pk(customer)] = ["1 signed quote"]
    sync_blocker.blocked.add(_pk(customer))
    # when
    data = await org.ok(DELETE, {"id": customer["id"]}, as_="manager")
    # then
    errors = data["customerDelete"]["errors"]
    assert data["customerDelete"]["deletedId"] is None
    assert [(error["code"], error["path"]) for error in errors] == [("CONFLICT", ["id"])]
    assert "1 signed quote" in errors[0]["message"] and "2 open invoices" in errors[0]["message"]
    assert recorder.deleted == []
    assert (await org.ok(PROFILE, {"id": customer["id"]}))["customer"] is not None


async def test_hook_customer_deleted_runs_before_the_row_goes(org: TestOrg, recorder: Recorder) -> None:
    # given
    customer = await company(org, "Dupré")
    # when
    data = await org.ok(DELETE, {"id": customer["id"]}, as_="admin")
    # then
    assert data["customerDelete"] == {"deletedId": customer["id"], "errors": []}
    assert recorder.deleted == [(_pk(customer), True)]
    assert (await org.ok(PROFILE, {"id": customer["id"]}))["customer"] is None
