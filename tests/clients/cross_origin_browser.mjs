// Pages of other web sites in Debian's headless Chromium (playwright-core, no browser
// download), each using the gateway from its own origin with the graphql-ws browser build it
// serves itself. The network is cut: a request to a host not in `hosts` is aborted and
// recorded. The page's own script does the work (`subscribe`, `post` and the `observed`
// list, see tests/clients/test_cross_origin_browser.py); this script opens the pages, calls
// them and reads what they observed.
//
//   node cross_origin_browser.mjs '{"hosts": ["127.0.0.1:8001", ...], "screenshotDir": "/tmp/x"}'
//
// stdin, one JSON command a line (`page` names a tab of the one browser):
//   {"do": "open", "page": "<name>", "url": "http://..."}          -> {"event": "opened"}
//   {"do": "subscribe", "page": ..., "url": "ws://...", "token": ..., "query": ...}
//                                                                   -> {"event": "subscribing"}
//   {"do": "until", "page": ..., "type": "next" | "closed" | ...}  -> {"event": "observed", "observed": [...]}
//        once the page observed an event of that type or its socket closed; `observed` is
//        all it observed so far
//   {"do": "post", "page": ..., "url": "http://...", "token": ..., "query": ...}
//                                                                   -> {"event": "posted", "outcome": {...}}
//   {"do": "report"}  -> {"event": "report", "blocked": [...], "websockets": [{"page", "url", "errors", "closed"}]}
//   {"do": "screenshot"}  -> {"event": "screenshot", "paths": [...]}
// A command that fails answers {"event": "failed", "error": ..., "screenshots": [...]}.
// End of stdin closes the browser and exits.

import { createInterface } from "node:readline";
import path from "node:path";
import { launchChromium } from "./chromium.mjs";

const config = JSON.parse(process.argv[2] ?? "{}");
const TIMEOUT_MS = 15000;
const emit = (event) => process.stdout.write(JSON.stringify(event) + "\n");

const hosts = new Set(config.hosts ?? []);
const blocked = [];
const websockets = [];
const pages = new Map();
let screenshots = 0;

const browser = await launchChromium(config.executablePath);
const context = await browser.newContext();
await context.route("**/*", (route) => {
  const url = new URL(route.request().url());
  if (hosts.has(url.host)) {
    return route.continue();
  }
  blocked.push(url.href);
  return route.abort("internetdisconnected");
});

function pageNamed(name) {
  const page = pages.get(name);
  if (page === undefined) {
    throw new Error(`no page named ${JSON.stringify(name)}`);
  }
  return page;
}

async function open(name, url) {
  const page = await context.newPage();
  page.setDefaultTimeout(TIMEOUT_MS);
  page.on("websocket", (socket) => {
    const seen = { page: name, url: socket.url(), errors: [], closed: false };
    websockets.push(seen);
    socket.on("socketerror", (error) => seen.errors.push(String(error)));
    socket.on("close", () => {
      seen.closed = true;
    });
  });
  pages.set(name, page);
  await page.goto(url);
  // The page is ready once its script has run (it defines `observed`).
  await page.waitForFunction(() => Array.isArray(window.observed));
}

// Waits for an event of `type`, or for the socket's close (the page never retries, so
// nothing follows it) and answers what the page observed; the caller checks which it was.
async function until(name, type) {
  const page = pageNamed(name);
  await page.waitForFunction(
    (wanted) => window.observed.some((event) => event.type === wanted || event.type === "closed"),
    type,
  );
  return page.evaluate(() => window.observed);
}

async function screenshot() {
  const paths = [];
  for (const [name, page] of pages) {
    screenshots += 1;
    const file = path.join(config.screenshotDir ?? ".", `${name}-${screenshots}.png`);
    await page.screenshot({ path: file, fullPage: true });
    paths.push(file);
  }
  return paths;
}

async function perform(command) {
  switch (command.do) {
    case "open":
      await open(command.page, command.url);
      return { event: "opened" };
    case "subscribe":
      await pageNamed(command.page).evaluate(({ url, token, query }) => window.subscribe(url, token, query), command);
      return { event: "subscribing" };
    case "until":
      return { event: "observed", observed: await until(command.page, command.type) };
    case "post": {
      const outcome = await pageNamed(command.page).evaluate(({ url, token, query }) => window.post(url, token, query), command);
      return { event: "posted", outcome };
    }
    case "report":
      return { event: "report", blocked, websockets };
    case "screenshot":
      return { event: "screenshot", paths: await screenshot() };
    default:
      throw new Error(`unknown command ${JSON.stringify(command)}`);
  }
}

emit({ event: "ready" });

// One command at a time, in order.
let queue = Promise.resolve();
const commands = createInterface({ input: process.stdin });
commands.on("line", (line) => {
  if (!line.trim()) {
    return;
  }
  queue = queue.then(async () => {
    try {
      emit(await perform(JSON.parse(line)));
    } catch (error) {
      const shots = await screenshot().catch(() => []);
      emit({ event: "failed", error: String(error?.stack ?? error), screenshots: shots });
    }
  });
});
commands.on("close", async () => {
  await queue;
  await browser.close();
  process.exit();
});
