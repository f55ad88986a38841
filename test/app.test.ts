import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as apigateway from 'aws-cdk-lib/aws-apigateway';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import { buildSseApp } from '../cdk/sse-app';
import { SseStreamStack } from '../cdk/sse-stack';
import { CDK_JSON_CONTEXT, CERTIFICATE_ARN, OIDC_CONTEXT, REPO_ROOT, USER_POOL_ARN, WEB_ACL_ARN, testOutdir } from './helpers';

const CDK_JSON: { app: string } = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'cdk.json'), 'utf8'));

interface ValidationReport {
  readonly pluginReports: { readonly pluginName: string; readonly conclusion: string; readonly violations: { readonly ruleName: string }[] }[];
}

/** buildSseApp without sse:pipeline=true: the stream stack. */
function buildStreamApp(sseApp: App): SseStreamStack {
  const stack = buildSseApp(sseApp);
  assert.ok(stack instanceof SseStreamStack);
  return stack;
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
    ['every durable streams option', {
      'sse:retentionHours': '168',
      'sse:pollMinMs': '20',
      'sse:pollMaxMs': '5000',
      'sse:tailBufferKib': '4096',
      'sse:tableRemovalPolicy': 'destroy',
      'sse:publisherRoleArns': 'arn:aws:iam::123456789012:role/producer,arn:aws:iam::210987654321:role/other-producer',
    }],
    ['no durable streams', { 'sse:durableStreams': 'false' }],
    ['an internal plain-HTTP ALB', { 'sse:alb': 'true', 'sse:albAllowedCidrs': '10.0.0.0/8', 'sse:albAllowPlainHttp': 'true' }],
    ['an internet-facing HTTPS ALB with OIDC', {
      'sse:alb': 'true',
      'sse:albInternetFacing': 'true',
      'sse:albAllowedCidrs': '0.0.0.0/0',
      'sse:albCertificateArn': CERTIFICATE_ARN,
      ...OIDC_CONTEXT,
      'sse:batchWindowMs': '10000',
      'sse:albIdleTimeout': '30',
    }],
    ['an internet-facing ALB allowed without login', {
      'sse:alb': 'true',
      'sse:albInternetFacing': 'true',
      'sse:albAllowUnauthenticatedInternetFacing': 'true',
      'sse:albAllowedCidrs': '203.0.113.0/24',
      'sse:albAllowPlainHttp': 'true',
    }],
    ['a REST API with its defaults (IAM)', { 'sse:restApi': 'true' }],
    ['a REST API with Cognito, an API key, a custom domain and a web ACL', {
      'sse:restApi': 'true',
      'sse:restApiAuth': 'cognito',
      'sse:restApiUserPoolArn': USER_POOL_ARN,
      'sse:restApiScopes': 'https://sse.example.com/read',
      'sse:restApiApiKey': 'true',
      'sse:restApiThrottleRate': '10',
      'sse:restApiThrottleBurst': '20',
      'sse:restApiDomainName': 'sse.example.com',
      'sse:restApiCertificateArn': CERTIFICATE_ARN,
      'sse:restApiWebAclArn': WEB_ACL_ARN,
    }],
    ['an open EDGE REST API that sets the account\'s CloudWatch role', {
      'sse:restApi': 'true',
      'sse:restApiAuth': 'none',
      'sse:restApiAllowUnauthenticated': 'true',
      'sse:restApiEndpointType': 'edge',
      'sse:restApiAllowEdge': 'true',
      'sse:restApiCloudWatchRole': 'true',
      'sse:durableStreams': 'false',
    }],
    ['every alarm, an email topic and X-Ray tracing', {
      'sse:tracing': 'true',
      'sse:metricsNamespace': 'Sse/Prod',
      'sse:reservedConcurrency': '20',
      'sse:restApi': 'true',
      'sse:alb': 'true',
      'sse:albAllowedCidrs': '10.0.0.0/8',
      'sse:albAllowPlainHttp': 'true',
      'sse:alarmErrors': '3',
      'sse:alarmThrottles': '2',
      'sse:alarmSourceFailureRate': '10',
      'sse:alarmDurationNearTimeout': '95',
      'sse:alarmConcurrencyNearCap': '90',
      'sse:alarmRestApiServerErrors': '5',
      'sse:alarmAlbTargetErrors': '5',
      'sse:alarmDynamoThrottles': '10',
      'sse:alarmEmail': 'ops@example.com',
    }],
    ['alarms to an existing topic, metrics off, no dashboard', {
      'sse:metrics': 'false',
      'sse:alarmTopicArn': 'arn:aws:sns:us-east-1:123456789012:ops-alarms',
      'sse:dashboard': 'off',
    }],
    ['no monitoring at all', { 'sse:alarms': 'off', 'sse:dashboard': 'off' }],
  ];
  const expectedWarnings = (context: Record<string, unknown>): string[] => [
    ...(context['sse:authType'] === 'NONE' ? ['Annotation::lambda-sse:publicFunctionUrl'] : []),
    ...(context['sse:albAllowUnauthenticatedInternetFacing'] === 'true' ? ['Annotation::lambda-sse:unauthenticatedInternetFacingAlb'] : []),
    ...(context['sse:restApiAllowUnauthenticated'] === 'true' ? ['Annotation::lambda-sse:unauthenticatedRestApi'] : []),
    ...(context['sse:restApiAllowEdge'] === 'true' ? ['Annotation::lambda-sse:edgeRestApi'] : []),
  ];
  for (const [name, context] of variants) {
    it(`synthesizes ${name} with no unacknowledged finding (a public URL or an unauthenticated ALB only warns)`, () => {
      const sseApp = app(context);
      buildSseApp(sseApp);
      const assembly = sseApp.synth();
      const report: ValidationReport = JSON.parse(fs.readFileSync(path.join(assembly.directory, 'validation-report.json'), 'utf8'));
      assert.deepEqual(report.pluginReports.filter((r) => r.conclusion !== 'success'), []);
      const warnings = report.pluginReports.flatMap((r) => r.violations.map((v) => v.ruleName));
      assert.deepEqual(warnings, expectedWarnings(context));
    });
  }

  it('fails synth on a finding nobody acknowledged', () => {
    const sseApp = app();
    const stack = buildStreamApp(sseApp);
    stack.sseFunction.role.addToPolicy(new iam.PolicyStatement({ actions: ['s3:GetObject'], resources: ['*'] }));
    assert.throws(() => sseApp.synth(), /Validation failed/);
    const report: ValidationReport = JSON.parse(fs.readFileSync(path.join(sseApp.outdir, 'validation-report.json'), 'utf8'));
    assert.deepEqual(report.pluginReports.filter((r) => r.conclusion === 'failure').map((r) => r.pluginName), ['AwsSolutions']);
    assert.match(JSON.stringify(report), /AwsSolutions-IAM5\[Resource::\*\]/);
  });
});

