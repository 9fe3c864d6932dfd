/** Builds the lakesync CDK app for the tests: bundling skipped unless asked, cdk-nag only when asked. */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Template } from 'aws-cdk-lib/assertions'
import { createApp, type LakesyncApp } from '../../lib/app.js'

export const SKIP_BUNDLING = { 'aws:cdk:bundling-stacks': [] }

const made: string[] = []

/** Removes the cloud-assembly folders made so far (call from afterAll). */
export function removeOutdirs(): void {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true })
}

/** A fresh cloud-assembly folder (removed by removeOutdirs). */
export function outdir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'lakesync-cdk-'))
  made.push(dir)
  return dir
}

/** The app with `context` (lakesync:* parameters), no asset bundling, no cdk-nag. */
export function buildApp(context: Record<string, unknown> = {}, nag = false): LakesyncApp {
  return createApp({ outdir: outdir(), context: { ...SKIP_BUNDLING, ...context } }, { nag })
}

export function synthTemplate(context: Record<string, unknown> = {}): Template {
  return synthWithTables(context).template
}

/** The template and the merge function's tables file (bundled as LAKESYNC_TABLES_FILE), parsed. */
export function synthWithTables(context: Record<string, unknown> = {}): { template: Template; tables: Json } {
  const { stack } = buildApp(context)
  const template = Template.fromStack(stack)
  return { template, tables: JSON.parse(readFileSync(stack.processing.tablesFile, 'utf8')) }
}

// biome-ignore lint/suspicious/noExplicitAny: CloudFormation JSON
export type Json = any
