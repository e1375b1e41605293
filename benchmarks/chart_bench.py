"""Chart service benchmark, on one core: latency, throughput by batch size, peak memory.

- single-chart latency: `compute_chart` on distinct births, one at a time (p50/p99);
- throughput: charts per second through `compute_charts` at batch sizes 1, 16 and 256;
- derivation: microseconds per chart of the bodygraph derivation alone;
- peak RSS of the service's code path: a fresh process imports the service
  (`services.chart.__main__`), warms up as the service does, and charts 10,000 births
  through `handlers.handle_batch` (`reading.requested` in, `chart.calculated` out) in
  batches of 256, without NATS. Its high-water mark (VmHWM) is the figure.

Writes `benchmarks/results/chart.json` and prints a summary. About 30 s.

    python -m benchmarks.chart_bench [--runs 300] [--rss-charts 10000]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from datetime import date, timedelta
from functools import partial
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results"
ROOT = Path(__file__).resolve().parents[1]
SEED = 20261125
BATCH_SIZES = (1, 16, 256)
SERVICE_BATCH = 256
FIRST_DAY, LAST_DAY = date(1901, 1, 1), date(2049, 12, 31)

# (latitude, longitude) of places across time zones, with and without DST history.
PLACES: tuple[tuple[float, float], ...] = (
    (45.5017, -73.5673), (12.9629, 77.5775), (36.7378, -119.7871), (40.6411, -102.6299),
    (53.4084, -2.9916), (40.7128, -74.006), (21.3069, -157.8583), (52.52, 13.405),
    (-33.8688, 151.2093), (35.6762, 139.6503), (-23.5505, -46.6333), (55.7558, 37.6173),
    (19.4326, -99.1332), (30.0444, 31.2357), (-1.2921, 36.8219), (27.7172, 85.324),
    (64.1466, -21.9426), (-41.2865, 174.7762), (1.3521, 103.8198), (-34.6037, -58.3816),
)  # fmt: skip
NAMED = ("Berlin", "Montreal", "Lagos", "Lima", "Osaka", "Madrid", "Chicago", "Mumbai")


def birth_data(count: int, seed: int = SEED) -> list[dict[str, Any]]:
    """Varied births (1901-2049, any time of day); one in eight by place name."""
    rng = random.Random(seed)
    out: list[dict[str, Any]] = []
    for i in range(count):
        day = FIRST_DAY + timedelta(days=rng.randrange((LAST_DAY - FIRST_DAY).days))
        clock = f"{rng.randrange(24):02d}:{rng.randrange(60):02d}"
        if i % 8 == 7:
            place: dict[str, Any] = {"name": rng.choice(NAMED)}
        else:
            lat, lon = rng.choice(PLACES)
            place = {"latitude": lat + rng.uniform(-0.5, 0.5), "longitude": lon}
        out.append({"id": f"b{i}", "date": day.isoformat(), "time": clock, "place": place})
    return out


def pin_to_one_core() -> list[int]:
    """Restrict this process to the first CPU it may use; returns the CPU set."""
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
        return sorted(os.sched_getaffinity(0))
    return []


def peak_rss_mb() -> float:
    """This process's peak resident set size in MiB (VmHWM; ru_maxrss where no /proc)."""
    status = Path("/proc/self/status")
    if status.is_file():
        for row in status.read_text().splitlines():
            if row.startswith("VmHWM:"):
                return int(row.split()[1]) / 1024
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def current_rss_mb() -> float:
    """This process's resident set size now, in MiB."""
    import psutil

    return float(psutil.Process().memory_info().rss) / 2**20


def timed(action: Callable[[], object]) -> float:
    """Seconds one call takes."""
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def percentile(values: Sequence[float], q: int) -> float:
    """The q-th percentile (inclusive method) of at least two values."""
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


# --- the measurements ----------------------------------------------------------------------


def measure_latency(runs: int) -> dict[str, float]:
    """compute_chart one birth at a time: p50/p99/mean in milliseconds."""
    from services.chart.compute import compute_chart
    from shared.events.birth import BirthInput

    births = [BirthInput.model_validate(b) for b in birth_data(runs, SEED + 1)]
    seconds = [timed(partial(compute_chart, b)) for b in births]
    return {
        "runs": runs,
        "p50_ms": round(percentile(seconds, 50) * 1000, 3),
        "p99_ms": round(percentile(seconds, 99) * 1000, 3),
        "mean_ms": round(statistics.fmean(seconds) * 1000, 3),
    }


def measure_throughput(batch_size: int, min_seconds: float = 2.0) -> dict[str, float]:
    """compute_charts on batches of one size for at least min_seconds: charts per second."""
    from services.chart.compute import compute_charts
    from shared.events.birth import BirthInput

    pool = [BirthInput.model_validate(b) for b in birth_data(max(1024, 4 * batch_size), SEED + 2)]
    charts, elapsed, start = 0, 0.0, 0
    while elapsed < min_seconds:
        batch = pool[start : start + batch_size]
        start = (start + batch_size) % (len(pool) - batch_size + 1)
        elapsed += timed(partial(compute_charts, batch))
        charts += len(batch)
    return {
        "batch_size": batch_size,
        "charts": charts,
        "seconds": round(elapsed, 3),
        "charts_per_s": round(charts / elapsed, 1),
    }


