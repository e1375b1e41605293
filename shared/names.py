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
STREAM_SUBJECTS = [f"{SUBJECT_PREFIX}.>"]


def subject_for(event_type: str, reading_id: str) -> str:
    """The subject an event of `event_type` about `reading_id` is published on."""
    return f"{SUBJECT_PREFIX}.{event_type}.{reading_id}"


def parse_subject(subject: str) -> tuple[str, str] | None:
    """(event type, reading id) of a subject `subject_for` built; None for any other shape."""
    parts = subject.split(".")
    if len(parts) < 3:
        return None
    return ".".join(parts[1:-1]), parts[-1]


def subject_filter(event_type: str) -> str:
    """The filter that matches every event of `event_type`, whatever the reading."""
    return f"{SUBJECT_PREFIX}.{event_type}.*"


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


# Durable consumers: one per service, shared by all its replicas (the work split).
CHART_CONSUMER = "chart"
READER_CONSUMER = "reader"
STATUS_CONSUMER = "status"

# The reader's shared LLM rate limits (services/reader/limiter.py): a JetStream KV bucket.
LIMITER_BUCKET = "reader_limits"

# Header JetStream uses to drop a duplicate publish inside the duplicate window.
MSG_ID_HEADER = "Nats-Msg-Id"

# Prefix of every Prometheus metric the project exports.
METRIC_PREFIX = "hd"
