"""JetStream topology, declared once as data and applied idempotently at start-up.

Each service declares the consumer it reads from; `ensure_topology` creates or
updates the stream and that consumer. Tests compare the live server's config
with these declarations.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from nats.js import JetStreamContext
from nats.js.api import (
    AckPolicy,
    ConsumerConfig,
    DeliverPolicy,
    DiscardPolicy,
    RetentionPolicy,
    StorageType,
    StreamConfig,
)
from nats.js.errors import BadRequestError, NotFoundError

from shared import names
from shared.events import chart_calculated, reading_requested
from shared.logging import get_logger

log = get_logger(__name__)

DAY_S = 24 * 3600.0


DEFAULT_MAX_AGE_S = 7 * DAY_S  # STREAM_MAX_AGE_S's default
DUPLICATE_WINDOW_S = 120.0  # JetStream's default; never longer than the stream's age


def stream_config(replicas: int = 1, max_age_s: float = DEFAULT_MAX_AGE_S) -> StreamConfig:
    """The one stream: Limits retention, bounded by age and bytes, 2-minute dedup window."""
    # Age and size bound the history kept for replays; readings live in PostgreSQL.
    return StreamConfig(
        name=names.STREAM,
        description="Human Design reading pipeline events",
        subjects=list(names.STREAM_SUBJECTS),
        retention=RetentionPolicy.LIMITS,
        storage=StorageType.FILE,
        max_age=max_age_s,
        max_bytes=8 * 1024**3,
        max_msg_size=1024**2,
        # Full stream: refuse new events (intake answers 503) rather than drop old,
        # possibly unprocessed ones.
        discard=DiscardPolicy.NEW,
        duplicate_window=min(DUPLICATE_WINDOW_S, max_age_s),
        num_replicas=replicas,
        allow_direct=True,
    )


@dataclass(frozen=True)
class ConsumerSpec:
    """A durable pull consumer shared by every replica of one service."""

    durable: str
    filter_subjects: tuple[str, ...]
    ack_wait_s: float
    max_deliver: int
    max_ack_pending: int
    description: str = ""
    backoff_s: tuple[float, ...] = field(default=())
    # The consumer of the same stage's high-priority work, taken before this one's.
    high: ConsumerSpec | None = None

    @property
    def lanes(self) -> tuple[ConsumerSpec, ...]:
        """This consumer and its high lane, highest priority first."""
        return (self,) if self.high is None else (self.high, self)

    def config(self) -> ConsumerConfig:
        single = len(self.filter_subjects) == 1
        return ConsumerConfig(
            name=self.durable,
            durable_name=self.durable,
            description=self.description or None,
            deliver_policy=DeliverPolicy.ALL,
            ack_policy=AckPolicy.EXPLICIT,
            ack_wait=self.ack_wait_s,
            max_deliver=self.max_deliver,
            max_ack_pending=self.max_ack_pending,
            filter_subject=self.filter_subjects[0] if single else None,
            filter_subjects=None if single else list(self.filter_subjects),
            backoff=list(self.backoff_s) or None,
            max_waiting=512,
        )


# Chart work is milliseconds: a short ack deadline returns a dead worker's
# messages fast. Reader work is an LLM call: it heartbeats with in_progress().
# Chart and reader read each priority with its own durable (`lanes`), the high one
# first (`shared.bus.consumer`); the normal lanes keep their names from before.
def _with_high_lane(spec: ConsumerSpec, durable: str, event_type: str) -> ConsumerSpec:
    """`spec` with a high-priority lane: the same limits, its own durable and subject."""
    service, _, work = spec.description.partition(": ")
    high = replace(
        spec, durable=durable,
        filter_subjects=(names.subject_filter(event_type, "high"),),
        description=f"{service}: high-priority {work}",
    )  # fmt: skip
    return replace(spec, high=high)


CHART = _with_high_lane(
    ConsumerSpec(
        durable=names.CHART_CONSUMER,
        filter_subjects=(names.subject_filter(reading_requested.TYPE),),
        ack_wait_s=10.0,
        max_deliver=5,
        max_ack_pending=4096,
        description="chart service: reading.requested -> chart.calculated",
    ),
    names.CHART_HIGH_CONSUMER,
    reading_requested.TYPE,
)
READER = _with_high_lane(
    ConsumerSpec(
        durable=names.READER_CONSUMER,
        filter_subjects=(names.subject_filter(chart_calculated.TYPE),),
        ack_wait_s=15.0,
        max_deliver=6,
        max_ack_pending=20000,
        description="reader service: chart.calculated -> reading.*",
    ),
    names.READER_HIGH_CONSUMER,
    chart_calculated.TYPE,
)
STATUS = ConsumerSpec(
    durable=names.STATUS_CONSUMER,
    filter_subjects=tuple(names.STREAM_SUBJECTS),
    ack_wait_s=15.0,
    max_deliver=-1,  # never give up on an event: a database outage is waited out
    max_ack_pending=20000,
    description="status service: every event -> PostgreSQL projection",
)
# The stages whose work has priorities, for the pipeline view: stage -> its lanes.
STAGES = {"chart": CHART, "reader": READER}


async def ensure_stream(
    js: JetStreamContext, replicas: int = 1, max_age_s: float = DEFAULT_MAX_AGE_S
) -> None:
    """Create the stream, or update it to the declaration when it exists."""
    cfg = stream_config(replicas, max_age_s)
    try:
        await js.stream_info(names.STREAM)
    except NotFoundError:
        try:
            await js.add_stream(cfg)
            log.info("stream created", stream=names.STREAM)
            return
        except BadRequestError:
            pass  # another replica created it in between: update below
    await js.update_stream(cfg)


async def ensure_consumer(js: JetStreamContext, spec: ConsumerSpec) -> None:
    """Create or update a durable consumer and its high lane (create-or-update is idempotent)."""
    for lane in spec.lanes:
        await js.add_consumer(names.STREAM, config=lane.config())
        log.info("consumer ready", consumer=lane.durable)
