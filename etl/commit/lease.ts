/**
 * The lease on a claimed version: while a run writes version N it renews its `pending` record every heartbeat by
 * compare-and-swap (If-Match on the record's last ETag), moving `expiresAt` one lease ahead. A dead holder stops
 * renewing, so the next run finds its claim expired within one lease and abandons it (etl/commit/log.ts); a holder
 * whose renewal fails because the record changed has lost the claim and must not commit (release() says so). Anchors:
 * the DynamoDB lock client's heartbeated leases, Kafka's consumer session timeout.
 *
 * Safety does not rest on clocks: the commit itself is a compare-and-swap on the ETag of our own last renewal, so it
 * fails if any other run touched the record. Clocks only decide liveness: how soon a dead holder is taken over.
 */
import type { Storage } from '../storage/storage.js'
import { type ClaimRecord, type LogEntry, readCommitLog, renewClaim } from './log.js'

/** The default lease: a dead holder's table waits at most this long (plus the next trigger). */
export const DEFAULT_LEASE_MS = 60_000
// A renewal is a single small write; more often than once a second would only add requests.
const MIN_HEARTBEAT_MS = 1000

/** The heartbeat for a lease: a third of it (two renewals may fail before it lapses), at least once a second. */
export function heartbeatFor(leaseMs: number): number {
  return Math.max(MIN_HEARTBEAT_MS, Math.floor(leaseMs / 3))
}

export interface LeaseOptions {
  leaseMs: number // how far each renewal moves expiresAt
  heartbeatMs?: number // time between renewals; default heartbeatFor(leaseMs)
  now: () => Date // clock
  onWarning?: (message: string) => void // a renewal that failed for another reason than a lost claim
}

export interface Lease {
  /** True once a renewal found the record changed: another run abandoned the claim. */
  readonly lost: boolean
  /** Stops renewing (after any renewal in flight): the claim's current ETag, or null when the lease was lost. */
  release(): Promise<string | null>
}

/** Starts renewing `claim` (just created with ETag `etag`) every heartbeat until released. */
export function holdLease(target: Storage, claim: ClaimRecord, etag: string, opts: LeaseOptions): Lease {
  const { leaseMs, now, onWarning = () => {} } = opts
  let entry: { record: ClaimRecord; etag: string } = { record: claim, etag }
  let lost = false
  let stopped = false
  let inFlight: Promise<void> = Promise.resolve()
  const beat = async (): Promise<void> => {
    if (stopped || lost) return
    try {
      const renewed = await renewClaim(target, entry, now(), leaseMs)
      if (renewed === null) lost = true
      else entry = renewed
    } catch (e) {
      // Storage unreachable: try again next beat. If the lease lapses meanwhile, the commit's swap decides.
      onWarning(`could not renew the claim of version ${claim.version}: ${(e as Error).message}`)
    }
  }
  // Renewals run one after another (each needs the previous one's ETag); unref: a lease never keeps a process alive.
  const timer = setInterval(() => {
    inFlight = inFlight.then(beat)
  }, opts.heartbeatMs ?? heartbeatFor(leaseMs))
  timer.unref()
  return {
    get lost() {
      return lost
    },
    async release() {
      stopped = true
      clearInterval(timer)
      await inFlight
      return lost ? null : entry.etag
    },
  }
}

/** A claim as another run sees it: who holds the table and whether the holder is presumed dead. */
export interface LeaseView {
  version: number // the version being written
  runId: string // the holder
  claimedAt: string // ISO timestamp
  heartbeatAt: string | null // the last renewal (null: none yet, or an engine that does not renew)
  expiresAt: string // after this the next run takes the table over
  live: boolean // expiresAt is still ahead: the holder is presumed alive
}

/** The lease a log entry is, as seen at `now`; null when the entry is not a claim. */
export function leaseOf(entry: LogEntry | undefined, now: Date): LeaseView | null {
  const r = entry?.record
  if (r?.state !== 'pending') return null
  return {
    version: r.version,
    runId: r.runId,
    claimedAt: r.claimedAt,
    heartbeatAt: r.heartbeatAt ?? null,
    expiresAt: r.expiresAt,
    live: now.getTime() < Date.parse(r.expiresAt),
  }
}

/** One line for humans: `held by run X since A (last heartbeat H), lease until E` or `... presumed dead since E`. */
export function describeLease(lease: LeaseView): string {
  const beat = lease.heartbeatAt ? `, last heartbeat ${lease.heartbeatAt}` : ''
  return lease.live
    ? `version ${lease.version} held by run ${lease.runId} (claimed ${lease.claimedAt}${beat}), lease until ${lease.expiresAt}`
    : `version ${lease.version} claimed by run ${lease.runId} (claimed ${lease.claimedAt}${beat}): holder presumed dead since ${lease.expiresAt}; the next run takes over`
}

export interface WaitOptions {
  now?: () => Date // clock
  sleep?: (ms: number) => Promise<void> // between looks
  pollMs?: number // at most this long between looks; default 1 s
  onWait?: (lease: LeaseView) => void // each time the table is found held
}

/**
 * Waits until `table` has no live lease (its holder committed, gave up, or stopped renewing), looking at the log
 * at most every `pollMs` and never sleeping past the lease's expiry.
 */
export async function waitForLease(target: Storage, table: string, opts: WaitOptions = {}): Promise<void> {
  const { now = () => new Date(), pollMs = 1000 } = opts
  const sleep = opts.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)))
  for (;;) {
    const lease = leaseOf((await readCommitLog(target, table)).head, now())
    if (!lease?.live) return
    opts.onWait?.(lease)
    await sleep(Math.max(10, Math.min(pollMs, Date.parse(lease.expiresAt) - now().getTime() + 10)))
  }
}
