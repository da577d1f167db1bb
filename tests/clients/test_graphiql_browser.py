"""GraphiQL, served by the gateway, in headless Chromium with the network cut: a person
types a token into the Headers editor, types a query and runs it, then types a
subscription, runs it, and sees a mention written meanwhile appear in the result pane.
Proves that GraphiQL's assets are all served offline, that its HTTP fetcher sends the
Headers editor's token, and that its subscriptions go over the WebSocket with that token
in ``connectionParams``. On failure, screenshots are left in the test's tmp dir."""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from fiche.settings import Settings
from tests.clients.support import CHROMIUM, NodeScript, wait_until_subscribed
from tests.clients.test_graphql_ws_client import redis_channel
from tests.plugins.notes.support import inbox
from tests.plugins.notes.test_live import write_note
from tests.support import TestOrg

VIEWER = "query { viewer { user { handle } } }"
NOTIFICATIONS = "subscription { notifications { id kind } }"


class GraphiQL:
    """The browser script, one command at a time; a failed command fails the test."""

    def __init__(self, script: NodeScript) -> None:
        self.script = script

    @classmethod
    @contextlib.asynccontextmanager
    async def open(cls, host: str, screenshots: Path) -> AsyncIterator[GraphiQL]:
        config = {"url": f"http://{host}/graphql", "screenshotDir": str(screenshots), "executablePath": CHROMIUM}
        async with NodeScript.start("graphiql_browser.mjs", json.dumps(config)) as script:
            page = cls(script)
            try:
                ready = await script.event(timeout=60)
                assert ready["event"] == "ready", ready
                yield page
            except BaseException:
                with contextlib.suppress(Exception):
                    shot = await page.do({"do": "screenshot"})
                    print(f"GraphiQL screenshot: {shot['path']}")
                raise

    async def do(self, command: dict[str, Any], timeout: float = 30.0) -> dict[str, Any]:
        await self.script.send(command)
        event = await self.script.event(timeout)
        assert event["event"] != "failed", f"{command}: {event['error']}\nscreenshot: {event['screenshot']}"
        return event

    async def type(self, editor: str, text: str) -> str:
        return str((await self.do({"do": "type", "editor": editor, "text": text}))["value"])

    async def result(self) -> Any:
        return json.loads((await self.do({"do": "result"}))["text"])


async def test_graphiql_runs_a_typed_query_and_shows_a_live_mention_with_the_network_cut(
    browser: None, org: TestOrg, settings: Settings, host: str, tmp_path: Path
) -> None:
    async with GraphiQL.open(host, tmp_path) as graphiql:
        # given: the member's token typed into the Headers editor
        authorization = {"Authorization": f"Bearer {org.token('member')}"}
        assert json.loads(await graphiql.type("headers", json.dumps(authorization))) == authorization
        # when: a query is typed and run with the run button
        assert await graphiql.type("query", VIEWER) == VIEWER
        queried = json.loads((await graphiql.do({"do": "run", "with": "button"}))["text"])
        # then
        assert queried == {"data": {"viewer": {"user": {"handle": "member"}}}}

        # when: a subscription is typed and run with Ctrl-Enter, and a mention is written meanwhile
        assert await graphiql.type("query", NOTIFICATIONS) == NOTIFICATIONS
        await graphiql.do({"do": "start", "with": "keyboard"})
        await wait_until_subscribed(settings.broker_url, redis_channel(org, settings, "member"))
        note = await write_note(host, org, "@member un client t'attend")
        shown = await graphiql.result()
        # then
        mention = (await inbox(org, "member"))[0]
        assert mention["subject"] == note
        assert shown == {"data": {"notifications": {"id": mention["id"], "kind": "MENTION"}}}

        # and: nothing was fetched from anywhere but the gateway
        report = await graphiql.do({"do": "report"})
    assert report["blocked"] == []
    assert {urlsplit(url).netloc for url in report["requests"]} == {host}
    assert [urlsplit(url).netloc for url in report["websockets"]] == [host]
    assert f"http://{host}/graphiql-assets/graphiql-3.8.3/graphiql.min.js" in report["requests"]
