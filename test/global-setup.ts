/**
 * Vitest global setup: one moto server (scripts/test-services.ts) for the whole run, so the S3 and Glue adapters are
 * tested against real HTTP and real SDK clients without an AWS account. Test files reach it through
 * `inject('motoEndpoint')` (see helpers/moto.ts). Startup takes about a second, paid once per run.
 */
import type { TestProject } from 'vitest/node'
import { startMoto } from '../scripts/test-services.js'

declare module 'vitest' {
  export interface ProvidedContext {
    motoEndpoint: string
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const moto = await startMoto()
  project.provide('motoEndpoint', moto.endpoint)
  return moto.stop
}
