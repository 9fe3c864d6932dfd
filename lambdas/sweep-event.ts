/** The input of the periodic sweep's EventBridge rule (lib/processing.ts), which the merge handler recognizes. */
export const SWEEP_EVENT = { lakesync: 'sweep' } as const
export type SweepEvent = typeof SWEEP_EVENT
