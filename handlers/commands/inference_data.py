"""What `infer` and `logs` read from the rest of the command: DATA as pandas records, and
`[N] [since=DURATION] [page N]`. Errors are CommandProblems that say where and what is right.

DATA arrives unescaped by the grammar (Slack's `&lt;` is `<` again); Slack clients may have
turned the quotes typed into curly ones, and people paste JSON inside backticks: both undone.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from bot.wallaroo.inference import LOG_DEPTH
from handlers.context import CommandProblem
from handlers.render.mrkdwn import code, shorten

MAX_ROWS = 1000
DEFAULT_LOGS = 10
MAX_LOGS = 100
MAX_SINCE = timedelta(days=365)  # further back is no window (and past year 1 no date at all)
DATA_FORMS = '`[{"tensor": [1.0, 2.0]}]`, `{"col": [1.0, 2.0]}` or `{"tensor": [[1.0, 2.0]]}`'
LOGS_USAGE = "/wallaroo logs WS PIPELINE [N] [since=DURATION] [page N]"
_QUOTES = str.maketrans({"\u201c": '"', "\u201d": '"', "\u2018": "'", "\u2019": "'"})
_FENCE = re.compile(r"^(```|`)(?:json\s)?(.*)\1$", re.DOTALL)
_DURATION = re.compile(r"(\d{1,6})\s*(s|sec|secs|m|min|mins|h|hr|hrs|d|w)", re.IGNORECASE)
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86_400, "w": 604_800}


def read_records(data: str | None) -> list[dict[str, Any]]:
    """DATA as pandas records: a list of row objects, or a column dict turned into one."""
    text = (data or "").translate(_QUOTES).strip()
    fenced = _FENCE.match(text)
    if fenced:
        text = fenced.group(2).strip()
    if not text:
        raise CommandProblem(f"`infer` needs DATA: {DATA_FORMS}.")
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        near = text[max(exc.pos - 15, 0) : exc.pos + 15]
        raise CommandProblem(
            f"DATA is not valid JSON: {exc.msg.lower()} at character {exc.pos + 1} "
            f"(near {code(shorten(near, 40))}).",
            f"Write it as {DATA_FORMS}.",
        ) from exc
    records = _as_records(value)
    if not records:
        raise CommandProblem(f"DATA has no rows: give at least one, e.g. {DATA_FORMS}.")
    if len(records) > MAX_ROWS:
        raise CommandProblem(f"DATA has {len(records)} rows; a test inference takes {MAX_ROWS}.")
    return records


def _as_records(value: Any) -> list[dict[str, Any]]:
    if isinstance(value, list):
        for index, item in enumerate(value):
            if not isinstance(item, dict):
                raise CommandProblem(
                    f"DATA's item {index + 1} is not an object: pandas records are a list of "
                    f"objects, one per row, e.g. {DATA_FORMS}."
                )
        return value
    if isinstance(value, dict) and value and all(isinstance(v, list) for v in value.values()):
        lengths = {name: len(column) for name, column in value.items()}
        if len(set(lengths.values())) != 1:
            shown = ", ".join(f"{code(n)} has {k}" for n, k in lengths.items())
            raise CommandProblem(f"DATA's columns differ in length ({shown}): give each as many.")
        count = next(iter(lengths.values()))
        return [{name: column[i] for name, column in value.items()} for i in range(count)]
    raise CommandProblem(
        "DATA is JSON but not rows: give pandas records, a column dict or the tutorial's tensor, "
        f"e.g. {DATA_FORMS}."
    )


@dataclass(frozen=True)
class LogsOptions:
    count: int = DEFAULT_LOGS
    since: timedelta | None = None
    since_text: str | None = None  # as typed, for the next page's command
    page: int = 1


def read_logs_options(rest: str | None) -> LogsOptions:
    words = (rest or "").split()
    count, since, since_text, page = DEFAULT_LOGS, None, None, 1
    while words:
        word = words.pop(0)
        key, equals, value = word.partition("=")
        if word.lower() == "page" and words:
            page = _positive(words.pop(0), "a page number")
        elif equals and key.lower() == "since":
            since, since_text = read_duration(value), value
        elif word.isascii() and word.isdigit():
            count = _positive(word, "a count")
            if count > MAX_LOGS:
                raise CommandProblem(
                    f"`logs` shows at most {MAX_LOGS} records at once, not {count}.",
                    f"Use {code(f'... {MAX_LOGS} page 2')} for older ones.",
                )
        else:
            raise CommandProblem(
                f"{code(shorten(word, 40))} is not a count, since=DURATION or page N: "
                f"{code(LOGS_USAGE)}"
            )
    if page * count > LOG_DEPTH:  # every record before the page is read to reach it
        deepest = LOG_DEPTH // count
        raise CommandProblem(
            f"`logs` goes back {LOG_DEPTH:,} records: page {page} of {count} is past that.",
            f"At {count} a page, page {deepest} is the last one.",
        )
    return LogsOptions(count, since, since_text, page)


def read_duration(text: str) -> timedelta:
    """`30m`, `2h`, `1d`, `1w`, `45s` (or `90min`, `2hrs`)."""
    match = _DURATION.fullmatch(text.strip())
    if match is None or int(match.group(1)) == 0:
        raise CommandProblem(
            f"since={code(shorten(text, 40))} is not a duration: write it like `30m`, `2h` or `1d`."
        )
    unit = match.group(2).lower()
    duration = timedelta(seconds=int(match.group(1)) * _UNIT_SECONDS[unit[0]])
    if duration > MAX_SINCE:
        raise CommandProblem(
            f"since={code(shorten(text, 40))} is more than a year: give at most `365d` "
            "(or leave since= out for the whole log)."
        )
    return duration


def _positive(text: str, noun: str) -> int:
    if not (text.isascii() and text.isdigit()) or len(text) > 9 or int(text) == 0:
        raise CommandProblem(
            f"{code(shorten(text, 40))} is not {noun}; use a whole number above 0."
        )
    return int(text)
