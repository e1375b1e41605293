"""The ceiling for intake on this machine: a bare aiohttp handler that publishes the
request body to JetStream and answers 202 once it is stored. No validation, auth,
idempotency, envelope, metrics, middleware or logging. Used by `intake_bench`.

    python -m benchmarks.bare_intake --port 8090 --nats nats://127.0.0.1:4222
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import uuid

import nats
from aiohttp import web

from shared import names
from shared.bus.topology import ensure_stream


async def serve(port: int, nats_url: str) -> None:
    nc = await nats.connect(nats_url)
    js = nc.jetstream(timeout=5.0)
    await ensure_stream(js)

    async def create_reading(request: web.Request) -> web.Response:
        raw = await request.read()
        reading_id = str(uuid.uuid4())
        await js.publish(
            names.subject_for("reading.requested", reading_id),
            raw,
            stream=names.STREAM,
            headers={names.MSG_ID_HEADER: reading_id},
        )
        return web.Response(
            status=202,
            text=json.dumps({"id": reading_id, "status": "queued"}),
            content_type="application/json",
        )

    app = web.Application()
    app.router.add_post("/v1/readings", create_reading)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    await runner.cleanup()
    await nc.drain()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--nats", required=True)
    args = parser.parse_args()
    asyncio.run(serve(args.port, args.nats))
