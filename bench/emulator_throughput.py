"""Requests per second the emulator sustains on status/get_deployment, against a trivial
FastAPI endpoint served the same way (uvicorn, one process) on the same machine, in one run.

Each server runs in its own process; the load generator is aiohttp (see docs/design.md: httpx's
default async pool would measure itself). Target: emulator >= 60% of the trivial endpoint.

    .venv/bin/python bench/emulator_throughput.py [--requests 4000] [--concurrency 64] [--rounds 5]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from pathlib import Path

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.common import (
    CLIENT_SECRET,
    free_port,
    server_process,
    service_token_headers,
)


def serve_trivial(port: int) -> None:
    import uvicorn
    from fastapi import FastAPI

    app = FastAPI()

    @app.post("/trivial")
    async def trivial() -> dict:
        return {"status": "Running"}

    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


async def prepare_deployment(session: aiohttp.ClientSession, base: str) -> tuple[str, dict]:
    """Log in, create a pipeline, deploy it; the status call and its headers."""
    headers = await service_token_headers(session, base)

    async def call(path: str, body: dict) -> dict:
        async with session.post(f"{base}/v1/api/{path}", json=body, headers=headers) as response:
            response.raise_for_status()
            return await response.json()

    workspace = (await call("workspaces/create", {"workspace_name": "bench"}))["workspace_id"]
    pipeline = await call(
        "pipelines/create",
        {"pipeline_id": "benchpipe", "workspace_id": workspace, "definition": {}},
    )
    deployment = await call(
        "pipelines/deploy",
        {
            "deploy_id": "benchdeploy",
            "pipeline_id": pipeline["pipeline_pk_id"],
            "pipeline_version_pk_id": pipeline["pipeline_variant_pk_id"],
        },
    )
    return f"benchdeploy-{deployment['id']}", headers


async def load(url: str, body: dict, headers: dict, requests: int, concurrency: int) -> float:
    """Send `requests` POSTs with `concurrency` in flight; returns requests per second."""
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:
        remaining = requests
        failures = 0

        async def worker() -> None:
            nonlocal remaining, failures
            while remaining > 0:
                remaining -= 1
                async with session.post(url, json=body, headers=headers) as response:
                    await response.read()
                    failures += response.status != 200

        warmup = [asyncio.create_task(worker()) for _ in range(concurrency)]
        remaining = concurrency * 5
        await asyncio.gather(*warmup)
        remaining = requests
        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    if failures:
        raise RuntimeError(f"{failures} requests failed")
    return requests / elapsed


async def measure(requests: int, concurrency: int, rounds: int) -> None:
    trivial_port, emulator_port = free_port(), free_port()
    emulator_args = [
        "-m",
        "bot",
        "emulator",
        "--port",
        str(emulator_port),
        "--client-secret",
        CLIENT_SECRET,
        "--startup-seconds",
        "0",
    ]
    trivial_server = server_process([__file__, "--serve-trivial", str(trivial_port)], trivial_port)
    with (
        trivial_server as (trivial_base, _),
        server_process(emulator_args, emulator_port) as (
            base,
            _,
        ),
    ):
        async with aiohttp.ClientSession() as session:
            name, headers = await prepare_deployment(session, base)
        status_url = base + "/v1/api/status/get_deployment"
        trivial, emulator = [], []
        # Alternate the two so that whatever else the machine does weighs on both alike.
        for _ in range(rounds):
            trivial.append(
                await load(
                    trivial_base + "/trivial", {"name": name}, headers, requests, concurrency
                )
            )
            emulator.append(await load(status_url, {"name": name}, headers, requests, concurrency))

    trivial_rps, emulator_rps = statistics.median(trivial), statistics.median(emulator)
    ratio = emulator_rps / trivial_rps
    print(
        f"{rounds} alternating rounds of {requests} POSTs, {concurrency} in flight, "
        "load generator: aiohttp; medians (all rounds)"
    )
    print(f"trivial FastAPI endpoint:        {trivial_rps:6.0f} req/s  {_rounds(trivial)}")
    print(f"emulator status/get_deployment:  {emulator_rps:6.0f} req/s  {_rounds(emulator)}")
    print(f"emulator / trivial:              {ratio:6.1%}  (target >= 60%)")


def _rounds(values: list[float]) -> str:
    return "(" + ", ".join(f"{v:.0f}" for v in values) + ")"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=4000)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--serve-trivial", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_trivial:
        serve_trivial(args.serve_trivial)
    else:
        asyncio.run(measure(args.requests, args.concurrency, args.rounds))


if __name__ == "__main__":
    main()
