"""Drives the Spark engine's lease (glue/lakesync_spark/lease.py) on a local folder, without Spark: holds a claim
with a short lease for three leases, then lets another run abandon it. Prints what test/spark-lease.test.ts checks."""

import json
import sys
import time
from datetime import datetime, timedelta, timezone

from lakesync_spark.lease import Lease
from lakesync_spark.plan import commit_path, encode
from lakesync_spark.storage import LocalStorage

target = LocalStorage(sys.argv[1])
now = datetime.now(timezone.utc)
claim = {"state": "pending", "version": 1, "table": "users", "runId": "spark-run",
         "claimedAt": now.isoformat(), "expiresAt": (now + timedelta(milliseconds=600)).isoformat()}
path = commit_path("users", 1)
etag = target.create_exclusive(path, encode(claim))
warnings = []
lease = Lease(target, claim, etag, 600, lambda: datetime.now(timezone.utc), warnings.append, heartbeat_s=0.2)
time.sleep(1.8)  # three leases
renewed = json.loads(target.read(path))
# Another run abandons the claim (as an expired one would be): the holder's next renewal finds it changed.
_, current = target.read_versioned(path)
target.replace_if_match(path, encode({**renewed, "state": "abandoned"}), current)
time.sleep(0.6)
print(json.dumps({"renewed": renewed, "lost": lease.lost, "release": lease.release(), "warnings": warnings}))
