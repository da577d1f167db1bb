"""Per-operation loaders: one statement per batch, whatever the number of customers.

Paged lists (contacts, branches, documents) are keyed by :class:`PageKey`; keys with the
same ``(first, after)`` are answered by one ``paginate_grouped`` statement.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from aiodataloader import DataLoader
from sqlalchemy import case, or_, select

from fiche.db import in_keys
from fiche.relay import AnyColumn, AnySelect, Connection, SortKey, keyed_rows, paginate_grouped, rows_by_id
from fiche.plugins.customers import models, reads
from fiche.plugins.customers.custom_field_types import CustomFieldValue
from fiche.plugins.customers.keys import PageKey
from fiche.plugins.customers.types import Address, Contact, Customer, CustomerDocument, CustomerMemo, CustomerRelation

if TYPE_CHECKING:
    from fiche.context import OperationContext

__all__ = [
    "AddressesByCustomerLoader",
    "BranchesByCustomerLoader",
    "ContactsByCustomerLoader",
    "CustomValuesByCustomerLoader",
    "CustomersByIdLoader",
    "DocumentsByCustomerLoader",
    "MemoByCustomerLoader",
    "PreferredContactByCustomerLoader",
    "RelationsByCustomerLoader",
    "make_loaders",
]

K = TypeVar("K")
V = TypeVar("V")
T = TypeVar("T")


class _Loader(DataLoader[K, V], Generic[K, V]):
    def __init__(self, context: OperationContext) -> None:
        super().__init__()
        self.context = context


def _customers() -> AnySelect:
    return select(*reads.CUSTOMER_COLUMNS)


class CustomersByIdLoader(_Loader[int, "Customer | None"]):
    async def batch_load_fn(self, keys: list[int]) -> list[Customer | None]:
        async with self.context.read() as session:
            return await rows_by_id(session, _customers, models.Customer.id, keys, reads.customer_from_row, shape=f"{__name__}.CustomersByIdLoader")


# Each pages loader's ordering, made once (its statement is kept once made: see paginate_grouped).
_ORDERS: dict[type, tuple[SortKey, ...]] = {}


class _PagesLoader(_Loader[PageKey, Connection[T]]):
    """Pages of a per-customer list, one statement per distinct ``(first, after)``."""

    build: Callable[[Any], T]

    def group(self) -> AnyColumn:
        raise NotImplementedError

    def statement(self) -> AnySelect:
        raise NotImplementedError

    def keys(self) -> Sequence[SortKey]:
        raise NotImplementedError

    async def batch_load_fn(self, keys: list[PageKey]) -> list[Connection[T]]:
        groups: dict[tuple[int, str | None], list[int]] = defaultdict(list)
        for key in keys:
            groups[(key.first, key.after)].append(key.customer_pk)
        pages: dict[PageKey, Connection[T]] = {}
        order = _ORDERS.get(type(self)) or _ORDERS.setdefault(type(self), tuple(self.keys()))
        async with self.context.read() as session:
            for (first, after), customer_pks in groups.items():
                found = await paginate_grouped(
                    session,
                    self.statement,
                    self.group(),
                    sorted(set(customer_pks)),
                    order,
                    first=first,
                    after=after,
                    build=self.build,
                    shape=type(self).__qualname__ + "@" + type(self).__module__,  # the statement depends on nothing else
                )
                for pk, page in found.items():
                    pages[PageKey(pk, first, after)] = page
        return [pages[key] for key in keys]


class ContactsByCustomerLoader(_PagesLoader[Contact]):
    build = staticmethod(reads.contact_from_row)

    def group(self) -> AnyColumn:
        return models.Contact.customer_id

    def statement(self) -> AnySelect:
        return select(*reads.CONTACT_COLUMNS)

    def keys(self) -> Sequence[SortKey]:
        # The preferred contact first; a boolean cannot take part in a keyset comparison.
        preferred_first = case((models.Contact.preferred.is_(True), 0), else_=1)
        return [SortKey(preferred_first), SortKey(models.Contact.sort_name), SortKey(models.Contact.id)]


class BranchesByCustomerLoader(_PagesLoader[Customer]):
    build = staticmethod(reads.customer_from_row)

    def group(self) -> AnyColumn:
        return models.Customer.parent_id

    def statement(self) -> AnySelect:
        return select(*reads.CUSTOMER_COLUMNS)

    def keys(self) -> Sequence[SortKey]:
        return [SortKey(models.Customer.sort_name), SortKey(models.Customer.id)]


class DocumentsByCustomerLoader(_PagesLoader[CustomerDocument]):
    build = staticmethod(reads.document_from_row)

    def group(self) -> AnyColumn:
        return models.CustomerDocument.customer_id

    def statement(self) -> AnySelect:
        return select(*reads.DOCUMENT_COLUMNS)

    def keys(self) -> Sequence[SortKey]:
        return [SortKey(models.CustomerDocument.created_at, descending=True), SortKey(models.CustomerDocument.id, descending=True)]


class PreferredContactByCustomerLoader(_Loader[int, "Contact | None"]):
    async def batch_load_fn(self, keys: list[int]) -> list[Contact | None]:
        async with self.context.read() as session:
            rows = await keyed_rows(
                session,
                models.Contact.customer_id,
                keys,
                lambda customers: select(*reads.CONTACT_COLUMNS).where(customers, models.Contact.preferred.is_(True)),
                shape=f"{__name__}.PreferredContactByCustomerLoader",
            )
        found = {row.customer_id: reads.contact_from_row(row) for row in rows}
        return [found.get(key) for key in keys]


class AddressesByCustomerLoader(_Loader[int, list[Address]]):
    async def batch_load_fn(self, keys: list[int]) -> list[list[Address]]:
        async with self.context.read() as session:
            rows = await keyed_rows(
                session,
                models.Address.customer_id,
                keys,
                lambda customers: select(*reads.ADDRESS_COLUMNS)
                .where(customers)
                .order_by(models.Address.customer_id, models.Address.is_primary.desc(), models.Address.id),
                shape=f"{__name__}.AddressesByCustomerLoader",
            )
        found: dict[int, list[Address]] = defaultdict(list)
        for row in rows:
            found[row.customer_id].append(reads.address_from_row(row))
        return [found[key] for key in keys]


class MemoByCustomerLoader(_Loader[int, "CustomerMemo | None"]):
    async def batch_load_fn(self, keys: list[int]) -> list[CustomerMemo | None]:
        memo = models.CustomerMemo
        async with self.context.read() as session:
            rows = (
                await session.execute(
                    select(memo.customer_id, memo.body, memo.updated_at, memo.updated_by_id).where(in_keys(session, memo.customer_id, keys))
                )
            ).all()
        found = {row.customer_id: reads.memo_from_row(row) for row in rows}
        return [found.get(key) for key in keys]


class CustomValuesByCustomerLoader(_Loader[int, list[CustomFieldValue]]):
    async def batch_load_fn(self, keys: list[int]) -> list[list[CustomFieldValue]]:
        value = models.CustomValue
        async with self.context.read() as session:
            rows = (
                await session.execute(
                    select(value.customer_id, value.text_value, value.number_value, value.date_value, value.bool_value, *reads.FIELD_COLUMNS)
                    .join(models.CustomField, models.CustomField.id == value.field_id)
                    .where(in_keys(session, value.customer_id, keys))
                    .order_by(value.customer_id, models.CustomField.position, models.CustomField.id)
                )
            ).all()
        fields: dict[int, Any] = {}
        found: dict[int, list[CustomFieldValue]] = defaultdict(list)
        for row in rows:
            field = fields.get(row.id) or fields.setdefault(row.id, reads.field_from_row(row))
            typed = reads.value_from_row(field, row)
            if typed is not None:
                found[row.customer_id].append(typed)
        return [found[key] for key in keys]


class RelationsByCustomerLoader(_Loader[int, list[CustomerRelation]]):
    async def batch_load_fn(self, keys: list[int]) -> list[list[CustomerRelation]]:
        relation = models.CustomerRelation
        async with self.context.read() as session:
            rows = (
                await session.execute(
                    select(*reads.RELATION_COLUMNS)
                    .where(or_(relation.customer_id.in_(keys), relation.related_customer_id.in_(keys)))
                    .order_by(relation.id)
                )
            ).all()
        wanted = set(keys)
        found: dict[int, list[CustomerRelation]] = defaultdict(list)
        for row in rows:
            built = reads.relation_from_row(row)
            for end in {row.customer_id, row.related_customer_id} & wanted:
                found[end].append(built)
        return [found[key] for key in keys]


def make_loaders(context: OperationContext) -> dict[str, DataLoader[Any, Any]]:
    return {
        "customers_by_id": CustomersByIdLoader(context),
        "contacts_by_customer": ContactsByCustomerLoader(context),
        "preferred_contact_by_customer": PreferredContactByCustomerLoader(context),
        "addresses_by_customer": AddressesByCustomerLoader(context),
        "branches_by_customer": BranchesByCustomerLoader(context),
        "memo_by_customer": MemoByCustomerLoader(context),
        "custom_values_by_customer": CustomValuesByCustomerLoader(context),
        "relations_by_customer": RelationsByCustomerLoader(context),
        "documents_by_customer": DocumentsByCustomerLoader(context),
    }
