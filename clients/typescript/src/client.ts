/**
 * The typed client: one function per operation a client needs, on `openapi-fetch`
 * and the generated `schema.d.ts`. Answers are the document's types; every refusal
 * is thrown as an `ApiError` carrying the problem+json body.
 */

import createFetchClient, { type Client, type Middleware } from "openapi-fetch";

import { ApiError, apiError } from "./errors.js";
import type { ReadingEvent } from "./events.js";
import type { components, paths } from "./schema.js";
import { type WatchOptions, type WatchTarget, ReadingWatch } from "./watch.js";

export type ReadingRequest = components["schemas"]["ReadingRequest"];
export type ReadingAccepted = components["schemas"]["ReadingAccepted"];
export type ReadingView = components["schemas"]["ReadingView"];
export type ReadingPage = components["schemas"]["ReadingPage"];
export type ReadingSummary = components["schemas"]["ReadingSummary"];
export type RegenerateRequest = components["schemas"]["RegenerateRequest"];
export type ReadingCancelled = components["schemas"]["ReadingCancelledAnswer"];

/** A bearer token (a JWT) for each request, or nothing to send none. */
export type TokenSource = () => string | null | undefined | Promise<string | null | undefined>;

export interface ClientOptions {
  /** Where the API is: the gateway's origin (one origin for every path). */
  baseUrl: string;
  /** Only when intake has an origin of its own (no gateway): where `POST /v1/readings` goes. */
  intakeUrl?: string | undefined;
  /** An API key, sent as `X-API-Key`. */
  apiKey?: string | undefined;
  /** Called before each request: its token is sent as `Authorization: Bearer`. */
  getToken?: TokenSource | undefined;
  /** A `fetch` of your own (tests, instrumentation); the global one otherwise. */
  fetch?: typeof fetch | undefined;
}

export interface CallOptions {
  signal?: AbortSignal | undefined;
}

export interface CommandOptions extends CallOptions {
  /** Makes a retry safe; a fresh one is made when not given. */
  idempotencyKey?: string | undefined;
}

export interface ListOptions extends CallOptions {
  /** Page size (default 20). */
  limit?: number | undefined;
  /** `next_cursor` of the previous page. */
  cursor?: string | undefined;
}

export interface HdClient {
  /** `POST /v1/readings`: request a reading; 202 once it is durable. */
  submit(request: ReadingRequest, options?: CommandOptions): Promise<ReadingAccepted>;
  /** `GET /v1/readings/{id}`: status, progress, chart and text. */
  get(id: string, options?: CallOptions): Promise<ReadingView>;
  /** `GET /v1/readings?user_id=`: one page, newest first. */
  list(userId: string, options?: ListOptions): Promise<ReadingPage>;
  /** Every reading of a user, page after page. */
  listAll(userId: string, options?: Omit<ListOptions, "cursor">): AsyncGenerator<ReadingSummary>;
  /** `POST /v1/readings/{id}/regenerate`: version N+1 once version N has ended. */
  regenerate(id: string, request?: RegenerateRequest, options?: CommandOptions): Promise<ReadingAccepted>;
  /** `DELETE /v1/readings/{id}`: cancel a reading that has not ended. */
  cancel(id: string, options?: CallOptions): Promise<ReadingCancelled>;
  /** Follow a reading's events (SSE) until it ends: an async iterator with the text so far. */
  watch(target: WatchTarget, options?: WatchOptions): ReadingWatch;
  /** Follow with callbacks; resolves with the last event. */
  follow(
    target: WatchTarget,
    onEvent: (event: ReadingEvent, text: string) => void,
    options?: WatchOptions,
  ): Promise<ReadingEvent>;
  /** The underlying `openapi-fetch` client, for the operations not wrapped here. */
  readonly api: Client<paths>;
}

export function createClient(options: ClientOptions): HdClient {
  const fetchImpl = options.fetch ?? globalThis.fetch.bind(globalThis);
  const credentials = async (): Promise<Record<string, string>> => {
    const headers: Record<string, string> = {};
    if (options.apiKey) headers["X-API-Key"] = options.apiKey;
    const token = options.getToken ? await options.getToken() : undefined;
    if (token) headers["Authorization"] = `Bearer ${token}`;
    return headers;
  };
  const auth: Middleware = {
    async onRequest({ request }) {
      for (const [name, value] of Object.entries(await credentials())) {
        request.headers.set(name, value);
      }
      return request;
    },
  };
  const make = (baseUrl: string): Client<paths> => {
    const c = createFetchClient<paths>({ baseUrl: trimSlash(baseUrl), fetch: fetchImpl });
    c.use(auth);
    return c;
  };
  const api = make(options.baseUrl);
  const intake = options.intakeUrl ? make(options.intakeUrl) : api;
  const base = trimSlash(options.baseUrl);

  const client: HdClient = {
    api,
    async submit(request, opts = {}) {
      const { data, error, response } = await intake.POST("/v1/readings", {
        body: request,
        params: { header: { "Idempotency-Key": opts.idempotencyKey ?? newKey() } },
        signal: opts.signal,
      });
      return ok(data, error, response);
    },
    async get(id, opts = {}) {
      const { data, error, response } = await api.GET("/v1/readings/{id}", {
        params: { path: { id } },
        signal: opts.signal,
      });
      return ok(data, error, response);
    },
    async list(userId, opts = {}) {
      const { data, error, response } = await api.GET("/v1/readings", {
        params: { query: { user_id: userId, limit: opts.limit, cursor: opts.cursor } },
        signal: opts.signal,
      });
      return ok(data, error, response);
    },
    async *listAll(userId, opts = {}) {
      let cursor: string | undefined;
      do {
        const page = await client.list(userId, { ...opts, cursor });
        yield* page.items;
        cursor = page.next_cursor ?? undefined;
      } while (cursor);
    },
    async regenerate(id, request, opts = {}) {
      const { data, error, response } = await api.POST("/v1/readings/{id}/regenerate", {
        params: { path: { id }, header: { "Idempotency-Key": opts.idempotencyKey ?? newKey() } },
        body: request ?? {},
        signal: opts.signal,
      });
      return ok(data, error, response);
    },
    async cancel(id, opts = {}) {
      const { data, error, response } = await api.DELETE("/v1/readings/{id}", {
        params: { path: { id } },
        signal: opts.signal,
      });
      return ok(data, error, response);
    },
    watch(target, opts = {}) {
      return new ReadingWatch(target, {
        baseUrl: base,
        fetch: fetchImpl,
        headers: credentials,
        // Headers can only be sent with fetch: an API key rules the EventSource out
        // (a bearer token need not: `events_url` carries a token of its own).
        transport: opts.transport ?? (options.apiKey ? "fetch" : "auto"),
        options: opts,
      });
    },
    async follow(target, onEvent, opts = {}) {
      const watch = client.watch(target, opts);
      let last: ReadingEvent | undefined;
      for await (const event of watch) {
        last = event;
        onEvent(event, watch.text);
      }
      if (last === undefined) throw new Error("the event stream ended without an event");
      return last;
    },
  };
  return client;
}

function ok<T>(data: T | undefined, error: unknown, response: Response): T {
  if (response.ok && data !== undefined) return data;
  throw error instanceof ApiError ? error : apiError(response, error);
}

function newKey(): string | undefined {
  return typeof globalThis.crypto?.randomUUID === "function" ? globalThis.crypto.randomUUID() : undefined;
}

function trimSlash(url: string): string {
  return url.replace(/\/+$/, "");
}
