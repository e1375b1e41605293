/**
 * Following one reading: its typed events until the wanted version ends, and the
 * text so far. Uses the browser's `EventSource` where there is one (and no header
 * must be sent), `fetch` otherwise.
 *
 * A regenerated reading may still show its earlier version's events for a moment
 * (the projection catches up): they are skipped, and the stream is opened again
 * until the version asked for has ended.
 */

import {
  EVENT_TYPES,
  LiveText,
  type ReadingEvent,
  type TerminalEvent,
  isTerminal,
  isTerminalType,
  parseEvent,
} from "./events.js";
import { type SseMessage, eventSourceStream, fetchEventStream } from "./sse.js";

/** A reading id, or the 202 answer of submit / regenerate (its `events_url` and version). */
export type WatchTarget = string | { id: string; events_url?: string | null; version?: number };

export interface WatchOptions {
  /** `auto` (default): `EventSource` where the platform has it, else `fetch`. */
  transport?: "auto" | "eventsource" | "fetch" | undefined;
  /** Follow until this version (or a newer one) ends; events of older ones are skipped. */
  version?: number | undefined;
  /** Resume after this event id. */
  lastEventId?: string | undefined;
  signal?: AbortSignal | undefined;
}

export interface WatchContext {
  baseUrl: string;
  fetch: typeof fetch;
  headers: () => Promise<Record<string, string>>;
  transport: "auto" | "eventsource" | "fetch";
  options: WatchOptions;
}

const REOPEN_DELAY_MS = 250;
const MAX_REOPENS = 40; // about 10 s for the projection to show the wanted version

export class ReadingWatch implements AsyncIterable<ReadingEvent> {
  /** The last event of the wanted version, once it ended. */
  ended: TerminalEvent | undefined;
  private readonly live = new LiveText();
  private readonly abort = new AbortController();
  private readonly url: string;
  private readonly version: number;
  private started = false;
  private closed = false;

  constructor(
    target: WatchTarget,
    private readonly context: WatchContext,
  ) {
    const id = typeof target === "string" ? target : target.id;
    const given = typeof target === "string" ? null : target.events_url;
    this.url = given
      ? new URL(given, context.baseUrl + "/").toString()
      : `${context.baseUrl}/v1/readings/${encodeURIComponent(id)}/events`;
    this.version = context.options.version ?? (typeof target === "string" ? 0 : (target.version ?? 0));
    const signal = context.options.signal;
    if (signal) {
      if (signal.aborted) this.abort.abort(signal.reason);
      else signal.addEventListener("abort", () => this.abort.abort(signal.reason), { once: true });
    }
  }

  /** The reading's text so far (live pieces placed, the whole once generated). */
  get text(): string {
    return this.live.text;
  }

  /** Stop following; the iteration ends (quietly: aborting `signal` throws its reason). */
  close(): void {
    this.closed = true;
    this.abort.abort();
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<ReadingEvent, void, undefined> {
    if (this.started) throw new Error("a ReadingWatch can be iterated once");
    this.started = true;
    try {
      yield* this.events();
    } catch (error) {
      if (!this.closed) throw error;
    }
  }

  private async *events(): AsyncGenerator<ReadingEvent, void, undefined> {
    let lastEventId = this.context.options.lastEventId ?? null;
    let seen = 0; // the highest stream sequence yielded: a reopened stream replays history
    for (let reopen = 0; ; reopen++) {
      for await (const message of this.open(lastEventId)) {
        this.abort.signal.throwIfAborted(); // closed, or aborted, with messages still queued
        const event = parseEvent(message.event, message.data, message.id);
        if (event === undefined) continue; // a type this client does not know yet
        if ("version" in event.data && event.data.version < this.version) continue;
        const seq = sequence(message.id);
        if (event.type !== "reading.delta" && seq !== null) {
          if (seq <= seen) continue;
          seen = seq;
        }
        this.live.apply(event);
        yield event;
        if (isTerminal(event)) {
          this.ended = event;
          return;
        }
      }
      // The stream ended without the wanted version's end (an older version's end, or
      // 204 after the end we resumed from): open it afresh once the projection has it.
      if (reopen >= MAX_REOPENS) {
        throw new Error(`reading events ended before version ${this.version} did`);
      }
      lastEventId = null;
      await delay(REOPEN_DELAY_MS, this.abort.signal);
    }
  }

  private open(lastEventId: string | null): AsyncGenerator<SseMessage, void, undefined> {
    const isLast = (m: SseMessage): boolean => isTerminalType(m.event);
    const useEventSource =
      this.context.transport === "eventsource" ||
      (this.context.transport === "auto" && typeof globalThis.EventSource === "function");
    if (useEventSource) {
      const url = lastEventId ? withQuery(this.url, "last_event_id", lastEventId) : this.url;
      return eventSourceStream(url, EVENT_TYPES, { isLast, signal: this.abort.signal });
    }
    return fetchEventStream(this.url, {
      isLast,
      signal: this.abort.signal,
      headers: this.context.headers,
      fetch: this.context.fetch,
      lastEventId,
    });
  }
}

/** `12` of `12` or `12.<attempt>.<chars>`; null for no id. */
function sequence(id: string | null): number | null {
  if (!id) return null;
  const n = Number.parseInt(id.split(".")[0] ?? "", 10);
  return Number.isNaN(n) ? null : n;
}

function withQuery(url: string, name: string, value: string): string {
  const u = new URL(url);
  u.searchParams.set(name, value);
  return u.toString();
}

function delay(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) {
      reject(signal.reason);
      return;
    }
    const timer = setTimeout(resolve, ms);
    signal.addEventListener(
      "abort",
      () => {
        clearTimeout(timer);
        reject(signal.reason);
      },
      { once: true },
    );
  });
}
