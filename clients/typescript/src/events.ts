/**
 * The events of `GET /v1/readings/{id}/events`, typed.
 *
 * The document types an event's `data` as a JSON string (`SseEvent`); what each
 * event type carries is the event contract of `shared/events/` (one module per
 * type), written out here. Within a major schema version fields are only added.
 */

import type { components } from "./schema.js";

type Request = components["schemas"]["ReadingRequest"];
export type Agent = NonNullable<Request["agent"]>;
export type Language = NonNullable<Request["language"]>;

/** Opens a stream that has no history yet. */
export interface HelloData {
  retry_ms: number;
}

export interface ReadingRequestedData {
  reading_id: string;
  version: number;
  birth: Record<string, unknown>;
  agent: Agent;
  language: Language;
  user_id: string | null;
  tenant?: string | null;
}

export interface ChartCalculatedData {
  reading_id: string;
  version: number;
  /** The chart: birth, design moment, activations, type, authority, profile, ... */
  chart: Record<string, unknown>;
  agent: Agent;
  language: Language;
  user_id: string | null;
  duration_s: number;
}

export interface ReadingStartedData {
  reading_id: string;
  version: number;
  provider: string;
  model: string;
  agent: Agent;
  language: Language;
}

/** Live text (not stored): `text` goes at `offset` in the text so far of `attempt`. */
export interface ReadingDeltaData {
  reading_id: string;
  version: number;
  index: number;
  text: string;
  offset: number;
  /** When it changes, the reader started over: drop the text of the earlier attempt. */
  attempt: string;
}

export interface ReadingGeneratedData {
  reading_id: string;
  version: number;
  text: string;
  provider: string;
  model: string;
  composed_offline: boolean;
  agent: Agent;
  language: Language;
  prompt_version: string;
  usage: { prompt_tokens: number; completion_tokens: number };
  latency_s: number;
}

export interface ReadingFailedData {
  reading_id: string;
  version: number;
  stage: "intake" | "chart" | "reader" | "status";
  /** e.g. `place_not_found`, `date_out_of_range`, `retries_exhausted`. */
  code: string;
  message: string;
}

export interface ReadingCancelledData {
  reading_id: string;
  version: number;
  reason: string;
}

interface Data {
  hello: HelloData;
  "reading.requested": ReadingRequestedData;
  "chart.calculated": ChartCalculatedData;
  "reading.started": ReadingStartedData;
  "reading.delta": ReadingDeltaData;
  "reading.generated": ReadingGeneratedData;
  "reading.failed": ReadingFailedData;
  "reading.cancelled": ReadingCancelledData;
}

export type ReadingEventType = keyof Data;

/** One event: `type` tells what `data` is; `id` resumes after it (`Last-Event-ID`). */
export type ReadingEvent = {
  [T in ReadingEventType]: { type: T; id: string | null; data: Data[T] };
}[ReadingEventType];

/** The events after which the stream closes. */
export type TerminalEvent = Extract<
  ReadingEvent,
  { type: "reading.generated" | "reading.failed" | "reading.cancelled" }
>;

export const EVENT_TYPES: readonly ReadingEventType[] = [
  "hello",
  "reading.requested",
  "chart.calculated",
  "reading.started",
  "reading.delta",
  "reading.generated",
  "reading.failed",
  "reading.cancelled",
];

const KNOWN = new Set<string>(EVENT_TYPES);
const TERMINAL = new Set<string>(["reading.generated", "reading.failed", "reading.cancelled"]);

export function isTerminal(event: ReadingEvent): event is TerminalEvent {
  return TERMINAL.has(event.type);
}

export function isTerminalType(type: string): boolean {
  return TERMINAL.has(type);
}

/** The typed event of one SSE message; undefined for a type this client does not know. */
export function parseEvent(type: string, data: string, id: string | null): ReadingEvent | undefined {
  if (!KNOWN.has(type)) return undefined;
  return { type, id, data: JSON.parse(data) as unknown } as ReadingEvent;
}

/**
 * The reading's text as the events tell it: each `reading.delta` placed at its
 * `offset`, a new `attempt` or version starting over, `reading.generated` the whole.
 */
export class LiveText {
  text = "";
  private attempt = "";
  private version = 0;

  /** Apply one event; returns the text so far. */
  apply(event: ReadingEvent): string {
    const version = "version" in event.data ? event.data.version : this.version;
    if (version !== this.version) {
      this.version = version;
      this.text = "";
      this.attempt = "";
    }
    if (event.type === "reading.delta") {
      const { attempt, offset, text } = event.data;
      if (attempt !== this.attempt) {
        this.attempt = attempt;
        this.text = "";
      }
      this.text = this.text.slice(0, offset) + text;
    } else if (event.type === "reading.generated") {
      this.text = event.data.text;
    }
    return this.text;
  }
}
