"""Pipeline versions as people read them: a version's model steps, a `versions` row with the
live one marked, and what a deploy or rollback changes against the version live now."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from bot.wallaroo.model_steps import ModelStep
from bot.wallaroo.pipeline_models import ListedPipelineVersion, VersionHistory
from handlers.render.mrkdwn import code, escape
from handlers.render.times import when

LIVE_MARK = ":large_green_circle: *live*"


def short(text: str | None, length: int = 8) -> str:
    """A UUID or sha as people read it: its first characters (`none` when there is none)."""
    return text[:length] if text else "none"


def step_text(step: ModelStep) -> str:
    """One model step: its name, model version and sha, shortened (mrkdwn, escaped)."""
    return f"*{escape(step.name)}* {code(short(step.version))} sha {code(short(step.sha))}"


def steps_text(steps: list[ModelStep] | None) -> str:
    if steps is None:
        return "_steps not shown by Wallaroo_"
    if not steps:
        return ":warning: _no model step_"
    return ", ".join(step_text(step) for step in steps)


def version_row(number: int, version: ListedPipelineVersion, *, live: bool) -> str:
    """A `versions` row: its number by age (what `rollback` takes), UUID, age, live mark,
    steps."""
    row = f"*{number}.* {code(short(version.version))}"
    if version.created_at:
        row += f"  ·  {escape(when(version.created_at))}"
    if live:
        row += f"  ·  {LIVE_MARK}"
    return f"{row}\n        {steps_text(version.model_steps)}"


def live_summary(history: VersionHistory) -> str:
    """One line under the `versions` list: what is live, in words."""
    if history.live is None:
        return "Not deployed now."
    if history.live_version is None:
        return (
            f"Deployed (deployment {history.live.id}), but Wallaroo does not say which version "
            "it runs yet (engines still starting?)."
        )
    return f"Live: version *{history.live_number}* {code(short(history.live_version.version))}."


@dataclass(frozen=True)
class StepChange:
    kind: str  # added | removed | changed
    old: ModelStep | None
    new: ModelStep | None


@dataclass(frozen=True)
class VersionChange:
    """A version to deploy against what runs now, for the request's message."""

    target: ListedPipelineVersion
    target_number: int  # by age, as `versions` numbers them (1 = the first made)
    deployed: bool  # whether anything is deployed now
    live: ListedPipelineVersion | None = None  # the live version, when known
    live_number: int | None = None

    @classmethod
    def of(cls, history: VersionHistory, target: ListedPipelineVersion) -> VersionChange:
        return cls(
            target=target,
            target_number=history.number_at(history.versions.index(target)),
            deployed=history.live is not None,
            live=history.live_version,
            live_number=history.live_number,
        )

    @property
    def runs_no_model(self) -> bool:
        return self.target.model_steps == []


def step_changes(live: list[ModelStep], new: list[ModelStep]) -> list[StepChange]:
    """Model steps added, removed or changed (same model name, another version or sha),
    matched by name in order; a name that appears twice is paired up in order."""
    before: dict[str, list[ModelStep]] = defaultdict(list)
    for step in live:
        before[step.name].append(step)
    changes: list[StepChange] = []
    for step in new:
        olds = before.get(step.name)
        if not olds:
            changes.append(StepChange("added", None, step))
            continue
        old = olds.pop(0)
        if (old.version, old.sha) != (step.version, step.sha):
            changes.append(StepChange("changed", old, step))
    for olds in before.values():
        changes.extend(StepChange("removed", old, None) for old in olds)
    return changes


def _change_line(change: StepChange) -> str:
    # Emoji as characters, not :codes:, so the console shows them too.
    if change.kind == "added" and change.new is not None:
        return f"\u2795 added {step_text(change.new)}"
    if change.kind == "removed" and change.old is not None:
        return f"\u2796 removed {step_text(change.old)}"
    old, new = change.old, change.new
    assert old is not None and new is not None
    parts = []
    if old.version != new.version:
        parts.append(f"version {code(short(old.version))} → {code(short(new.version))}")
    if old.sha != new.sha:
        parts.append(f"sha {code(short(old.sha))} → {code(short(new.sha))}")
    return f"\U0001f504 changed *{escape(new.name)}*: {', '.join(parts)}"


def change_heading(change: VersionChange) -> str:
    """`*What changes*: back to version 1 `ab12cd34`, replacing the live version 2 `…``
    (numbers by age, as `versions` shows them), so a rollback reads as going back."""
    target = f"version {change.target_number} {code(short(change.target.version))}"
    if change.live is None or change.live_number is None:
        return f"*What changes*: {target}"
    live = f"version {change.live_number} {code(short(change.live.version))}"
    if change.target_number == change.live_number:
        return f"*What changes*: {target}, the one live now"
    back = "back to " if change.target_number < change.live_number else ""
    return f"*What changes*: {back}{target}, replacing the live {live}"


def change_lines(change: VersionChange) -> list[str]:
    """The model steps a deploy of `change.target` adds, removes or changes (mrkdwn)."""
    lines: list[str] = []
    if change.runs_no_model:
        lines.append(
            f":warning: *Version {code(short(change.target.version))} has no model step*: "
            "approving deploys a pipeline that runs no model."
        )
    new = change.target.model_steps
    if new is None:
        return [*lines, "Wallaroo does not show this version's steps, so I cannot compare."]
    if not change.deployed:
        return [
            *lines,
            "Nothing is deployed now.",
            *(_change_line(c) for c in step_changes([], new)),
        ]
    live = change.live
    if live is None:
        lines.append("I cannot tell which version is live now, so this is what it runs:")
        return [*lines, steps_text(new)]
    if live.version == change.target.version:
        return [*lines, "It is the version live now: no model changes (a redeploy)."]
    old = live.model_steps
    if old is None:
        return [
            *lines,
            f"Wallaroo does not show the live version's steps; it runs {steps_text(new)}.",
        ]
    changes = step_changes(old, new)
    if not changes:
        return [*lines, "The same model steps as the live version."]
    unchanged = len(new) - sum(c.kind != "removed" for c in changes)
    lines.extend(_change_line(c) for c in changes)
    if unchanged:
        lines.append(f"{unchanged} model step{'s' if unchanged != 1 else ''} unchanged.")
    return lines
