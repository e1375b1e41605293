/**
 * The client in a real browser: headless Chromium (Debian's, driven by playwright-core,
 * which downloads nothing) loads a page served here that bundles the client, signs in
 * with a test JWT, submits, and shows the text growing through EventSource(events_url).
 */

import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { type Server, createServer } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

import { build } from "esbuild";
import { type BrowserContext, chromium } from "playwright-core";
import { afterAll, beforeAll, expect, inject, it } from "vitest";

import { signToken } from "./tokens.js";

const CHROMIUM = process.env["TEST_CHROMIUM"] ?? "/usr/bin/chromium";
const CHROMIUM_ARGS = [
  "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
  "--disable-background-networking", "--disable-component-update", "--disable-sync",
];
const PAGE = fileURLToPath(new URL("./page/", import.meta.url));
const stack = inject("stack");

let server: Server;
let context: BrowserContext;
let profile: string;

beforeAll(async () => {
  const bundle = await build({
    entryPoints: [join(PAGE, "main.ts")], bundle: true, write: false, format: "esm",
    platform: "browser", target: "es2022", logLevel: "silent",
  });
  const app = bundle.outputFiles[0]?.text ?? "";
  const config = JSON.stringify({ baseUrl: stack.baseUrl })
    .replaceAll("&", "&amp;").replaceAll('"', "&quot;");
  const html = readFileSync(join(PAGE, "index.html"), "utf8").replace("__CONFIG__", config);
  server = createServer((req, res) => {
    if (req.url === "/") res.writeHead(200, { "Content-Type": "text/html; charset=utf-8" }).end(html);
    else if (req.url === "/app.js") res.writeHead(200, { "Content-Type": "text/javascript" }).end(app);
    else if (req.url === "/favicon.ico") res.writeHead(204).end();
    else res.writeHead(404).end();
  });
  await new Promise<void>((r) => server.listen(stack.pagePort, "127.0.0.1", r));
  profile = mkdtempSync(join(tmpdir(), "hd-client-chromium-"));
  try {
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true,
    });
  } catch (error) {
    throw new Error(
      `Chromium at ${CHROMIUM} did not start (install Debian's: \`make chromium\`, or set TEST_CHROMIUM): ${String(error)}`,
    );
  }
});

afterAll(async () => {
  await context?.close();
  await new Promise((r) => server?.close(r));
  if (profile) rmSync(profile, { recursive: true, force: true });
});

it("signs in, submits, and watches the text grow in the page", async () => {
  const page = await context.newPage();
  const problems: string[] = [];
  page.on("pageerror", (e) => problems.push(`pageerror: ${e.message}`));
  page.on("console", (m) => (m.type() === "error" ? problems.push(`console: ${m.text()}`) : undefined));
  const streams: string[] = [];
  page.on("request", (r) => (r.resourceType() === "eventsource" ? streams.push(r.url()) : undefined));
  // Records every change of the text with the page's state at that moment.
  await page.addInitScript(() => {
    const w = window as unknown as { __lengths: [number, string][] };
    w.__lengths = [];
    document.addEventListener("DOMContentLoaded", () => {
      const text = document.getElementById("text") as HTMLElement;
      const status = document.getElementById("status") as HTMLElement;
      new MutationObserver(() => w.__lengths.push([text.textContent?.length ?? 0, status.dataset["state"] ?? ""]))
        .observe(text, { childList: true, characterData: true, subtree: true });
    });
  });

  await page.goto(`${stack.pageOrigin}/`);
  await page.fill("#token", await signToken(stack.privateJwk, "browser-user"));
  await page.click("#sign-in-button");
  await expect.poll(() => page.textContent("#who")).toBe("signed in");
  await page.click("#submit");
  await page.waitForSelector('#status[data-state="reading.generated"], #status[data-state="error"]', {
    timeout: 45_000,
  });

  expect(await page.textContent("#status")).toBe("reading.generated");
  const id = await page.getAttribute("#status", "data-id");
  const lengths = await page.evaluate(() => (window as unknown as { __lengths: [number, string][] }).__lengths);
  const growing = lengths.filter(([, state]) => state === "reading.delta").map(([n]) => n);
  const increases = growing.filter((n, i) => i > 0 && n > (growing[i - 1] ?? 0)).length;
  expect(increases, `text lengths while written: ${JSON.stringify(lengths)}`).toBeGreaterThanOrEqual(2);
  const final = (await page.textContent("#text")) ?? "";
  expect(final).toContain("Manifestor with Splenic authority");
  expect(final.length).toBeGreaterThanOrEqual(Math.max(...growing));
  const stream = streams.find((u) => u.includes(`/v1/readings/${id}/events`));
  expect(stream, `EventSource requests: ${JSON.stringify(streams)}`).toBeTruthy();
  expect(new URL(stream ?? "").searchParams.get("access_token")).toBeTruthy(); // no headers
  expect(problems).toEqual([]);
});
