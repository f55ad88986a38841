import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import { buildSseApp } from '../cdk/sse-app';
import { CDK_JSON_CONTEXT, REPO_ROOT, testOutdir } from './helpers';

interface ValidationReport {
  readonly pluginReports: { readonly pluginName: string; readonly conclusion: string; readonly violations: { readonly ruleName: string }[] }[];
}

/** The app as bin/app.ts builds it, bundling skipped, writing to a temporary directory. */
function app(context: Record<string, unknown> = {}): App {
  return new App({
    context: { ...CDK_JSON_CONTEXT, 'aws:cdk:bundling-stacks': [], ...context },
    outdir: testOutdir(),
  });
}

describe('the app with cdk-nag AwsSolutionsChecks', () => {
  const variants: [string, Record<string, unknown>][] = [
    ['defaults', {}],
    ['every IAM option', {
      'sse:architecture': 'x86_64',
      'sse:memory': '512',
      'sse:timeout': '900',
      'sse:logRetentionDays': '365',
      'sse:corsOrigins': 'https://app.example.com',
      'sse:reservedConcurrency': '20',
      'sse:principals': '123456789012,arn:aws:iam::210987654321:role/reader',
      'sse:retryMs': '1000',
      'sse:jobSteps': '100',
      'sse:jobIntervalMs': '100',
      'sse:windowMs': '60000',
      'sse:deadlineMarginMs': '3000',
      'sse:heartbeatMs': '10000',
    }],
    ['a public URL', { 'sse:authType': 'NONE', 'sse:reservedConcurrency': '5', 'sse:corsOrigins': '*' }],
  ];
  for (const [name, context] of variants) {
    it(`synthesizes ${name} with no unacknowledged finding (a public URL only warns)`, () => {
      const sseApp = app(context);
      buildSseApp(sseApp);
      const assembly = sseApp.synth();
      const report: ValidationReport = JSON.parse(fs.readFileSync(path.join(assembly.directory, 'validation-report.json'), 'utf8'));
      assert.deepEqual(report.pluginReports.filter((r) => r.conclusion !== 'success'), []);
      const warnings = report.pluginReports.flatMap((r) => r.violations.map((v) => v.ruleName));
      assert.deepEqual(warnings, context['sse:authType'] === 'NONE' ? ['Annotation::lambda-sse:publicFunctionUrl'] : []);
    });
  }

  it('fails synth on a finding nobody acknowledged', () => {
    const sseApp = app();
    const stack = buildSseApp(sseApp);
    stack.sseFunction.role.addToPolicy(new iam.PolicyStatement({ actions: ['s3:GetObject'], resources: ['*'] }));
    assert.throws(() => sseApp.synth(), /Validation failed/);
    const report: ValidationReport = JSON.parse(fs.readFileSync(path.join(sseApp.outdir, 'validation-report.json'), 'utf8'));
    assert.deepEqual(report.pluginReports.filter((r) => r.conclusion === 'failure').map((r) => r.pluginName), ['AwsSolutions']);
    assert.match(JSON.stringify(report), /AwsSolutions-IAM5\[Resource::\*\]/);
  });
});

describe('the app reads its context', () => {
  it('names the stack after sse:stackName and configures the function', () => {
    const stack = buildSseApp(app({ 'sse:stackName': 'SseDev', 'sse:memory': '256' }));
    assert.equal(stack.stackName, 'SseDev');
    Template.fromStack(stack).hasResourceProperties('AWS::Lambda::Function', { MemorySize: 256 });
  });

  it('passes the stream window, deadline margin and heartbeat to the function, defaults when unset', () => {
    const variables = (context: Record<string, unknown>): unknown =>
      Object.values(Template.fromStack(buildSseApp(app(context))).findResources('AWS::Lambda::Function'))[0].Properties.Environment.Variables;
    assert.deepEqual(variables({}), {
      SSE_RETRY_MS: '5000',
      SSE_JOB_STEPS: '11',
      SSE_JOB_INTERVAL_MS: '2000',
      SSE_WINDOW_MS: '120000',
      SSE_DEADLINE_MARGIN_MS: '2000',
      SSE_HEARTBEAT_MS: '15000',
    });
    assert.deepEqual(variables({ 'sse:windowMs': '60000', 'sse:deadlineMarginMs': '3000', 'sse:heartbeatMs': '10000' }), {
      SSE_RETRY_MS: '5000',
      SSE_JOB_STEPS: '11',
      SSE_JOB_INTERVAL_MS: '2000',
      SSE_WINDOW_MS: '60000',
      SSE_DEADLINE_MARGIN_MS: '3000',
      SSE_HEARTBEAT_MS: '10000',
    });
  });

  it('fails synth when the deadline margin is not shorter than the timeout', () => {
    assert.throws(
      () => buildSseApp(app({ 'sse:timeout': '3', 'sse:deadlineMarginMs': '3000' })),
      /stream\.deadlineMarginMs must be shorter than the timeout \(3 s = 3000 ms\), got 3000 ms: every response would end as soon as it starts; lower the deadline margin or raise the timeout/,
    );
    assert.throws(() => buildSseApp(app({ 'sse:timeout': '1' })), /stream\.deadlineMarginMs must be shorter than the timeout \(1 s = 1000 ms\), got 2000 ms/);
  });

  it('fails before building anything on a bad key', () => {
    const sseApp = app({ 'sse:authType': 'PUBLIC' });
    assert.throws(() => buildSseApp(sseApp), /-c sse:authType=PUBLIC: must be one of AWS_IAM, NONE/);
    assert.equal(sseApp.node.children.length, 0);
  });

  it('is what bin/app.ts runs', () => {
    const entry = fs.readFileSync(path.join(REPO_ROOT, 'bin', 'app.ts'), 'utf8');
    assert.match(entry, /buildSseApp\(new App\(\)\)/);
    const cdkJson = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'cdk.json'), 'utf8'));
    assert.equal(cdkJson.app, 'npx tsx bin/app.ts');
  });
});

describe('cdk.json', () => {
  it('sets every feature flag aws-cdk-lib recommends, so synth prints no flag warning', () => {
    const recommended = JSON.parse(fs.readFileSync(require.resolve('aws-cdk-lib/recommended-feature-flags.json'), 'utf8'));
    assert.deepEqual(
      Object.keys(recommended).filter((flag) => !(flag in CDK_JSON_CONTEXT)),
      [],
      'flags missing from cdk.json: copy them from node_modules/aws-cdk-lib/recommended-feature-flags.json',
    );
  });
});
