"""The bot's only way to Wallaroo: an async MLOps API client acting as one service account."""

from __future__ import annotations

import functools
import ssl
from typing import TYPE_CHECKING

import httpx
import httpx_aiohttp

from bot.wallaroo.assay_models import (
    Assay,
    AssayActive,
    AssayConfig,
    AssayResult,
    AssaySummary,
    AssayWindow,
    Baseline,
    FixedBaseline,
    InferenceLogRecord,
    SummarizerConfig,
)
from bot.wallaroo.assay_v2_models import AssayResultV2, AssayV2, NextRun
from bot.wallaroo.assays import AssayCalls, is_v2_id
from bot.wallaroo.auth import ServiceAccountAuth
from bot.wallaroo.client import WallarooClient
from bot.wallaroo.deployment_models import (
    DeploymentState,
    DeploymentStatus,
    EngineLbStatus,
    EngineStatus,
)
from bot.wallaroo.drift import DriftResult, MovedBin
from bot.wallaroo.errors import (
    WallarooBadRequest,
    WallarooBadResponse,
    WallarooError,
    WallarooForbidden,
    WallarooNotFound,
    WallarooServerError,
    WallarooUnauthorized,
    WallarooUnreachable,
    error_for_response,
)
from bot.wallaroo.models import (
    Features,
    InvitedUser,
    ListedModel,
    ListedModelVersion,
    Model,
    ModelDetails,
    ModelVersion,
    ModelWithVersions,
    Token,
    User,
    Workspace,
    WorkspaceUser,
)
from bot.wallaroo.pipeline_models import (
    ListedDeployment,
    ListedPipelineVersion,
    PipelineCopied,
    PipelineCreated,
    PipelineListing,
)

if TYPE_CHECKING:
    from bot.settings import Settings

__all__ = [
    "Assay",
    "AssayActive",
    "AssayCalls",
    "AssayConfig",
    "AssayResult",
    "AssayResultV2",
    "AssaySummary",
    "AssayV2",
    "AssayWindow",
    "Baseline",
    "DeploymentState",
    "DeploymentStatus",
    "DriftResult",
    "EngineLbStatus",
    "EngineStatus",
    "Features",
    "FixedBaseline",
    "InferenceLogRecord",
    "InvitedUser",
    "ListedDeployment",
    "ListedModel",
    "ListedModelVersion",
    "ListedPipelineVersion",
    "Model",
    "ModelDetails",
    "ModelVersion",
    "ModelWithVersions",
    "MovedBin",
    "NextRun",
    "PipelineCopied",
    "PipelineCreated",
    "PipelineListing",
    "ServiceAccountAuth",
    "SummarizerConfig",
    "Token",
    "User",
    "WallarooBadRequest",
    "WallarooBadResponse",
    "WallarooClient",
    "WallarooError",
    "WallarooForbidden",
    "WallarooNotFound",
    "WallarooServerError",
    "WallarooUnauthorized",
    "WallarooUnreachable",
    "Workspace",
    "WorkspaceUser",
    "build_http_client",
    "build_wallaroo_client",
    "error_for_response",
    "is_v2_id",
]


def build_http_client(
    timeout_seconds: float = 10.0, max_connections: int = 100
) -> httpx.AsyncClient:
    """An httpx client on aiohttp's connection pool.

    httpx's own async pool collapses under concurrency (encode/httpx#3215; figures in
    docs/design.md), and the poller fans out hundreds of calls at once. The caller owns it and
    must `aclose()` it.
    """
    limits = httpx.Limits(
        max_connections=max_connections, max_keepalive_connections=max_connections
    )
    return httpx.AsyncClient(
        transport=httpx_aiohttp.AiohttpTransport(verify=_tls_context(), limits=limits),
        timeout=httpx.Timeout(timeout_seconds),
    )


@functools.cache
def _tls_context() -> ssl.SSLContext:
    """The CA bundle, loaded once per process: loading it costs ~20 ms of CPU for each client
    otherwise, and it does not change while the process runs (httpx's own choice of bundle,
    SSL_CERT_FILE / SSL_CERT_DIR included)."""
    return httpx.create_ssl_context()


def build_wallaroo_client(settings: Settings, http: httpx.AsyncClient) -> WallarooClient:
    """The client for the Wallaroo instance `settings` names, sharing `http`."""
    # The SecretStr values go in as they are: ServiceAccountAuth unwraps them only to send them.
    auth = ServiceAccountAuth(
        http,
        token_url=settings.wallaroo_token_url,
        client_id=settings.wallaroo_client_id,
        client_secret=settings.wallaroo_client_secret,
        username=settings.wallaroo_username,
        password=settings.wallaroo_password,
    )
    return WallarooClient(
        http,
        settings.wallaroo_api_url,
        auth,
        v2_api_url=settings.wallaroo_v2_api_url,
        assays=settings.wallaroo_assays,
    )
