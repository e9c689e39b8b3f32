"""The control API for tests, benchmarks and demos: faults, calls received, clock, logs, reset.
No token needed, and no Content-Type either: a body is read as JSON whatever the header says, so
`curl -d '{...}'` (which sends application/x-www-form-urlencoded) works as README shows it."""

from __future__ import annotations

import ipaddress
from collections.abc import Awaitable, Callable
from typing import Annotated, TypeVar

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field, ValidationError

from emulator.clock import iso
from emulator.errors import bad_request, describe_errors, forbidden
from emulator.faults import Fault
from emulator.identity import State
from emulator.log_records import decode_log_body
from emulator.state import EmulatorState, get_state


async def loopback_only(
    request: Request, state: Annotated[EmulatorState, Depends(get_state)]
) -> None:
    if state.config.control_api_everywhere:
        return
    host = request.client.host if request.client else ""
    try:
        loopback = ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = host in ("localhost", "testclient")
    if not loopback:
        raise forbidden("the emulator's control API only answers loopback clients")


router = APIRouter(prefix="/emulator", dependencies=[Depends(loopback_only)])


class FaultRequest(BaseModel):
    path_prefix: str = Field(min_length=1)
    latency_ms: float = Field(default=0.0, ge=0)
    error_rate: float = Field(default=0.0, ge=0, le=1)
    status: int = Field(default=503, ge=400, le=599)
    after_effect: bool = False


class ClockRequest(BaseModel):
    advance_seconds: float = Field(ge=0)


Body = TypeVar("Body", bound=BaseModel)


def json_body(model: type[Body]) -> Callable[[Request], Awaitable[Body]]:
    """A dependency parsing the raw body as `model`, ignoring the Content-Type header."""

    async def parse(request: Request) -> Body:
        try:
            return model.model_validate_json(await request.body())
        except ValidationError as exc:
            raise bad_request(describe_errors(exc.errors())) from exc

    return parse


@router.post("/faults")
async def add_fault(
    body: Annotated[FaultRequest, Depends(json_body(FaultRequest))], state: State
) -> dict:
    state.faults.add(Fault(**body.model_dump()))
    return {"faults": [vars(f) for f in state.faults.faults]}


@router.delete("/faults")
async def clear_faults(state: State) -> dict:
    state.faults.clear()
    return {"faults": []}


@router.get("/requests")
async def received_requests(state: State) -> dict:
    """How many calls each path has received since the start (or the last reset)."""
    return {"counts": dict(state.faults.received)}


@router.post("/clock")
async def advance_clock(
    body: Annotated[ClockRequest, Depends(json_body(ClockRequest))], state: State
) -> dict:
    state.clock.advance(body.advance_seconds)
    return {"now": iso(state.clock.now())}


@router.post("/logs")
async def load_logs(request: Request, state: State) -> dict:
    """Bulk-load inference log records: {"pipeline_name": ..., "records": [...]}."""
    pipeline_name, columns, models = decode_log_body(await request.body())
    return {"inserted": state.logs.add(pipeline_name, columns, models)}


@router.post("/reset")
async def reset(state: State) -> dict:
    state.reset()
    return {"reset": True}
