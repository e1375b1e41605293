/** The text so far from typed events: pieces at their offsets, a new attempt or version over. */

import { expect, it } from "vitest";

import { LiveText, type ReadingEvent, parseEvent } from "../src/index.js";

function delta(text: string, offset: number, attempt: string, version = 1): ReadingEvent {
  const data = { reading_id: "r", version, index: 0, text, offset, attempt };
  return { type: "reading.delta", id: `1.${attempt}.${offset + text.length}`, data };
}

it("places each piece at its offset, a resent piece replacing what it covers", () => {
  const live = new LiveText();
  expect(live.apply(delta("Your ", 0, "a1"))).toBe("Your ");
  expect(live.apply(delta("chart", 5, "a1"))).toBe("Your chart");
  expect(live.apply(delta("Your chart shows", 0, "a1"))).toBe("Your chart shows"); // resumed
});

it("starts over when the attempt or the version changes", () => {
  const live = new LiveText();
  live.apply(delta("first try", 0, "a1"));
  expect(live.apply(delta("again", 0, "b2"))).toBe("again");
  const requested = parseEvent(
    "reading.requested",
    JSON.stringify({ reading_id: "r", version: 2, birth: {}, agent: "business", language: "de", user_id: null }),
    "9",
  );
  if (requested === undefined) throw new Error("reading.requested not parsed");
  expect(live.apply(requested)).toBe("");
  expect(live.apply(delta("v2", 0, "b2", 2))).toBe("v2");
});

it("takes the whole text from reading.generated, and skips unknown event types", () => {
  const live = new LiveText();
  live.apply(delta("partial", 0, "a1"));
  const generated = parseEvent("reading.generated", JSON.stringify({
    reading_id: "r", version: 1, text: "The whole text.", provider: "openai", model: "m",
    composed_offline: false, agent: "personality", language: "en", prompt_version: "1",
    usage: { prompt_tokens: 1, completion_tokens: 2 }, latency_s: 0.1,
  }), "3");
  if (generated?.type !== "reading.generated") throw new Error("reading.generated not parsed");
  expect(live.apply(generated)).toBe("The whole text.");
  expect(parseEvent("reading.someday", "{}", "4")).toBeUndefined();
});
