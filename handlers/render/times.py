"""Moments as people read them: one format everywhere (`2026-12-01 07:45 UTC`), with a relative
hint where it helps (`in 59 min`, `3 h ago`).

Wallaroo gives times three ways (ISO with `+00:00` or `Z`, and epoch milliseconds); every reply
goes through `when` so that none of them reaches a user raw.
"""

from __future__ import annotations

from datetime import UTC, datetime

Moment = datetime | str | int | float | None

_UNKNOWN = "?"


def as_datetime(moment: Moment) -> datetime | None:
    """`moment` as an aware UTC datetime; None when it is missing or unreadable. A naive one is
    taken as UTC (the bot stores UTC), epoch numbers as milliseconds (Wallaroo's)."""
    if moment is None or moment == "":
        return None
    if isinstance(moment, datetime):
        found = moment
    elif isinstance(moment, int | float):
        found = datetime.fromtimestamp(moment / 1000, UTC)
    else:
        try:
            found = datetime.fromisoformat(moment.strip().replace("Z", "+00:00"))
        except ValueError:
            return None
    return found.replace(tzinfo=UTC) if found.tzinfo is None else found.astimezone(UTC)


def when(moment: Moment, *, now: datetime | None = None, relative: bool = False) -> str:
    """`2026-12-01 07:45 UTC`; with `relative`, `2026-12-01 07:45 UTC (in 59 min)`."""
    found = as_datetime(moment)
    if found is None:
        return _UNKNOWN if moment in (None, "") else str(moment)
    shown = f"{found:%Y-%m-%d %H:%M} UTC"
    if not relative:
        return shown
    return f"{shown} ({ago(found, now or datetime.now(UTC))})"


def ago(moment: datetime, now: datetime) -> str:
    """`in 59 min`, `3 h ago`, `just now`: the largest whole unit, rounded down."""
    seconds = (moment - now).total_seconds()
    size = abs(seconds)
    if size < 60:
        return "just now"
    for unit, length in (("d", 86_400), ("h", 3_600), ("min", 60)):
        if size >= length:
            count = f"{int(size // length)} {unit}"
            return f"in {count}" if seconds > 0 else f"{count} ago"
    return "just now"  # unreachable: size >= 60 matched "min"
