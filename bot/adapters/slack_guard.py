"""What /slack/events checks before bolt sees a request, and answers itself.

bolt verifies the signature too, but it parses the timestamp and the body first (a timestamp
`abc` or a `payload=` that is not JSON was a 500 with a traceback), and it knows nothing of
replays or of which workspace and app may call. Here, in this order: the signature (401), a
body that parses (400), the team and app (401), then a request seen before (200, not run).
Every check that needs a signed request comes after the signature, so an unsigned caller can
neither use up trigger ids nor learn which teams are allowed.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

from slack_bolt.response import BoltResponse
from slack_sdk.signature import SignatureVerifier
from sqlalchemy.exc import SQLAlchemyError
from starlette.datastructures import Headers
from starlette.responses import JSONResponse, Response

from handlers.context import Services
from storage.seen_requests import claim_request
from storage.utc import utc_now

logger = logging.getLogger(__name__)
# An external select's options (block_suggestion) change nothing and carry no trigger id: the
# same text typed again (type, erase, type) is the same body and must be answered again, so it
# is checked for team and app but never claimed as seen.
SUGGESTION = "suggestion"


@dataclass(frozen=True)
class SlackBody:
    """A signed request's parsed body: the team and app it names and its replay key."""

    team_id: str | None
    app_id: str | None
    replay_key: str | None  # None: nothing to run twice (Slack's URL check)


class SlackGuard:
    def __init__(self, services: Services) -> None:
        settings = services.settings
        assert settings.slack_signing_secret is not None  # build_slack_app checked
        self.services = services
        self.verifier = SignatureVerifier(settings.slack_signing_secret.get_secret_value())
        self.teams = settings.allowed_team_ids
        self.app_id = settings.slack_app_id
        if not self.teams:
            logger.warning("SLACK_TEAM_IDS is not set: signed requests from any team are accepted")
        if not self.app_id:
            logger.warning("SLACK_APP_ID is not set: signed requests for any app are accepted")

    async def refusal(self, headers: Headers, body: bytes) -> Response | None:
        """The answer to give instead of running the request, or None to run it."""
        if not self._signed(headers, body):
            return _error(401, "invalid request signature")
        try:
            parsed = parse_body(headers.get("content-type", ""), body)
        except ValueError as exc:
            return _error(400, str(exc))
        refused = await self.refusal_of(parsed, headers.get("x-slack-retry-num"))
        if refused is None:
            return None
        status, message = refused
        # A replay gets 200 and nothing more: the first delivery ran and has answered (through
        # the response URL or in the channel); any error status would make Slack retry it.
        return Response(status_code=200) if status == 200 else _error(status, message)

    async def refusal_of(self, parsed: SlackBody, retry: str | None) -> tuple[int, str] | None:
        """Why an authenticated request (signed, or over Socket Mode's websocket) must not
        run: (status, reason), or None to run it."""
        if parsed.replay_key is None:
            return None  # Slack's URL check: bolt answers the challenge, nothing runs
        if self.teams and parsed.team_id not in self.teams:
            logger.warning("refused a signed request from team %r", parsed.team_id)
            return 401, "this workspace may not use this bot"
        if self.app_id and parsed.app_id != self.app_id:
            logger.warning("refused a signed request for app %r", parsed.app_id)
            return 401, "this request is for another Slack app"
        if parsed.replay_key == SUGGESTION:
            return None  # never claimed: see SUGGESTION
        try:
            async with self.services.sessions() as session:
                first = await claim_request(session, parsed.replay_key, utc_now())
        except SQLAlchemyError:
            # Fail closed: without the record, a replay could not be told from a first time.
            logger.exception("recording a Slack request failed")
            return 503, "the bot cannot record requests right now"
        if first:
            return None
        logger.info(
            "Slack request seen before, not run again (%s%s)",
            parsed.replay_key.split(":", 1)[0],
            f", Slack's retry {retry}" if retry else "",
        )
        return 200, "seen before"

    async def socket_mode_middleware(self, body: dict[str, Any], next: Any) -> Any:
        """The same team, app and replay checks for Socket Mode, as a bolt middleware (the
        websocket is the app token's, so there is no signature; Slack bounds its frames). A
        refused request is acked with the reason and not run."""
        refused = await self.refusal_of(socket_body(body), None)
        if refused is None:
            return await next()
        status, message = refused
        return BoltResponse(status=200, body="" if status == 200 else f"Refused: {message}.")

    def _signed(self, headers: Headers, body: bytes) -> bool:
        timestamp = headers.get("x-slack-request-timestamp", "")
        if not timestamp.isdigit():
            return False  # e.g. "abc": SignatureVerifier would raise on int()
        return self.verifier.is_valid(
            body=body, timestamp=timestamp, signature=headers.get("x-slack-signature", "")
        )


