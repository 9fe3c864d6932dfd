/**
 * Builds the CDK app: the stack from the context parameters, checked by cdk-nag's AWS Solutions pack (any
 * unacknowledged finding fails the synth).
 */
import { App, type AppProps, type Environment, Validations } from 'aws-cdk-lib'
import { AwsSolutionsChecks } from 'cdk-nag'
import { paramsFromContext } from './config.js'
import { LakesyncStack } from './lakesync-stack.js'

export interface LakesyncApp {
  app: App
  stack: LakesyncStack
}

/** The deploy environment, pinned only when asked (`-c lakesync:account=... -c lakesync:region=...`). */
function pinnedEnv(app: App): Environment | undefined {
  const account = app.node.tryGetContext('lakesync:account') as string | undefined
  const region = app.node.tryGetContext('lakesync:region') as string | undefined
  if (account === undefined && region === undefined) return undefined
  return { ...(account ? { account: String(account) } : {}), ...(region ? { region: String(region) } : {}) }
}

/**
 * The feature flags the stack is written for, set here rather than only in cdk.json so that tests and any other
 * entry point build the same template (the context given to createApp still wins).
 */
export const FEATURE_FLAGS: Record<string, unknown> = {
  '@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy': true, // access-log delivery by bucket policy, not ACLs
  '@aws-cdk/aws-iam:minimizePolicies': true,
  '@aws-cdk/aws-lambda:recognizeLayerVersion': true,
}

export function createApp(props: AppProps = {}, { nag = true }: { nag?: boolean } = {}): LakesyncApp {
  const app = new App({ ...props, context: { ...FEATURE_FLAGS, ...props.context } })
  const params = paramsFromContext((key) => app.node.tryGetContext(key))
  const stackName = (app.node.tryGetContext('lakesync:stackName') as string | undefined) ?? 'Lakesync'
  const env = pinnedEnv(app)
  const stack = new LakesyncStack(app, stackName, {
    params,
    description: 'lakesync: RDS PostgreSQL -> DMS -> S3 staging -> Lambda -> Parquet lake + Glue catalog',
    ...(env ? { env } : {}),
  })
  if (nag) Validations.of(app).addPlugins(new AwsSolutionsChecks(app))
  return { app, stack }
}
