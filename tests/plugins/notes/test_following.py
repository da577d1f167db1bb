"""Following (N3): the bell on a customer, its followers, and FOLLOWED_CUSTOMER_NOTE
notifications — for notes by others only, once even when also mentioned."""

from __future__ import annotations

from fiche.relay import encode_id
from tests.plugins.notes.support import (
    FOLLOW,
    NOTE_UPDATE,
    UNFOLLOW,
    add_note,
    create_customer,
    inbox,
    inboxes,
    nobody_but,
)
from tests.support import TestOrg

FOLLOW_STATE = """
query($id: ID!) { node(id: $id) { ... on Customer { isFollowed followers { edges { node { handle } } } } } }
"""
FOLLOWED = """
{ viewer { followedCustomers { edges { node { id ... on Customer { displayName } } } } } }
"""
PREFERENCE = """
mutation($kind: String!, $enabled: Boolean!) { notificationPreferenceSet(kind: $kind, enabled: $enabled) { errors { code } } }
"""


async def follow(org: TestOrg, customer: str, who: str) -> dict:
    data = await org.ok(FOLLOW, {"id": customer}, as_=who)
    assert data["customerFollow"]["errors"] == []
    return data["customerFollow"]


async def test_following_a_customer_rings_the_bell(org: TestOrg) -> None:
    # given
    customer = await create_customer(org)
    # when
    payload = await follow(org, customer, "member")
    # then
    assert payload == {"isFollowed": True, "customer": {"id": customer}, "errors": []}
    state = (await org.ok(FOLLOW_STATE, {"id": customer}, as_="member"))["node"]
    assert state["isFollowed"] is True
    assert state["followers"]["edges"] == [{"node": {"handle": "member"}}]


async def test_is_followed_is_per_viewer(org: TestOrg) -> None:
    # given
    customer = await create_customer(org)
    await follow(org, customer, "member")
    # when
    state = (await org.ok(FOLLOW_STATE, {"id": customer}, as_="member2"))["node"]
    # then
    assert state["isFollowed"] is False


async def test_following_twice_keeps_one_follow(org: TestOrg) -> None:
    # given
    customer = await create_customer(org)
    await follow(org, customer, "member")
    # when
    await follow(org, customer, "member")
    # then
    state = (await org.ok(FOLLOW_STATE, {"id": customer}))["node"]
    assert state["followers"]["edges"] == [{"node": {"handle": "member"}}]


async def test_unfollowing_stops_the_bell(org: TestOrg) -> None:
    # given
    customer = await create_customer(org)
    await follow(org, customer, "member")
    # when
    data = await org.ok(UNFOLLOW, {"id": customer}, as_="member")
    await add_note(org, "nouvelle note", targetId=customer)
    # then
    assert data["customerUnfollow"]["isFollowed"] is False
    assert await inbox(org, "member") == []


async def test_the_viewer_lists_the_customers_they_follow_latest_first(org: TestOrg) -> None:
    # given
    first = await create_customer(org, "Premier")
    second = await create_customer(org, "Second")
    await create_customer(org, "Pas suivi")
    await follow(org, first, "member")
    await follow(org, second, "member")
    # when
    data = await org.ok(FOLLOWED, as_="member")
    # then
    assert [edge["node"]["id"] for edge in data["viewer"]["followedCustomers"]["edges"]] == [second, first]


async def test_following_an_unknown_customer_is_not_found(org: TestOrg) -> None:
    # when
    data = await org.ok(FOLLOW, {"id": encode_id("Customer", 987654321)})
    # then
    assert [(e["code"], e["path"]) for e in data["customerFollow"]["errors"]] == [("NOT_FOUND", ["customerId"])]


async def test_following_another_organisations_customer_is_not_found(org: TestOrg, other_org: TestOrg) -> None:
    # given
    foreign = await create_customer(other_org, "Foreign")
    # when
    data = await org.ok(FOLLOW, {"id": foreign})
    # then
    assert [e["code"] for e in data["customerFollow"]["errors"]] == ["NOT_FOUND"]


async def test_following_something_that_is_not_a_customer_is_invalid(org: TestOrg) -> None:
    # when
    data = await org.ok(FOLLOW, {"id": encode_id("User", org.users["member"].id)})
    # then
    assert [e["code"] for e in data["customerFollow"]["errors"]] == ["INVALID"]


