import { packageRoot } from '../etl/config/run-config.js'

/** The repository root (the folder holding package.json), from source or compiled code: the engine's packageRoot. */
export function projectRoot(): string {
  return packageRoot()
}
