"""Replies as Block Kit (slack_sdk.models, so `to_dict()` checks each block), kept inside Slack's
limits, and the same replies as terminal text for the console.

Text arguments are mrkdwn that callers have already escaped (`mrkdwn.escape`/`code`), so they can
bold a name or quote a command; only `header` titles and `Reply.text` (plain) are escaped here.
Nothing is ever rejected for length: long text is split or cut with a visible "…", lists paged.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    ImageBlock,
    MarkdownTextObject,
    PlainTextObject,
    SectionBlock,
    TextObject,
)

from handlers.render.mrkdwn import code, escape, to_plain, truncate, unescape

MAX_BLOCKS = 50  # per message; nothing in slack_sdk checks this one
SECTION_CHARS = 3000
FIELD_CHARS = 2000
FIELDS_PER_SECTION = 10
HEADER_CHARS = 150
TEXT_CHARS = 3000  # the fallback only feeds notifications; no need to send Slack's 40,000
MAX_PER_PAGE = 500
_ROW_SECTIONS = MAX_BLOCKS - 2  # a list's header and paging note take the other two
_EMPTY = "—"  # Slack rejects empty text objects


@dataclass
class Reply:
    """One message. `text` is the plain notification fallback, escaped on the way out."""

    text: str
    blocks: list[Block] = field(default_factory=list)
    ephemeral: bool = True

    def to_slack(self) -> dict[str, Any]:
        """Keyword arguments for `respond`/`chat.postMessage`; raises if a block breaks a limit."""
        blocks = self.blocks
        if len(blocks) > MAX_BLOCKS:  # over 50, Slack rejects the whole message: drop the tail
            hidden = len(blocks) - MAX_BLOCKS + 1
            blocks = [*blocks[: MAX_BLOCKS - 1], context(f"_{hidden} more blocks not shown._")]
        return {
            "text": truncate(escape(self.text), TEXT_CHARS) or _EMPTY,
            "blocks": [block.to_dict() for block in blocks],
            "response_type": "ephemeral" if self.ephemeral else "in_channel",
        }


def header(title: object) -> HeaderBlock:
    """A one-line plain title, escaped and cut to Slack's 150 characters."""
    text = truncate(escape(" ".join(str(title).split())), HEADER_CHARS) or _EMPTY
    return HeaderBlock(text=PlainTextObject(text=text, emoji=True))


def section(text: str) -> SectionBlock:
    """One mrkdwn section, cut (never inside an entity) to Slack's 3000 characters."""
    return SectionBlock(text=MarkdownTextObject(text=truncate(text, SECTION_CHARS) or _EMPTY))


def sections(text: str) -> list[SectionBlock]:
    """mrkdwn of any length as as many sections as it needs, split at line breaks."""
    return [section(chunk) for chunk in _pack(text.split("\n"), SECTION_CHARS)]


def fields(pairs: Iterable[tuple[str, str]]) -> list[SectionBlock]:
    """(label, value) mrkdwn pairs shown two columns wide, ten to a section as Slack allows."""
    texts = [
        MarkdownTextObject(text=truncate(f"*{label}*\n{value}", FIELD_CHARS))
        for label, value in pairs
    ]
    step = FIELDS_PER_SECTION
    return [SectionBlock(fields=texts[i : i + step]) for i in range(0, len(texts), step)]


def context(text: str) -> ContextBlock:
    return ContextBlock(elements=[MarkdownTextObject(text=truncate(text, SECTION_CHARS) or _EMPTY)])


def divider() -> DividerBlock:
    return DividerBlock()


def _pack(items: list[str], item_chars: int) -> list[str]:
    """Join items with newlines into as few chunks of at most SECTION_CHARS as possible."""
    chunks: list[str] = []
    for item in items:
        item = truncate(item, item_chars)
        if chunks and len(chunks[-1]) + 1 + len(item) <= SECTION_CHARS:
            chunks[-1] += "\n" + item
        else:
            chunks.append(item)
    return chunks or [""]


