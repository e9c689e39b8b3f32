"""Settings, read from the environment or a `.env` file (names fixed in docs/design.md)."""

from __future__ import annotations

from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_WALLAROO_URL = "http://127.0.0.1:8080"
TOKEN_PATH = "/auth/realms/master/protocol/openid-connect/token"
_V1_SUFFIX = "/v1/api"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    slack_bot_token: SecretStr | None = None
    slack_signing_secret: SecretStr | None = None
    slack_app_token: SecretStr | None = None
    slack_api_url: str = "https://slack.com/api/"
    # Which Slack workspaces (team ids, comma-separated) and which app may send requests; a
    # signed request from any other gets 401. Unset: any (logged once at start).
    slack_team_ids: str = ""
    slack_app_id: str | None = None
    # The largest request body /slack/events reads (Slack sends a few KiB); larger gets 413.
    chatops_max_request_bytes: int = Field(default=1024 * 1024, ge=1024)
    # The largest model file `model upload` takes from Slack (checked before and while streaming).
    chatops_max_model_bytes: int = Field(default=2 * 1024**3, ge=1)

    # The instance's base URL (https://wallaroo.example.com) is all a user needs to give: the
    # MLOps API, assays v2 and the token endpoint all live on that host since 2023. The two
    # URL settings below stay accepted as overrides (a 2022 install's separate Keycloak host).
    wallaroo_url: str = DEFAULT_WALLAROO_URL
    wallaroo_api_url: str = ""  # default: WALLAROO_URL + /v1/api
    wallaroo_token_url: str = ""  # default: WALLAROO_URL + TOKEN_PATH
    # Which assays the instance runs: v2 (the default on installs since 2024.4), v1, or "auto":
    # ask v2/api/assays/get once and use v2 if it answers.
    wallaroo_assays: Literal["auto", "v1", "v2"] = "auto"
    wallaroo_client_id: str = "api-client"
    wallaroo_client_secret: SecretStr = SecretStr("")
    wallaroo_username: str | None = None
    wallaroo_password: SecretStr | None = None

    database_url: str = "sqlite:///wallaroo-chatops.db"
    chatops_admins: str = ""
    chatops_alert_channel: str | None = None
    chatops_approval_channel: str | None = None
    chatops_poll_seconds: float = Field(default=60.0, gt=0)
    # The audit chain: the HMAC key its rows are keyed with (unset: plain sha256, warned at
    # start), and where its head hash is anchored every N rows and daily (unset: nowhere).
    chatops_audit_key: SecretStr | None = None
    chatops_audit_channel: str | None = None
    chatops_audit_anchor_rows: int = Field(default=100, ge=1)

    # Approvals: how long a request may wait, and whether the approver must also belong to
    # the Wallaroo workspace (their Slack email among its owners and collaborators).
    chatops_approval_ttl_seconds: float = Field(default=3600.0, gt=0)
    chatops_workspace_aware_permissions: bool = False
    # Following a deploy: how often to ask, how long to wait for Running, and how long an
    # Error during start-up may last before it counts (Wallaroo shows transient ones).
    chatops_deploy_poll_seconds: float = Field(default=1.0, gt=0)
    chatops_deploy_timeout_seconds: float = Field(default=600.0, gt=0)
    chatops_startup_error_grace_seconds: float = Field(default=30.0, ge=0)
    # How long a deploy or undeploy whose fate is unknown (a 5xx, a timeout, a crash) may still
    # be taking effect: Wallaroo's state is looked at until then, and the call never resent.
    chatops_call_grace_seconds: float = Field(default=30.0, gt=0)

    # Alerting: how many Wallaroo calls a poll makes at once, when a deployment Starting for
    # too long is an alert, how often an unacknowledged episode is recalled in its thread, and
    # the least time between two messages to one channel (Slack allows about one a second).
    chatops_poll_concurrency: int = Field(default=64, ge=1)
    chatops_starting_alert_seconds: float = Field(default=600.0, gt=0)
    chatops_alert_reminder_seconds: float = Field(default=4 * 3600.0, gt=0)
    chatops_channel_pacing_seconds: float = Field(default=1.0, ge=0)
    # After a Slack post timed out it may still land (one took 25 s): it is neither resent nor
    # looked for in the channel's history before this has passed.
    chatops_post_lookup_grace_seconds: float = Field(default=60.0, ge=0)
    # A subject that breaches again within this long of its recovery (Ok, Alert, Ok, Alert)
    # keeps its one episode, marked flapping; it closes once Ok for this long (0: off).
    chatops_flap_window_seconds: float = Field(default=6 * 3600.0, ge=0)
    # The time zone of `digest #channel HH:MM` times: an IANA name (Europe/Berlin), checked at
    # start so a typo fails there rather than at the first digest.
    chatops_timezone: str = "UTC"
    # Logs of `serve` and `socket`: JSON lines (with a request id) or text, and the level.
    chatops_log_format: Literal["json", "text"] = "json"
    chatops_log_level: str = "INFO"
    # This process's name in the poller lease (default: host, pid and a random suffix).
    chatops_replica_id: str | None = None

    @field_validator("wallaroo_url")
    @classmethod
    def _base_url_is_a_host(cls, value: str) -> str:
        value = value.rstrip("/")
        if not value.startswith(("http://", "https://")):
            raise ValueError(
                "WALLAROO_URL must start with https:// (or http://), e.g. "
                "https://wallaroo.example.com"
            )
        if value.endswith(_V1_SUFFIX):
            # A common slip: the API URL pasted where the base URL goes.
            value = value[: -len(_V1_SUFFIX)]
        return value

    @field_validator("chatops_timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        value = value.strip()
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"CHATOPS_TIMEZONE must be an IANA time zone name, e.g. Europe/Berlin or UTC "
                f"(not {value!r})"
            ) from None
        return value

    @field_validator("wallaroo_api_url")
    @classmethod
    def _api_url_ends_in_v1_api(cls, value: str) -> str:
        value = value.rstrip("/")
        if value and not value.endswith(_V1_SUFFIX):
            raise ValueError(
                "WALLAROO_API_URL must end in /v1/api, e.g. https://wallaroo.example.com/v1/api "
                "(or set only WALLAROO_URL=https://wallaroo.example.com)"
            )
        return value

    @model_validator(mode="after")
    def _derive_urls(self) -> Settings:
        if not self.wallaroo_api_url:
            self.wallaroo_api_url = self.wallaroo_url + _V1_SUFFIX
        if not self.wallaroo_token_url:
            self.wallaroo_token_url = self.wallaroo_url + TOKEN_PATH
        return self

    @property
    def wallaroo_v2_api_url(self) -> str:
        """Where assays v2 live: beside the v1 API, on the same host."""
        return self.wallaroo_api_url[: -len(_V1_SUFFIX)] + "/v2/api"

    @property
    def allowed_team_ids(self) -> frozenset[str]:
        return frozenset(part.strip() for part in self.slack_team_ids.split(",") if part.strip())

    @property
    def audit_key(self) -> bytes | None:
        key = self.chatops_audit_key.get_secret_value() if self.chatops_audit_key else ""
        return key.encode("utf-8") or None

    @property
    def timezone(self) -> ZoneInfo:
        """CHATOPS_TIMEZONE as a zone (validated at start)."""
        return ZoneInfo(self.chatops_timezone)

    @property
    def admin_user_ids(self) -> frozenset[str]:
        return frozenset(part.strip() for part in self.chatops_admins.split(",") if part.strip())
