"""slack-manifest.yml is valid for Slack and says what the bot does."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import yaml

ROOT = Path(__file__).resolve().parents[1]
# Slack's app-manifest JSON Schema (MIT, licence beside it), copied from shared/reference so the
# test needs nothing outside the repository.
SCHEMA = Path(__file__).resolve().parent / "data" / "slack-app-manifest.schema.json"


def manifest() -> dict:
    return yaml.safe_load((ROOT / "slack-manifest.yml").read_text())


def test_manifest_validates_against_slacks_schema() -> None:
    schema = json.loads(SCHEMA.read_text())
    jsonschema.Draft7Validator(schema).validate(manifest())


def test_manifest_declares_the_command_the_bot_listens_to_with_escaping_on() -> None:
    (command,) = manifest()["features"]["slash_commands"]
    assert command["command"] == "/wallaroo"
    assert command["should_escape"] is True
    assert command["url"].endswith("/slack/events")
    assert {"commands", "chat:write"} <= set(manifest()["oauth_config"]["scopes"]["bot"])


def test_an_invalid_manifest_is_refused() -> None:
    broken = manifest()
    broken["features"]["slash_commands"][0]["command"] = "wallaroo"  # no leading slash
    validator = jsonschema.Draft7Validator(json.loads(SCHEMA.read_text()))
    assert list(validator.iter_errors(broken))


def test_manifest_has_what_the_bot_uses_home_tab_events_and_upload_scopes() -> None:
    declared = manifest()
    assert declared["features"]["app_home"]["home_tab_enabled"] is True
    assert "app_home_opened" in declared["settings"]["event_subscriptions"]["bot_events"]
    assert declared["settings"]["interactivity"]["is_enabled"] is True
    scopes = set(declared["oauth_config"]["scopes"]["bot"])
    assert {"files:write", "users:read", "users:read.email"} <= scopes


def test_manifest_has_the_upload_shortcut_and_may_read_files() -> None:
    declared = manifest()
    (upload,) = [s for s in declared["features"]["shortcuts"] if s["callback_id"] == "upload_model"]
    assert upload["type"] == "message" and upload["name"] == "Upload to Wallaroo"
    assert "files:read" in declared["oauth_config"]["scopes"]["bot"]
