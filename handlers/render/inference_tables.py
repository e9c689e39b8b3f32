"""Inference answers and log records as small fixed-width tables in code blocks: `infer`'s
outputs (first rows, then a count) and `logs`' records (time, inputs, outputs, check failures).

Cells are escaped (a code block still turns `<…>` into links and mentions) and backticks
replaced, so no value can close the block early or ping anyone.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from slack_sdk.models.blocks import Block

from bot.wallaroo.inference_rows import InferenceRow
from handlers.render.blocks import SECTION_CHARS, Reply, context, header, section
from handlers.render.mrkdwn import code, escape, shorten
from handlers.render.times import as_datetime

INFER_ROWS = 10  # rows an `infer` reply shows before "and N more"
CELL_CHARS = 36
_FENCE = "```"
_BACKTICK_LOOKALIKE = "\u02cb"


def value_text(value: Any, limit: int = CELL_CHARS) -> str:
    """A number as 6 significant digits, a list as `[a, b, …]`, anything else as JSON; cut."""
    if isinstance(value, float):
        text = f"{value:.6g}"
    elif isinstance(value, list) and len(value) == 1:
        text = value_text(value[0], limit)
    elif isinstance(value, list):
        text = "[" + ", ".join(value_text(v, 12) for v in value[:8])
        text += ", …]" if len(value) > 8 else "]"
    elif isinstance(value, str):
        text = value
    else:
        text = json.dumps(value, separators=(",", ":"), default=str)
    return shorten(" ".join(text.split()), limit)


def _cell(text: str) -> str:
    """Escaped, and no backtick: inside a table it would end the block, outside start one."""
    return escape(text.replace("`", _BACKTICK_LOOKALIKE))


def text_tables(columns: list[str], rows: list[list[str]]) -> list[str]:
    """Rows under their column names, as code blocks of at most Slack's section size."""
    widths = [max(len(c), *(len(r[i]) for r in rows)) for i, c in enumerate(columns)]

    def line(cells: list[str]) -> str:
        return "  ".join(_cell(c.ljust(w)) for c, w in zip(cells, widths, strict=True)).rstrip()

    head = line(columns)
    chunks: list[list[str]] = [[]]
    for row in rows:
        shown = line(row)
        size = sum(len(x) + 1 for x in chunks[-1]) + len(head) + len(shown) + 10
        if chunks[-1] and size > SECTION_CHARS:
            chunks.append([])
        chunks[-1].append(shown)
    return [f"{_FENCE}\n" + "\n".join([head, *chunk]) + f"\n{_FENCE}" for chunk in chunks]


def _columns(rows: list[InferenceRow], part: str) -> list[str]:
    names: dict[str, None] = {}
    for row in rows:
        names.update(dict.fromkeys(getattr(row, part)))
    return list(names)


@dataclass(frozen=True)
class InferSummary:
    pipeline: str
    rows: list[InferenceRow]
    elapsed_ms: float  # as the bot measured it, request to answer


def infer_reply(summary: InferSummary) -> Reply:
    rows = summary.rows
    inputs, outputs = _columns(rows, "inputs"), _columns(rows, "outputs")
    columns = ["#", *inputs, *outputs]
    table = [
        [str(n), *(value_text(r.inputs.get(c), 24) for c in inputs)]
        + [value_text(r.outputs.get(c)) for c in outputs]
        for n, r in enumerate(rows[:INFER_ROWS], 1)
    ]
    counted = f"{len(rows)} row{'' if len(rows) == 1 else 's'} inferred"
    blocks: list[Block] = [header(f"{summary.pipeline}: {counted}")]
    blocks += [section(t) for t in text_tables(columns, table)] if rows else []
    if len(rows) > INFER_ROWS:
        more = len(rows) - INFER_ROWS
        blocks.append(context(f"and {more} more row{'' if more == 1 else 's'}"))
    facts = [f"Answered in {summary.elapsed_ms:.0f} ms"]
    versions = sorted({r.pipeline_version for r in rows if r.pipeline_version})
    if versions:
        facts.append("pipeline version " + ", ".join(code(v) for v in versions))
    models = sorted({r.model for r in rows if r.model})
    if models:
        facts.append("model " + ", ".join(f"*{_cell(shorten(m))}*" for m in models))
    blocks.append(context(" · ".join(facts)))
    failures = [(n, r.check_failures) for n, r in enumerate(rows, 1) if r.check_failures]
    if failures:
        listed = "; ".join(f"row {n}: {_cell(value_text(f, 120))}" for n, f in failures[:10])
        blocks.append(section(f":warning: Check failures: {listed}"))
    else:
        blocks.append(context("No check failures."))
    text = f"{summary.pipeline}: {counted} in {summary.elapsed_ms:.0f} ms"
    return Reply(text=text, blocks=blocks)


def log_time(time_ms: int) -> str:
    moment = as_datetime(time_ms)
    return f"{moment:%Y-%m-%d %H:%M:%S}" if moment else str(time_ms)


def logs_reply(title: str, rows: list[InferenceRow], *, empty: str, notes: list[str]) -> Reply:
    """`rows` newest first; `notes` (mrkdwn) go underneath: paging, what was asked."""
    blocks: list[Block] = [header(title)]
    if rows:
        table = [
            [
                log_time(r.time_ms),
                "; ".join(f"{k}={value_text(v, 28)}" for k, v in r.inputs.items()),
                "; ".join(f"{k}={value_text(v, 20)}" for k, v in r.outputs.items()),
                value_text(r.check_failures, 30) if r.check_failures else "-",
            ]
            for r in rows
        ]
        columns = ["time (UTC)", "inputs", "outputs", "check failures"]
        blocks += [section(t) for t in text_tables(columns, table)]
    else:
        blocks.append(section(empty))
    blocks += [context(note) for note in notes]
    return Reply(text=f"{title} ({len(rows)})", blocks=blocks)