describe('the ALB acknowledgements are scoped', () => {
  it('still fails synth on an open ingress rule nobody listed in sse:albAllowedCidrs', () => {
    const sseApp = app({ 'sse:alb': 'true', 'sse:albAllowedCidrs': '10.0.0.0/8', 'sse:albAllowPlainHttp': 'true' });
    const stack = buildStreamApp(sseApp);
    stack.alb!.securityGroup.addIngressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(80));
    assert.throws(() => sseApp.synth(), /Validation failed/);
    const report: ValidationReport = JSON.parse(fs.readFileSync(path.join(sseApp.outdir, 'validation-report.json'), 'utf8'));
    assert.deepEqual(report.pluginReports.flatMap((r) => r.violations.map((v) => v.ruleName)), ['AwsSolutions-EC23']);
  });
});

describe('the REST API acknowledgements are scoped', () => {
  it('still fails synth on an unauthorized method nobody opted into', () => {
    const sseApp = app({ 'sse:restApi': 'true' });
    const stack = buildStreamApp(sseApp);
    stack.restApi!.api.root.addResource('open').addMethod('GET', new apigateway.MockIntegration(), { authorizationType: apigateway.AuthorizationType.NONE });
    assert.throws(() => sseApp.synth(), /Validation failed/);
    const report: ValidationReport = JSON.parse(fs.readFileSync(path.join(sseApp.outdir, 'validation-report.json'), 'utf8'));
    assert.deepEqual(report.pluginReports.flatMap((r) => r.violations.map((v) => v.ruleName)).sort(), ['AwsSolutions-APIG4', 'AwsSolutions-COG4']);
  });
});

