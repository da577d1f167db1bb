// The reference graphql-ws client (npm `graphql-ws`, on `ws` under Node), driven line by line.
//
//   node graphql_ws_client.mjs '{"url": "ws://127.0.0.1:8000/graphql", "connectionParams": {...}}'
//
// stdin, one JSON command a line:
//   {"subscribe": "<id>", "query": "...", "variables": {...}}   queries and mutations too
//   {"unsubscribe": "<id>"}
// stdout, one JSON event a line (`at`: when it arrived, in milliseconds on the machine's
// monotonic clock, the one Python's time.monotonic() reads, so a bench can time deliveries):
//   {"event": "connected", "at": ...}
//   {"event": "next", "id": "<id>", "payload": {"data": ..., "errors": ...}, "at": ...}
//   {"event": "error", "id": "<id>", "error": {"code": 4403, "reason": "..."} | {"errors": [...]} | {"message": "..."}, "at": ...}
//   {"event": "complete", "id": "<id>", "at": ...}
//   {"event": "closed", "code": 4403, "reason": "...", "at": ...}
// End of stdin disposes of the client and exits.

import { createInterface } from "node:readline";
import { createClient } from "graphql-ws";
import WebSocket from "ws";

const config = JSON.parse(process.argv[2] ?? "{}");
if (typeof config.url !== "string") {
  process.stderr.write("usage: node graphql_ws_client.mjs '{\"url\": \"ws://host/graphql\", \"connectionParams\": {}}'\n");
  process.exit(2);
}

const now = () => Number(process.hrtime.bigint()) / 1e6;
const emit = (event) => process.stdout.write(JSON.stringify(event) + "\n");

function describe(error) {
  if (Array.isArray(error)) {
    return { errors: error };
  }
  if (error && typeof error.code === "number") {
    return { code: error.code, reason: String(error.reason ?? "") };
  }
  return { message: error instanceof Error ? error.message : String(error) };
}

const client = createClient({
  url: config.url,
  webSocketImpl: WebSocket,
  connectionParams: config.connectionParams ?? {},
  // A refused connection must reach the test as it is, not after a round of retries.
  retryAttempts: config.retryAttempts ?? 0,
  on: {
    connected: () => emit({ event: "connected", at: now() }),
    closed: (event) => emit({ event: "closed", code: event?.code ?? null, reason: String(event?.reason ?? ""), at: now() }),
  },
});

const active = new Map();

function subscribe(id, query, variables) {
  const unsubscribe = client.subscribe(
    { query, variables: variables ?? {} },
    {
      next: (payload) => emit({ event: "next", id, payload, at: now() }),
      error: (error) => {
        active.delete(id);
        emit({ event: "error", id, error: describe(error), at: now() });
      },
      complete: () => {
        active.delete(id);
        emit({ event: "complete", id, at: now() });
      },
    },
  );
  active.set(id, unsubscribe);
}

const commands = createInterface({ input: process.stdin });
commands.on("line", (line) => {
  if (!line.trim()) {
    return;
  }
  const command = JSON.parse(line);
  if (typeof command.subscribe === "string") {
    subscribe(command.subscribe, command.query, command.variables);
  } else if (typeof command.unsubscribe === "string") {
    active.get(command.unsubscribe)?.();
    active.delete(command.unsubscribe);
  } else {
    process.stderr.write(`unknown command: ${line}\n`);
    process.exitCode = 2;
  }
});
commands.on("close", async () => {
  await client.dispose();
  process.exit();
});
