/**
 * The browser test's page: sign in with a token, request a reading, and show its
 * text as it is written, through the client (bundled by esbuild) and the browser's
 * EventSource.
 */

import { ApiError, createClient } from "../../src/index.js";

interface Config {
  baseUrl: string;
  intakeUrl?: string;
}

const config = JSON.parse(document.body.dataset["config"] ?? "{}") as Config;
const byId = <T extends HTMLElement>(id: string): T => document.getElementById(id) as T;
const status = byId<HTMLParagraphElement>("status");
const text = byId<HTMLPreElement>("text");
const submit = byId<HTMLButtonElement>("submit");
let token = "";

const client = createClient({ baseUrl: config.baseUrl, intakeUrl: config.intakeUrl, getToken: () => token });

byId<HTMLFormElement>("sign-in").addEventListener("submit", (e) => {
  e.preventDefault();
  token = byId<HTMLInputElement>("token").value.trim();
  byId("who").textContent = token ? "signed in" : "signed out";
  submit.disabled = !token;
});

submit.addEventListener("click", () => {
  submit.disabled = true;
  void run().catch((error: unknown) => {
    status.dataset["state"] = "error";
    status.textContent = error instanceof ApiError ? `${error.status} ${error.problem.title}` : String(error);
  });
});

async function run(): Promise<void> {
  const accepted = await client.submit({
    birth: { date: "1948-04-09", time: "00:14", place: { latitude: 45.5017, longitude: -73.5673 } },
    agent: "personality",
    language: "en",
  });
  status.dataset["id"] = accepted.id;
  status.textContent = "queued";
  const watch = client.watch(accepted);
  for await (const event of watch) {
    status.dataset["state"] = event.type;
    status.textContent = event.type;
    if (text.textContent !== watch.text) text.textContent = watch.text;
  }
}
