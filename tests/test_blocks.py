"""Replies: hostile names stay harmless, Block Kit limits hold for any amount of text, and the
console's rendering reads well."""

from __future__ import annotations

import json
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from slack_sdk.models.blocks import ActionsBlock, ButtonElement, SectionBlock

from handlers.commands.grammar import ParseError, parse_command
from handlers.render.blocks import (
    MAX_BLOCKS,
    Reply,
    context,
    divider,
    error_reply,
    fields,
    header,
    list_reply,
    ok_reply,
    render_text,
    section,
    sections,
    status_emoji,
)
from handlers.render.mrkdwn import (
    channel_mention,
    code,
    escape,
    link,
    to_plain,
    truncate,
    unescape,
    user_mention,
)

HOSTILE = "<!channel> <@U123> <https://x|y> *bold* & co"
RAW_ENTITIES = ("<!", "<@", "<http", "<#")


def payload(reply: Reply) -> str:
    return json.dumps(reply.to_slack(), ensure_ascii=False)


def section_texts(message: dict) -> list[str]:
    return [b["text"]["text"] for b in message["blocks"] if b["type"] == "section" and "text" in b]


def assert_harmless(text: str) -> None:
    for raw in RAW_ENTITIES:
        assert raw not in text


def test_escape_follows_slacks_order() -> None:
    assert escape("a & b < c > d") == "a &amp; b &lt; c &gt; d"
    assert escape("&lt;") == "&amp;lt;"  # the `&` first, or `&lt;` would survive as `<`
    assert escape(42) == "42"
    assert unescape(escape(HOSTILE)) == HOSTILE


def test_code_spans_are_escaped_and_cannot_be_closed_early() -> None:
    assert code("a`b <!here>") == "`a\u02cbb &lt;!here&gt;`"
    assert code("two\nlines") == "`two lines`"
    assert code("") == '`""`'


def test_mentions_only_for_real_ids() -> None:
    assert user_mention("U0123ABC") == "<@U0123ABC>"
    assert user_mention("W0123") == "<@W0123>"
    assert user_mention("<!channel>") == "&lt;!channel&gt;"
    assert user_mention("u0123") == "u0123"
    assert channel_mention("C0123") == "<#C0123>"
    assert channel_mention("G0123") == "<#G0123>"
    assert channel_mention("#general <!here>") == "#general &lt;!here&gt;"
    assert link("https://wallaroo.example/x", "docs") == "<https://wallaroo.example/x|docs>"
    assert link("javascript:alert(1)", "<!here>") == "&lt;!here&gt;"


def test_list_reply_keeps_hostile_names_harmless() -> None:
    rows = [f"*{escape(HOSTILE)}*  ·  id {i}" for i in range(3)]
    reply = list_reply(f"Pipelines in {HOSTILE}", rows, empty="none", more_command=HOSTILE)
    text = payload(reply)
    assert_harmless(text)
    assert "&amp; co" in text
    assert "*bold*" in text  # formatting characters may stay literal: they cannot ping anyone


def test_error_and_ok_replies_keep_hostile_names_harmless() -> None:
    for command in (f'status "{HOSTILE}"', f"pipelines {HOSTILE} x", HOSTILE):
        error = parse_command(command)
        assert isinstance(error, ParseError)
        assert_harmless(payload(error_reply(error.message, error.suggestion)))
    made_by_a_handler = error_reply(
        f"No pipeline is named *{escape(HOSTILE)}*.", f"Did you mean {code(HOSTILE)}?"
    )
    text = payload(made_by_a_handler)
    assert_harmless(text)
    assert ":warning:" in text and "Did you mean" in text
    done = payload(ok_reply(f"Created workspace *{escape(HOSTILE)}*."))
    assert_harmless(done)
    assert ":white_check_mark:" in done


def test_fallback_text_and_headers_are_escaped_too() -> None:
    message = Reply(text=HOSTILE, blocks=[header(HOSTILE)]).to_slack()
    assert_harmless(json.dumps(message))
    assert message["text"] == escape(HOSTILE)
    assert message["response_type"] == "ephemeral"
    assert Reply(text="x", ephemeral=False).to_slack()["response_type"] == "in_channel"


@pytest.mark.parametrize("per_page", [20, 100, 500, 10_000])
@pytest.mark.parametrize("row_length", [10, 600, 5000])
def test_500_rows_stay_within_block_kit_limits(per_page: int, row_length: int) -> None:
    rows = [f"{i:03d} " + "x" * row_length for i in range(500)]
    message = list_reply("Big", rows, empty="none", per_page=per_page).to_slack()
    assert len(message["blocks"]) <= MAX_BLOCKS
    texts = section_texts(message)
    assert all(len(text) <= 3000 for text in texts)
    shown = [line for text in texts for line in text.split("\n")]
    assert shown[0].startswith("000 ")
    note = json.dumps(message["blocks"][-1])
    if per_page < 500:
        assert f"Showing 1\\u2013{per_page} of 500" in note
        assert "page 2" in note
        assert len(shown) == per_page  # every row of the page shows, cut if it must be
    else:
        assert len(shown) == 500