def parse_body(content_type: str, raw: bytes) -> SlackBody:
    """The team, app and replay key of a Slack body; ValueError (with a message for the
    caller) for one bolt could not read."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ValueError("the body is not UTF-8") from None
    media_type = content_type.split(";", 1)[0].strip().lower()
    if media_type == "application/json":
        event = _json_object(text, "the JSON body")
        if event.get("type") == "url_verification":
            return SlackBody(None, None, None)
        event_id = event.get("event_id")
        # Slack's retries of an event (X-Slack-Retry-Num) carry the first delivery's event id.
        key = f"event:{event_id}" if isinstance(event_id, str) and event_id else _hash(raw)
        return SlackBody(_str(event.get("team_id")), _str(event.get("api_app_id")), key)
    if media_type != "application/x-www-form-urlencoded":
        raise ValueError(f"unexpected content type {media_type or 'none'}")
    form = {name: values[0] for name, values in parse_qs(text, keep_blank_values=True).items()}
    if "payload" in form:
        payload = _json_object(form["payload"], "the payload field")
        _check_interaction(payload)
        team = payload.get("team")
        team_id = team.get("id") if isinstance(team, dict) else payload.get("team_id")
        if payload.get("type") == "block_suggestion":
            return SlackBody(_str(team_id), _str(payload.get("api_app_id")), SUGGESTION)
        trigger = payload.get("trigger_id")
        return SlackBody(_str(team_id), _str(payload.get("api_app_id")), _key(trigger, raw))
    if "command" not in form:
        raise ValueError("the form is neither a slash command nor an interaction")
    return SlackBody(form.get("team_id"), form.get("api_app_id"), _key(form.get("trigger_id"), raw))


def socket_body(body: dict[str, Any]) -> SlackBody:
    """The team, app and replay key of a request bolt has parsed (a Socket Mode envelope's
    payload: an event callback, an interaction, or a slash command's fields)."""
    raw = json.dumps(body, sort_keys=True, default=str).encode()
    if body.get("type") == "event_callback":
        event_id = body.get("event_id")
        key = f"event:{event_id}" if isinstance(event_id, str) and event_id else _hash(raw)
        return SlackBody(_str(body.get("team_id")), _str(body.get("api_app_id")), key)
    team = body.get("team")
    team_id = team.get("id") if isinstance(team, dict) else body.get("team_id")
    key = (
        SUGGESTION if body.get("type") == "block_suggestion" else _key(body.get("trigger_id"), raw)
    )
    return SlackBody(_str(team_id), _str(body.get("api_app_id")), key)


def _check_interaction(payload: dict[str, Any]) -> None:
    """What bolt reads without looking: a dialog submission without `view.type` raised a
    KeyError inside bolt (a 500; bench/soak.py's first payloads lacked it). Real Slack always
    sends both; a body that lacks them is refused with the reason instead."""
    if not isinstance(payload.get("type"), str):
        raise ValueError("the payload has no type")
    if payload["type"] in ("view_submission", "view_closed"):
        view = payload.get("view")
        if not isinstance(view, dict) or not isinstance(view.get("type"), str):
            raise ValueError("the payload's view has no type")


def _json_object(text: str, what: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except ValueError:
        raise ValueError(f"{what} is not JSON") from None
    if not isinstance(value, dict):
        raise ValueError(f"{what} is not a JSON object")
    return value


def _str(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _key(trigger_id: object, raw: bytes) -> str:
    # Slack gives each command and click its own trigger id; the body's hash covers the rest.
    return f"trigger:{trigger_id}" if isinstance(trigger_id, str) and trigger_id else _hash(raw)


def _hash(raw: bytes) -> str:
    return "body:" + hashlib.sha256(raw).hexdigest()


def _error(status: int, message: str) -> Response:
    return JSONResponse({"error": message}, status_code=status)
