"""Every name the services share on the bus and in metrics, in one place.

Manifests (KEDA triggers, alerts) and docs are checked against these names, so
change them here and nowhere else.
"""

# One stream holds every pipeline event. Limits retention (not WorkQueue): the
# status service reads every subject while chart and reader each read one, and
# WorkQueue streams refuse overlapping consumers. History lives in Postgres.
STREAM = "READINGS"

# Subjects carry the reading id as their last token, so "the last event of
# this type for this reading" is one direct lookup (used by status to answer a
# poll that races the projection) and KEDA can read lag per consumer.
SUBJECT_PREFIX = "hd"

# Priorities. The work a stage takes (a request for the chart service, a chart for the
# reader) travels on a subject of its priority: normal under `hd.`, high under `hd-high.`
# (same tokens after the root, so `*.<type>.<reading id>` is every priority of one
# reading's event: one direct get finds the latest, one compare-and-set covers them).
# Each stage reads each priority with its own durable consumer and takes high first.
# Every other event stays under `hd.`.
PRIORITIES = ("high", "normal")  # highest first
NORMAL = "normal"
HIGH_SUBJECT_PREFIX = "hd-high"
_PREFIX_OF = {"normal": SUBJECT_PREFIX, "high": HIGH_SUBJECT_PREFIX}
# The event types whose subject carries the priority: what a stage's consumer takes.
PRIORITY_TYPES = ("reading.requested", "chart.calculated")
STREAM_SUBJECTS = [f"{SUBJECT_PREFIX}.>", f"{HIGH_SUBJECT_PREFIX}.>"]
# A consumer's filter for every event in the stream, whatever its priority.
EVERY_EVENT = ">"


def subject_for(event_type: str, reading_id: str, priority: str = NORMAL) -> str:
    """The subject an event of `event_type` about `reading_id` is published on.

    `priority` matters only for `PRIORITY_TYPES`; every other event is under `hd.`.
    """
    prefix = _PREFIX_OF[priority] if event_type in PRIORITY_TYPES else SUBJECT_PREFIX
    return f"{prefix}.{event_type}.{reading_id}"


def any_priority_subject(event_type: str, reading_id: str) -> str:
    """The subject filter of `event_type` about `reading_id` at every priority."""
    if event_type in PRIORITY_TYPES:
        return f"*.{event_type}.{reading_id}"
    return subject_for(event_type, reading_id)


def parse_subject(subject: str) -> tuple[str, str] | None:
    """(event type, reading id) of a subject `subject_for` built; None for any other shape."""
    parts = subject.split(".")
    if len(parts) < 3:
        return None
    return ".".join(parts[1:-1]), parts[-1]


def subject_filter(event_type: str, priority: str = NORMAL) -> str:
    """The filter that matches every event of `event_type` of `priority`, whatever the reading."""
    prefix = _PREFIX_OF[priority] if event_type in PRIORITY_TYPES else SUBJECT_PREFIX
    return f"{prefix}.{event_type}.*"


def subject_filters(event_type: str) -> tuple[str, ...]:
    """The filters of `event_type` at every priority it travels at (one for most types)."""
    if event_type in PRIORITY_TYPES:
        return tuple(subject_filter(event_type, p) for p in PRIORITIES)
    return (subject_filter(event_type),)


# Live text: the pieces of a reading's text while it is written. Core NATS, outside
# the stream's `hd.>`: nothing is stored per piece (the durable text is the
# `reading.generated` event); every status replica hears every piece.
LIVE_TEXT_FILTER = "live.text.*"
# The text so far of a reading being written, asked of the reader replica writing it
# (request/reply; the other replicas stay silent).
LIVE_SO_FAR_FILTER = "live.sofar.*"


def live_text_subject(reading_id: str) -> str:
    return f"live.text.{reading_id}"


def live_so_far_subject(reading_id: str) -> str:
    return f"live.sofar.{reading_id}"


def source_of(service: str) -> str:
    """The CloudEvents `source` of every event `service` emits, e.g. `/services/chart`.

    Set once per service, by its publisher (`shared.bus.publish.Publisher.source`),
    never written out by a handler.
    """
    return f"/services/{service}"


# Durable consumers: one per service (chart and reader: one per priority), shared by all
# its replicas (the work split). The normal lanes keep their names from before priorities.
CHART_CONSUMER = "chart"
READER_CONSUMER = "reader"
CHART_HIGH_CONSUMER = "chart-high"
READER_HIGH_CONSUMER = "reader-high"
STATUS_CONSUMER = "status"

# The reader's shared LLM rate limits (services/reader/limiter.py): a JetStream KV bucket.
LIMITER_BUCKET = "reader_limits"

# Header JetStream uses to drop a duplicate publish inside the duplicate window.
MSG_ID_HEADER = "Nats-Msg-Id"

# Prefix of every Prometheus metric the project exports.
METRIC_PREFIX = "hd"
