/**
 * `LAKESYNC_FAULT_AT=<step>[:kill|:stop|:pause=<ms>]`: a test hook on the real command. At the named commit step
 * (etl/pipeline.ts FaultStep; etl/commit/skip.ts SkipFaultStep for skip and unskip) the run throws a plain Error (a stand-in for a bug: exit 70); with `:kill` it dies by
 * SIGKILL as a crashed container would; with `:stop` it stops itself (SIGSTOP: a frozen process, no heartbeat) until
 * sent SIGCONT; with `:pause=<ms>` it waits that long the first time, alive (its lease keeps being renewed). Unset in every real
 * deployment; docs/commit-protocol.md lists the steps.
 */
export function faultHookFromEnv(
  env: NodeJS.ProcessEnv = process.env,
): ((step: string) => void | Promise<void>) | undefined {
  const spec = env.LAKESYNC_FAULT_AT
  if (!spec) return undefined
  const [at, how = ''] = spec.split(':')
  let paused = false
  return (step) => {
    if (step !== at) return
    if (how === 'kill') process.kill(process.pid, 'SIGKILL')
    if (how === 'stop') return void process.kill(process.pid, 'SIGSTOP')
    const pause = /^pause=(\d+)$/.exec(how)
    if (pause && paused) return // once: the run's later commits go at full speed
    paused = pause !== null
    if (pause) return new Promise((resolve) => setTimeout(resolve, Number(pause[1])))
    throw new Error(`injected fault at ${step} (LAKESYNC_FAULT_AT)`)
  }
}