def test_later_pages_say_where_they_are_and_how_to_go_on() -> None:
    rows = [f"row {i}" for i in range(1, 138)]
    reply = list_reply("Rows", rows, empty="none", page=2, more_command="/wallaroo pipelines ws")
    rendered = render_text(reply)
    assert "row 21" in rendered and "row 40" in rendered and "row 41" not in rendered
    assert "Showing 21\u201340 of 137" in rendered
    assert "/wallaroo pipelines ws page 3" in rendered
    last = render_text(list_reply("Rows", rows, empty="none", page=99))
    assert "Showing 121\u2013137 of 137" in last and "page 8" not in last
    assert "row 137" in last


def test_short_and_empty_lists() -> None:
    short = list_reply("Rows", ["a", "b"], empty="none").to_slack()
    assert len(short["blocks"]) == 2  # header and one section; no paging note
    empty = list_reply("Rows", [], empty="No rows yet.").to_slack()
    assert section_texts(empty) == ["No rows yet."]
    assert list_reply("Rows", [], empty="").to_slack()  # Slack rejects empty text: never send it


def test_header_is_trimmed_to_150() -> None:
    text = header("x" * 400).to_dict()["text"]["text"]
    assert len(text) == 150 and text.endswith("…")
    # Trimming never cuts an escape in half.
    ampersands = header("&" * 100).to_dict()["text"]["text"]
    assert len(ampersands) <= 150
    assert re.search(r"&(?!amp;)", ampersands) is None
    assert header("two\nlines").to_dict()["text"]["text"] == "two lines"


def test_long_text_is_split_or_cut_safely() -> None:
    long = "\n".join(f"line {i} " + "y" * 90 for i in range(200))
    parts = [block.to_dict()["text"]["text"] for block in sections(long)]
    assert len(parts) > 1 and all(len(part) <= 3000 for part in parts)
    assert "\n".join(parts) == long
    one = section(escape("<" * 5000)).to_dict()["text"]["text"]
    assert len(one) <= 3000 and one.endswith("&lt;…")


def test_fields_are_chunked_ten_to_a_section_and_cut_at_2000() -> None:
    blocks = fields([(f"label {i}", "v" * 3000) for i in range(23)])
    assert [len(b.to_dict()["fields"]) for b in blocks] == [10, 10, 3]
    assert all(len(f["text"]) <= 2000 for b in blocks for f in b.to_dict()["fields"])


def test_more_than_50_blocks_are_cut_with_a_note() -> None:
    message = Reply(text="many", blocks=[section(str(i)) for i in range(60)]).to_slack()
    assert len(message["blocks"]) == 50
    assert "11 more blocks not shown" in json.dumps(message["blocks"][-1])


@settings(max_examples=300, deadline=None, database=None)
@given(st.text(), st.integers(min_value=1, max_value=200))
def test_truncate_never_leaves_half_an_entity(text: str, limit: int) -> None:
    cut = truncate(escape(text), limit)
    assert len(cut) <= limit
    assert re.search(r"&(?!amp;|lt;|gt;)", cut) is None


def test_render_text_reads_well() -> None:
    reply = Reply(
        text="status",
        blocks=[
            header("housepricepipe: Running & well"),
            *fields([("Status", f"{status_emoji('Running')} Running"), ("Owner", "<@U0123>")]),
            section(f"See <https://wallaroo.example/p|the pipeline> &amp; {escape('<b>')}"),
            divider(),
            context("Models: housepricemodel"),
            ActionsBlock(elements=[ButtonElement(text="Approve", action_id="approve", value="1")]),
        ],
    )
    lines = render_text(reply).split("\n")
    assert lines[:2] == ["housepricepipe: Running & well", "=" * 30]
    assert "Status: \U0001f7e2 Running" in lines
    assert "Owner: @U0123" in lines
    assert "See the pipeline (https://wallaroo.example/p) & <b>" in lines
    assert "\u203a Models: housepricemodel" in lines
    assert "[Approve]" in lines
    assert "\x1b[2mModels: housepricemodel\x1b[0m" in render_text(reply, color=True)


def test_render_text_of_an_error_shows_the_suggestion() -> None:
    error = parse_command("pipelins ws")
    assert isinstance(error, ParseError)
    shown = render_text(error_reply(error.message, error.suggestion))
    assert "There is no command `pipelins`" in shown
    assert "Did you mean `pipelines`?" in shown
    unescaped = render_text(error_reply(escape("R&D <team>")))
    assert "R&D <team>" in unescaped and "&amp;" not in unescaped


def test_to_plain_spells_entities_out() -> None:
    assert to_plain("<@U1|jane> in <#C1|ops>: <!channel>") == "@jane in #ops: @channel"
    assert to_plain("<mailto:a@b.io|a@b.io> and <https://x>") == "a@b.io and https://x"
    assert to_plain("&lt;b&gt; &amp;lt;") == "<b> &lt;"


@pytest.mark.parametrize(
    ("status", "emoji"),
    [
        ("Running", ":large_green_circle:"),
        ("Starting", ":large_yellow_circle:"),
        ("Error", ":red_circle:"),
        ("Ok", ":white_check_mark:"),
        ("Warning", ":warning:"),
        ("Alert", ":rotating_light:"),
        ("ALERT", ":rotating_light:"),
        ("Banana", ":grey_question:"),
        (None, ":grey_question:"),
    ],
)
def test_status_emoji(status: str | None, emoji: str) -> None:
    assert status_emoji(status) == emoji


def test_blocks_are_slack_sdk_models() -> None:
    reply = list_reply("t", ["a"], empty="e")
    assert all(hasattr(block, "to_dict") for block in reply.blocks)
    assert isinstance(reply.blocks[1], SectionBlock)
