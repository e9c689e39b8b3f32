"""Assays at scale on the emulator: bulk-load rate of inference log records, the time of
assays/run_interactive over 1,000,000 records in 30 daily windows, and the emulator's peak memory.

The emulator runs in its own process (`wallaroo-chatops emulator`); requests go over loopback
with aiohttp. Targets (issue 3): run_interactive <= 1 s, bulk load >= 200,000 records/s.

    .venv/bin/python bench/assay.py [--records 1000000] [--batch 50000] [--runs 5] [--concurrency 1]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import msgspec
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.common import CLIENT_SECRET, free_port, server_process, service_token_headers
from emulator.seed import DAY_MS, assay_request

FEATURES = 17
PIPELINE, MODEL = "benchpipe", "benchmodel"


def record_batches(total: int, batch: int, first_day_ms: int) -> Iterator[bytes]:
    """Encoded /emulator/logs bodies: 31 days of records (a baseline day + 30 windows),
    feature 0 drifting over the last 10 days."""
    rng = np.random.default_rng(1)
    span = 31 * DAY_MS
    for offset in range(0, total, batch):
        n = min(batch, total - offset)
        times = first_day_ms + (np.arange(offset, offset + n) * span) // total
        inputs = rng.normal(size=(n, FEATURES))
        inputs[times >= first_day_ms + 21 * DAY_MS, 0] += 1.0
        outputs = inputs.sum(axis=1)
        records = [
            {
                "check_failures": [],
                "elapsed": 120_000,
                "model_name": MODEL,
                "model_version": "v1",
                "original_data": {"tensor": [row]},
                "outputs": [{"Float": {"data": [out], "dim": [1, 1], "v": 1}}],
                "pipeline_name": PIPELINE,
                "time": t,
            }
            for row, out, t in zip(inputs.tolist(), outputs.tolist(), times.tolist(), strict=True)
        ]
        yield msgspec.json.encode({"pipeline_name": PIPELINE, "records": records})


def peak_rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def measure(total: int, batch: int, runs: int, concurrency: int) -> None:
    now_ms = int(time.time() * 1000)
    first_day = now_ms - now_ms % DAY_MS - 32 * DAY_MS
    # Encoded before the emulator starts and the clock runs: the figure is the emulator's, not
    # the encoder's (and a server left idle while 1,000,000 records are encoded would close
    # its keep-alive connections under the client).
    bodies = list(record_batches(total, batch, first_day))
    port = free_port()
    args = ["-m", "bot", "emulator", "--port", str(port), "--client-secret", CLIENT_SECRET]
    with server_process(args, port) as (base, pid):
        async with aiohttp.ClientSession() as session:
            headers = await service_token_headers(session, base)

            async def call(path: str, body: dict) -> object:
                async with session.post(
                    f"{base}/v1/api/{path}", json=body, headers=headers
                ) as response:
                    if response.status != 200:
                        raise RuntimeError(f"{path}: {response.status} {await response.text()}")
                    return await response.json()

            workspace = await call("workspaces/create", {"workspace_name": "bench"})
            pipeline = await call(
                "pipelines/create",
                {
                    "pipeline_id": PIPELINE,
                    "workspace_id": workspace["workspace_id"],
                    "definition": {},
                },
            )
            in_flight = asyncio.Semaphore(concurrency)

            async def load(body: bytes) -> int:
                async with (
                    in_flight,
                    session.post(
                        f"{base}/emulator/logs",
                        data=body,
                        headers={"Content-Type": "application/json"},
                    ) as response,
                ):
                    if response.status != 200:
                        raise RuntimeError(await response.text())
                    return (await response.json())["inserted"]

            started = time.perf_counter()
            loaded = sum(await asyncio.gather(*(load(body) for body in bodies)))
            loading = time.perf_counter() - started
            del bodies
            rss_after_load = peak_rss_mib(pid)

            config = assay_request(
                name="bench assay",
                workspace_id=workspace["workspace_id"],
                pipeline_id=pipeline["pipeline_pk_id"],
                pipeline=PIPELINE,
                model=MODEL,
                baseline_start_ms=first_day,
                baseline_end_ms=first_day + DAY_MS,
            )
            timings, windows, statuses = [], 0, {}
            for _ in range(runs):
                started = time.perf_counter()
                results = await call("assays/run_interactive", config)
                timings.append(time.perf_counter() - started)
                windows = len(results)
                statuses = {r["status"] for r in results}
            peak = peak_rss_mib(pid)

    print(
        f"bulk load: {loaded:,} records in {loading:.2f} s over HTTP "
        f"({batch:,} per request, {concurrency} in flight) = {loaded / loading:,.0f} records/s"
        "  (target >= 200,000)"
    )
    print(
        f"run_interactive: {windows} daily windows over {loaded:,} records, statuses "
        f"{sorted(statuses)}"
    )
    print(f"  first run (merges the loaded chunks): {timings[0] * 1000:7.0f} ms")
    print(
        f"  median of the next {runs - 1}:             "
        f"{statistics.median(timings[1:]) * 1000:7.0f} ms  (target <= 1000 ms)"
    )
    print(f"emulator peak RSS: {rss_after_load:.0f} MiB after the load, {peak:.0f} MiB at the end")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--batch", type=int, default=50_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--concurrency", type=int, default=1, help="bulk loads in flight")
    args = parser.parse_args()
    asyncio.run(measure(args.records, args.batch, max(2, args.runs), args.concurrency))


if __name__ == "__main__":
    main()
