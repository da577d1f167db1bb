"""A web site on another origin uses the gateway from headless Chromium, with the network
cut but for loopback: its page loads the graphql-ws browser build (``umd/graphql-ws.min.js``
of the npm package, served by the site itself) and subscribes to ``notifications`` over the
gateway's WebSocket with the token in ``connectionParams``. With the site's origin in
``FICHE_ALLOWED_ORIGINS``, a mention written meanwhile reaches the page and a cross-origin
``fetch`` POST is readable (CORS). From an origin not in it, the browser's WebSocket
handshake is refused, the page never gets the mention, and the browser blocks the ``fetch``.
On failure, screenshots of the pages are left in the test's tmp dir."""

from __future__ import annotations

import contextlib
import dataclasses
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.responses import FileResponse, HTMLResponse
from starlette.routing import Route

from fiche.app import create_app
from fiche.settings import Settings
from tests.clients.support import CHROMIUM, CLIENTS_DIR, NodeScript, wait_until_subscribed
from tests.clients.test_graphql_ws_client import redis_channel
from tests.plugins.notes.support import inbox
from tests.plugins.notes.test_live import write_note
from tests.support import TestOrg, live_server

VIEWER = "query { viewer { user { handle } } }"
NOTIFICATIONS = "subscription { notifications { id kind subject { id } } }"

GRAPHQL_WS_BUILD = CLIENTS_DIR / "node_modules" / "graphql-ws" / "umd" / "graphql-ws.min.js"

# The other site's page: what it observes goes into `observed` and onto the page.
SITE_PAGE = """<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>Another site</title>
  <script src="/graphql-ws.min.js"></script>
</head>
<body>
  <ol id="observed"></ol>
  <script>
    window.observed = [];
    const observe = (event) => {
      window.observed.push(event);
      const item = document.createElement("li");
      item.textContent = JSON.stringify(event);
      document.getElementById("observed").append(item);
    };
    const describe = (error) => {
      if (error instanceof CloseEvent) {
        return { code: error.code };
      }
      return error instanceof Event ? { event: error.type } : { message: String(error) };
    };
    window.subscribe = (url, token, query) => {
      const client = graphqlWs.createClient({
        url,
        connectionParams: { Authorization: `Bearer ${token}` },
        retryAttempts: 0,
        on: {
          connected: () => observe({ type: "connected" }),
          closed: (event) => observe({ type: "closed", code: event.code }),
        },
      });
      client.subscribe({ query }, {
        next: (result) => observe({ type: "next", result }),
        // A socket that failed hands over its `error` event, a closed one its close code.
        error: (error) => observe({ type: "error", ...describe(error) }),
        complete: () => observe({ type: "complete" }),
      });
    };
    window.post = async (url, token, query) => {
      try {
        const response = await fetch(url, {
          method: "POST",
          headers: { "Content-Type": "application/json", Authorization: `Bearer ${token}` },
          body: JSON.stringify({ query }),
        });
        return { status: response.status, body: await response.json() };
      } catch (error) {
        return { error: String(error) };
      }
    };
  </script>
</body>
</html>
"""


async def site_page(request: Any) -> HTMLResponse:
    return HTMLResponse(SITE_PAGE)


async def graphql_ws_build(request: Any) -> FileResponse:
    return FileResponse(GRAPHQL_WS_BUILD, media_type="text/javascript")


SITE = Starlette(routes=[Route("/", site_page), Route("/graphql-ws.min.js", graphql_ws_build)])


@dataclasses.dataclass(frozen=True)
class Origins:
    """Where the site is served: once from an allowed origin, once from a foreign one."""

    allowed: str
    foreign: str


class Sites:
    """The browser script, one command at a time; a failed command fails the test."""

    def __init__(self, script: NodeScript) -> None:
        self.script = script

    @classmethod
    @contextlib.asynccontextmanager
    async def open(cls, hosts: list[str], screenshots: Path) -> AsyncIterator[Sites]:
        config = {"hosts": hosts, "screenshotDir": str(screenshots), "executablePath": CHROMIUM}
        async with NodeScript.start("cross_origin_browser.mjs", json.dumps(config)) as script:
            sites = cls(script)
            try:
                ready = await script.event(timeout=60)
                assert ready["event"] == "ready", ready
                yield sites
            except BaseException:
                with contextlib.suppress(Exception):
                    shots = await sites.do({"do": "screenshot"})
                    print(f"screenshots: {shots['paths']}")
                raise

    async def do(self, command: dict[str, Any], timeout: float = 30.0) -> dict[str, Any]:
        await self.script.send(command)
        event = await self.script.event(timeout)
        assert event["event"] != "failed", f"{command}: {event['error']}\nscreenshots: {event['screenshots']}"
        return event

    async def until(self, page: str, event_type: str) -> list[dict[str, Any]]:
        """What ``page`` observed, once it observed an event of ``event_type``; fails when
        its socket closed without one."""
        observed = list((await self.do({"do": "until", "page": page, "type": event_type}))["observed"])
        assert any(event["type"] == event_type for event in observed), f"{page} observed no {event_type}: {observed}"
        return observed

    async def subscribe(self, page: str, gateway: str, token: str) -> None:
        """Have ``page`` subscribe to ``notifications`` on ``gateway`` with ``token``."""
        await self.do({"do": "subscribe", "page": page, "url": f"ws://{gateway}/graphql", "token": token, "query": NOTIFICATIONS})

    async def post(self, page: str, gateway: str, token: str) -> dict[str, Any]:
        """What ``page`` got when it POSTed :data:`VIEWER` to ``gateway`` with ``fetch``."""
        command = {"do": "post", "page": page, "url": f"http://{gateway}/graphql", "token": token, "query": VIEWER}
        return dict((await self.do(command))["outcome"])


