"""Every Prometheus metric the services export, defined once.

Labels are bounded: service, event type, outcome, route template, status
class. Never a reading id.
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

from shared.names import METRIC_PREFIX as P

EVENTS_HANDLED = Counter(
    f"{P}_events_handled_total",
    "Events taken from the bus, by outcome (ack, retry, failed, poison, released).",
    ["service", "event_type", "outcome"],
)
EVENT_HANDLE_SECONDS = Histogram(
    f"{P}_event_handle_seconds",
    "Time from fetch to ack of one event.",
    ["service", "event_type"],
    buckets=(0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120),
)
EVENTS_PUBLISHED = Counter(
    f"{P}_events_published_total",
    "Events published to JetStream and acknowledged by it (duplicates included).",
    ["service", "event_type"],
)
EVENTS_DUPLICATE = Counter(
    f"{P}_events_duplicate_total",
    "Publishes JetStream dropped as duplicates of an earlier Nats-Msg-Id.",
    ["service", "event_type"],
)
LIVE_TEXT_PIECES = Counter(
    f"{P}_live_text_pieces_total",
    "Pieces of live text (core NATS, not stored), by what happened: sent (reader), "
    "received, gap (status missed one), unreadable.",
    ["outcome"],
)
LIVE_TEXT_SO_FAR = Counter(
    f"{P}_live_text_so_far_total",
    "Requests for a live reading's text so far (status asks the reader writing it), by "
    "outcome: answered, unanswered.",
    ["outcome"],
)
PUBLISH_RETRIES = Counter(
    f"{P}_publish_retries_total",
    "Publishes sent again because the stream could not store them for a moment "
    "(no leader, a timeout, 503).",
    ["service", "event_type"],
)
EVENTS_SKIPPED = Counter(
    f"{P}_events_skipped_total",
    "Events acknowledged with no work done or nothing more published, by reason "
    "(cancelled, already_generated).",
    ["service", "reason"],
)
HANDLERS_IN_FLIGHT = Gauge(
    f"{P}_handlers_in_flight",
    "Events being handled right now.",
    ["service"],
)
BUS_CONNECTED = Gauge(
    f"{P}_bus_connected",
    "1 while the service is connected to NATS.",
    ["service"],
)
HTTP_REQUESTS = Counter(
    f"{P}_http_requests_total",
    "HTTP requests by route template, method and status code.",
    ["service", "route", "method", "status"],
)
HTTP_REQUEST_SECONDS = Histogram(
    f"{P}_http_request_seconds",
    "HTTP request latency by route template.",
    ["service", "route"],
    buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5),
)
SSE_CLIENTS = Gauge(
    f"{P}_sse_clients",
    "Open SSE connections.",
    ["service"],
)
CONSUMER_PENDING = Gauge(
    f"{P}_consumer_pending_messages",
    "Messages in the stream not yet delivered to the consumer (its lag).",
    ["consumer"],
)
CONSUMER_ACK_PENDING = Gauge(
    f"{P}_consumer_ack_pending_messages",
    "Messages delivered to the consumer and not yet acknowledged (in flight).",
    ["consumer"],
)
CONSUMER_REDELIVERED = Gauge(
    f"{P}_consumer_redelivered_messages",
    "Messages delivered more than once and not yet acknowledged.",
    ["consumer"],
)
CONSUMER_STALLS = Counter(
    f"{P}_consumer_stalls_total",
    "Times the watchdog saw pending work but no deliveries and re-created the pull.",
    ["consumer"],
)
SSE_DELIVERY_LAG_SECONDS = Histogram(
    f"{P}_sse_delivery_lag_seconds",
    "Age of a live event (from its CloudEvents time) when written to an SSE client.",
    ["service"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.25, 0.5, 1, 2.5, 5),
)
LLM_CALLS = Counter(
    f"{P}_llm_calls_total",
    "LLM calls by outcome (ok, rate_limited, server_error, timeout, connection_error, "
    "refused, filtered, empty, cancelled).",
    ["provider", "outcome"],
)
LLM_CALL_SECONDS = Histogram(
    f"{P}_llm_call_seconds",
    "Duration of one LLM call, from request to the last token.",
    ["provider"],
    buckets=(0.1, 0.25, 0.5, 1, 2, 3, 5, 8, 13, 21, 34, 55, 89, 144),
)
LLM_FIRST_TOKEN_SECONDS = Histogram(
    f"{P}_llm_first_token_seconds",
    "Time from request to the first streamed token.",
    ["provider"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2, 3, 5, 8, 13, 21),
)
LLM_TOKENS = Counter(
    f"{P}_llm_tokens_total",
    "Tokens used, by kind (prompt, completion) and model.",
    ["provider", "model", "kind"],
)
LLM_LIMITER_WAIT_SECONDS = Histogram(
    f"{P}_llm_limiter_wait_seconds",
    "Time a call waited for the limits shared by all reader replicas.",
    buckets=(0.001, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300),
)
LLM_IN_FLIGHT = Gauge(
    f"{P}_llm_calls_in_flight",
    "LLM calls under way in this replica.",
    ["provider"],
)
SHED = Counter(
    f"{P}_requests_shed_total",
    "Requests refused at once because the service was past its capacity.",
    ["service"],
)
RATE_LIMITED = Counter(
    f"{P}_requests_rate_limited_total",
    "Requests refused with 429 because their key was over its rate limit.",
    ["service"],
)
IDEMPOTENT_REPLAYS = Counter(
    f"{P}_idempotent_replays_total",
    "Requests answered from an earlier one with the same Idempotency-Key.",
    ["service"],
)
RETENTION_DELETED = Counter(
    f"{P}_retention_deleted_rows_total",
    "Rows the retention sweep deleted because they expired, by table (inbox, "
    "reading_events, dead_letters).",
    ["table"],
)
RETENTION_SWEEPS = Counter(
    f"{P}_retention_sweeps_total",
    "Retention sweeps by outcome: done, locked (another replica was sweeping), failed.",
    ["outcome"],
)
RETENTION_LAST_SUCCESS = Gauge(
    f"{P}_retention_last_success_timestamp_seconds",
    "Unix time at which a sweep last removed every expired row of the table.",
    ["table"],
)
STREAM_BYTES = Gauge(
    f"{P}_stream_bytes",
    "Bytes the JetStream stream holds (status polls it).",
    ["stream"],
)
STREAM_MAX_BYTES = Gauge(
    f"{P}_stream_max_bytes",
    "The stream's byte limit; at it the stream refuses new events (DiscardNew). -1: none.",
    ["stream"],
)
# Priorities (`priority` is `high` or `normal`: bounded).
READINGS_REQUESTED = Counter(
    f"{P}_readings_requested_total",
    "reading.requested events published (a submit, a regeneration), by priority.",
    ["service", "priority"],
)
PRIORITY_REFUSED = Counter(
    f"{P}_priority_refused_total",
    "Requests refused with 403 because their tenant may not ask for high priority.",
    ["service"],
)
CALL_SLOT_WAITERS = Gauge(
    f"{P}_reader_call_slot_waiters",
    "Charts held by a reader replica waiting for an LLM call slot, by priority.",
    ["priority"],
)
