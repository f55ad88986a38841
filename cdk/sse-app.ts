import { type App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { CONTEXT_PREFIX, readAppSettings } from './context';
import { DEFAULT_PIPELINE_STACK_NAME, SsePipelineStack } from './sse-pipeline';
import { SseStreamStack } from './sse-stack';

/**
 * Fills an app the way `cdk deploy` runs it: the stack configured from the
 * `sse:*` context keys, and cdk-nag's AWS Solutions checks, which fail synth
 * on any finding not acknowledged where it arises. With `-c sse:pipeline=true`
 * the stack is `SsePipelineStack`, whose stages each deploy the stream stack
 * configured by the same keys; otherwise it is the stream stack itself.
 */
export function buildSseApp(app: App): SseStreamStack | SsePipelineStack {
  const context = app.node.getAllContext() as Record<string, unknown>;
  const settings = readAppSettings(context);
  const streamProps = { sseFunction: settings.sseFunction, alb: settings.alb, restApi: settings.restApi, streamsTable: settings.streamsTable, monitoring: settings.monitoring, managedInstances: settings.managedInstances };
  const stack = settings.pipeline
    ? new SsePipelineStack(app, DEFAULT_PIPELINE_STACK_NAME, {
      // The account and region the CLI's credentials name, as in the pipeline's own synth; without credentials, environment-agnostic.
      env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION },
      connectionArn: settings.pipeline.connectionArn,
      repository: settings.pipeline.repository,
      branch: settings.pipeline.branch,
      stages: settings.pipeline.stages.map((stage) => ({ ...stage, stackName: `${stage.name}-${settings.stackName}` })),
      streamProps,
      synthContext: sseContextOf(context),
    })
    : new SseStreamStack(app, settings.stackName, streamProps);
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return stack;
}

/**
 * The app's own keys, as `-c key=value` values: what the pipeline's synth
 * step passes to `cdk synth` so it builds this same pipeline. Only keys that
 * `readAppSettings` has just accepted get here; cdk.json writes lists as
 * JSON arrays, which `-c` takes comma-separated.
 */
export function sseContextOf(context: Readonly<Record<string, unknown>>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(context)
      .filter(([key, value]) => key.startsWith(CONTEXT_PREFIX) && value !== undefined)
      .map(([key, value]) => [key, Array.isArray(value) ? value.join(',') : String(value)]),
  );
}
