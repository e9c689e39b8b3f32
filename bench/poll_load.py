"""Loads the emulator for bench/poll.py: `count` deployed pipelines running the demo model and
`count` active assays (v1 or v2) on the demo pipeline; prints what it made as JSON.

    python bench/poll_load.py URL COUNT v1|v2 current|seed
"""

from __future__ import annotations

import asyncio
import json
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import CLIENT_SECRET, TOKEN_PATH
from emulator.seed import DAY_MS, DAYS_BEFORE, assay_request, demo_assay_v2

DAY = timedelta(days=1)


async def call(session: aiohttp.ClientSession, base: str, headers: dict, path: str, body: dict):
    async with session.post(f"{base}/{path}", json=body, headers=headers) as response:
        if response.status != 200:
            raise RuntimeError(f"{path}: {response.status} {await response.text()}")
        return await response.json()


async def load_emulator(base: str, count: int, assays: str, api: str) -> dict:
    """`count` deployed pipelines running the demo model and `count` active assays on it."""
    async with aiohttp.ClientSession() as session:
        basic = {"Authorization": aiohttp.encode_basic_auth("api-client", CLIENT_SECRET)}
        async with session.post(
            base + TOKEN_PATH, data={"grant_type": "client_credentials"}, headers=basic
        ) as response:
            headers = {"Authorization": f"Bearer {(await response.json())['access_token']}"}
        v1 = f"{base}/v1/api"
        listed = await call(session, v1, headers, "pipelines/list_pipelines", {})
        demo = listed["pipelines"][0]
        workspace_id, pipeline_id = demo["workspace"]["id"], demo["pipeline"]["id"]
        (model,) = (
            await call(session, v1, headers, "models/list", {"workspace_id": workspace_id})
        )["models"]
        model_id = model["model"]["id"] if "model" in model else model["id"]
        versions = await call(
            session,
            v1,
            headers,
            "models/list_versions",
            {"model_id": "housepricemodel", "models_pk_id": model_id},
        )
        step = {"name": "housepricemodel", "version": versions[-1]["model_version"]}
        step["sha"] = versions[-1]["sha"]
        limit = asyncio.Semaphore(32)

        async def pipeline(i: int) -> dict:
            # pipelines/copy is gone from today's Wallaroo: create and deploy, as a user would.
            name = f"bench{i}"
            definition = {"id": name, "steps": [{"ModelInference": {"models": [step]}}]}
            body = {"pipeline_id": name, "workspace_id": workspace_id, "definition": definition}
            async with limit:
                created = await call(session, v1, headers, "pipelines/create", body)
                deploy = {"deploy_id": name, "pipeline_id": created["pipeline_pk_id"]}
                if api == "current":
                    deploy["pipeline_version"] = created["pipeline_variant_version"]
                else:
                    deploy["pipeline_version_pk_id"] = created["pipeline_variant_pk_id"]
                await call(session, v1, headers, "pipelines/deploy", deploy)
            return {"id": created["pipeline_pk_id"], "name": name}

        midnight = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
        first_day_ms = int((midnight - DAYS_BEFORE * DAY).timestamp() * 1000)

        async def v1_assay(i: int) -> str:
            request = assay_request(
                name=f"bench assay {i}",
                workspace_id=workspace_id,
                pipeline_id=pipeline_id,
                pipeline="housepricepipe",
                model="housepricemodel",
                baseline_start_ms=first_day_ms,
                baseline_end_ms=first_day_ms + DAY_MS,
            )
            # Only the probe watches the drifting feature 0; the rest feature 1.
            request["iopath"] = "input 0 0" if i == 0 else "input 0 1"
            async with limit:
                created = await call(session, v1, headers, "assays/create", request)
            return str(created["assay_id"])

        async def v2_assay(i: int) -> str:
            request = demo_assay_v2(workspace_id, pipeline_id, first_day_ms)
            request["name"] = f"bench assay {i}"
            request["targeting"]["iopath"][0]["indexes"] = [0 if i == 0 else 1]
            async with limit:
                return await call(session, f"{base}/v2/api", headers, "assays/schedule", request)

        pipelines = await asyncio.gather(*(pipeline(i) for i in range(count)))
        make = v1_assay if assays == "v1" else v2_assay
        assay_ids = await asyncio.gather(*(make(i) for i in range(count)))
        return {"workspace_id": workspace_id, "assay_ids": assay_ids, "pipelines": pipelines}


if __name__ == "__main__":
    url, count, assays, api = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
    made = asyncio.run(load_emulator(url, count, assays, api))
    print(json.dumps(made))
