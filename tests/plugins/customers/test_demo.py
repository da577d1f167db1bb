"""Demo data (``seed_demo``): realistic customers at the requested size."""

from __future__ import annotations

import dataclasses
from collections import Counter

from sqlalchemy import func, select

from fiche import hookimpl
from fiche.context import AppState
from fiche.demo import DemoResult, create_demo
from fiche.plugin_host import BUILTIN_PLUGINS, get_plugin_manager
from fiche.plugins.customers import models
from tests.support import count_statements

OTHER_PLUGINS = tuple(name for name, _ in BUILTIN_PLUGINS if name != "customers")


async def _demo(state: AppState, size: int) -> tuple[DemoResult, dict]:
    """A demo organisation seeded by the customers plugin alone (the others are disabled)."""
    settings = dataclasses.replace(state.settings, disabled_plugins=OTHER_PLUGINS)
    pm = get_plugin_manager(settings)
    shared: dict = {}

    class Spy:
        """Registered after the customers plugin, it sees what the later plugins will see."""

        @hookimpl
        def seed_demo(self, demo: object) -> None:
            shared.update(demo.shared)  # type: ignore[attr-defined]

    pm.register(Spy(), name="spy")
    result = await create_demo(settings, state.db, pm, size=size, seed=7)
    return result, shared


async def test_hook_seed_demo_creates_the_requested_number_of_customers(state: AppState) -> None:
    # when
    result, shared = await _demo(state, 30)
    # then
    async with state.db.reader(result.organization_id) as session:
        kinds = Counter((await session.scalars(select(models.Customer.kind))).all())
        branches = await session.scalar(select(func.count()).select_from(models.Customer).where(models.Customer.parent_id.is_not(None)))
        references = (await session.scalars(select(models.Customer.reference))).all()
    assert sum(kinds.values()) == 30
    assert kinds[models.CustomerKind.PROFESSIONAL] > 0 and kinds[models.CustomerKind.INDIVIDUAL] > 0
    assert branches == 3
    assert len(set(references)) == 30
    assert sorted(shared["customer_ids"]) == sorted(set(shared["customer_ids"])) and len(shared["customer_ids"]) == 30


async def test_hook_seed_demo_gives_each_customer_contacts_and_addresses(state: AppState) -> None:
    # when
    result, shared = await _demo(state, 30)
    # then
    async with state.db.reader(result.organization_id) as session:
        contacts = (await session.execute(select(models.Contact.customer_id, models.Contact.preferred, models.Contact.id))).all()
        addresses = (
            await session.execute(select(models.Address.customer_id, models.Address.is_primary, models.Address.latitude, models.Address.longitude))
        ).all()
    per_customer = Counter(row.customer_id for row in contacts)
    assert set(per_customer) == set(shared["customer_ids"])
    assert all(1 <= count <= 3 for count in per_customer.values())
    assert Counter(row.customer_id for row in contacts if row.preferred) == Counter(shared["customer_ids"])
    assert shared["preferred_contacts"] == {row.customer_id: row.id for row in contacts if row.preferred}
    assert Counter(row.customer_id for row in addresses if row.is_primary) == Counter(shared["customer_ids"])
    # real French places: metropolitan France lies within these bounds
    assert all(41.3 < row.latitude < 51.2 and -5.2 < row.longitude < 9.6 for row in addresses)


async def test_hook_seed_demo_defines_custom_fields_with_values_and_memos(state: AppState) -> None:
    # when
    result, _ = await _demo(state, 30)
    # then
    async with state.db.reader(result.organization_id) as session:
        keys = set((await session.scalars(select(models.CustomField.key))).all())
        values = await session.scalar(select(func.count()).select_from(models.CustomValue))
        memos = await session.scalar(select(func.count()).select_from(models.CustomerMemo))
        sequence = await session.scalar(select(models.CustomerSequence.next_value))
    assert keys == {"signup_date", "sector", "employees", "newsletter", "erp_code"}
    assert values is not None and values >= 60
    assert memos is not None and 0 < memos < 30
    assert sequence == 31  # the next customer created by hand gets a fresh reference


async def test_hook_seed_demo_writes_in_bulk_not_row_by_row(state: AppState) -> None:
    # given
    with count_statements(state.db) as small:
        await _demo(state, 20)
    # when
    with count_statements(state.db) as large:
        await _demo(state, 400)
    # then: twenty times the customers, about the same number of statements
    assert large.count <= small.count + 10
