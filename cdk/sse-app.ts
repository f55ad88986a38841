import { type App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { readAppSettings } from './context';
import { SseStreamStack } from './sse-stack';

/**
 * Fills an app the way `cdk deploy` runs it: the stack configured from the
 * `sse:*` context keys, and cdk-nag's AWS Solutions checks, which fail synth
 * on any finding not acknowledged where it arises.
 */
export function buildSseApp(app: App): SseStreamStack {
  const settings = readAppSettings(app.node.getAllContext() as Record<string, unknown>);
  const stack = new SseStreamStack(app, settings.stackName, { sseFunction: settings.sseFunction, alb: settings.alb, restApi: settings.restApi, streamsTable: settings.streamsTable, monitoring: settings.monitoring });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return stack;
}
