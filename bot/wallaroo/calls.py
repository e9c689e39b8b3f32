"""Sending one MLOps API call as the service account: token, 401 renewal, retries, errors."""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from collections.abc import AsyncIterable, AsyncIterator, Callable
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, Literal, TypeVar, overload

import httpx
from pydantic import BaseModel
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception_type,
    stop_after_attempt,
    wait_exponential,
)

from bot.wallaroo.auth import ServiceAccountAuth
from bot.wallaroo.errors import (
    TRANSPORT_ERRORS,
    WallarooError,
    WallarooServerError,
    WallarooUnauthorized,
    WallarooUnreachable,
    decode_body,
    error_for_response,
    unreachable_from,
)
from bot.wallaroo.models import parse_response

logger = logging.getLogger(__name__)

AssaysMode = Literal["auto", "v1", "v2"]
Api = Literal["v1", "v2"]
# How a v2 call's path is marked inside the caller; error texts then name it `v2/api/...`.
V2_PREFIX = "v2/api/"
_V1_SUFFIX = "/v1/api"

T = TypeVar("T")
M = TypeVar("M", bound=BaseModel)
Parse = Callable[[Any, str], T]


def expect(model: type[M]) -> Parse[M]:
    return functools.partial(parse_response, model)


def ignore_body(_body: Any, _path: str) -> None:
    # Writes that answer `{}`: a success status is the whole answer.
    return None


def always() -> bool:
    return True


def _log_retry(state: RetryCallState) -> None:
    error = state.outcome.exception() if state.outcome else None
    logger.info("retrying after attempt %d: %s", state.attempt_number, error)


class OneShotStream:
    """A caller's chunk stream that remembers whether sending it has begun (it cannot rewind)."""

    def __init__(self, chunks: AsyncIterable[bytes]) -> None:
        self._chunks = chunks
        self.started = False

    async def __aiter__(self) -> AsyncIterator[bytes]:
        self.started = True
        async for chunk in self._chunks:
            yield chunk

    def can_resend(self) -> bool:
        # After a 401 the stream may go again only if none of it was consumed.
        return not self.started