def list_reply(
    title: str,
    rows: list[str],
    *,
    empty: str,
    page: int = 1,
    per_page: int = 20,
    more_command: str | None = None,
) -> Reply:
    """A titled list of mrkdwn rows, one page of it, never more than 50 blocks.

    Past one page a note says which rows these are and how to see the next ones: the command
    with `page N` added (`more_command`, as typed without the page, makes that note exact).
    """
    per_page = min(max(per_page, 1), MAX_PER_PAGE)
    pages = max(1, -(-len(rows) // per_page))
    page = min(max(page, 1), pages)
    first = (page - 1) * per_page
    shown = rows[first : first + per_page]
    blocks: list[Block] = [header(title)]
    if shown:
        # Rows are cut just enough that every row of the page fits in the sections left.
        rows_per_section = -(-len(shown) // _ROW_SECTIONS)
        row_chars = (SECTION_CHARS + 1) // rows_per_section - 1
        blocks += [section(chunk) for chunk in _pack(shown, row_chars)]
    else:
        blocks += sections(empty)[:_ROW_SECTIONS]
    if len(rows) > per_page:
        note = f"Showing {first + 1}\u2013{first + len(shown)} of {len(rows)}"
        if page < pages:
            more = f"{more_command} page {page + 1}" if more_command else f"… page {page + 1}"
            note += f" · for more, use {code(more)}"
        blocks.append(context(note))
    return Reply(text=f"{title} ({len(rows)})", blocks=blocks)


def error_reply(message: str, suggestion: str | None = None) -> Reply:
    """What went wrong and, when known, what would work (both mrkdwn, already escaped)."""
    blocks: list[Block] = [*sections(f":warning: {message}")[: MAX_BLOCKS - 1]]
    if suggestion:
        blocks.append(section(f":bulb: {suggestion}"))
    return Reply(text=to_plain(f"{message} {suggestion or ''}".strip()), blocks=blocks)


def info_reply(message: str) -> Reply:
    """A neutral answer (`x is not deployed`): neither a success nor a problem."""
    blocks: list[Block] = [*sections(f":information_source: {message}")[:MAX_BLOCKS]]
    return Reply(text=to_plain(message), blocks=blocks)


def ok_reply(message: str) -> Reply:
    blocks: list[Block] = [*sections(f":white_check_mark: {message}")[:MAX_BLOCKS]]
    return Reply(text=to_plain(message), blocks=blocks)


_STATUS_EMOJI = {
    "running": ":large_green_circle:",
    "starting": ":large_yellow_circle:",
    "pending": ":large_yellow_circle:",
    "error": ":red_circle:",
    "failed": ":red_circle:",
    "ok": ":white_check_mark:",
    "warning": ":warning:",
    "alert": ":rotating_light:",
    "baselinerun": ":bar_chart:",
    "stopped": ":white_circle:",
}


def status_emoji(status: object) -> str:
    """The emoji for a deployment status (Running, Starting, Error) or an assay status (Ok,
    Warning, Alert); anything unknown gets a question mark rather than a false all-clear."""
    return _STATUS_EMOJI.get(str(status).strip().lower(), ":grey_question:")


# How the console shows the emoji this bot sends; others stay as :codes:.
_TERMINAL_EMOJI = {
    ":large_green_circle:": "🟢",
    ":large_yellow_circle:": "🟡",
    ":red_circle:": "🔴",
    ":white_check_mark:": "✅",
    ":warning:": "⚠️",
    ":rotating_light:": "🚨",
    ":bar_chart:": "📊",
    ":white_circle:": "⚪",
    ":grey_question:": "❔",
    ":bulb:": "💡",
    ":information_source:": "\u2139\ufe0f",  # the information source emoji
    ":hourglass_flowing_sand:": "⏳",
    ":hourglass:": "⌛",
    ":x:": "❌",
    ":no_entry:": "⛔",
}


def render_text(reply: Reply, *, color: bool = False) -> str:
    """The reply as a terminal shows it: headers underlined, fields as `label: value` lines,
    context dimmed (with `color`) or set off by an arrow, entities spelled out."""
    lines: list[str] = []
    for block in reply.blocks:
        lines += _render_block(block, color)
    return "\n".join(lines).strip("\n") or reply.text


def _render_block(block: Block, color: bool) -> list[str]:
    if isinstance(block, HeaderBlock) and block.text is not None:
        title = _terminal(block.text)
        return ["", title, "=" * len(title)]
    if isinstance(block, SectionBlock):
        lines = [_terminal(block.text)] if block.text else []
        for item in block.fields or []:
            # A field is "*label*\nvalue" (see fields()); shown as "label: value".
            label, newline, value = item.text.partition("\n")
            shown_label = to_plain(label)
            if newline:
                lines.append(f"{shown_label}: {_terminal(_same_kind(item, value))}")
            else:
                lines.append(_terminal(item))
        return lines
    if isinstance(block, ContextBlock):
        line = "  ".join(_terminal(e) for e in block.elements if isinstance(e, TextObject))
        return [f"\x1b[2m{line}\x1b[0m" if color else f"\u203a {line}"]
    if isinstance(block, DividerBlock):
        return ["─" * 40]
    if isinstance(block, ActionsBlock):
        labels = [getattr(e, "text", None) for e in block.elements]
        return ["  ".join(f"[{_terminal(t)}]" for t in labels if isinstance(t, TextObject))]
    if isinstance(block, ImageBlock):
        return [f"[image: {block.alt_text}]"]
    return [f"[{block.type} block]"]


def _same_kind(item: TextObject, text: str) -> TextObject:
    kind = MarkdownTextObject if isinstance(item, MarkdownTextObject) else PlainTextObject
    return kind(text=text)


def _terminal(text: TextObject) -> str:
    shown = to_plain(text.text) if isinstance(text, MarkdownTextObject) else unescape(text.text)
    for name, emoji in _TERMINAL_EMOJI.items():
        shown = shown.replace(name, emoji)
    return shown