describe('the app reads its context', () => {
  it('names the stack after sse:stackName and configures the function', () => {
    const stack = buildStreamApp(app({ 'sse:stackName': 'SseDev', 'sse:memory': '256' }));
    assert.equal(stack.stackName, 'SseDev');
    Template.fromStack(stack).hasResourceProperties('AWS::Lambda::Function', { MemorySize: 256 });
  });

  it('passes the stream window, deadline margin and heartbeat to the function, defaults when unset', () => {
    const variables = (context: Record<string, unknown>): unknown => {
      const template = Template.fromStack(buildSseApp(app(context)));
      const [tableId] = Object.keys(template.findResources('AWS::DynamoDB::Table'));
      const { SSE_TABLE_NAME, ...rest } = Object.values(template.findResources('AWS::Lambda::Function'))[0].Properties.Environment.Variables;
      assert.deepEqual(SSE_TABLE_NAME, { Ref: tableId });
      return rest;
    };
    assert.deepEqual(variables({}), {
      SSE_RETRY_MS: '5000',
      SSE_JOB_STEPS: '11',
      SSE_JOB_INTERVAL_MS: '2000',
      SSE_WINDOW_MS: '120000',
      SSE_DEADLINE_MARGIN_MS: '2000',
      SSE_HEARTBEAT_MS: '15000',
      SSE_BATCH_WINDOW_MS: '5000',
      SSE_POLL_MIN_MS: '50',
      SSE_POLL_MAX_MS: '1000',
      SSE_TAIL_BUFFER_KIB: '1024',
      SSE_METRICS: 'on',
      SSE_METRICS_NAMESPACE: 'LambdaSse',
    });
    assert.deepEqual(variables({ 'sse:windowMs': '60000', 'sse:deadlineMarginMs': '3000', 'sse:heartbeatMs': '10000' }), {
      SSE_RETRY_MS: '5000',
      SSE_JOB_STEPS: '11',
      SSE_JOB_INTERVAL_MS: '2000',
      SSE_WINDOW_MS: '60000',
      SSE_DEADLINE_MARGIN_MS: '3000',
      SSE_HEARTBEAT_MS: '10000',
      SSE_BATCH_WINDOW_MS: '5000',
      SSE_POLL_MIN_MS: '50',
      SSE_POLL_MAX_MS: '1000',
      SSE_TAIL_BUFFER_KIB: '1024',
      SSE_METRICS: 'on',
      SSE_METRICS_NAMESPACE: 'LambdaSse',
    });
  });

  it('adds the durable streams table by default, configured by its keys', () => {
    const stack = buildStreamApp(app({
      'sse:retentionHours': '72',
      'sse:pollMinMs': '20',
      'sse:pollMaxMs': '5000',
      'sse:tailBufferKib': '4096',
      'sse:tableRemovalPolicy': 'destroy',
      'sse:publisherRoleArns': 'arn:aws:iam::210987654321:role/producer, arn:aws:iam::123456789012:role/local-producer',
    }));
    const template = Template.fromStack(stack);
    template.hasResource('AWS::DynamoDB::Table', {
      DeletionPolicy: 'Delete',
      Properties: {
        ResourcePolicy: {
          PolicyDocument: {
            Statement: [{
              Sid: 'Publishers',
              Effect: 'Allow',
              // CDK sorts the principals.
              Principal: { AWS: ['arn:aws:iam::123456789012:role/local-producer', 'arn:aws:iam::210987654321:role/producer'] },
              Action: ['dynamodb:PutItem', 'dynamodb:Query'],
              Resource: '*',
            }],
          },
        },
      },
    });
    template.hasResourceProperties('AWS::Lambda::Function', { Environment: { Variables: Match.objectLike({ SSE_POLL_MIN_MS: '20', SSE_POLL_MAX_MS: '5000', SSE_TAIL_BUFFER_KIB: '4096' }) } });
    assert.equal(stack.streamsTable?.retentionHours, 72);
    assert.match(JSON.stringify(template.toJSON().Outputs.PublishCommand.Value), / SSE_RETENTION_HOURS=72 cargo run /);
    assert.deepEqual(Object.keys(template.toJSON().Outputs).sort(), ['CurlCommand', 'DashboardUrl', 'FunctionName', 'FunctionUrl', 'PublishCommand', 'Region', 'StreamCurlCommand', 'TableName']);
  });

  it('keeps the table by default, and leaves it out on sse:durableStreams=false', () => {
    Template.fromStack(buildSseApp(app())).hasResource('AWS::DynamoDB::Table', { DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' });
    const without = Template.fromStack(buildSseApp(app({ 'sse:durableStreams': 'false' })));
    without.resourceCountIs('AWS::DynamoDB::Table', 0);
    assert.deepEqual(Object.keys(without.toJSON().Outputs).sort(), ['CurlCommand', 'DashboardUrl', 'FunctionName', 'FunctionUrl', 'Region']);
  });

  it('fails synth on a tail buffer out of range, or with the table left out', () => {
    assert.throws(() => buildSseApp(app({ 'sse:tailBufferKib': '32' })), /-c sse:tailBufferKib=32: must be an integer from 64 to 65536 \(KiB\), got 32/);
    assert.throws(
      () => buildSseApp(app({ 'sse:durableStreams': 'false', 'sse:tailBufferKib': '2048' })),
      /sse:tailBufferKib configures the durable streams table, which sse:durableStreams=false leaves out: remove it, or set -c sse:durableStreams=true/,
    );
  });

  it('fails synth when the minimum poll is above the maximum, naming both keys', () => {
    assert.throws(() => buildSseApp(app({ 'sse:pollMinMs': '2000' })), /-c sse:pollMinMs=2000: must not be above sse:pollMaxMs \(1000, its default\); lower sse:pollMinMs or raise sse:pollMaxMs/);
  });

  it('fails synth when the deadline margin is not shorter than the timeout', () => {
    assert.throws(
      () => buildSseApp(app({ 'sse:timeout': '3', 'sse:deadlineMarginMs': '3000' })),
      /stream\.deadlineMarginMs must be shorter than the timeout \(3 s = 3000 ms\), got 3000 ms: every response would end as soon as it starts; lower the deadline margin or raise the timeout/,
    );
    assert.throws(() => buildSseApp(app({ 'sse:timeout': '1' })), /stream\.deadlineMarginMs must be shorter than the timeout \(1 s = 1000 ms\), got 2000 ms/);
  });

  it('adds the ALB on sse:alb=true and prints its URL', () => {
    const template = Template.fromStack(buildSseApp(app({ 'sse:alb': 'true', 'sse:albAllowedCidrs': '10.0.0.0/8', 'sse:albAllowPlainHttp': 'true', 'sse:albIdleTimeout': '75' })));
    template.resourceCountIs('AWS::ElasticLoadBalancingV2::LoadBalancer', 1);
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::LoadBalancer', {
      Scheme: 'internal',
      LoadBalancerAttributes: Match.arrayWith([{ Key: 'idle_timeout.timeout_seconds', Value: '75' }]),
    });
    assert.match(JSON.stringify(template.toJSON().Outputs.AlbUrl.Value), /"http:\/\/"/);
  });

  it('fails synth on sse:alb=true without sources or a listener, naming the keys to set', () => {
    assert.throws(() => buildSseApp(app({ 'sse:alb': 'true' })), (error: Error) =>
      /allowedCidrs and allowedPeers are both empty.*-c sse:albAllowedCidrs=10\.0\.0\.0\/8/.test(error.message) &&
      /no listener: give certificateArn .*\(-c sse:albAllowPlainHttp=true\)/.test(error.message));
  });

  it('fails synth on an internet-facing ALB without login unless allowed', () => {
    assert.throws(
      () => buildSseApp(app({ 'sse:alb': 'true', 'sse:albInternetFacing': 'true', 'sse:albAllowedCidrs': '0.0.0.0/0', 'sse:albAllowPlainHttp': 'true' })),
      /internetFacing without oidc would let anyone .* or set allowUnauthenticatedInternetFacing to true \(-c sse:albAllowUnauthenticatedInternetFacing=true\)/,
    );
  });

  it('fails synth when the ALB idle timeout does not exceed the batch window', () => {
    assert.throws(
      () => buildSseApp(app({ 'sse:alb': 'true', 'sse:albAllowedCidrs': '10.0.0.0/8', 'sse:albAllowPlainHttp': 'true', 'sse:batchWindowMs': '30000', 'sse:albIdleTimeout': '30' })),
      /idleTimeout must be longer than the batch window \(30000 ms\), got 30 s = 30000 ms/,
    );
  });

  it('fails synth when the batch window and margin do not fit the timeout of a function behind the ALB', () => {
    const alb = { 'sse:alb': 'true', 'sse:albAllowedCidrs': '10.0.0.0/8', 'sse:albAllowPlainHttp': 'true' };
    assert.doesNotThrow(() => buildSseApp(app({ 'sse:timeout': '10', 'sse:batchWindowMs': '9000' })));
    assert.throws(() => buildSseApp(app({ ...alb, 'sse:timeout': '10', 'sse:batchWindowMs': '9000' })), /stream\.batchWindowMs plus the deadline margin \(9000 ms \+ 2000 ms\) must be shorter than the timeout \(10 s = 10000 ms\)/);
  });

  it('adds the REST API on sse:restApi=true next to the Function URL, and prints its URL and signed curl', () => {
    const template = Template.fromStack(buildSseApp(app({ 'sse:restApi': 'true', 'sse:restApiThrottleRate': '5' })));
    template.resourceCountIs('AWS::ApiGateway::RestApi', 1);
    template.resourceCountIs('AWS::Lambda::Url', 1);
    template.hasResourceProperties('AWS::ApiGateway::Stage', { MethodSettings: [Match.objectLike({ ThrottlingRateLimit: 5, ThrottlingBurstLimit: 100 })] });
    const outputs = template.toJSON().Outputs;
    assert.deepEqual(Object.keys(outputs).sort(), ['CurlCommand', 'DashboardUrl', 'FunctionName', 'FunctionUrl', 'PublishCommand', 'Region', 'RestApiCurlCommand', 'RestApiUrl', 'StreamCurlCommand', 'TableName']);
    assert.match(JSON.stringify(outputs.RestApiCurlCommand.Value), /--aws-sigv4 \\"aws:amz:",\{"Ref":"AWS::Region"\},":execute-api\\"/);
  });

  it('fails synth on a REST API key without sse:restApi=true, and on a Cognito API without its pool', () => {
    assert.throws(() => buildSseApp(app({ 'sse:restApiApiKey': 'true' })), /sse:restApiApiKey configures the REST API, which is off: add -c sse:restApi=true, or remove it/);
    assert.throws(() => buildSseApp(app({ 'sse:restApi': 'true', 'sse:restApiAuth': 'cognito' })), /authorization cognito needs userPoolArn: .*\(-c sse:restApiUserPoolArn=arn:aws:cognito-idp:\.\.\.\)/);
  });

  it('fails synth when the heartbeat does not fit an EDGE API\'s idle timeout', () => {
    assert.throws(
      () => buildSseApp(app({ 'sse:restApi': 'true', 'sse:restApiEndpointType': 'edge', 'sse:restApiAllowEdge': 'true', 'sse:heartbeatMs': '16000' })),
      /the function's stream\.heartbeatMs must be at most half an EDGE REST API's idle timeout \(30 s, so at most 15000 ms\), got 16000 ms/,
    );
  });

  it('fails before building anything on a bad key', () => {
    const sseApp = app({ 'sse:authType': 'PUBLIC' });
    assert.throws(() => buildSseApp(sseApp), /-c sse:authType=PUBLIC: must be one of AWS_IAM, NONE/);
    assert.equal(sseApp.node.children.length, 0);
  });

  it('is what `cdk synth` runs: the entry in cdk.json writes the stack, named and configured by context', () => {
    const run = (context: Record<string, unknown>) => {
      const outdir = testOutdir();
      const result = spawnSync(CDK_JSON.app, {
        cwd: REPO_ROOT,
        shell: true,
        encoding: 'utf8',
        // What the CDK CLI hands the app: the context (cdk.json's and -c keys) and where to write.
        env: { ...process.env, CDK_OUTDIR: outdir, CDK_CONTEXT_JSON: JSON.stringify({ ...CDK_JSON_CONTEXT, 'aws:cdk:bundling-stacks': [], ...context }) },
      });
      return { ...result, outdir };
    };

    const named = run({ 'sse:stackName': 'SseFromEntry', 'sse:memory': '256' });
    assert.equal(named.status, 0, named.stderr);
    const manifest = JSON.parse(fs.readFileSync(path.join(named.outdir, 'manifest.json'), 'utf8'));
    assert.equal(manifest.artifacts.SseFromEntry.type, 'aws:cloudformation:stack');
    const template = Template.fromJSON(JSON.parse(fs.readFileSync(path.join(named.outdir, 'SseFromEntry.template.json'), 'utf8')));
    template.hasResourceProperties('AWS::Lambda::Url', { InvokeMode: 'RESPONSE_STREAM', AuthType: 'AWS_IAM' });
    template.hasResourceProperties('AWS::Lambda::Function', { MemorySize: 256 });

    const refused = run({ 'sse:memroy': '256' });
    assert.notEqual(refused.status, 0);
    assert.match(refused.stderr, /unknown context key sse:memroy/);
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
