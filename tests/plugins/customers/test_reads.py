"""The row builders of the read paths make the objects the dataclasses' own ``__init__``
(and ``Node.__post_init__``, which encodes the ID) would make, from a row or an entity."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import pytest

from fiche.plugins.customers import enums, models, reads
from fiche.plugins.customers.types import Address, Contact, Customer

AT = dt.datetime(2026, 11, 29, 16, 0, tzinfo=dt.UTC)


@pytest.mark.parametrize("parent_id", [None, 3])
def test_a_customer_row_makes_the_object_the_dataclass_would(parent_id: int | None) -> None:
    # given
    row = SimpleNamespace(
        id=7, kind=models.CustomerKind.PROFESSIONAL, company_name="Acme", first_name=None, last_name=None, display_name="Acme",
        registration_number="123", reference="C-7", email="a@acme.test", phone=None, archived=False, archived_at=None,
        created_at=AT, updated_at=AT, representative_id=2, parent_id=parent_id, created_by_id=1, updated_by_id=None,
    )  # fmt: skip
    # when
    built = reads.customer_from_row(row)
    # then
    expected = Customer(
        pk=7, kind=enums.CustomerKind.PROFESSIONAL, company_name="Acme", first_name=None, last_name=None, display_name="Acme",
        registration_number="123", reference="C-7", email="a@acme.test", phone=None, archived=False, archived_at=None,
        created_at=AT, updated_at=AT, is_branch=parent_id is not None, representative_pk=2, parent_pk=parent_id,
        created_by_pk=1, updated_by_pk=None,
    )  # fmt: skip
    assert type(built) is Customer and vars(built) == vars(expected)


@pytest.mark.parametrize(("kind", "role", "shown"), [(models.ContactRole.BUYER, None, "Buyer"), (models.ContactRole.OTHER, "Chef", "Chef"), (None, None, None)])
def test_a_contact_row_makes_the_object_the_dataclass_would(kind: models.ContactRole | None, role: str | None, shown: str | None) -> None:
    # given
    row = SimpleNamespace(
        id=9, customer_id=7, name="Ada", role_kind=kind, role=role, email=None, phone="01", mobile=None, preferred=True,
        portal_access=False, created_at=AT, updated_at=AT,
    )  # fmt: skip
    # when
    built = reads.contact_from_row(row)
    # then
    expected = Contact(
        pk=9, customer_pk=7, name="Ada", role=shown, role_kind=enums.ContactRole[kind.name] if kind else None, email=None, phone="01",
        mobile=None, preferred=True, portal_access=False, created_at=AT, updated_at=AT,
    )  # fmt: skip
    assert type(built) is Contact and vars(built) == vars(expected)


def test_an_address_row_makes_the_object_the_dataclass_would() -> None:
    # given
    row = SimpleNamespace(
        id=4, customer_id=7, label="Siège", line1="1 rue", line2=None, postal_code="75001", city="Paris", country="FR",
        latitude=48.8, longitude=2.3, is_primary=True,
    )  # fmt: skip
    # when
    built = reads.address_from_row(row)
    # then
    expected = Address(
        pk=4, customer_pk=7, label="Siège", line1="1 rue", line2=None, postal_code="75001", city="Paris", country="FR",
        latitude=48.8, longitude=2.3, primary=True,
    )  # fmt: skip
    assert type(built) is Address and vars(built) == vars(expected)
