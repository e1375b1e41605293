/** The client against the real stack: every operation, typed events, typed errors. */

import { beforeAll, describe, expect, inject, it } from "vitest";

import {
  ApiError,
  type HdClient,
  type ReadingEvent,
  type ReadingRequest,
  createClient,
} from "../src/index.js";
import { signToken } from "./tokens.js";

const stack = inject("stack");
const USER = `user-${Date.now().toString(36)}`;

function birth(user = USER): ReadingRequest {
  return {
    birth: { date: "1948-04-09", time: "00:14", place: { latitude: 45.5017, longitude: -73.5673 } },
    agent: "personality",
    language: "en",
    user_id: user,
  };
}

async function clientFor(sub: string): Promise<HdClient> {
  const token = await signToken(stack.privateJwk, sub);
  return createClient({ baseUrl: stack.baseUrl, getToken: () => token });
}

describe("a reading, end to end", () => {
  let client: HdClient;
  let firstId = "";

  beforeAll(async () => {
    client = await clientFor(USER);
  });

  it("submits, gets, and watches it to the end with typed events", async () => {
    const accepted = await client.submit(birth());
    expect(accepted.id).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(accepted.events_url).toContain(`${stack.baseUrl}/v1/readings/${accepted.id}/events`); // the gateway
    // A closed API puts a token for this stream alone in the URL (EventSource sends no headers).
    expect(new URL(accepted.events_url).searchParams.get("access_token")).toBeTruthy();
    firstId = accepted.id;

    const early = await client.get(accepted.id);
    expect(early.id).toBe(accepted.id);

    const watch = client.watch(accepted);
    const events: ReadingEvent[] = [];
    const lengths: number[] = [];
    for await (const event of watch) {
      events.push(event);
      if (event.type === "reading.delta") {
        expect(event.data.offset).toBeGreaterThanOrEqual(0); // typed: ReadingDeltaData
        lengths.push(watch.text.length);
      }
    }
    const types = events.map((e) => e.type);
    expect(types).toContain("reading.requested");
    expect(types).toContain("chart.calculated");
    expect(types).toContain("reading.started");
    expect(types.at(-1)).toBe("reading.generated");
    expect(lengths.length).toBeGreaterThanOrEqual(2); // the text grew piece by piece
    expect(lengths).toEqual([...lengths].sort((a, b) => a - b));

    const last = events.at(-1);
    if (last?.type !== "reading.generated") throw new Error("not generated");
    expect(last.data.composed_offline).toBe(false);
    expect(last.data.text).toContain("Manifestor with Splenic authority");
    expect(watch.text).toBe(last.data.text);
    expect(watch.ended).toBe(last);

    const done = await eventually(() => client.get(accepted.id), (r) => r.status === "completed");
    expect(done.progress).toBe(100);
    expect(done.reading?.text).toBe(last.data.text);
    expect(done.chart).toBeTruthy();
  });

  it("lists the user's readings, page by page", async () => {
    const second = await client.submit(birth());
    await client.follow(second, () => undefined);
    const page = await eventually(() => client.list(USER, { limit: 1 }), (p) => p.items.length === 1);
    expect(page.items[0]?.id).toBe(second.id); // newest first
    expect(page.next_cursor).toBeTruthy();
    const all: string[] = [];
    for await (const item of client.listAll(USER, { limit: 1 })) all.push(item.id);
    expect(all).toEqual([second.id, firstId]);
  });

  it("regenerates: version 2, followed to its end", async () => {
    const accepted = await client.regenerate(firstId, { language: "de" });
    expect(accepted.id).toBe(firstId);
    expect(accepted.version).toBe(2);
    const seen: ReadingEvent[] = [];
    const last = await client.follow(accepted, (event) => seen.push(event));
    expect(last.type).toBe("reading.generated");
    expect(seen.every((e) => !("version" in e.data) || e.data.version === 2)).toBe(true);
    const view = await eventually(() => client.get(firstId), (r) => r.version === 2 && r.status === "completed");
    expect(view.reading?.language).toBe("de");
  });

  it("cancels a reading that has not finished", async () => {
    const accepted = await client.submit(birth());
    const closing = client.watch(accepted); // close() ends an iteration quietly
    const before: string[] = [];
    for await (const event of closing) {
      before.push(event.type);
      closing.close();
    }
    expect(before).toHaveLength(1);
    expect(closing.ended).toBeUndefined();
    const answer = await client.cancel(accepted.id);
    expect(answer).toMatchObject({ id: accepted.id, version: 1 });
    const last = await client.follow(accepted, () => undefined);
    expect(last.type).toBe("reading.cancelled");
    if (last.type === "reading.cancelled") expect(last.data.version).toBe(1);
    expect(await client.cancel(accepted.id)).toMatchObject({ id: accepted.id, status: "cancelled" });
    const finished = await client.cancel(firstId).catch((e: unknown) => e); // completed: 409
    expect(finished).toBeInstanceOf(ApiError);
    expect((finished as ApiError).problem).toMatchObject({ status: 409, title: "Conflict" });
  });
});

