"""Identity (G5): bearer-token authentication over HTTP, the ``viewer`` query, and the
``authenticate`` hook that replaces the JWT check."""

from __future__ import annotations

import dataclasses
from typing import Any

import httpx
import jwt
import pytest
from sqlalchemy import update

from fiche.accounts import models
from fiche.auth import ALGORITHM, Identity, decode_token, issue_token
from fiche.relay import MAX_PK
from fiche.settings import Settings
from tests.gateway import probe_plugins
from tests.gateway.conftest import PROBE
from tests.support import TestOrg

VIEWER = "query Viewer { viewer { user { handle role } organization { slug } } }"
TEAM_CREATE = "mutation TeamCreate($name: String!) { teamCreate(name: $name) { team { name } errors { code } } }"


@pytest.fixture
def plugins() -> list[tuple[str, Any]]:
    return [*PROBE, ("async-auth", probe_plugins.AsyncAuthProbe())]


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def post(client: httpx.AsyncClient, query: str, variables: dict[str, Any] | None = None, **headers: str) -> dict[str, Any]:
    response = await client.post("/graphql", json={"query": query, "variables": variables or {}}, headers=headers)
    assert response.status_code == 200, response.text
    return dict(response.json())


def codes(body: dict[str, Any]) -> list[str | None]:
    return [(error.get("extensions") or {}).get("code") for error in body.get("errors") or []]


def assert_unauthenticated(body: dict[str, Any]) -> None:
    assert codes(body) == ["UNAUTHENTICATED"], body
    assert "Authorization: Bearer" in body["errors"][0]["message"]
    assert body.get("data") is None


# ------------------------------------------------------------------ the JWT bearer token


async def test_viewer_is_the_user_of_the_bearer_token(org: TestOrg, client: httpx.AsyncClient) -> None:
    # when
    body = await post(client, VIEWER, **bearer(org.token("manager")))
    # then
    assert "errors" not in body, body
    assert body["data"]["viewer"]["user"] == {"handle": "manager", "role": "MANAGER"}


async def test_viewer_is_in_the_organisation_of_the_token(org: TestOrg, client: httpx.AsyncClient) -> None:
    # given
    async with org.state.db.reader(org.organization_id) as session:
        slug = (await session.get(models.Organization, org.organization_id)).slug  # type: ignore[union-attr]
    # when
    body = await post(client, VIEWER, **bearer(org.token("member")))
    # then
    assert body["data"]["viewer"]["organization"] == {"slug": slug}


async def test_get_request_with_a_token_is_answered(org: TestOrg, client: httpx.AsyncClient) -> None:
    # when
    response = await client.get("/graphql", params={"query": VIEWER}, headers=bearer(org.token("member")))
    # then
    assert response.status_code == 200
    assert response.json()["data"]["viewer"]["user"]["handle"] == "member"


# ------------------------------------------------------------------ refused requests


async def test_anonymous_post_is_refused_as_unauthenticated(org: TestOrg, client: httpx.AsyncClient) -> None:
    # when
    body = await post(client, VIEWER)
    # then
    assert_unauthenticated(body)


async def test_anonymous_get_is_refused_as_unauthenticated(org: TestOrg, client: httpx.AsyncClient) -> None:
    # when
    response = await client.get("/graphql", params={"query": VIEWER}, headers={"Accept": "application/json"})
    # then
    assert response.status_code == 200
    assert_unauthenticated(response.json())


async def test_anonymous_mutation_is_refused_and_writes_nothing(org: TestOrg, client: httpx.AsyncClient) -> None:
    # when
    body = await post(client, TEAM_CREATE, {"name": "Intruders"})
    # then
    assert_unauthenticated(body)
    teams = await org.ok("{ teams { name } }")
    assert {"name": "Intruders"} not in teams["teams"]


@pytest.mark.parametrize(
    "authorization",
    ["Bearer", "Bearer    ", "Basic dXNlcjpwYXNz", "Token abc", "not-even-a-scheme"],
)
async def test_malformed_authorization_header_is_unauthenticated(
    org: TestOrg, client: httpx.AsyncClient, authorization: str
) -> None:
    # when
    body = await post(client, VIEWER, Authorization=authorization)
    # then
    assert_unauthenticated(body)


async def test_garbage_token_is_unauthenticated(org: TestOrg, client: httpx.AsyncClient) -> None:
    # when
    body = await post(client, VIEWER, **bearer("this.is.not-a-jwt"))
    # then
    assert_unauthenticated(body)


