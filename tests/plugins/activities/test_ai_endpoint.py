"""The OpenAI-compatible provider (FICHE_AI_PROVIDER=openai) against a fake chat-completions
endpoint served in the test: what it sends (model, key, only the facts the viewer may read),
what it takes back (invented sources dropped, values checked against the form), and the
clean fallback to the offline provider on a timeout, an HTTP error, an unusable answer or a
missing configuration; with the offline provider nothing is sent at all."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from fiche.settings import Settings
from tests.plugins.activities.fixtures import activity, customer, form, link_forms, type_ids
from tests.plugins.notes.support import add_note, team_id
from tests.support import TestOrg, live_server

INSIGHTS = "query ($id: ID!) { node(id: $id) { ... on Customer { insights { provider keyIssues { text sourceId category } analysis { text } } } } }"
FILL = """
mutation ($activityId: ID!, $formId: ID!, $answers: [AssistantAnswerInput!]!) {
  reportAssistantFill(activityId: $activityId, formId: $formId, mode: DYNAMIC, answers: $answers) {
    draft { provider values filled { fieldKey quote start end confidence } } errors { code message }
  }
}
"""
TIMEOUT_MS = 400


class FakeAI:
    """A chat-completions endpoint whose behaviour the test picks."""

    def __init__(self) -> None:
        self.mode = "ok"
        self.requests: list[dict[str, Any]] = []
        self.answer: dict[str, Any] = {}

    async def completions(self, request: Request) -> Response:
        body = await request.json()
        self.requests.append({"headers": dict(request.headers), "body": body, "facts": json.loads(body["messages"][1]["content"])})
        if self.mode == "slow":
            await asyncio.sleep(TIMEOUT_MS / 1000 * 3)
        if self.mode == "error":
            return JSONResponse({"error": "overloaded"}, status_code=500)
        content = "this is not JSON" if self.mode == "garbage" else json.dumps(self.answer)
        return JSONResponse({"choices": [{"message": {"role": "assistant", "content": content}}]})


@pytest.fixture
async def fake_ai() -> AsyncIterator[tuple[FakeAI, str]]:
    fake = FakeAI()
    app = Starlette(routes=[Route("/v1/chat/completions", fake.completions, methods=["POST"])])
    async with live_server(app) as host:
        yield fake, f"http://{host}/v1"


@pytest.fixture
def settings(settings: Settings, fake_ai: tuple[FakeAI, str]) -> Settings:
    return dataclasses.replace(settings, ai_provider="openai", ai_url=fake_ai[1], ai_model="fake-model", ai_api_key="sk-test", ai_timeout_ms=TIMEOUT_MS)


async def insights(org: TestOrg, location: str, as_: str = "member") -> dict[str, Any]:
    return dict((await org.ok(INSIGHTS, {"id": location}, as_=as_))["node"]["insights"])


async def test_insights_from_the_endpoint_keep_only_sources_it_was_given(org: TestOrg, fake_ai: tuple[FakeAI, str]) -> None:
    # given: a readable note and a South team note member may not read
    fake, _ = fake_ai
    location = await customer(org, "Boulangerie Dupré")
    readable = await add_note(org, "Livraison en retard.", targetId=location)
    hidden = await add_note(org, "Secret du sud.", as_="member2", targetId=location, visibility="TEAM", teamId=team_id(org, "south"))
    fake.answer = {
        "key_issues": [{"text": "Late delivery.", "category": "delivery", "source_id": readable["id"]},
                       {"text": "Invented.", "category": "x", "source_id": "Tm90ZTo5OTk5"}],
        "pending_topics": [], "analysis": [{"text": "Quiet account.", "source_id": None}],
    }  # fmt: skip
    # when
    found = await insights(org, location)
    # then
    assert found["provider"] == "openai:fake-model"
    assert found["keyIssues"] == [{"text": "Late delivery.", "sourceId": readable["id"], "category": "delivery"}, {"text": "Invented.", "sourceId": None, "category": "x"}]
    (sent,) = fake.requests
    assert sent["headers"]["authorization"] == "Bearer sk-test" and sent["body"]["model"] == "fake-model"
    assert [note["id"] for note in sent["facts"]["notes"]] == [readable["id"]]
    assert hidden["id"] not in json.dumps(sent) and "Secret du sud" not in json.dumps(sent, ensure_ascii=False)


@pytest.mark.parametrize(("mode", "reason"), [("slow", f"no answer within {TIMEOUT_MS} ms"), ("error", "HTTP 500"), ("garbage", "not a chat completion holding a JSON object")])
async def test_a_failing_endpoint_falls_back_to_the_offline_provider(org: TestOrg, fake_ai: tuple[FakeAI, str], mode: str, reason: str) -> None:
    # given
    fake, _ = fake_ai
    fake.mode = mode
    location = await customer(org)
    note = await add_note(org, "Livraison en retard.", targetId=location)
    # when
    found = await insights(org, location)
    # then
    assert found["provider"].startswith("offline (fallback: ") and reason in found["provider"]
    assert found["keyIssues"] == [{"text": "Livraison en retard.", "sourceId": note["id"], "category": "delivery"}]


async def test_an_answer_of_the_wrong_shape_falls_back(org: TestOrg, fake_ai: tuple[FakeAI, str]) -> None:
    # given
    fake, _ = fake_ai
    fake.answer = {"key_issues": "everything is fine"}
    # when
    found = await insights(org, await customer(org))
    # then
    assert found["provider"] == "offline (fallback: `key_issues` is not a list)"


async def test_the_assistant_reads_the_endpoints_values_and_checks_them(org: TestOrg, fake_ai: tuple[FakeAI, str]) -> None:
    # given
    fake, _ = fake_ai
    form_id = await form(org, [{"key": "satisfaction", "label": "Satisfaction", "type": "RATING"}, {"key": "amount", "label": "Montant", "type": "NUMBER"}])
    await link_forms(org, (await type_ids(org))["visit"], [form_id])
    start = dt.datetime(2026, 3, 3, 9, tzinfo=dt.UTC)
    visit = await activity(org, await customer(org), starts_at=start, ends_at=start + dt.timedelta(hours=1), as_="member")
    text = "Très content, 5 sur 5, mais pas de commande."
    fake.answer = {"values": [
        {"key": "satisfaction", "value": 5, "answer_key": "", "quote": "5 sur 5", "confidence": 0.9},
        {"key": "amount", "value": "beaucoup", "answer_key": "", "quote": "commande", "confidence": 0.9},
    ]}  # fmt: skip
    # when
    payload = (await org.ok(FILL, {"activityId": visit["id"], "formId": form_id, "answers": [{"text": text}]}, as_="member"))["reportAssistantFill"]
    # then: the amount is not a number, so it is left for the user
    draft = payload["draft"]
    assert draft["provider"] == "openai:fake-model" and draft["values"] == {"satisfaction": 5}
    assert draft["filled"] == [{"fieldKey": "satisfaction", "quote": "5 sur 5", "start": text.index("5 sur 5"), "end": text.index("5 sur 5") + 7, "confidence": 0.9}]
    assert fake.requests[0]["facts"]["answers"] == {"": text} and fake.requests[0]["facts"]["reference_date"] == "2026-03-03"


class TestOffline:
    @pytest.fixture
    def settings(self, settings: Settings) -> Settings:
        return dataclasses.replace(settings, ai_provider="offline")

    async def test_with_the_offline_provider_nothing_leaves_the_process(self, org: TestOrg, fake_ai: tuple[FakeAI, str]) -> None:
        # given: an endpoint is configured, but not chosen
        fake, _ = fake_ai
        location = await customer(org)
        await add_note(org, "Livraison en retard.", targetId=location)
        # when
        found = await insights(org, location)
        # then
        assert found["provider"] == "offline" and fake.requests == []


class TestNotConfigured:
    @pytest.fixture
    def settings(self, settings: Settings) -> Settings:
        return dataclasses.replace(settings, ai_url="")

    async def test_openai_without_an_url_falls_back_and_says_why(self, org: TestOrg, fake_ai: tuple[FakeAI, str]) -> None:
        # when
        found = await insights(org, await customer(org))
        # then
        assert found["provider"] == "offline (fallback: FICHE_AI_URL is not set)" and fake_ai[0].requests == []
