"""The `key=value` options of `assay create`: which are required, what each takes and its
default, read into one `AssayOptions` with errors that name the option (never a schema path or
a Python message), and Wallaroo's refusals of a create mapped back to the option at fault."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from bot.wallaroo import WallarooBadRequest
from bot.wallaroo.assay_v2_models import data_path
from handlers.context import CommandProblem
from handlers.render.mrkdwn import code, escape, shorten

V1_IOPATH, V2_IOPATH = "output 0 0", "out.variable.0"
METRICS = ("PSI", "MaxDiff", "SumDiff")
DATE_FORMAT = "an ISO date or time in UTC, e.g. `2026-11-01` or `2026-11-01T06:00:00Z`"
_WIDTH = re.compile(r"^\s*(\d+)\s*(minute|hour|day|week)s?\s*$", re.IGNORECASE)
_UNIT_SECONDS = {"minute": 60, "hour": 3600, "day": 86_400, "week": 604_800}
_V1_IOPATH = re.compile(r"^(input|output)\s+\S+\s+\d+$")


@dataclass(frozen=True)
class Option:
    key: str
    takes: str  # what the value is, as errors and help say it
    example: str  # a value that works, as typed
    default: str | None = None  # None: required (baseline_*) or left unset (warning)


OPTIONS = (
    Option("baseline_start", "a date", "2026-11-01"),
    Option("baseline_end", "a date", "2026-11-02"),
    Option(
        "iopath", "the field scored", '"output 0 0"', f"`{V1_IOPATH}`; `{V2_IOPATH}` on assays v2"
    ),
    Option("width", "a window length", '"24 hours"', "`24 hours`"),
    Option("alert", "a number", "0.1", "`0.1`"),
    Option("warning", "a number", "0.05", "none"),
    Option("bins", "a whole number above 0", "5", "`5`"),
    Option("metric", "one of " + ", ".join(METRICS), "PSI", "`PSI`"),
    Option("name", "a name", '"price drift"', "`PIPELINE assay`"),
)
BY_KEY = {option.key: option for option in OPTIONS}
REQUIRED = ("baseline_start", "baseline_end")
# What an option left out means, as typed (a form shows these filled in; iopath and name depend
# on the assay's generation and pipeline, warning stays unset).
DEFAULTS = {"width": "24 hours", "alert": "0.1", "bins": "5", "metric": "PSI"}
EXAMPLE = "`/wallaroo assay create WS PIPELINE baseline_start=2026-11-01 baseline_end=2026-11-02`"


def options_help() -> str:
    """What `assay create` takes: the required options, then the optional ones with defaults."""
    optional = ", ".join(
        f"{o.key} ({o.takes}, default {o.default})" for o in OPTIONS if o.key not in REQUIRED
    )
    return (
        f"Required: baseline_start and baseline_end ({DATE_FORMAT}). Optional: {optional}. "
        f"e.g. {EXAMPLE}"
    )


@dataclass(frozen=True)
class AssayOptions:
    name: str | None
    iopath: str | None  # None: the generation's default
    baseline_start: datetime
    baseline_end: datetime
    width: str
    width_seconds: int
    alert: float
    warning: float | None
    bins: int
    metric: str


def read_options(options: dict[str, str], *, v2: bool) -> AssayOptions:
    """The options typed, checked; a CommandProblem names the first one that is wrong."""
    missing = [key for key in REQUIRED if key not in options]
    if missing:
        raise CommandProblem(f"`assay create` needs {' and '.join(missing)}.", options_help())
    start, end = _moment(options, "baseline_start"), _moment(options, "baseline_end")
    if end <= start:
        raise CommandProblem(
            "baseline_end must come after baseline_start.",
            "e.g. `baseline_start=2026-11-01 baseline_end=2026-11-02` (a day of inferences)",
        )
    width = options.get("width", DEFAULTS["width"])
    iopath = options.get("iopath")
    if iopath is not None:
        _check_iopath(iopath, v2=v2)
    alert, bins = _float(options, "alert"), _bins(options)
    return AssayOptions(
        name=options.get("name"),
        iopath=iopath,
        baseline_start=start,
        baseline_end=end,
        width=width,
        width_seconds=_width(width),
        alert=float(DEFAULTS["alert"]) if alert is None else alert,
        warning=_float(options, "warning"),
        bins=bins,
        metric=_metric(options.get("metric", DEFAULTS["metric"])),
    )


# Each option's own check (the same ones read_options makes), for a form that names every bad
# field at once rather than the first.
_CHECKS: dict[str, Callable[[dict[str, str], bool], object]] = {
    "baseline_start": lambda options, v2: _moment(options, "baseline_start"),
    "baseline_end": lambda options, v2: _moment(options, "baseline_end"),
    "iopath": lambda options, v2: _check_iopath(options["iopath"], v2=v2),
    "width": lambda options, v2: _width(options["width"]),
    "alert": lambda options, v2: _float(options, "alert"),
    "warning": lambda options, v2: _float(options, "warning"),
    "bins": lambda options, v2: _bins(options),
    "metric": lambda options, v2: _metric(options["metric"]),
}


def option_problems(options: dict[str, str], *, v2: bool) -> dict[str, CommandProblem]:
    """Every option that is wrong (or required and missing), by key; empty when
    `read_options` would accept them all."""
    problems: dict[str, CommandProblem] = {}
    for key in REQUIRED:
        if key not in options:
            problems[key] = CommandProblem(f"{key} is required: {DATE_FORMAT}.")
    for key, check in _CHECKS.items():
        if key in options:
            try:
                check(options, v2)
            except CommandProblem as exc:
                problems[key] = exc
    in_order = not problems.keys() & set(REQUIRED)
    if in_order and _moment(options, "baseline_end") <= _moment(options, "baseline_start"):
        problems["baseline_end"] = CommandProblem("baseline_end must come after baseline_start.")
    return problems


def _bins(options: dict[str, str]) -> int:
    bins = _int(options, "bins", int(DEFAULTS["bins"]))
    if bins < 1:
        raise _wrong("bins", options["bins"])
    return bins


def _wrong(key: str, value: str) -> CommandProblem:
    option = BY_KEY[key]
    return CommandProblem(
        f"{key} must be {option.takes}, not {code(shorten(value, 40))}.",
        f"e.g. {_example(key)}",
    )


def _example(key: str) -> str:
    return code(f"{key}={BY_KEY[key].example}")


def _moment(options: dict[str, str], key: str) -> datetime:
    text = options[key].strip()
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise CommandProblem(
            f"{key} must be {DATE_FORMAT}, not {code(shorten(text, 40))}.",
            f"e.g. {_example(key)}",
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _float(options: dict[str, str], key: str) -> float | None:
    if key not in options:
        return None
    try:
        return float(options[key])
    except ValueError:
        raise _wrong(key, options[key]) from None


def _int(options: dict[str, str], key: str, default: int) -> int:
    try:
        return int(options.get(key, default))
    except ValueError:
        raise _wrong(key, options[key]) from None


def width_seconds(width: str) -> int:
    """`24 hours`, `1 day`, `30 minutes`, `1 week` in seconds; ValueError for anything else."""
    match = _WIDTH.match(width)
    if match is None or int(match.group(1)) == 0:
        raise ValueError(f"width {width!r}: write it like `24 hours` or `7 days`")
    return int(match.group(1)) * _UNIT_SECONDS[match.group(2).lower()]


def _width(width: str) -> int:
    try:
        return width_seconds(width)
    except ValueError:
        raise CommandProblem(
            f"width must be a number of minutes, hours, days or weeks, not "
            f"{code(shorten(width, 40))}.",
            '`width="24 hours"` or `width="7 days"` (quoted: the value has a space)',
        ) from None


def _check_iopath(iopath: str, *, v2: bool) -> None:
    if not v2 and _V1_IOPATH.match(iopath.strip()):
        return
    if v2:
        try:
            data_path(iopath)
            return
        except ValueError:
            pass
    forms = f"`{V1_IOPATH}` or `{V2_IOPATH}`" if v2 else f"`{V1_IOPATH}` or `input 0 2`"
    raise CommandProblem(
        f"iopath must name the field scored, like {forms}, not {code(shorten(iopath, 40))}.",
        f"e.g. {_example('iopath')} (input or output, the field, its index)",
    )


def _metric(text: str) -> str:
    for metric in METRICS:
        if metric.lower() == text.strip().lower():
            return metric
    raise _wrong("metric", text)


# Where Wallaroo's refusal of a create names a field, the option that sets it (v1 and v2 bodies).
_FIELD_OPTIONS = (
    ("start_at", "baseline_start"),
    ("end_at", "baseline_end"),
    ("baseline.static.0", "baseline_start"),
    ("baseline.static.1", "baseline_end"),
    ("alert", "alert"),
    ("warning", "warning"),
    ("bin", "bins"),
    ("metric", "metric"),
    ("iopath", "iopath"),
    ("targeting", "iopath"),
    ("width", "width"),
    ("run_frequency", "width"),
    ("name", "name"),
)


def refused(exc: WallarooBadRequest) -> CommandProblem:
    """Wallaroo's 400 on a create as a problem with an option, where its message says which
    (`summarizer.UnivariateContinuous.metric: input should be ...` → metric)."""
    for said in exc.msg.split(";"):
        where, _, reason = said.rpartition(":")
        for field, key in _FIELD_OPTIONS:
            if field in where.lower():
                return CommandProblem(
                    f"Wallaroo refused the assay's {key}: {escape(reason.strip())}.",
                    f"{key} takes {BY_KEY[key].takes}, e.g. {_example(key)}",
                )
    return CommandProblem(f"Wallaroo refused the assay: {escape(exc.msg)}", options_help())
