// GraphiQL in Debian's headless Chromium (playwright-core, no browser download), used the
// way a person uses it: typing into the editors and pressing the run button or Ctrl-Enter.
// The network is cut: every request to a host other than the gateway's is aborted and
// recorded, so the page works only if the gateway serves all of GraphiQL itself.
//
//   node graphiql_browser.mjs '{"url": "http://127.0.0.1:8000/graphql", "screenshotDir": "/tmp/x"}'
//
// stdin, one JSON command a line:
//   {"do": "type", "editor": "headers" | "query", "text": "..."}  -> {"event": "typed", "value": <editor content>}
//   {"do": "run", "with": "button" | "keyboard"}                 -> {"event": "result", "text": ...}
//   {"do": "start", "with": "button" | "keyboard"}                -> {"event": "started"} once the
//        WebSocket sent the subscription; then {"do": "result"}  -> {"event": "result", "text": ...}
//   {"do": "report"}      -> {"event": "report", "blocked": [...], "requests": [...], "websockets": [...]}
//   {"do": "screenshot"}  -> {"event": "screenshot", "path": ...}
// A command that fails answers {"event": "failed", "error": ..., "screenshot": <path>}.
// End of stdin closes the browser and exits.

import { createInterface } from "node:readline";
import path from "node:path";
import { launchChromium } from "./chromium.mjs";

const config = JSON.parse(process.argv[2] ?? "{}");
const TIMEOUT_MS = 15000;
const emit = (event) => process.stdout.write(JSON.stringify(event) + "\n");

const gateway = new URL(config.url);
const blocked = [];
const requests = [];
const websockets = [];
let subscriptionSent = null; // set by "start": resolved when GraphiQL sends a `subscribe` message
let screenshots = 0;

const browser = await launchChromium(config.executablePath);
// A new context is a new, empty profile: no stored headers, tabs or history.
const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
await context.route("**/*", (route) => {
  const url = new URL(route.request().url());
  if (url.host === gateway.host) {
    return route.continue();
  }
  blocked.push(url.href);
  return route.abort("internetdisconnected");
});
const page = await context.newPage();
page.setDefaultTimeout(TIMEOUT_MS);
page.on("request", (request) => requests.push(request.url()));
page.on("websocket", (socket) => {
  websockets.push(socket.url());
  socket.on("framesent", (frame) => {
    if (typeof frame.payload === "string" && JSON.parse(frame.payload).type === "subscribe") {
      subscriptionSent?.();
    }
  });
});

const EDITORS = {
  query: ".graphiql-query-editor .CodeMirror",
  headers: ".graphiql-editor-tool .graphiql-editor:not(.hidden) .CodeMirror",
  result: ".result-window .CodeMirror",
};

// Where GraphiQL keeps its tabs (page.html names the storage namespace "fiche-graphiql").
const TAB_STATE_KEY = "fiche-graphiql:graphiql:tabState";

// Reads what an editor holds (CodeMirror renders only the lines in view; its value is whole).
const valueOf = (selector) => page.locator(selector).evaluate((element) => element.CodeMirror.getValue());

async function type(editor, text) {
  if (editor === "headers") {
    await page.getByRole("button", { name: "Headers", exact: true }).click();
  }
  const selector = EDITORS[editor];
  await page.locator(selector).click();
  await page.keyboard.press("ControlOrMeta+A");
  await page.keyboard.press("Backspace");
  await page.keyboard.type(text);
  const value = await valueOf(selector);
  // GraphiQL takes an edit in after a short debounce (the operation name among it); run
  // earlier and it sends the previous one, so wait as a person would, until it has.
  await page.waitForFunction(
    ([key, field, expected]) => {
      const state = JSON.parse(localStorage.getItem(key) ?? "null");
      return state?.tabs?.[state.activeTabIndex]?.[field] === expected;
    },
    [TAB_STATE_KEY, editor, value],
  );
  return value;
}

async function execute(how) {
  if (how === "keyboard") {
    await page.locator(EDITORS.query).click();
    await page.keyboard.press("ControlOrMeta+Enter");
  } else {
    await page.getByRole("button", { name: /^Execute query/ }).click();
  }
}

let before = null;

async function nextResult() {
  // A result is the pane's new content once it is complete JSON (a result arrives whole).
  const handle = await page.waitForFunction(
    ([selector, previous]) => {
      const value = document.querySelector(selector)?.CodeMirror?.getValue() ?? "";
      if (!value.trim() || value === previous) {
        return null;
      }
      try {
        JSON.parse(value);
      } catch {
        return null;
      }
      return value;
    },
    [EDITORS.result, before],
    { timeout: TIMEOUT_MS },
  );
  before = await handle.jsonValue();
  return before;
}

async function screenshot() {
  screenshots += 1;
  const file = path.join(config.screenshotDir ?? ".", `graphiql-${screenshots}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

async function perform(command) {
  switch (command.do) {
    case "type":
      return { event: "typed", value: await type(command.editor, command.text) };
    case "run":
      before = await valueOf(EDITORS.result);
      await execute(command.with);
      return { event: "result", text: await nextResult() };
    case "start": {
      before = await valueOf(EDITORS.result);
      let timer;
      const sent = new Promise((resolve, reject) => {
        subscriptionSent = resolve;
        timer = setTimeout(() => reject(new Error("GraphiQL sent no subscription over a WebSocket")), TIMEOUT_MS);
      });
      await execute(command.with);
      await sent.finally(() => {
        clearTimeout(timer);
        subscriptionSent = null;
      });
      return { event: "started" };
    }
    case "result":
      return { event: "result", text: await nextResult() };
    case "report":
      return { event: "report", blocked, requests, websockets };
    case "screenshot":
      return { event: "screenshot", path: await screenshot() };
    default:
      throw new Error(`unknown command ${JSON.stringify(command)}`);
  }
}

await page.goto(config.url);
await page.locator(EDITORS.query).waitFor();
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
      const shot = await screenshot().catch(() => null);
      emit({ event: "failed", error: String(error?.stack ?? error), screenshot: shot });
    }
  });
});
commands.on("close", async () => {
  await queue;
  await browser.close();
  process.exit();
});
