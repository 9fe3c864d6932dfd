"""CDC file names in a local time zone (DMS DatePartitionTimezone), as etl/dms/time-zone.ts reads them.

DMS converts "the current UTC time into a specified time zone" when it names a CDC file, so names are converted back
to UTC for ordering: the hour that repeats when clocks go back cannot reorder changes. Offsets come from Python's
zoneinfo (the IANA database), computed exactly as the TypeScript engine does with Intl: whole seconds, at three
candidate instants a day apart.
"""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta, timezone
from functools import lru_cache

from .errors import InputError
from .values import days_from_civil, format_date

DAY_MS = 86_400_000
ZONE_NAME = re.compile(r"^(UTC|[A-Za-z][A-Za-z_]*(/[A-Za-z0-9_+-]+)+)$")
EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
# Python's datetime spans years 1-9999, JavaScript's Date more: zone offsets are constant that far from today.
FIRST_MS = (datetime(1, 1, 2, tzinfo=timezone.utc) - EPOCH) // timedelta(milliseconds=1)
LAST_MS = (datetime(9999, 12, 30, tzinfo=timezone.utc) - EPOCH) // timedelta(milliseconds=1)


@lru_cache(maxsize=None)
def _zone(name: str):
    from zoneinfo import ZoneInfo

    return ZoneInfo(name)


def is_time_zone(name) -> bool:
    """isTimeZone: a name in `Area/Location` form (or `UTC`) that the IANA database knows."""
    if not isinstance(name, str) or not ZONE_NAME.match(name):
        return False
    try:
        _zone(name)
        return True
    except (ValueError, OSError, KeyError):  # ZoneInfoNotFoundError is a KeyError
        return False


def _offset_at(zone: str, t: float) -> int:
    """The zone's offset from UTC at instant `t` (ms), in ms: the wall clock is read to the second, as Intl does."""
    base = min(max((t // 1000) * 1000, FIRST_MS), LAST_MS)
    local = (EPOCH + timedelta(milliseconds=base)).astimezone(_zone(zone))
    wall = local.replace(tzinfo=timezone.utc)
    return round((wall - EPOCH) / timedelta(milliseconds=1)) - int(base)


def instants_of(wall: int, zone: str) -> list[int]:
    """instantsOf: the UTC instants (ms) whose wall-clock time in `zone` is `wall` (read as if UTC): none in the hour
    skipped when clocks go forward, two in the hour repeated when they go back, else one."""
    offsets = {_offset_at(zone, wall + d) for d in (-DAY_MS, 0, DAY_MS)}
    return sorted({wall - o for o in offsets if _offset_at(zone, wall - o) == o})


def _iso(ms: float) -> str:
    """Date.prototype.toISOString: milliseconds truncated, UTC."""
    return (EPOCH + timedelta(milliseconds=int(ms))).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _wall_text(ts: str) -> str:
    return f"{ts[0:4]}-{ts[4:6]}-{ts[6:8]} {ts[8:10]}:{ts[10:12]}:{ts[12:14]}"


def utc_timestamp(local: str, zone: str, mtime_ms: float | None, file: str) -> str:
    """utcTimestamp: a change file's name timestamp (yyyyMMddHHmmss + fraction, local time in `zone`) as the same form
    in UTC. In the repeated hour the file's modification time decides: the latest of the two instants not after it
    (DMS writes a file after the time its name gives)."""
    y, mo, d, h, mi, s = (int(local[a:b]) for a, b in ((0, 4), (4, 6), (6, 8), (8, 10), (10, 12), (12, 14)))
    # Year 0 has no wall time in either engine (Intl reads it as 1 BC, never equal): a time that does not exist.
    wall = days_from_civil(y, mo, d) * DAY_MS + ((h * 60 + mi) * 60 + s) * 1000
    instants = [] if y < 1 else instants_of(wall, zone)
    named = json.dumps(file, ensure_ascii=False)
    if len(instants) == 1:
        t = instants[0]
    elif not instants:
        raise InputError("bad_file_name", f"dms files: {named} names {_wall_text(local)}, a time that does not exist "
                         f"in {zone} (clocks went forward); expected a DMS name in the format.datePartitionTimezone "
                         "zone")
    else:
        t = None if mtime_ms is None else next((i for i in reversed(instants) if i <= mtime_ms), None)
        if t is None:
            when = "is unknown" if mtime_ms is None else _iso(mtime_ms)
            raise InputError("ambiguous_file_time", f"dms files: {named} names {_wall_text(local)}, which happened "
                             f"twice in {zone} (clocks went back), and its modification time {when} does not tell "
                             f"which (expected a time after the name's first occurrence, {_iso(instants[0])})")
    days, ms = divmod(t, DAY_MS)
    clock = ms // 1000
    return (f"{format_date(days).replace('-', '')}{clock // 3600:02d}{clock // 60 % 60:02d}{clock % 60:02d}"
            f"{local[14:]}")