# -- notifications -------------------------------------------------------------------------


async def test_followers_are_notified_of_a_new_note_by_someone_else(org: TestOrg) -> None:
    # given
    customer = await create_customer(org, "Dupont SA")
    await follow(org, customer, "member")
    await follow(org, customer, "technician")
    # when
    note = await add_note(org, "Livraison décalée", as_="manager", targetId=customer)
    # then
    [notification] = await inbox(org, "member")
    assert (notification["kind"], notification["subject"], notification["target"]) == (
        "FOLLOWED_CUSTOMER_NOTE",
        note["id"],
        customer,
    )
    assert await inboxes(org) == nobody_but({"member": ["FOLLOWED_CUSTOMER_NOTE"], "technician": ["FOLLOWED_CUSTOMER_NOTE"]}, org)


async def test_a_follower_is_not_notified_of_their_own_note(org: TestOrg) -> None:
    # given
    customer = await create_customer(org)
    await follow(org, customer, "member")
    # when
    await add_note(org, "ma note", as_="member", targetId=customer)
    # then
    assert await inboxes(org) == nobody_but({}, org)


async def test_a_follower_who_is_mentioned_gets_one_mention(org: TestOrg) -> None:
    # given
    customer = await create_customer(org)
    await follow(org, customer, "member")
    await follow(org, customer, "member2")
    # when
    await add_note(org, "@member à voir", as_="manager", targetId=customer)
    # then
    assert await inboxes(org) == nobody_but({"member": ["MENTION"], "member2": ["FOLLOWED_CUSTOMER_NOTE"]}, org)


async def test_a_follower_who_turned_mentions_off_still_hears_of_the_note_once(org: TestOrg) -> None:
    # given
    customer = await create_customer(org)
    await follow(org, customer, "member")
    await org.ok(PREFERENCE, {"kind": "MENTION", "enabled": False}, as_="member")
    # when
    await add_note(org, "@member à voir", as_="manager", targetId=customer)
    # then
    assert await inboxes(org) == nobody_but({"member": ["FOLLOWED_CUSTOMER_NOTE"]}, org)


async def test_a_follower_who_turned_followed_notes_off_is_not_notified(org: TestOrg) -> None:
    # given
    customer = await create_customer(org)
    await follow(org, customer, "member")
    await org.ok(PREFERENCE, {"kind": "FOLLOWED_CUSTOMER_NOTE", "enabled": False}, as_="member")
    # when
    await add_note(org, "à voir", as_="manager", targetId=customer)
    # then
    assert await inbox(org, "member") == []


async def test_editing_a_note_does_not_notify_followers_again(org: TestOrg) -> None:
    # given
    customer = await create_customer(org)
    await follow(org, customer, "member")
    note = await add_note(org, "v1", as_="manager", targetId=customer)
    # when
    await org.ok(NOTE_UPDATE, {"input": {"id": note["id"], "body": "v2"}}, as_="manager")
    # then
    assert await kinds_of(org, "member") == ["FOLLOWED_CUSTOMER_NOTE"]


async def test_a_deactivated_follower_is_neither_listed_nor_notified(org: TestOrg) -> None:
    # given
    customer = await create_customer(org)
    await follow(org, customer, "member")
    await org.ok(
        "mutation($input: UserUpdateInput!) { userUpdate(input: $input) { errors { code } } }",
        {"input": {"id": encode_id("User", org.users["member"].id), "isActive": False}},
    )
    # when
    await add_note(org, "nouvelle note", as_="manager", targetId=customer)
    # then
    state = (await org.ok(FOLLOW_STATE, {"id": customer}))["node"]
    assert state["followers"]["edges"] == []
    assert await inbox(org, "member") == []


async def test_followers_of_a_main_customer_are_not_notified_of_branch_notes(org: TestOrg) -> None:
    # given
    main = await create_customer(org, "Main")
    branch = await create_customer(org, "Branch", parent_id=main)
    await follow(org, main, "member")
    # when
    await add_note(org, "sur la succursale", as_="manager", targetId=branch)
    # then: the bell is per customer (a branch has its own)
    assert await inbox(org, "member") == []


async def kinds_of(org: TestOrg, who: str) -> list[str]:
    return [item["kind"] for item in await inbox(org, who)]
