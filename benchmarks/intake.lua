-- wrk script for benchmarks/intake_bench.py: POST /v1/readings with a valid body,
-- an API key and a unique Idempotency-Key per request; done() prints one JSON line
-- ("BENCH_RESULT {...}") with requests, duration, status counts and latency percentiles.
--
--   BENCH_API_KEY=k BENCH_RUN=r wrk -t1 -c50 -d20s --latency -s benchmarks/intake.lua URL
--
-- BENCH_RUN makes the idempotency keys of one run unique against every other run.

local api_key = os.getenv("BENCH_API_KEY") or "bench-key"
local run = os.getenv("BENCH_RUN") or tostring(os.time())

local body = '{"birth":{"date":"1990-01-01","time":"12:00",'
  .. '"place":{"latitude":52.52,"longitude":13.405}}}'

local threads = {}
local thread_no = 0

function setup(thread)
  thread_no = thread_no + 1
  thread:set("id", thread_no)
  table.insert(threads, thread)
end

-- Per thread (each has its own Lua state); globals, so that done() can read them.
counter = 0
statuses = {}
local prefix
local headers

function init(args)
  prefix = run .. "-" .. tostring(id) .. "-"
  headers = {
    ["Content-Type"] = "application/json",
    ["X-API-Key"] = api_key,
  }
end

function request()
  counter = counter + 1
  headers["Idempotency-Key"] = prefix .. counter
  return wrk.format("POST", "/v1/readings", headers, body)
end

function response(status, resp_headers, resp_body)
  local key = tostring(status)
  statuses[key] = (statuses[key] or 0) + 1
end

function done(summary, latency, requests)
  local counts = {}
  local sent = 0
  for _, thread in ipairs(threads) do
    local t = thread:get("statuses")
    for code, n in pairs(t) do
      counts[code] = (counts[code] or 0) + n
    end
    sent = sent + thread:get("counter")
  end
  local parts = {}
  for code, n in pairs(counts) do
    table.insert(parts, string.format('"%s":%d', code, n))
  end
  local e = summary.errors
  io.write(string.format(
    'BENCH_RESULT {"requests":%d,"requests_built":%d,"duration_s":%.6f,"bytes":%d,'
      .. '"statuses":{%s},'
      .. '"socket_errors":{"connect":%d,"read":%d,"write":%d,"timeout":%d},'
      .. '"non_2xx_3xx":%d,'
      .. '"latency_ms":{"p50":%.3f,"p90":%.3f,"p99":%.3f,"p999":%.3f,"max":%.3f,"mean":%.3f}}\n',
    summary.requests, sent, summary.duration / 1e6, summary.bytes,
    table.concat(parts, ","),
    e.connect, e.read, e.write, e.timeout, e.status,
    latency:percentile(50) / 1000, latency:percentile(90) / 1000,
    latency:percentile(99) / 1000, latency:percentile(99.9) / 1000,
    latency.max / 1000, latency.mean / 1000
  ))
end
