"""Pages of an assay's results or windows, newest first: "Page 2 of 3" and the whole command
for the next page, and a page past the end answered with how many there are."""

from __future__ import annotations

from handlers.context import CommandProblem
from handlers.render.blocks import Reply, context, list_reply
from handlers.render.mrkdwn import code

PER_PAGE = 10


def page_count(rows: int, per_page: int = PER_PAGE) -> int:
    return max(1, -(-rows // per_page))


def paged_reply(
    title: str,
    rows: list[str],
    *,
    page: int,
    command: str,
    noun: str,
    empty: str,
    per_page: int = PER_PAGE,
) -> Reply:
    """One page of `rows` (already newest first). `command` is the command as typed without
    its page (`/wallaroo assay results 1`); `noun` what the rows are (`results`)."""
    pages = page_count(len(rows), per_page)
    if page > pages:
        there = "is 1 page" if pages == 1 else f"are {pages} pages"
        raise CommandProblem(
            f"There is no page {page}: there {there} of {noun} ({len(rows)} in all).",
            f"{code(f'{command} page {pages}')} shows the oldest.",
        )
    first = (page - 1) * per_page
    shown = rows[first : first + per_page]
    reply = list_reply(title, shown, empty=empty, per_page=per_page)
    if pages > 1:
        note = f"Page {page} of {pages} · {noun} {first + 1}\u2013{first + len(shown)} of "
        note += f"{len(rows)}, newest first"
        if page < pages:
            note += f" · next: {code(f'{command} page {page + 1}')}"
        reply.blocks.append(context(note))
    return reply