async def test_expired_token_is_unauthenticated(org: TestOrg, client: httpx.AsyncClient) -> None:
    # given
    claims = {"sub": str(org.users["admin"].id), "org": org.organization_id, "iat": 1_000_000, "exp": 1_000_060}
    token = jwt.encode(claims, org.state.settings.secret_key, algorithm=ALGORITHM)
    # when
    body = await post(client, VIEWER, **bearer(token))
    # then
    assert_unauthenticated(body)


async def test_token_signed_with_another_key_is_unauthenticated(org: TestOrg, client: httpx.AsyncClient) -> None:
    # given
    foreign = dataclasses.replace(org.state.settings, secret_key="somebody-else-s-secret-key-of-decent-length")
    token = issue_token(foreign, org.users["admin"].id, org.organization_id)
    # when
    body = await post(client, VIEWER, **bearer(token))
    # then
    assert_unauthenticated(body)


async def test_unsigned_token_is_unauthenticated(org: TestOrg, client: httpx.AsyncClient) -> None:
    # given: alg "none", the classic forgery
    claims = {"sub": str(org.users["admin"].id), "org": org.organization_id, "exp": 4_000_000_000}
    token = jwt.encode(claims, key=None, algorithm="none")
    # when
    body = await post(client, VIEWER, **bearer(token))
    # then
    assert_unauthenticated(body)


async def test_token_without_an_organisation_is_unauthenticated(org: TestOrg, client: httpx.AsyncClient) -> None:
    # given
    claims = {"sub": str(org.users["admin"].id), "exp": 4_000_000_000}
    token = jwt.encode(claims, org.state.settings.secret_key, algorithm=ALGORITHM)
    # when
    body = await post(client, VIEWER, **bearer(token))
    # then
    assert_unauthenticated(body)


async def test_token_naming_a_user_of_another_organisation_is_unauthenticated(
    org: TestOrg, other_org: TestOrg, client: httpx.AsyncClient
) -> None:
    # given: a validly signed token pairing org's user with other_org
    token = issue_token(org.state.settings, org.users["admin"].id, other_org.organization_id)
    # when
    body = await post(client, VIEWER, **bearer(token))
    # then
    assert_unauthenticated(body)


async def test_token_of_a_missing_user_is_unauthenticated(org: TestOrg, client: httpx.AsyncClient) -> None:
    # given
    token = issue_token(org.state.settings, 2_000_000_000, org.organization_id)
    # when
    body = await post(client, VIEWER, **bearer(token))
    # then
    assert_unauthenticated(body)


async def test_inactive_user_is_refused(org: TestOrg, client: httpx.AsyncClient) -> None:
    # given
    async with org.state.db.session(organization_id=org.organization_id) as session, session.begin():
        await session.execute(update(models.User).where(models.User.id == org.users["member"].id).values(is_active=False))
    # when
    body = await post(client, VIEWER, **bearer(org.token("member")))
    # then
    assert_unauthenticated(body)


# ------------------------------------------------------------------ the authenticate hook


async def test_hook_authenticate(org: TestOrg, client: httpx.AsyncClient) -> None:
    # given: the probe's own token format, which is no JWT
    token = f"{probe_plugins.PROBE_TOKEN_PREFIX}{org.users['technician'].id}:{org.organization_id}"
    # when
    body = await post(client, VIEWER, **bearer(token))
    # then
    assert body["data"]["viewer"]["user"] == {"handle": "technician", "role": "TECHNICIAN"}


async def test_async_authenticate_implementation_is_awaited(org: TestOrg, client: httpx.AsyncClient) -> None:
    # given
    token = f"async-token:{org.users['member2'].id}:{org.organization_id}"
    # when
    body = await post(client, VIEWER, **bearer(token))
    # then
    assert body["data"]["viewer"]["user"] == {"handle": "member2", "role": "MEMBER"}


async def test_jwt_still_works_when_plugins_decline_the_token(org: TestOrg, client: httpx.AsyncClient) -> None:
    # given: both probes (one of them asynchronous) answer None for a JWT
    token = org.token("admin")
    # when
    body = await post(client, VIEWER, **bearer(token))
    # then
    assert body["data"]["viewer"]["user"] == {"handle": "admin", "role": "ADMIN"}


async def test_identity_from_the_hook_still_goes_through_the_user_checks(org: TestOrg, client: httpx.AsyncClient) -> None:
    # given: the hook vouches for a deactivated user
    async with org.state.db.session(organization_id=org.organization_id) as session, session.begin():
        await session.execute(update(models.User).where(models.User.id == org.users["member"].id).values(is_active=False))
    token = f"{probe_plugins.PROBE_TOKEN_PREFIX}{org.users['member'].id}:{org.organization_id}"
    # when
    body = await post(client, VIEWER, **bearer(token))
    # then
    assert_unauthenticated(body)