class ApiCaller:
    """Calls Wallaroo as the service account. Reads are retried on transport errors and 5xx;
    writes never are, because a write whose answer was lost may still have happened."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        api_url: str,
        auth: ServiceAccountAuth,
        *,
        read_attempts: int = 3,
        backoff_seconds: float = 0.2,
        v2_api_url: str | None = None,
        assays: AssaysMode = "auto",
    ) -> None:
        self._http = http
        self._api_url = api_url.rstrip("/")
        # Assays v2 live beside the v1 API on the same host: .../v1/api -> .../v2/api.
        self._v2_api_url = (v2_api_url or v2_url_beside(self._api_url)).rstrip("/")
        self._assays_mode: AssaysMode = assays
        # What the instance turned out to speak, learnt on first use (assays.py, assays_v2.py).
        self._v2_available: bool | None = None
        self._v2_refusal: WallarooError | None = None  # why v2 answered 401/403, if it did
        self._v2_probed_at = 0.0  # time.monotonic() of the last probe
        self._v2_probe_lock: asyncio.Lock | None = None
        self._v1_results_path: str | None = None
        self._v1_create_shape: Literal["today", "tutorial"] | None = None
        self._auth = auth
        self._read_attempts = max(1, read_attempts)
        self._backoff_seconds = backoff_seconds
        # Seconds Wallaroo's clock is ahead of ours, from the `Date` of its latest answer (0
        # until one is seen: right for an instance on NTP). Assay windows are on its clock.
        self._clock_offset = 0.0

    def __repr__(self) -> str:
        return f"{type(self).__name__}(api_url={self._api_url!r}, auth={self._auth!r})"

    def wallaroo_now(self) -> datetime:
        """Now on Wallaroo's clock, as estimated from its answers (to about a second)."""
        return datetime.fromtimestamp(time.time() + self._clock_offset, UTC)

    async def _read(
        self, path: str, body: dict[str, Any], answer: type[M], *, api: Api = "v1"
    ) -> M:
        """A read: `body` to `path`, the answer parsed as `answer`; retried (see `_call`)."""
        return await self._call(path, body, read_only=True, parse=expect(answer), api=api)

    @overload
    async def _write(
        self,
        path: str,
        body: dict[str, Any],
        answer: type[M],
        *,
        api: Api = ...,
        secrets: tuple[str | None, ...] = ...,
    ) -> M: ...

    @overload
    async def _write(
        self,
        path: str,
        body: dict[str, Any],
        answer: None = None,
        *,
        api: Api = ...,
        secrets: tuple[str | None, ...] = ...,
    ) -> None: ...

    async def _write(
        self,
        path: str,
        body: dict[str, Any],
        answer: type[M] | None = None,
        *,
        api: Api = "v1",
        secrets: tuple[str | None, ...] = (),
    ) -> M | None:
        """A write, never retried: `body` to `path`, the answer parsed as `answer` (none: a
        success status is the whole answer, as for calls that answer `{}` or null)."""
        parse: Parse[M | None] = ignore_body if answer is None else expect(answer)
        return await self._call(path, body, read_only=False, parse=parse, api=api, secrets=secrets)

    async def _call(
        self,
        path: str,
        json: Any = None,
        *,
        read_only: bool,
        parse: Parse[T],
        request: dict[str, Any] | None = None,
        can_resend: Callable[[], bool] = always,
        secrets: tuple[str | None, ...] = (),
        api: Api = "v1",
    ) -> T:
        """POST `json` (or the httpx arguments in `request`) to `path` and parse the answer.
        `api="v2"` sends it under the v2 base (`/v2/api/...`) instead of the v1 one."""
        answer, _ = await self._call_with_headers(
            path,
            json,
            read_only=read_only,
            parse=parse,
            request=request,
            can_resend=can_resend,
            secrets=secrets,
            api=api,
        )
        return answer

    async def _call_with_headers(
        self,
        path: str,
        json: Any = None,
        *,
        read_only: bool,
        parse: Parse[T],
        request: dict[str, Any] | None = None,
        can_resend: Callable[[], bool] = always,
        secrets: tuple[str | None, ...] = (),
        api: Api = "v1",
    ) -> tuple[T, httpx.Headers]:
        """`_call`, also handing back the answering response's headers (a page's cursor comes
        in one: pipelines/get_logs)."""
        kwargs = request if request is not None else {"json": {} if json is None else json}
        if api == "v2":
            path = V2_PREFIX + path
        send = functools.partial(self._send_authorized, path, kwargs, parse, can_resend, secrets)
        if not read_only:
            return await send()
        retrying = AsyncRetrying(
            stop=stop_after_attempt(self._read_attempts),
            wait=wait_exponential(multiplier=self._backoff_seconds, max=2),
            retry=retry_if_exception_type((WallarooUnreachable, WallarooServerError)),
            before_sleep=_log_retry,
            reraise=True,
        )
        return await retrying(send)

    async def _send_authorized(
        self,
        path: str,
        kwargs: dict[str, Any],
        parse: Parse[T],
        can_resend: Callable[[], bool],
        secrets: tuple[str | None, ...],
    ) -> tuple[T, httpx.Headers]:
        token = await self._auth.token()
        try:
            return await self._send(path, token, kwargs, parse, secrets)
        except WallarooUnauthorized:
            # A 401 means Wallaroo did not execute the call, so even a write may go again once.
            await self._auth.invalidate(token)
            if not can_resend():
                raise
            token = await self._auth.token()
            return await self._send(path, token, kwargs, parse, secrets)

    async def _send(
        self,
        path: str,
        token: str,
        kwargs: dict[str, Any],
        parse: Parse[T],
        secrets: tuple[str | None, ...],
    ) -> tuple[T, httpx.Headers]:
        headers = {**kwargs.get("headers", {}), "Authorization": f"Bearer {token}"}
        started = time.perf_counter()
        url = self._url_of(path)
        try:
            response = await self._http.post(url, **{**kwargs, "headers": headers})
        except TRANSPORT_ERRORS as exc:
            raise unreachable_from(exc, path) from exc
        elapsed_ms = (time.perf_counter() - started) * 1000
        logger.debug("POST %s -> %s in %.1f ms", path, response.status_code, elapsed_ms)
        body = decode_body(response)
        if not response.is_success:
            raise error_for_response(path, response.status_code, body, secrets=secrets)
        self._learn_clock(response.headers.get("date"))
        return parse(body, path), response.headers

    def _learn_clock(self, date: str | None) -> None:
        if not date:
            return
        try:
            told = parsedate_to_datetime(date).timestamp()
        except (TypeError, ValueError):
            return  # a malformed Date says nothing about the clock
        # `Date` has whole seconds: +0.5 s centres the estimate on the second it names.
        self._clock_offset = told + 0.5 - time.time()

    def _url_of(self, path: str) -> str:
        if path.startswith(V2_PREFIX):
            return f"{self._v2_api_url}/{path[len(V2_PREFIX) :]}"
        return f"{self._api_url}/{path}"


def v2_url_beside(api_url: str) -> str:
    """The assays v2 base for a v1 API URL (`https://host/v1/api` -> `https://host/v2/api`)."""
    api_url = api_url.rstrip("/")
    base = api_url[: -len(_V1_SUFFIX)] if api_url.endswith(_V1_SUFFIX) else api_url
    return base + "/v2/api"
