"""Addresses (C8): exactly one primary address (enforced by the database), coordinates
checked by the service and by the database, isolation."""

from __future__ import annotations

import pytest
from sqlalchemy.exc import IntegrityError

from fiche.relay import decode_id, encode_id
from fiche.plugins.customers import models
from tests.plugins.customers.fixtures import ADDRESS_CREATE, add_address, company
from tests.support import TestOrg

ADDRESSES = """
query Addresses($id: ID!) {
  customer(id: $id) {
    primaryAddress { city }
    addresses { city primary }
  }
}
"""

SET_PRIMARY = """
mutation SetPrimary($id: ID!) { addressSetPrimary(id: $id) { address { city primary } errors { code path } } }
"""

ADDRESS_UPDATE = """
mutation AddressUpdate($input: AddressUpdateInput!) {
  addressUpdate(input: $input) {
    address { label line1 postalCode city country latitude longitude primary }
    errors { code path }
  }
}
"""

ADDRESS_DELETE = """
mutation AddressDelete($id: ID!) { addressDelete(id: $id) { deletedId errors { code path } } }
"""


async def _addresses(org: TestOrg, customer_id: str) -> dict:
    return (await org.ok(ADDRESSES, {"id": customer_id}))["customer"]


async def test_first_address_becomes_primary(org: TestOrg) -> None:
    # given
    customer = await company(org, "Alpha")
    # when
    first = await add_address(org, customer["id"], "Lyon", latitude=45.764, longitude=4.8357)
    second = await add_address(org, customer["id"], "Grenoble")
    # then
    assert (first["primary"], second["primary"]) == (True, False)
    assert (first["latitude"], first["longitude"]) == (45.764, 4.8357)
    assert await _addresses(org, customer["id"]) == {
        "primaryAddress": {"city": "Lyon"},
        "addresses": [{"city": "Lyon", "primary": True}, {"city": "Grenoble", "primary": False}],
    }


async def test_set_primary_keeps_exactly_one_primary(org: TestOrg) -> None:
    # given
    customer = await company(org, "Alpha")
    await add_address(org, customer["id"], "Lyon")
    grenoble = await add_address(org, customer["id"], "Grenoble")
    # when
    data = await org.ok(SET_PRIMARY, {"id": grenoble["id"]})
    # then
    assert data["addressSetPrimary"] == {"address": {"city": "Grenoble", "primary": True}, "errors": []}
    assert await _addresses(org, customer["id"]) == {
        "primaryAddress": {"city": "Grenoble"},
        "addresses": [{"city": "Grenoble", "primary": True}, {"city": "Lyon", "primary": False}],
    }


async def test_new_primary_address_takes_the_flag(org: TestOrg) -> None:
    # given
    customer = await company(org, "Alpha")
    await add_address(org, customer["id"], "Lyon")
    # when
    await add_address(org, customer["id"], "Nantes", primary=True)
    # then
    listed = (await _addresses(org, customer["id"]))["addresses"]
    assert [address["city"] for address in listed if address["primary"]] == ["Nantes"]


async def test_primary_address_cannot_be_unset(org: TestOrg) -> None:
    # given
    customer = await company(org, "Alpha")
    lyon = await add_address(org, customer["id"], "Lyon")
    # when
    data = await org.ok(ADDRESS_UPDATE, {"input": {"id": lyon["id"], "primary": False}})
    # then
    assert data["addressUpdate"]["errors"] == [{"code": "CONFLICT", "path": ["input", "primary"]}]


async def test_deleting_the_primary_address_promotes_the_oldest_other(org: TestOrg) -> None:
    # given
    customer = await company(org, "Alpha")
    lyon = await add_address(org, customer["id"], "Lyon")
    await add_address(org, customer["id"], "Grenoble")
    await add_address(org, customer["id"], "Nantes")
    # when
    data = await org.ok(ADDRESS_DELETE, {"id": lyon["id"]})
    # then
    assert data["addressDelete"] == {"deletedId": lyon["id"], "errors": []}
    assert (await _addresses(org, customer["id"]))["primaryAddress"] == {"city": "Grenoble"}


async def test_database_refuses_two_primary_addresses(org: TestOrg) -> None:
    # given
    customer = await company(org, "Alpha")
    await add_address(org, customer["id"], "Lyon")
    _, pk = decode_id(customer["id"])
    # when / then
    async with org.state.db.session(organization_id=org.organization_id) as session:
        session.add(models.Address(customer_id=pk, line1="2 rue Neuve", city="Lyon", country="FR", is_primary=True))
        with pytest.raises(IntegrityError):
            await session.flush()