@pytest.fixture
async def origins() -> AsyncIterator[Origins]:
    """The same site served on two loopback ports: two origins."""
    async with live_server(SITE) as allowed, live_server(SITE) as foreign:
        yield Origins(allowed=f"http://{allowed}", foreign=f"http://{foreign}")


@pytest.fixture
async def gateway(org: TestOrg, origins: Origins) -> AsyncIterator[str]:
    """``host:port`` of a gateway whose ``FICHE_ALLOWED_ORIGINS`` is the allowed origin only."""
    settings = dataclasses.replace(org.state.settings, allowed_origins=(origins.allowed,))
    state = dataclasses.replace(org.state, settings=settings)
    async with live_server(create_app(state.settings, state=state)) as host:
        yield host


@pytest.fixture
async def sites(browser: None, origins: Origins, gateway: str, tmp_path: Path) -> AsyncIterator[Sites]:
    hosts = [gateway, origins.allowed.removeprefix("http://"), origins.foreign.removeprefix("http://")]
    async with Sites.open(hosts, tmp_path) as opened:
        yield opened


async def test_a_page_from_an_allowed_origin_gets_a_live_mention_over_graphql_ws_and_reads_a_post(
    org: TestOrg, settings: Settings, origins: Origins, gateway: str, sites: Sites
) -> None:
    # given: the site's page, from the allowed origin, subscribed with the member's token
    await sites.do({"do": "open", "page": "allowed", "url": f"{origins.allowed}/"})
    await sites.subscribe("allowed", gateway, org.token("member"))
    await sites.until("allowed", "connected")
    await wait_until_subscribed(settings.broker_url, redis_channel(org, settings, "member"))
    # when
    note = await write_note(gateway, org, "@member un site voisin t'écoute")
    observed = await sites.until("allowed", "next")
    # then
    mention = (await inbox(org, "member"))[0]
    assert mention["subject"] == note
    received = {"data": {"notifications": {"id": mention["id"], "kind": "MENTION", "subject": {"id": note}}}}
    assert observed == [{"type": "connected"}, {"type": "next", "result": received}]

    # when: the page posts a query to the gateway with fetch
    posted = await sites.post("allowed", gateway, org.token("member"))
    # then: CORS lets the page read the answer
    assert posted == {"status": 200, "body": {"data": {"viewer": {"user": {"handle": "member"}}}}}

    # and: nothing was fetched from anywhere but loopback
    report = await sites.do({"do": "report"})
    assert report["blocked"] == []
    assert [(socket["page"], socket["url"], socket["errors"]) for socket in report["websockets"]] == [
        ("allowed", f"ws://{gateway}/graphql", [])
    ]


async def test_a_page_from_a_foreign_origin_is_refused_the_websocket_and_cannot_read_a_post(
    org: TestOrg, settings: Settings, origins: Origins, gateway: str, sites: Sites
) -> None:
    # given: the same page from the foreign origin, and from the allowed one as a witness
    await sites.do({"do": "open", "page": "foreign", "url": f"{origins.foreign}/"})
    await sites.do({"do": "open", "page": "allowed", "url": f"{origins.allowed}/"})
    # when: both subscribe with the member's token
    await sites.subscribe("foreign", gateway, org.token("member"))
    refused = await sites.until("foreign", "closed")
    await sites.subscribe("allowed", gateway, org.token("member"))
    await sites.until("allowed", "connected")
    await wait_until_subscribed(settings.broker_url, redis_channel(org, settings, "member"))
    # then: the foreign page's handshake failed (a browser sees 1006, abnormal closure)
    assert refused == [{"type": "error", "event": "error"}, {"type": "closed", "code": 1006}]

    # when: a mention is written, and the witness receives it
    note = await write_note(gateway, org, "@member un site inconnu voudrait t'écouter")
    witnessed = await sites.until("allowed", "next")
    # then: the foreign page never got it
    assert witnessed[-1]["result"]["data"]["notifications"]["subject"] == {"id": note}
    assert await sites.until("foreign", "closed") == refused

    # when: the foreign page posts a query to the gateway with fetch
    posted = await sites.post("foreign", gateway, org.token("member"))
    # then: the browser keeps the answer from it
    assert posted == {"error": "TypeError: Failed to fetch"}

    # and: the gateway refused the handshake with 403; nothing left loopback
    report = await sites.do({"do": "report"})
    assert report["blocked"] == []
    foreign_sockets = [socket for socket in report["websockets"] if socket["page"] == "foreign"]
    assert [socket["url"] for socket in foreign_sockets] == [f"ws://{gateway}/graphql"]
    assert any("403" in error for error in foreign_sockets[0]["errors"]), foreign_sockets
