"""The projection on a real PostgreSQL: idempotent, monotonic, order-tolerant."""

from __future__ import annotations

import asyncpg
import pytest

from services.status.store.projection import apply_batch
from services.status.store.readings import get_reading, history
from tests import factories as f

pytestmark = pytest.mark.integration


async def test_the_happy_path_projects_every_stage(pool: asyncpg.Pool) -> None:
    rid, s = f.new_id(), f.Stream()
    await apply_batch(pool, s(f.requested(rid, user_id="u1"), f.calculated(rid), f.started(rid),
                              f.delta(rid, 0, "Hel"), f.delta(rid, 1, "lo"),
                              f.generated(rid, "Hello")))  # fmt: skip
    async with pool.acquire() as conn:
        view = await get_reading(conn, rid, None)
        events = await history(conn, rid, 0)
    assert view is not None
    assert (view.status, view.progress, view.user_id) == ("completed", 100, "u1")
    assert view.reading is not None and view.reading.text == "Hello"
    assert view.chart is not None and view.chart["activations"]["personality"]["sun"]["gate"]
    assert all(getattr(view.stages, k) for k in ("requested_at", "chart_at", "started_at",
                                                   "completed_at"))  # fmt: skip
    # The deltas (live text) are not projected: the text is kept once, whole.
    assert [t for _, t, _ in events] == ["reading.requested", "chart.calculated",
                                         "reading.started", "reading.generated"]  # fmt: skip


async def test_duplicates_change_nothing(pool: asyncpg.Pool) -> None:
    rid, s = f.new_id(), f.Stream()
    batch = s(f.requested(rid), f.calculated(rid), f.generated(rid))
    await apply_batch(pool, batch)
    async with pool.acquire() as conn:
        before = await conn.fetchrow("SELECT * FROM readings WHERE id = $1", rid)
    # Redelivered (same stream seq) and re-published after the dedup window (new seq).
    await apply_batch(pool, batch)
    await apply_batch(pool, s(f.requested(rid), f.calculated(rid), f.generated(rid)))
    async with pool.acquire() as conn:
        after = await conn.fetchrow("SELECT * FROM readings WHERE id = $1", rid)
        counts = [await conn.fetchval(f"SELECT count(*) FROM {t} WHERE {c} = $1", rid)
                  for t, c in (("charts", "reading_id"), ("reading_versions", "reading_id"),
                               ("reading_events", "reading_id"))]  # fmt: skip
    assert dict(before) == {**dict(after), "updated_at": before["updated_at"]}
    assert counts == [1, 1, 3]


async def test_a_late_event_never_moves_a_reading_back(pool: asyncpg.Pool) -> None:
    rid, s = f.new_id(), f.Stream()
    await apply_batch(pool, s(f.requested(rid), f.calculated(rid), f.generated(rid, "final")))
    await apply_batch(pool, s(f.started(rid)))  # arrives late
    await apply_batch(pool, s(f.failed(rid)))  # a second terminal event does not win
    async with pool.acquire() as conn:
        view = await get_reading(conn, rid, None)
        types = [t for _, t, _ in await history(conn, rid, 0)]
    assert view is not None and view.status == "completed" and view.error is None
    assert view.reading is not None and view.reading.text == "final"
    # Kept in the history (a replay must rebuild the same rows) but after the terminal
    # event, where SSE never goes.
    assert types.index("reading.generated") < types.index("reading.started")


async def test_out_of_order_events_still_land(pool: asyncpg.Pool) -> None:
    rid, s = f.new_id(), f.Stream()
    await apply_batch(pool, s(f.calculated(rid)))
    async with pool.acquire() as conn:
        early = await get_reading(conn, rid, None)
    await apply_batch(pool, s(f.requested(rid, user_id="late")))
    async with pool.acquire() as conn:
        view = await get_reading(conn, rid, None)
    assert early is not None and early.status == "chart_ready"
    assert view is not None and view.status == "chart_ready" and view.user_id == "late"
    assert view.stages.requested_at is not None and view.birth is not None


async def test_a_failure_is_projected_with_its_code(pool: asyncpg.Pool) -> None:
    rid, s = f.new_id(), f.Stream()
    await apply_batch(pool, s(f.requested(rid), f.failed(rid, code="date_out_of_range")))
    async with pool.acquire() as conn:
        view = await get_reading(conn, rid, None)
    assert view is not None and view.status == "failed"
    assert view.error is not None and view.error["code"] == "date_out_of_range"


async def test_history_resumes_after_a_given_sequence(pool: asyncpg.Pool) -> None:
    rid, s = f.new_id(), f.Stream()
    delivered = s(f.requested(rid), f.calculated(rid), f.started(rid), f.generated(rid))
    await apply_batch(pool, delivered)
    async with pool.acquire() as conn:
        rest = await history(conn, rid, delivered[1].stream_seq)
    assert [seq for seq, _, _ in rest] == [d.stream_seq for d in delivered[2:]]


async def test_deltas_are_not_projected_however_many(pool: asyncpg.Pool) -> None:
    rid, s = f.new_id(), f.Stream()
    await apply_batch(pool, s(f.requested(rid), f.calculated(rid)))
    await apply_batch(pool, s(f.started(rid), *(f.delta(rid, i, "word ") for i in range(50))))
    await apply_batch(pool, s(*(f.delta(rid, i, "word ") for i in range(50, 80))))  # deltas only
    await apply_batch(pool, s(f.delta(rid, 80, "end"), f.generated(rid, "word " * 80 + "end")))
    async with pool.acquire() as conn:
        types = [t for _, t, _ in await history(conn, rid, 0)]
        rows = {t: await conn.fetchval(f"SELECT count(*) FROM {t}")
                for t in ("reading_events", "inbox")}  # fmt: skip
        view = await get_reading(conn, rid, None)
    assert types == ["reading.requested", "chart.calculated", "reading.started",
                     "reading.generated"]  # fmt: skip
    assert rows == {"reading_events": 4, "inbox": 4}  # nothing per piece
    assert view is not None and view.status == "completed"
    assert view.reading is not None and view.reading.text == "word " * 80 + "end"


async def test_the_json_built_by_postgres_is_the_documented_view(pool: asyncpg.Pool) -> None:
    from services.status.store.readings import get_reading_json
    from shared.api_views import ReadingView

    rid, s = f.new_id(), f.Stream()
    await apply_batch(pool, s(f.requested(rid, user_id="u"), f.calculated(rid), f.generated(rid)))
    async with pool.acquire() as conn:
        view = await get_reading(conn, rid, None)
        body = await get_reading_json(conn, rid, None)
        assert await get_reading_json(conn, f.new_id(), None) is None
    assert view is not None and body is not None
    assert ReadingView.model_validate_json(body) == view