it("works without the gateway too: intake and status on origins of their own", async () => {
  const token = await signToken(stack.privateJwk, USER);
  const direct = createClient({ baseUrl: stack.statusUrl, intakeUrl: stack.intakeUrl, getToken: () => token });
  const accepted = await direct.submit(birth());
  const last = await direct.follow(accepted, () => undefined);
  expect(last.type).toBe("reading.generated");
  expect((await direct.get(accepted.id)).id).toBe(accepted.id);
});

it("works with an API key (X-API-Key; the events read through fetch with the key)", async () => {
  const server = createClient({ baseUrl: stack.baseUrl, apiKey: stack.apiKey });
  const accepted = await server.submit(birth("server-side-user"));
  const seen: string[] = [];
  const last = await server.follow(accepted, (event) => seen.push(event.type));
  expect(last.type).toBe("reading.generated");
  expect(seen).toContain("reading.delta");
  const page = await eventually(() => server.list("server-side-user"), (p) => p.items.length === 1);
  expect(page.items.map((r) => r.id)).toEqual([accepted.id]);
  // Operations the client does not wrap, typed all the same.
  const { data, response } = await server.api.GET("/v1/readings/{id}/bodygraph.svg", {
    params: { path: { id: accepted.id } },
    parseAs: "text",
  });
  expect(response.status).toBe(200);
  expect(data).toContain("<svg");
});

describe("refusals, as typed problem+json", () => {
  it("names each invalid field of a 422", async () => {
    const client = await clientFor(USER);
    const bad = birth();
    bad.birth.place = { latitude: 123, longitude: -73.5673 };
    const error = await client.submit(bad).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    if (!(error instanceof ApiError)) return;
    expect(error.status).toBe(422);
    expect(error.problem.status).toBe(422);
    expect(error.fieldErrors.map((f) => f.field)).toContain("birth.place.latitude");
  });

  it("answers 404 for a reading that does not exist", async () => {
    const client = await clientFor(USER);
    const error = await client.get("no-such-reading").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    if (!(error instanceof ApiError)) return;
    expect(error.problem).toMatchObject({ status: 404 });
    expect(error.problem.title).toBeTruthy();
  });

  it("refuses no token (401), naming another user (403), another user's reading (404)", async () => {
    const anonymous = createClient({ baseUrl: stack.baseUrl });
    const error = await anonymous.list(USER).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect((error as ApiError).status).toBe(401);
    const someone = await clientFor("someone-else");
    const refused = await someone.submit(birth(USER)).catch((e: unknown) => e); // not their user_id
    expect(refused).toBeInstanceOf(ApiError);
    expect((refused as ApiError).problem.status).toBe(403);
    const mine = await (await clientFor(USER)).submit(birth());
    const theirs = await someone.get(mine.id).catch((e: unknown) => e); // another user's: 404
    expect(theirs).toBeInstanceOf(ApiError);
    expect((theirs as ApiError).status).toBe(404);
  });
});

/** Poll until `done` says so (the projection catches up a moment after the events). */
async function eventually<T>(get: () => Promise<T>, done: (value: T) => boolean): Promise<T> {
  for (let i = 0; ; i++) {
    const value = await get();
    if (done(value) || i >= 100) return value;
    await new Promise((r) => setTimeout(r, 100));
  }
}