def measure_derivation(count: int = 20000) -> dict[str, float]:
    """The bodygraph derivation alone, on random activations: microseconds per chart."""
    from services.chart.bodygraph import chart_properties
    from shared.hd.gates import GATE_ORDER
    from shared.hd.profiles import PROFILE_ANGLES

    rng = random.Random(SEED + 3)
    profiles = [(int(p[0]), int(p[2])) for p in PROFILE_ANGLES]
    inputs = [
        (rng.choices(GATE_ORDER, k=13), rng.choices(GATE_ORDER, k=13), rng.choice(profiles))
        for _ in range(count)
    ]
    seconds = timed(lambda: [chart_properties(p, d, *lines) for p, d, lines in inputs])
    return {"charts": count, "us_per_chart": round(seconds / count * 1e6, 2)}


def measure_service_rss(charts: int) -> dict[str, Any]:
    """Peak RSS of a fresh process charting `charts` births through the service's handler."""
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.chart_bench", "--rss-child", str(charts)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def rss_child(charts: int) -> None:
    """In the child: import and warm up as the service does, then handle `charts` births."""
    pin_to_one_core()
    import services.chart.__main__  # noqa: F401  (the service's imports)
    from services.chart.compute import warm_up
    from services.chart.handlers import handle_batch
    from shared.bus.consumer import Incoming
    from shared.bus.memory import MemoryContext
    from shared.events.birth import BirthInput
    from shared.events.reading_requested import ReadingRequested

    after_import = current_rss_mb()
    warm_up()
    after_warm_up = current_rss_mb()
    births = birth_data(charts, SEED + 4)

    async def handle_all() -> int:
        handled = 0
        for start in range(0, charts, SERVICE_BATCH):
            batch = [
                Incoming(
                    ReadingRequested(
                        reading_id=f"r{start + i}", birth=BirthInput.model_validate(birth)
                    ),
                    MemoryContext(stream_seq=start + i + 1),
                )
                for i, birth in enumerate(births[start : start + SERVICE_BATCH])
            ]
            outputs = await handle_batch(batch)
            handled += sum(1 for out in outputs if not isinstance(out, BaseException))
        return handled

    started = time.perf_counter()
    handled = asyncio.run(handle_all())
    seconds = time.perf_counter() - started
    print(
        json.dumps(
            {
                "charts": charts,
                "charted": handled,
                "batch_size": SERVICE_BATCH,
                "code_path": f"{handle_batch.__module__}.handle_batch",
                "seconds": round(seconds, 3),
                "rss_after_import_mb": round(after_import, 1),
                "rss_after_warm_up_mb": round(after_warm_up, 1),
                "peak_rss_mb": round(peak_rss_mb(), 1),
            }
        )
    )


# --- the run -------------------------------------------------------------------------------


def run(runs: int, rss_charts: int) -> dict[str, Any]:
    """Every measurement; the RSS child first, before this process grows."""
    started = time.perf_counter()
    service_rss = measure_service_rss(rss_charts)
    cpus = pin_to_one_core()
    from services.chart.compute import ENGINE_VERSION, compute_charts, warm_up
    from shared.events.birth import BirthInput

    warm_up()
    compute_charts([BirthInput.model_validate(b) for b in birth_data(64, SEED)])
    latency = measure_latency(runs)
    throughput = [measure_throughput(size) for size in BATCH_SIZES]
    derivation = measure_derivation()
    return {
        "benchmark": "chart",
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": {
            "cpus": os.cpu_count(),
            "pinned_to_cpus": cpus,
            "python": sys.version.split()[0],
            "platform": platform.platform(),
        },
        "engine_version": ENGINE_VERSION,
        "single_chart_latency": latency,
        "throughput": throughput,
        "derivation": derivation,
        "service_peak_rss": service_rss,
        "runtime_s": round(time.perf_counter() - started, 1),
    }


def summary(result: dict[str, Any]) -> str:
    """A few lines for the terminal."""
    lat, rss = result["single_chart_latency"], result["service_peak_rss"]
    rates = ", ".join(f"{t['batch_size']}: {t['charts_per_s']:.0f}/s" for t in result["throughput"])
    return "\n".join(
        [
            f"single chart: p50 {lat['p50_ms']:.1f} ms, p99 {lat['p99_ms']:.1f} ms "
            f"({lat['runs']} runs)",
            f"throughput by batch size (one core): {rates}",
            f"derivation alone: {result['derivation']['us_per_chart']:.1f} us/chart",
            f"service peak RSS: {rss['peak_rss_mb']:.0f} MiB ({rss['charts']} charts, "
            f"batches of {rss['batch_size']}; {rss['rss_after_warm_up_mb']:.0f} MiB after warm-up)",
            f"runtime {result['runtime_s']:.0f} s",
        ]
    )


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.chart_bench", description=__doc__)
    parser.add_argument("--runs", type=int, default=300, help="single-chart runs (default 300)")
    parser.add_argument("--rss-charts", type=int, default=10000, help="charts in the RSS run")
    parser.add_argument("--output", type=Path, default=RESULTS / "chart.json")
    parser.add_argument("--rss-child", type=int, metavar="N", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.rss_child is not None:
        rss_child(args.rss_child)
        return
    result = run(args.runs, args.rss_charts)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(summary(result))
    print(f"written to {args.output}")


if __name__ == "__main__":
    main()
