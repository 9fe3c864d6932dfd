/**
 * The exit-code contract of every command (README, "Exit codes"): what a caller (a scheduler, a script) may do next
 * depends only on the code.
 */
import { LakesyncError } from '../etl/errors.js'

export const EXIT = {
  ok: 0,
  input: 1, // a bad file or state: fix, skip or reload
  usage: 2, // bad usage or configuration
  busy: 3, // another run holds the table
  unavailable: 4, // storage or catalog unreachable or refusing: retry
  partial: 5, // some tables failed, the others committed
  internal: 70, // a bug (EX_SOFTWARE)
} as const

const NETWORK = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EPIPE',
  'EHOSTUNREACH',
])

/** True for an error of the AWS SDK or the network under it, anywhere in the cause chain. */
function isServiceError(e: unknown): boolean {
  for (let x = e, depth = 0; typeof x === 'object' && x !== null && depth < 8; depth++) {
    const o = x as { $metadata?: unknown; code?: unknown; name?: unknown; cause?: unknown }
    if (o.$metadata !== undefined) return true
    if (typeof o.code === 'string' && NETWORK.has(o.code)) return true
    if (o.name === 'TimeoutError' || o.name === 'CredentialsProviderError') return true
    x = o.cause
  }
  return false
}

/** The exit code for an error that stopped a command. */
export function exitCodeOf(e: unknown): number {
  if (e instanceof LakesyncError) {
    if (e.code === 'bad_usage' || e.code === 'bad_config') return EXIT.usage
    if (e.code === 'commit_conflict') return EXIT.busy
    return isServiceError(e.cause) ? EXIT.unavailable : EXIT.input
  }
  return isServiceError(e) ? EXIT.unavailable : EXIT.internal
}

/** The one line that says why a command stopped (a bug's stack follows, for the report). */
export function describeFailure(e: unknown, code: number): string {
  const message = e instanceof Error ? e.message : String(e)
  if (e instanceof LakesyncError) return message
  if (code === EXIT.unavailable) return `storage or catalog unavailable (retry): ${message}`
  return `internal error (a bug in lakesync; please report it): ${e instanceof Error ? e.stack : message}`
}

/** A many-tables run's code: 0 when none failed; the failures' class when all failed alike; else 5. */
export function combinedExitCode(codes: number[], committedOrClean: number): number {
  if (codes.length === 0) return EXIT.ok
  if (committedOrClean > 0) return EXIT.partial
  return codes.every((c) => c === codes[0]) ? codes[0]! : EXIT.partial
}
