/**
 * `LAKESYNC_FAULT_AT=<step>[:kill]`: a test hook on the real command. At the named commit step (etl/pipeline.ts
 * FaultStep; etl/commit/skip.ts SkipFaultStep for skip and unskip) the run throws a plain Error (a stand-in for a bug: exit 70) or, with `:kill`, dies by SIGKILL as a
 * crashed container would. Unset in every real deployment; docs/commit-protocol.md lists the steps.
 */
export function faultHookFromEnv(env: NodeJS.ProcessEnv = process.env): ((step: string) => void) | undefined {
  const spec = env.LAKESYNC_FAULT_AT
  if (!spec) return undefined
  const [at, how] = spec.split(':')
  return (step) => {
    if (step !== at) return
    if (how === 'kill') process.kill(process.pid, 'SIGKILL')
    throw new Error(`injected fault at ${step} (LAKESYNC_FAULT_AT)`)
  }
}
