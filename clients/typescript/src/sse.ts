/**
 * Server-Sent Events in two ways: the browser's `EventSource`, or `fetch` with
 * `eventsource-parser` (Node, or a browser that must send headers). Both yield the
 * raw messages; `fetchEventStream` resumes a dropped stream with `Last-Event-ID`.
 */

import { createParser } from "eventsource-parser";

import { ApiError, errorFrom } from "./errors.js";

export interface SseMessage {
  event: string;
  data: string;
  id: string | null;
}

export interface StreamOptions {
  /** The last message wanted: the stream is closed after it. */
  isLast: (message: SseMessage) => boolean;
  signal?: AbortSignal | undefined;
}

export interface FetchStreamOptions extends StreamOptions {
  /** Headers of each (re)connection: the credentials. */
  headers: () => Promise<Record<string, string>>;
  fetch: typeof fetch;
  /** Reconnections in a row without a message before giving up (default 5). */
  maxReconnects?: number | undefined;
  /** Resume after this event id. */
  lastEventId?: string | null | undefined;
}

/** Messages through `fetch`; a stream that drops before the last message is resumed. */
export async function* fetchEventStream(
  url: string,
  options: FetchStreamOptions,
): AsyncGenerator<SseMessage, void, undefined> {
  const abort = new AbortController();
  const stop = (): void => abort.abort(options.signal?.reason);
  options.signal?.addEventListener("abort", stop, { once: true });
  if (options.signal?.aborted) stop();
  let lastId = options.lastEventId ?? null;
  let retryMs = 1000;
  let reconnects = 0;
  const maxReconnects = options.maxReconnects ?? 5;
  try {
    for (;;) {
      const headers: Record<string, string> = {
        Accept: "text/event-stream",
        ...(await options.headers()),
        ...(lastId ? { "Last-Event-ID": lastId } : {}),
      };
      let body: ReadableStream<Uint8Array> | null = null;
      try {
        const response = await options.fetch(url, { headers, signal: abort.signal, cache: "no-store" });
        if (response.status === 204) return; // ended at or before lastId
        if (!response.ok) throw await errorFrom(response);
        body = response.body;
      } catch (error) {
        if (abort.signal.aborted || error instanceof ApiError) throw error;
      }
      if (body !== null) {
        const queue: SseMessage[] = [];
        const parser = createParser({
          onEvent: (m) => queue.push({ event: m.event ?? "message", data: m.data, id: m.id ?? null }),
          onRetry: (ms) => {
            retryMs = ms;
          },
        });
        const reader = body.getReader();
        const decoder = new TextDecoder();
        try {
          for (;;) {
            const { value, done } = await reader.read();
            if (done) break;
            parser.feed(decoder.decode(value, { stream: true }));
            for (let m = queue.shift(); m !== undefined; m = queue.shift()) {
              if (m.id) lastId = m.id;
              reconnects = 0;
              yield m;
              if (options.isLast(m)) return;
            }
          }
        } catch (error) {
          if (abort.signal.aborted) throw error;
          // the connection dropped: resume below
        } finally {
          reader.cancel().catch(() => undefined);
        }
      }
      reconnects += 1;
      if (reconnects > maxReconnects) {
        throw new Error(`the event stream of ${url} kept closing before the reading ended`);
      }
      await sleep(retryMs, abort.signal);
    }
  } finally {
    options.signal?.removeEventListener("abort", stop);
    abort.abort();
  }
}

/**
 * Messages through the browser's `EventSource` (no headers: the URL carries any
 * credentials). It reconnects by itself with `Last-Event-ID`; a stream it gives up
 * on (refused, unreachable) ends the iteration with an error.
 */
export async function* eventSourceStream(
  url: string,
  eventTypes: readonly string[],
  options: StreamOptions,
): AsyncGenerator<SseMessage, void, undefined> {
  const source = new EventSource(url);
  const queue = new AsyncQueue<SseMessage>();
  const onMessage = (e: MessageEvent<unknown>): void => {
    queue.push({ event: e.type, data: String(e.data), id: e.lastEventId || null });
  };
  for (const type of [...eventTypes, "message"]) source.addEventListener(type, onMessage);
  source.onerror = () => {
    if (source.readyState === EventSource.CLOSED) {
      queue.fail(new Error(`the event stream of ${url} was refused or closed`));
    }
  };
  const stop = (): void => queue.fail(options.signal?.reason ?? new Error("aborted"));
  options.signal?.addEventListener("abort", stop, { once: true });
  if (options.signal?.aborted) stop();
  try {
    for (;;) {
      const m = await queue.next();
      yield m;
      if (options.isLast(m)) return;
    }
  } finally {
    options.signal?.removeEventListener("abort", stop);
    source.close();
  }
}

/** Items pushed by callbacks, awaited one at a time. */
class AsyncQueue<T> {
  private items: T[] = [];
  private waiting: { resolve: (item: T) => void; reject: (error: unknown) => void } | null = null;
  private error: unknown = undefined;
  private failed = false;

  push(item: T): void {
    if (this.waiting) {
      const { resolve } = this.waiting;
      this.waiting = null;
      resolve(item);
    } else {
      this.items.push(item);
    }
  }

  fail(error: unknown): void {
    if (this.failed) return;
    this.failed = true;
    this.error = error;
    if (this.waiting) {
      const { reject } = this.waiting;
      this.waiting = null;
      reject(error);
    }
  }

  next(): Promise<T> {
    const item = this.items.shift();
    if (item !== undefined) return Promise.resolve(item);
    if (this.failed) return Promise.reject(this.error);
    return new Promise((resolve, reject) => {
      this.waiting = { resolve, reject };
    });
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) {
      reject(signal.reason);
      return;
    }
    const timer = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    signal.addEventListener("abort", onAbort, { once: true });
  });
}
