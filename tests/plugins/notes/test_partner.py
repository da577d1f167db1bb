"""Notes on a partner's subject type: the test partner plugin (installed from its own
distribution) registers ``LoyaltyCard`` as a subject type; notes attach to cards, list on
them, and mentions lead to them. Each test gets a fresh database migrated with the partner."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from fiche.app import build_state
from fiche.migrate import upgrade
from fiche.plugin_host import get_plugin_manager, plugin_names
from fiche.schema import build_schema
from fiche.settings import Settings
from tests.plugins.notes.support import add_note, create_customer, inbox
from tests.support import admin_sql, POSTGRES_ADMIN_URL, TestOrg, make_org, partner_installed

CARD_CREATE = """
mutation($customerId: ID!) { loyaltyCardCreate(customerId: $customerId, points: 10) { card { id } errors { code } } }
"""
CARD_NOTES = """
query($id: ID!) { node(id: $id) { ... on LoyaltyCard { points notes { edges { node { body target { id } } } } noteCount } } }
"""
CUSTOMER_NOTES = "query($id: ID!) { node(id: $id) { ... on Customer { notes { edges { node { body } } } } } }"


@pytest.fixture
async def partner_org(tmp_path: Path, db_kind: str) -> AsyncIterator[TestOrg]:
    """An organisation on a fresh database, with the partner plugin installed."""
    name = f"fiche_partner_{uuid.uuid4().hex[:10]}"
    if db_kind == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path}/partner.db"
    else:
        try:
            await admin_sql(f'CREATE DATABASE "{name}"')
        except OSError as exc:  # pragma: no cover - environment
            from tests.conftest import _unavailable

            _unavailable("postgres", exc)
        url = POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    with partner_installed(str(tmp_path / "site")):
        settings = Settings(database_url=url, secret_key="partner-test-secret-key-long-enough-for-hs256", log_json=False)
        pm = get_plugin_manager(settings)
        assert "loyalty" in plugin_names(pm)
        await upgrade(pm, url)
        state = build_state(settings, pm)
        await state.broker.connect()
        try:
            yield await make_org(state, build_schema(pm, settings))
        finally:
            await state.broker.disconnect()
            await state.db.dispose()
            if db_kind != "sqlite":
                await admin_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def card_of(org: TestOrg) -> tuple[str, str]:
    customer = await create_customer(org)
    data = await org.ok(CARD_CREATE, {"customerId": customer})
    assert data["loyaltyCardCreate"]["errors"] == []
    return customer, str(data["loyaltyCardCreate"]["card"]["id"])


async def test_a_note_can_be_attached_to_a_partners_subject(partner_org: TestOrg) -> None:
    # given
    _, card = await card_of(partner_org)
    # when
    note = await add_note(partner_org, "Carte offerte au salon", targetId=card)
    # then
    assert note["target"] == {"id": card}
    data = await partner_org.ok(CARD_NOTES, {"id": card})
    assert data["node"]["notes"]["edges"] == [{"node": {"body": "Carte offerte au salon", "target": {"id": card}}}]
    assert data["node"]["noteCount"] == 1


async def test_a_partner_subjects_notes_are_not_the_customers(partner_org: TestOrg) -> None:
    # given
    customer, card = await card_of(partner_org)
    # when
    await add_note(partner_org, "sur la carte", targetId=card)
    # then
    data = await partner_org.ok(CUSTOMER_NOTES, {"id": customer})
    assert data["node"]["notes"]["edges"] == []


async def test_a_mention_on_a_partner_subject_leads_to_it(partner_org: TestOrg) -> None:
    # given
    _, card = await card_of(partner_org)
    # when
    note = await add_note(partner_org, "@member points à vérifier", as_="manager", targetId=card)
    # then
    [notification] = await inbox(partner_org, "member")
    assert (notification["kind"], notification["target"], notification["subject"]) == ("MENTION", card, note["id"])
    assert notification["link"] == f"/loyalty-cards/{card}#note-{note['id']}"