@pytest.mark.parametrize(("latitude", "longitude"), [(91.0, 2.35), (-90.5, 2.35), (48.85, 180.01), (48.85, -181.0)])
async def test_database_refuses_out_of_range_coordinates(org: TestOrg, latitude: float, longitude: float) -> None:
    # given
    customer = await company(org, "Alpha")
    _, pk = decode_id(customer["id"])
    # when / then: the CHECK constraints are the second wall behind the service
    async with org.state.db.session(organization_id=org.organization_id) as session:
        session.add(models.Address(customer_id=pk, line1="1 rue", city="Paris", country="FR", latitude=latitude, longitude=longitude, is_primary=False))
        with pytest.raises(IntegrityError):
            await session.flush()


@pytest.mark.parametrize(
    ("coordinates", "path"),
    [
        ({"latitude": 90.0001, "longitude": 2.35}, "latitude"),
        ({"latitude": -91, "longitude": 2.35}, "latitude"),
        ({"latitude": 48.85, "longitude": 180.5}, "longitude"),
        ({"latitude": 48.85, "longitude": -200}, "longitude"),
        ({"latitude": 48.85}, "longitude"),
        ({"longitude": 2.35}, "latitude"),
    ],
)
async def test_out_of_range_or_lone_coordinates_are_invalid(org: TestOrg, coordinates: dict, path: str) -> None:
    # given
    customer = await company(org, "Alpha")
    # when
    data = await org.ok(ADDRESS_CREATE, {"input": {"customerId": customer["id"], "line1": "1 rue", "city": "Paris", **coordinates}})
    # then
    assert data["addressCreate"]["address"] is None
    assert [(error["code"], error["path"]) for error in data["addressCreate"]["errors"]] == [("INVALID", ["input", path])]


async def test_extreme_valid_coordinates_are_accepted(org: TestOrg) -> None:
    # given
    customer = await company(org, "Alpha")
    # when
    address = await add_address(org, customer["id"], "Pôle", latitude=-90.0, longitude=180.0)
    # then
    assert (address["latitude"], address["longitude"]) == (-90.0, 180.0)


@pytest.mark.parametrize(("field", "value"), [("line1", " "), ("city", ""), ("country", "France")])
async def test_bad_address_fields_are_invalid(org: TestOrg, field: str, value: str) -> None:
    # given
    customer = await company(org, "Alpha")
    fields = {"customerId": customer["id"], "line1": "1 rue", "city": "Paris", field: value}
    # when
    data = await org.ok(ADDRESS_CREATE, {"input": fields})
    # then
    assert [(error["code"], error["path"]) for error in data["addressCreate"]["errors"]] == [("INVALID", ["input", field])]


async def test_address_update_checks_coordinates_as_a_pair(org: TestOrg) -> None:
    # given
    customer = await company(org, "Alpha")
    address = await add_address(org, customer["id"], "Paris", latitude=48.8566, longitude=2.3522)
    # when
    moved = await org.ok(ADDRESS_UPDATE, {"input": {"id": address["id"], "latitude": 45.764, "longitude": 4.8357, "city": "Lyon", "postalCode": "69001"}})
    broken = await org.ok(ADDRESS_UPDATE, {"input": {"id": address["id"], "latitude": None}})
    cleared = await org.ok(ADDRESS_UPDATE, {"input": {"id": address["id"], "latitude": None, "longitude": None}})
    # then
    assert moved["addressUpdate"]["address"] == {
        "label": None, "line1": "1 rue de la République", "postalCode": "69001", "city": "Lyon", "country": "FR",
        "latitude": 45.764, "longitude": 4.8357, "primary": True,
    }  # fmt: skip
    assert broken["addressUpdate"]["errors"] == [{"code": "INVALID", "path": ["input", "latitude"]}]
    assert (cleared["addressUpdate"]["address"]["latitude"], cleared["addressUpdate"]["address"]["longitude"]) == (None, None)


async def test_address_at_another_organisations_customer_is_not_found(org: TestOrg, other_org: TestOrg) -> None:
    # given
    theirs = await company(other_org, "Theirs")
    # when
    data = await org.ok(ADDRESS_CREATE, {"input": {"customerId": theirs["id"], "line1": "1 rue", "city": "Paris"}})
    # then
    assert [error["code"] for error in data["addressCreate"]["errors"]] == ["NOT_FOUND"]


async def test_another_organisations_address_behaves_as_missing(org: TestOrg, other_org: TestOrg) -> None:
    # given
    theirs = await company(other_org, "Theirs")
    address = await add_address(other_org, theirs["id"], "Lyon")
    # when
    stolen = await org.ok(SET_PRIMARY, {"id": address["id"]})
    missing = await org.ok(SET_PRIMARY, {"id": encode_id("Address", 10**9)})
    # then
    assert stolen == missing
    assert stolen["addressSetPrimary"]["errors"] == [{"code": "NOT_FOUND", "path": ["id"]}]