async def test_identity_from_the_hook_in_another_organisation_is_refused(
    org: TestOrg, other_org: TestOrg, client: httpx.AsyncClient
) -> None:
    # given: the hook names org's user inside other_org
    token = f"{probe_plugins.PROBE_TOKEN_PREFIX}{org.users['admin'].id}:{other_org.organization_id}"
    # when
    body = await post(client, VIEWER, **bearer(token))
    # then
    assert_unauthenticated(body)



@pytest.mark.parametrize(
    "claims",
    [
        {"sub": str(2**31), "org": 1},
        {"sub": str(10**30), "org": 1},
        {"sub": "-1", "org": 1},
        {"sub": "01", "org": 1},
        {"sub": "1", "org": 2**31},
        {"sub": "1", "org": -1},
        {"sub": "1", "org": True},
        {"sub": "1", "org": "1"},
        {"sub": "1"},
    ],
)
def test_a_signed_token_naming_an_impossible_id_identifies_nobody(claims: dict[str, Any]) -> None:
    # given
    settings = Settings(database_url="sqlite+aiosqlite:///:memory:", secret_key="auth-tests-secret-key-long-enough-for-hs256")
    token = jwt.encode({**claims, "exp": 4_000_000_000}, settings.secret_key, algorithm=ALGORITHM)
    # when / then
    assert decode_token(settings, token) is None


def test_a_signed_token_naming_the_largest_ids_identifies_them() -> None:
    # given
    settings = Settings(database_url="sqlite+aiosqlite:///:memory:", secret_key="auth-tests-secret-key-long-enough-for-hs256")
    token = issue_token(settings, MAX_PK, MAX_PK)
    # when / then
    assert decode_token(settings, token) == Identity(user_id=MAX_PK, organization_id=MAX_PK)


@pytest.mark.parametrize(("user_id", "organization_id"), [(2**31, 1), (1, 2**31), (10**30, 1), (-1, 1), (1, 0)])
async def test_identity_from_the_hook_naming_an_impossible_id_is_unauthenticated(
    org: TestOrg, client: httpx.AsyncClient, user_id: int, organization_id: int
) -> None:
    # given: an authenticate plugin that passes any integers on
    token = f"{probe_plugins.PROBE_TOKEN_PREFIX}{user_id}:{organization_id}"
    # when
    body = await post(client, VIEWER, **bearer(token))
    # then: nobody, never a database error
    assert_unauthenticated(body)


# ------------------------------------------------------------------ tokens checked once


def test_a_token_checked_before_is_refused_once_it_expires(monkeypatch: pytest.MonkeyPatch) -> None:
    # given: a token found valid (and so remembered) that expires in a minute
    settings = Settings(database_url="sqlite+aiosqlite:///:memory:", secret_key="auth-tests-secret-key-long-enough-for-hs256")
    token = issue_token(settings, 7, 3, ttl=60)
    expires = jwt.decode(token, options={"verify_signature": False})["exp"]
    assert decode_token(settings, token) == Identity(user_id=7, organization_id=3)
    # when: the clock reaches its expiry
    monkeypatch.setattr("fiche.auth.time.time", lambda: float(expires))
    # then
    assert decode_token(settings, token) is None


def test_a_token_remembered_for_one_secret_is_not_valid_for_another() -> None:
    # given: a token found valid under its own secret
    settings = Settings(database_url="sqlite+aiosqlite:///:memory:", secret_key="auth-tests-secret-key-long-enough-for-hs256")
    token = issue_token(settings, 7, 3)
    assert decode_token(settings, token) == Identity(user_id=7, organization_id=3)
    # when: the secret changes (a rotation)
    rotated = dataclasses.replace(settings, secret_key="a-rotated-secret-key-long-enough-for-hs256")
    # then
    assert decode_token(rotated, token) is None


async def test_a_user_deactivated_after_a_request_is_refused_with_the_same_token(org: TestOrg, client: httpx.AsyncClient) -> None:
    # given: the member's token served a request (and was remembered as valid)
    token = org.token("member")
    assert "errors" not in await post(client, VIEWER, **bearer(token))
    # when
    async with org.state.db.session(organization_id=org.organization_id) as session, session.begin():
        await session.execute(update(models.User).where(models.User.id == org.users["member"].id).values(is_active=False))
    # then
    assert_unauthenticated(await post(client, VIEWER, **bearer(token)))
