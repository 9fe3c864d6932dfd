"""The lease on a claimed version, as etl/commit/lease.ts: while the job writes version N a thread renews its
`pending` record every heartbeat by compare-and-swap on the record's last ETag, moving `expiresAt` one lease ahead. A
job that dies (a failed or timed-out Glue run) stops renewing, so the next trigger takes the table over within one
lease instead of a fixed claim TTL. A renewal that finds the record changed means another run abandoned the claim:
release() then returns None and the job commits nothing."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone

from .plan import commit_path, encode

DEFAULT_LEASE_MS = 60_000


def heartbeat_for(lease_ms: int) -> float:
    """Seconds between renewals: a third of the lease (two may fail before it lapses), at least one second."""
    return max(1.0, lease_ms / 3000)


def _iso(d: datetime) -> str:
    return d.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.") + f"{d.microsecond // 1000:03d}Z"


class Lease:
    def __init__(self, target, claim: dict, etag: str, lease_ms: int, now, warn, heartbeat_s: float | None = None):
        self._target, self._record, self._etag = target, claim, etag
        self._lease_ms, self._now, self._warn = lease_ms, now, warn
        self._every = heartbeat_s if heartbeat_s is not None else heartbeat_for(lease_ms)
        self._lock = threading.Lock()  # a renewal and release() never overlap: each needs the last ETag
        self._stop = threading.Event()
        self.lost = False
        self._thread = threading.Thread(target=self._beat, name="lakesync-lease", daemon=True)
        self._thread.start()

    def _beat(self) -> None:
        while not self._stop.wait(self._every):
            with self._lock:
                if self._stop.is_set() or self.lost:
                    return
                at = self._now()
                record = {**self._record, "heartbeatAt": _iso(at),
                          "expiresAt": _iso(at + timedelta(milliseconds=self._lease_ms)), "leaseMs": self._lease_ms}
                try:
                    etag = self._target.replace_if_match(commit_path(record["table"], record["version"]),
                                                         encode(record), self._etag)
                except Exception as e:  # noqa: BLE001 - storage unreachable: next beat; the commit swap decides
                    self._warn(f"could not renew the claim of version {record['version']}: {e}")
                    continue
                if etag is None:
                    self.lost = True
                    return
                self._record, self._etag = record, etag

    def release(self) -> str | None:
        """Stops renewing (after a renewal in flight): the claim's current ETag, or None when the lease was lost."""
        self._stop.set()
        with self._lock:
            return None if self.lost else self._etag
