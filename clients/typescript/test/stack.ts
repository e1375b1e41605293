/**
 * Vitest global setup: the real stack, started once for every test file.
 *
 * - a JWKS endpoint (node:http) with a fresh RSA key, to sign test JWTs with (`jose`);
 * - the repository's OpenAI-compatible test server (`tests/reader/fake_openai.py`),
 *   streaming its answer slowly so the text visibly grows;
 * - `python -m shared.launcher`: embedded NATS + PostgreSQL in a temporary DATA_DIR,
 *   the four services and the dev gateway, every port free, sign-in pointed at the JWKS.
 *
 * Python is `../../.venv/bin/python` (`make install`), or `HD_PYTHON`. Teardown stops
 * the launcher (it drains its services), then kills anything left that carries this
 * run's marker in its environment: no process outlives the run.
 */

import { type ChildProcess, spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { createWriteStream, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { type Server, createServer } from "node:http";
import { type AddressInfo, createServer as createNetServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

import { type JWK, exportJWK, generateKeyPair } from "jose";
import type { TestProject } from "vitest/node";

import { ISSUER, AUDIENCE, LLM_TEXT } from "./constants.js";

declare module "vitest" {
  export interface ProvidedContext {
    stack: StackInfo;
  }
}

export interface StackInfo {
  /** Where the client points: the dev gateway, one origin for the whole API. */
  baseUrl: string;
  /** Intake's and status's own origins (behind the gateway). */
  intakeUrl: string;
  statusUrl: string;
  /** The origin the browser test serves its page from (allowed by CORS). */
  pageOrigin: string;
  pagePort: number;
  /** An API key (tenant `servers`), as a server-side client would send it. */
  apiKey: string;
  /** To sign test JWTs with (RS256, `kid` set). */
  privateJwk: JWK;
  llmText: string;
}

const ROOT = resolve(fileURLToPath(new URL("../../..", import.meta.url)));
const PYTHON = process.env["HD_PYTHON"] ?? join(ROOT, ".venv", "bin", "python");
const MARKER = "HD_CLIENT_TEST_RUN";
const READY_TIMEOUT_MS = 120_000;
const STOP_TIMEOUT_MS = 30_000;

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const run = randomUUID();
  const dataDir = mkdtempSync(join(tmpdir(), "hd-client-test-"));
  const cleanup = new Cleanup(run, dataDir);
  process.once("exit", () => cleanup.killMarked()); // Ctrl-C or a crash: nothing left over
  try {
    if (!existsSync(PYTHON)) {
      throw new Error(`${PYTHON} not found: run \`make install\` at the repository root (or set HD_PYTHON)`);
    }
    const { publicKey, privateKey } = await generateKeyPair("RS256", { extractable: true });
    const kid = `test-${run.slice(0, 8)}`;
    const publicJwk = { ...(await exportJWK(publicKey)), kid, alg: "RS256", use: "sig" };
    const privateJwk = { ...(await exportJWK(privateKey)), kid, alg: "RS256" };
    const jwks = await serveJwks(publicJwk);
    cleanup.servers.push(jwks.server);

    const apiKey = `test-key-${randomUUID()}`;
    const ports = await freePorts(12);
    const take = (): number => {
      const port = ports.pop();
      if (port === undefined) throw new Error("out of free ports");
      return port;
    };
    const llmPort = take();
    const pagePort = take();
    const pageOrigin = `http://127.0.0.1:${pagePort}`;
    const port = {
      INTAKE_PORT: take(), STATUS_PORT: take(), CHART_OPS_PORT: take(), READER_OPS_PORT: take(),
      EMBEDDED_NATS_PORT: take(), EMBEDDED_PG_PORT: take(), GATEWAY_PORT: take(),
    };
    const env = {
      ...baseEnv(),
      [MARKER]: run,
      DATA_DIR: join(dataDir, "data"),
      ...Object.fromEntries(Object.entries(port).map(([k, v]) => [k, String(v)])),
      EMBEDDED_NATS_ROUTE_PORT: String(take()),
      EMBEDDED_NATS_MONITOR_PORT: String(take()),
      OPS_PORT_BASE: "0",
      LOG_FORMAT: "json",
      LOG_LEVEL: "warning",
      DRAIN_TIMEOUT_S: "2",
      OPENAI_API_KEY: "sk-test-client-not-a-real-key",
      OPENAI_BASE_URL: `http://127.0.0.1:${llmPort}/v1`,
      OPENAI_MODEL: "test-model",
      CORS_ORIGINS: `${pageOrigin},http://localhost:${pagePort}`,
      AUTH_JWKS_URL: jwks.url,
      AUTH_ISSUER: ISSUER,
      AUTH_AUDIENCE: AUDIENCE,
      API_KEYS: `servers=${apiKey}`,
    };

    // The test LLM: first token after half a second, then a piece every 150 ms.
    cleanup.spawn("fake-llm", [
      "-m", "tests.reader.fake_openai", "--port", String(llmPort),
      "--first-token-delay", "0.5", "--chunk-delay", "0.15", "--chunk-size", "24", "--text", LLM_TEXT,
    ], env);
    await waitFor(`the test LLM on :${llmPort}`, () => portOpen(llmPort), cleanup);

    cleanup.launcher = cleanup.spawn("launcher", ["-m", "shared.launcher"], env);
    const status = `http://127.0.0.1:${port.STATUS_PORT}`;
    const intake = `http://127.0.0.1:${port.INTAKE_PORT}`;
    const gateway = `http://127.0.0.1:${port.GATEWAY_PORT}`;
    const probes = [intake, status, `http://127.0.0.1:${port.CHART_OPS_PORT}`,
      `http://127.0.0.1:${port.READER_OPS_PORT}`, gateway].map((u) => `${u}/readyz`);
    await waitFor("the four services and the gateway to be ready", async () => {
      const answers = await Promise.all(probes.map((u) => httpOk(u)));
      return answers.every(Boolean);
    }, cleanup);

    project.provide("stack", {
      baseUrl: gateway,
      intakeUrl: intake,
      statusUrl: status,
      pageOrigin,
      pagePort,
      apiKey,
      privateJwk,
      llmText: LLM_TEXT,
    });
  } catch (error) {
    await cleanup.stop();
    throw error;
  }
  return () => cleanup.stop();
}

/** This process's environment without anything that would point the stack elsewhere. */
function baseEnv(): Record<string, string> {
  const drop = /^(OPENAI_|NATS_|DATABASE_URL|API_KEYS|AUTH_|STREAM_TOKEN_SECRET|CORS_ORIGINS|STATUS_BASE_URL|DEMO_INTAKE_URL|TRUSTED_PROXIES|GATEWAY_|SERVICE_REPLICAS|EMBEDDED_|READER_PROVIDER|TEST_)/;
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (v !== undefined && !drop.test(k)) out[k] = v;
  }
  return out;
}

class Cleanup {
  readonly servers: Server[] = [];
  readonly children: ChildProcess[] = [];
  launcher: ChildProcess | undefined;

  constructor(
    private readonly run: string,
    private readonly dataDir: string,
  ) {}

  spawn(name: string, args: string[], env: Record<string, string>): ChildProcess {
    const log = createWriteStream(join(this.dataDir, `${name}.log`));
    const child = spawn(PYTHON, args, { cwd: ROOT, env, detached: true, stdio: ["ignore", "pipe", "pipe"] });
    child.stdout?.pipe(log);
    child.stderr?.pipe(log);
    this.children.push(child);
    return child;
  }

  /** The last lines each process wrote, for a failure message. */
  logs(): string {
    return readdirSync(this.dataDir)
      .filter((f) => f.endsWith(".log"))
      .map((f) => `--- ${f}\n${readFileSync(join(this.dataDir, f), "utf8").split("\n").slice(-40).join("\n")}`)
      .join("\n");
  }

  async stop(): Promise<void> {
    // The launcher drains its services and stops the broker and the database itself.
    if (this.launcher && this.launcher.exitCode === null && this.launcher.signalCode === null) {
      this.launcher.kill("SIGTERM");
      await exited(this.launcher, STOP_TIMEOUT_MS);
    }
    for (const child of this.children) {
      if (child.pid !== undefined && child.exitCode === null && child.signalCode === null) {
        try {
          process.kill(-child.pid, "SIGTERM");
        } catch {
          // already gone
        }
        await exited(child, 5_000);
      }
    }
    this.killMarked();
    await Promise.all(this.servers.map((s) => new Promise((r) => s.close(r))));
    rmSync(this.dataDir, { recursive: true, force: true });
  }

  /** SIGKILL every process whose environment carries this run's marker. */
  killMarked(): void {
    const mark = `${MARKER}=${this.run}`;
    for (const pid of readdirSync("/proc").filter((d) => /^\d+$/.test(d)).map(Number)) {
      if (pid === process.pid) continue;
      try {
        const environ = readFileSync(`/proc/${pid}/environ`, "utf8").split("\0");
        if (environ.includes(mark)) process.kill(pid, "SIGKILL");
      } catch {
        // gone, or not ours to read
      }
    }
  }
}

async function waitFor(what: string, check: () => Promise<boolean>, cleanup: Cleanup): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (await check()) return;
    const dead = cleanup.children.find((c) => c.exitCode !== null);
    if (dead) throw new Error(`waiting for ${what}: a process exited (${dead.exitCode})\n${cleanup.logs()}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`waiting for ${what}: not within ${READY_TIMEOUT_MS / 1000} s\n${cleanup.logs()}`);
}

function exited(child: ChildProcess, timeoutMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      if (child.pid !== undefined) {
        try {
          process.kill(-child.pid, "SIGKILL");
        } catch {
          // already gone
        }
      }
      resolve();
    }, timeoutMs);
    child.once("exit", () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

async function httpOk(url: string): Promise<boolean> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(1_000) });
    await response.arrayBuffer();
    return response.ok;
  } catch {
    return false;
  }
}

function portOpen(port: number): Promise<boolean> {
  return httpOk(`http://127.0.0.1:${port}/_calls`);
}

async function freePorts(n: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from({ length: n }, () => new Promise<ReturnType<typeof createNetServer>>((resolve, reject) => {
      const s = createNetServer();
      s.once("error", reject);
      s.listen(0, "127.0.0.1", () => resolve(s));
    })),
  );
  const ports = servers.map((s) => (s.address() as AddressInfo).port);
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  return ports;
}

async function serveJwks(jwk: JWK): Promise<{ server: Server; url: string }> {
  const body = JSON.stringify({ keys: [jwk] });
  const server = createServer((req, res) => {
    if (req.url === "/.well-known/jwks.json") {
      res.writeHead(200, { "Content-Type": "application/json" }).end(body);
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as AddressInfo;
  return { server, url: `http://127.0.0.1:${port}/.well-known/jwks.json` };
}
