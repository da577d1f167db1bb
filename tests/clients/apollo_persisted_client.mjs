// Apollo Client (npm `@apollo/client`) with its persisted-query link, in Node, driven line
// by line: the wire format of automatic persisted queries is Apollo's own, not ours.
//
//   node apollo_persisted_client.mjs '{"url": "http://127.0.0.1:8000/graphql", "token": "...", "useGETForHashedQueries": true}'
//
// stdin, one JSON command a line:
//   {"id": "<id>", "query": "...", "variables": {...}}         a query
//   {"id": "<id>", "mutation": "...", "variables": {...}}      a mutation
// stdout, one JSON event a line:
//   {"event": "request", "method": "GET", "url": "...", "body": {...} | null}   each HTTP request Apollo sent
//   {"event": "result", "id": "<id>", "data": ..., "errors": [...]}
//   {"event": "error", "id": "<id>", "message": "...", "errors": [...]}
// End of stdin exits.

import { createInterface } from "node:readline";
import { createHash } from "node:crypto";
import { ApolloClient, HttpLink, InMemoryCache, gql } from "@apollo/client/core/index.js";
import { createPersistedQueryLink } from "@apollo/client/link/persisted-queries/index.js";

const config = JSON.parse(process.argv[2] ?? "{}");
const emit = (event) => process.stdout.write(JSON.stringify(event) + "\n");

// Records what goes on the wire, then lets Node's fetch send it.
async function recordingFetch(url, options) {
  const body = typeof options?.body === "string" ? JSON.parse(options.body) : null;
  emit({ event: "request", method: options?.method ?? "GET", url: String(url), body });
  return fetch(url, options);
}

const link = createPersistedQueryLink({
  sha256: (text) => createHash("sha256").update(text).digest("hex"),
  useGETForHashedQueries: Boolean(config.useGETForHashedQueries),
}).concat(new HttpLink({ uri: config.url, fetch: recordingFetch, headers: { Authorization: `Bearer ${config.token}` } }));

const client = new ApolloClient({ link, cache: new InMemoryCache(), defaultOptions: { query: { fetchPolicy: "no-cache", errorPolicy: "all" }, mutate: { errorPolicy: "all" } } });

let pending = Promise.resolve();
const commands = createInterface({ input: process.stdin });
commands.on("line", (line) => {
  if (!line.trim()) {
    return;
  }
  const command = JSON.parse(line);
  pending = pending.then(async () => {
    try {
      const result = command.mutation
        ? await client.mutate({ mutation: gql(command.mutation), variables: command.variables ?? {} })
        : await client.query({ query: gql(command.query), variables: command.variables ?? {} });
      emit({ event: "result", id: command.id, data: result.data ?? null, errors: result.errors ?? [] });
    } catch (error) {
      emit({ event: "error", id: command.id, message: String(error?.message ?? error), errors: error?.graphQLErrors ?? [] });
    }
  });
});
commands.on("close", () => {
  pending.then(() => client.stop()).finally(() => process.exit(0));
});
