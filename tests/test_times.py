"""One date format in every reply, whichever of Wallaroo's three time forms came in."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from handlers.render.times import when

NOW = datetime(2026, 12, 1, 7, 45, tzinfo=UTC)


@pytest.mark.parametrize(
    "moment",
    [
        NOW,
        NOW.replace(tzinfo=None),
        "2026-12-01T07:45:00Z",
        "2026-12-01T07:45:00.123456+00:00",
        "2026-12-01T01:45:00-06:00",
        int(NOW.timestamp() * 1000),
    ],
)
def test_every_form_reads_the_same(moment: object) -> None:
    assert when(moment) == "2026-12-01 07:45 UTC"  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("offset", "hint"),
    [
        (timedelta(minutes=59, seconds=30), "in 59 min"),
        (timedelta(hours=-3, minutes=-5), "3 h ago"),
        (timedelta(days=2, hours=1), "in 2 d"),
        (timedelta(seconds=20), "just now"),
    ],
)
def test_relative_hints(offset: timedelta, hint: str) -> None:
    assert when(NOW + offset, now=NOW, relative=True).endswith(f"({hint})")


def test_missing_and_unreadable_times_are_not_invented() -> None:
    assert when(None) == "?" and when("") == "?"
    assert when("next tuesday") == "next tuesday"
