"""Helpers of the customers tests: create customers, contacts and addresses through the API."""

from __future__ import annotations

from typing import Any

from tests.support import TestOrg

__all__ = [
    "CUSTOMER_CREATE",
    "add_address",
    "add_contact",
    "company",
    "person",
]

CUSTOMER_CREATE = """
mutation CustomerCreate($input: CustomerCreateInput!) {
  customerCreate(input: $input) {
    customer { id reference displayName kind archived }
    errors { code message path }
  }
}
"""

CONTACT_CREATE = """
mutation ContactCreate($input: ContactCreateInput!) {
  contactCreate(input: $input) {
    contact { id name preferred }
    errors { code message path }
  }
}
"""

ADDRESS_CREATE = """
mutation AddressCreate($input: AddressCreateInput!) {
  addressCreate(input: $input) {
    address { id city primary latitude longitude }
    errors { code message path }
  }
}
"""


async def _created(org: TestOrg, document: str, field: str, key: str, variables: dict[str, Any], as_: str) -> dict[str, Any]:
    data = await org.ok(document, {"input": variables}, as_=as_)
    payload = data[field]
    assert payload["errors"] == [], payload["errors"]
    return dict(payload[key])


async def company(org: TestOrg, name: str, *, as_: str = "admin", **fields: Any) -> dict[str, Any]:
    """A professional customer named ``name``; ``fields`` are more input fields."""
    return await _created(org, CUSTOMER_CREATE, "customerCreate", "customer", {"kind": "PROFESSIONAL", "companyName": name, **fields}, as_)


async def person(org: TestOrg, first: str, last: str, *, as_: str = "admin", **fields: Any) -> dict[str, Any]:
    """An individual customer."""
    return await _created(
        org, CUSTOMER_CREATE, "customerCreate", "customer", {"kind": "INDIVIDUAL", "firstName": first, "lastName": last, **fields}, as_
    )


async def add_contact(org: TestOrg, customer_id: str, name: str, *, as_: str = "admin", **fields: Any) -> dict[str, Any]:
    return await _created(org, CONTACT_CREATE, "contactCreate", "contact", {"customerId": customer_id, "name": name, **fields}, as_)


async def add_address(org: TestOrg, customer_id: str, city: str = "Lyon", *, as_: str = "admin", **fields: Any) -> dict[str, Any]:
    values = {"customerId": customer_id, "line1": "1 rue de la République", "city": city, **fields}
    return await _created(org, ADDRESS_CREATE, "addressCreate", "address", values, as_)


async def seed_customers(org: TestOrg, count: int, *, prefix: str = "Client") -> list[int]:
    """``count`` main customers written directly (fast), each with a representative, two
    contacts (one preferred), two addresses (one primary) and one branch with a contact."""
    from fiche.plugins.customers import models
    from fiche.plugins.customers.services.references import format_reference, reserve_numbers

    representative = org.users["member"].id
    async with org.state.db.session(organization_id=org.organization_id, user_id=org.users["admin"].id) as session, session.begin():
        numbers = iter(await reserve_numbers(session, count * 2))
        mains = [
            models.Customer(
                kind=models.CustomerKind.PROFESSIONAL,
                company_name=f"{prefix} {index:03d}",
                reference=format_reference(next(numbers)),
                representative_id=representative,
                archived=False,
            )
            for index in range(count)
        ]
        session.add_all(mains)
        await session.flush()
        branches = [
            models.Customer(
                kind=models.CustomerKind.PROFESSIONAL,
                company_name=f"{main.company_name} Agence",
                reference=format_reference(next(numbers)),
                parent_id=main.id,
                archived=False,
            )
            for main in mains
        ]
        session.add_all(branches)
        await session.flush()
        rows: list[Any] = []
        for main, branch in zip(mains, branches, strict=True):
            rows += [
                models.Contact(customer_id=main.id, name="Anne", preferred=True, portal_access=False),
                models.Contact(customer_id=main.id, name="Bruno", preferred=False, portal_access=False),
                models.Contact(customer_id=branch.id, name="Chloé", preferred=True, portal_access=False),
                models.Address(customer_id=main.id, line1="1 rue", city="Lyon", country="FR", latitude=45.76, longitude=4.83, is_primary=True),
                models.Address(customer_id=main.id, line1="2 rue", city="Vienne", country="FR", is_primary=False),
            ]
        session.add_all(rows)
        ids = [main.id for main in mains]
    return ids
