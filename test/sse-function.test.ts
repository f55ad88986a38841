import assert from 'node:assert/strict';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { SseFunction, type SseFunctionProps } from '../cdk/sse-function';
import { SseTable } from '../cdk/sse-table';
import { REPO_ROOT, buildFunction, onlyResource, testApp } from './helpers';

const FUNCTION = 'AWS::Lambda::Function';
const URL = 'AWS::Lambda::Url';

/** The error SseFunction throws for these props; `props` may build a table in the stack. */
function propsError(props: SseFunctionProps | ((stack: Stack) => SseFunctionProps)): string {
  const stack = new Stack(testApp(), 'Test');
  try {
    new SseFunction(stack, 'Sse', typeof props === 'function' ? props(stack) : props);
  } catch (error) {
    return (error as Error).message;
  }
  assert.fail('expected the props to be rejected');
}

describe('SseFunction defaults', () => {
  const { template, annotations } = buildFunction();

  it('serves a streaming Function URL that needs IAM auth, without CORS', () => {
    template.resourceCountIs(URL, 1);
    template.hasResourceProperties(URL, { AuthType: 'AWS_IAM', InvokeMode: 'RESPONSE_STREAM', Cors: Match.absent() });
  });

  it('runs the Rust binary on provided.al2023, arm64, 128 MB, 300 s', () => {
    template.hasResourceProperties(FUNCTION, {
      Runtime: 'provided.al2023',
      Handler: 'bootstrap',
      Architectures: ['arm64'],
      MemorySize: 128,
      Timeout: 300,
      ReservedConcurrentExecutions: Match.absent(),
    });
  });

  it('logs JSON to its own log group kept 30 days and removed with the stack', () => {
    const logGroups = template.findResources('AWS::Logs::LogGroup');
    const [logGroupId] = Object.keys(logGroups);
    assert.equal(Object.keys(logGroups).length, 1);
    template.hasResource('AWS::Logs::LogGroup', { Properties: { RetentionInDays: 30 }, DeletionPolicy: 'Delete' });
    template.hasResourceProperties(FUNCTION, { LoggingConfig: { LogFormat: 'JSON', LogGroup: { Ref: logGroupId } } });
  });

  it('passes every stream setting at its default', () => {
    template.hasResourceProperties(FUNCTION, {
      Environment: {
        Variables: {
          SSE_RETRY_MS: '5000',
          SSE_JOB_STEPS: '11',
          SSE_JOB_INTERVAL_MS: '2000',
          SSE_WINDOW_MS: '120000',
          SSE_DEADLINE_MARGIN_MS: '2000',
          SSE_HEARTBEAT_MS: '15000',
          SSE_BATCH_WINDOW_MS: '5000',
        },
      },
    });
  });

  it('lets the role write its own log group and nothing else', () => {
    const role = onlyResource(template, 'AWS::IAM::Role');
    assert.equal(role.Properties.ManagedPolicyArns, undefined, 'no managed policy (AWSLambdaBasicExecutionRole reaches every log group)');
    assert.equal(role.Properties.Policies, undefined);
    const [logGroupId] = Object.keys(template.findResources('AWS::Logs::LogGroup'));
    const policy = onlyResource(template, 'AWS::IAM::Policy');
    assert.deepEqual((policy.Properties.PolicyDocument as { Statement: unknown[] }).Statement, [
      { Action: ['logs:CreateLogStream', 'logs:PutLogEvents'], Effect: 'Allow', Resource: { 'Fn::GetAtt': [logGroupId, 'Arn'] } },
    ]);
  });

  it('reads no table: no durable variables, no DynamoDB permission', () => {
    const variables = (onlyResource(template, FUNCTION).Properties.Environment as { Variables: Record<string, string> }).Variables;
    assert.deepEqual(Object.keys(variables).filter((name) => /TABLE|POLL|RETENTION/.test(name)), []);
    assert.doesNotMatch(JSON.stringify(template.toJSON()), /dynamodb/);
  });

  it('grants nobody at deploy and warns about nothing', () => {
    template.resourceCountIs('AWS::Lambda::Permission', 0);
    assert.deepEqual(annotations.findWarning('*', Match.anyValue()), []);
  });
});

describe('SseFunction props', () => {
  it('builds for x86_64 when asked', () => {
    buildFunction({ architecture: lambda.Architecture.X86_64 }).template.hasResourceProperties(FUNCTION, { Architectures: ['x86_64'] });
  });

  it('sets memory, timeout, retention and removal policy', () => {
    const { template } = buildFunction({
      memorySize: 1024,
      timeout: Duration.minutes(15),
      logRetention: logs.RetentionDays.ONE_WEEK,
      logRemovalPolicy: RemovalPolicy.RETAIN,
    });
    template.hasResourceProperties(FUNCTION, { MemorySize: 1024, Timeout: 900 });
    template.hasResource('AWS::Logs::LogGroup', { Properties: { RetentionInDays: 7 }, DeletionPolicy: 'Retain' });
  });

  it('reserves concurrency as a cap', () => {
    buildFunction({ reservedConcurrentExecutions: 5 }).template.hasResourceProperties(FUNCTION, { ReservedConcurrentExecutions: 5 });
  });

  it('passes stream settings as environment variables', () => {
    const stream = { retryMs: 1500, windowMs: 60_000, deadlineMarginMs: 3_000, heartbeatMs: 10_000, batchWindowMs: 2_500 };
    const job = { jobSteps: 5, jobIntervalMs: 250 };
    const { template, sse } = buildFunction({ stream, job });
    template.hasResourceProperties(FUNCTION, {
      Environment: {
        Variables: {
          SSE_RETRY_MS: '1500',
          SSE_JOB_STEPS: '5',
          SSE_JOB_INTERVAL_MS: '250',
          SSE_WINDOW_MS: '60000',
          SSE_DEADLINE_MARGIN_MS: '3000',
          SSE_HEARTBEAT_MS: '10000',
          SSE_BATCH_WINDOW_MS: '2500',
        },
      },
    });
    assert.deepEqual(sse.streamSettings, stream);
    assert.deepEqual(sse.jobSettings, job);
  });

  it('keeps defaults for stream settings left undefined', () => {
    buildFunction({ stream: { retryMs: undefined, windowMs: undefined }, job: { jobSteps: 3 } }).template.hasResourceProperties(FUNCTION, {
      Environment: {
        Variables: {
          SSE_RETRY_MS: '5000',
          SSE_JOB_STEPS: '3',
          SSE_JOB_INTERVAL_MS: '2000',
          SSE_WINDOW_MS: '120000',
          SSE_DEADLINE_MARGIN_MS: '2000',
          SSE_HEARTBEAT_MS: '15000',
          SSE_BATCH_WINDOW_MS: '5000',
        },
      },
    });
  });

  it('accepts any margin shorter than the timeout', () => {
    buildFunction({ timeout: Duration.seconds(1), stream: { deadlineMarginMs: 999 } }).template.hasResourceProperties(FUNCTION, {
      Timeout: 1,
      Environment: { Variables: Match.objectLike({ SSE_DEADLINE_MARGIN_MS: '999' }) },
    });
  });

  it('allows GET with SigV4 and resume headers from the listed origins only', () => {
    buildFunction({ corsAllowedOrigins: ['https://app.example.com', 'http://localhost:3000'] }).template.hasResourceProperties(URL, {
      Cors: {
        AllowOrigins: ['https://app.example.com', 'http://localhost:3000'],
        AllowMethods: ['GET'],
        AllowHeaders: ['authorization', 'x-amz-date', 'x-amz-security-token', 'x-amz-content-sha256', 'last-event-id'],
        MaxAge: 3600,
      },
    });
  });

  it('makes the URL public only on explicit opt-in, with a warning', () => {
    const { template, annotations } = buildFunction({ authType: lambda.FunctionUrlAuthType.NONE });
    template.hasResourceProperties(URL, { AuthType: 'NONE', InvokeMode: 'RESPONSE_STREAM' });
    const warnings = annotations.findWarning('/Test/Sse', Match.stringLikeRegexp('authType NONE: anyone on the internet can open streams'));
    assert.equal(warnings.length, 1);
  });

  it('accepts a short timeout whatever the batch window: only an ALB waits for it', () => {
    buildFunction({ timeout: Duration.seconds(3), stream: { batchWindowMs: 60_000 } }).template.hasResourceProperties(FUNCTION, {
      Timeout: 3,
      Environment: { Variables: Match.objectLike({ SSE_BATCH_WINDOW_MS: '60000' }) },
    });
  });
});

describe('SseFunction for any binary built on the library', () => {
  it('builds the given crate and binary, without the job\'s variables, with extra environment', () => {
    const manifestPath = path.join(REPO_ROOT, 'examples', 'Cargo.toml');
    const { template, sse } = buildFunction({
      manifestPath,
      binaryName: 'sse-tail',
      environment: { TAIL_FILE: '/var/task/feed.log' },
    });
    const variables = (onlyResource(template, FUNCTION).Properties.Environment as { Variables: Record<string, string> }).Variables;
    assert.deepEqual(Object.keys(variables).sort(), ['SSE_BATCH_WINDOW_MS', 'SSE_DEADLINE_MARGIN_MS', 'SSE_HEARTBEAT_MS', 'SSE_METRICS', 'SSE_METRICS_NAMESPACE', 'SSE_RETRY_MS', 'SSE_WINDOW_MS', 'TAIL_FILE']);
    assert.equal(sse.jobSettings, undefined);
  });

  it('sets the job\'s variables for another binary that says it has the job', () => {
    const { template } = buildFunction({ binaryName: 'my-progress', progressJob: true, job: { jobSteps: 4 } });
    template.hasResourceProperties(FUNCTION, { Environment: { Variables: Match.objectLike({ SSE_JOB_STEPS: '4', SSE_JOB_INTERVAL_MS: '2000' }) } });
  });
});

describe('SseFunction grants', () => {
  const INVOKE_URL = {
    Action: 'lambda:InvokeFunctionUrl',
    Effect: 'Allow',
    Condition: { StringEquals: { 'lambda:FunctionUrlAuthType': 'AWS_IAM' } },
  };
  const INVOKE_VIA_URL = {
    Action: 'lambda:InvokeFunction',
    Effect: 'Allow',
    Condition: { Bool: { 'lambda:InvokedViaFunctionUrl': true } },
  };

  it('grantInvokeUrl gives a role of the same account both actions, on this function only', () => {
    const stack = new Stack(testApp(), 'Test');
    const sse = new SseFunction(stack, 'Sse');
    const caller = new iam.Role(stack, 'Caller', { assumedBy: new iam.AccountRootPrincipal() });
    sse.grantInvokeUrl(caller);
    const template = Template.fromStack(stack);
    const functionId = Object.keys(template.findResources(FUNCTION))[0];
    const functionArn = { 'Fn::GetAtt': [functionId, 'Arn'] };
    template.hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: Match.stringLikeRegexp('^Caller') }],
      PolicyDocument: {
        Statement: [
          { ...INVOKE_URL, Resource: functionArn },
          { ...INVOKE_VIA_URL, Resource: functionArn },
        ],
      },
    });
  });

  it('grants invokers from other accounts through the function resource policy', () => {
    const { template } = buildFunction({ invokers: ['123456789012', 'arn:aws:iam::210987654321:role/reader'] });
    template.resourceCountIs('AWS::Lambda::Permission', 4);
    for (const principal of ['123456789012', 'arn:aws:iam::210987654321:role/reader']) {
      template.hasResourceProperties('AWS::Lambda::Permission', { Principal: principal, Action: 'lambda:InvokeFunctionUrl', FunctionUrlAuthType: 'AWS_IAM' });
      template.hasResourceProperties('AWS::Lambda::Permission', { Principal: principal, Action: 'lambda:InvokeFunction', InvokedViaFunctionUrl: true });
    }
  });

  it('refuses grants on a public URL', () => {
    const { sse } = buildFunction({ authType: lambda.FunctionUrlAuthType.NONE });
    assert.throws(() => sse.grantInvokeUrl(new iam.AccountPrincipal('123456789012')), /its authType is NONE.*grants need authType AWS_IAM/);
  });
});

describe('SseFunction rejects invalid props before building', () => {
  const cases: [string, SseFunctionProps, RegExp][] = [
    ['memory below 128', { memorySize: 64 }, /memorySize must be an integer from 128 to 10240 \(MB\), got 64/],
    ['memory above 10240', { memorySize: 10_241 }, /memorySize must be an integer from 128 to 10240 \(MB\), got 10241/],
    ['timeout above 900 s', { timeout: Duration.seconds(901) }, /timeout must be an integer from 1 to 900 \(s\), got 901/],
    ['timeout below 1 s', { timeout: Duration.seconds(0) }, /timeout must be an integer from 1 to 900 \(s\), got 0/],
    ['timeout in part seconds', { timeout: Duration.millis(1500) }, /timeout must be whole seconds from 1 to 900, got 1500 ms/],
    ['zero reserved concurrency', { reservedConcurrentExecutions: 0 }, /reservedConcurrentExecutions must be an integer of at least 1, got 0/],
    ['retry too short', { stream: { retryMs: 99 } }, /stream\.retryMs must be an integer from 100 to 600000 \(ms\), got 99/],
    ['too many steps', { job: { jobSteps: 1001 } }, /job\.jobSteps must be an integer from 1 to 1000, got 1001/],
    ['interval too long', { job: { jobIntervalMs: 60_001 } }, /job\.jobIntervalMs must be an integer from 10 to 60000 \(ms\), got 60001/],
    ['job settings for a binary without the job', { binaryName: 'sse-tail', job: { jobSteps: 5 } }, /job settings apply only to a binary that mounts the progress job, and sse-tail is taken not to: set progressJob to true, or remove job/],
    ['an environment variable the construct sets', { environment: { SSE_WINDOW_MS: '1000', TAIL_FILE: '/tmp/x' } }, /environment sets SSE_WINDOW_MS, which the construct sets from stream, job, durable, streamsTable, metrics and metricsNamespace: give them there instead/],
    ['the table\'s and polling variables in environment', { environment: { SSE_TABLE_NAME: 't', SSE_POLL_MIN_MS: '10', SSE_POLL_MAX_MS: '100' } }, /environment sets SSE_TABLE_NAME, SSE_POLL_MIN_MS, SSE_POLL_MAX_MS, which the construct sets/],
    ['the tail buffer\'s variable in environment', { environment: { SSE_TAIL_BUFFER_KIB: '4096' } }, /environment sets SSE_TAIL_BUFFER_KIB, which the construct sets from stream, job, durable, streamsTable, metrics and metricsNamespace: give them there instead/],
    ['durable settings without a table', { durable: { pollMinMs: 100 } }, /durable settings apply only to a function that reads a table of durable streams: give streamsTable, or remove durable/],
    ['a tail buffer without a table', { durable: { tailBufferKib: 2048 } }, /durable settings apply only to a function that reads a table of durable streams: give streamsTable, or remove durable/],
    ['window too short', { stream: { windowMs: 999 } }, /stream\.windowMs must be an integer from 1000 to 900000 \(ms\), got 999/],
    ['window too long', { stream: { windowMs: 900_001 } }, /stream\.windowMs must be an integer from 1000 to 900000 \(ms\), got 900001/],
    ['margin too short', { stream: { deadlineMarginMs: 99 } }, /stream\.deadlineMarginMs must be an integer from 100 to 60000 \(ms\), got 99/],
    ['margin too long', { stream: { deadlineMarginMs: 60_001 } }, /stream\.deadlineMarginMs must be an integer from 100 to 60000 \(ms\), got 60001/],
    ['heartbeat too short', { stream: { heartbeatMs: 999 } }, /stream\.heartbeatMs must be an integer from 1000 to 300000 \(ms\), got 999/],
    ['heartbeat too long', { stream: { heartbeatMs: 300_001 } }, /stream\.heartbeatMs must be an integer from 1000 to 300000 \(ms\), got 300001/],
    ['batch window too short', { stream: { batchWindowMs: 999 } }, /stream\.batchWindowMs must be an integer from 1000 to 60000 \(ms\), got 999/],
    ['batch window too long', { stream: { batchWindowMs: 60_001 } }, /stream\.batchWindowMs must be an integer from 1000 to 60000 \(ms\), got 60001/],
    ['a fractional window', { stream: { windowMs: 1500.5 } }, /stream\.windowMs must be an integer from 1000 to 900000 \(ms\), got 1500\.5/],
    [
      'the default margin with a 1 s timeout',
      { timeout: Duration.seconds(1) },
      /stream\.deadlineMarginMs must be shorter than the timeout \(1 s = 1000 ms\), got 2000 ms: every response would end as soon as it starts; lower the deadline margin or raise the timeout/,
    ],
    ['a margin as long as the timeout', { timeout: Duration.seconds(30), stream: { deadlineMarginMs: 30_000 } }, /stream\.deadlineMarginMs must be shorter than the timeout \(30 s = 30000 ms\), got 30000 ms/],
    ['origin with a path', { corsAllowedOrigins: ['https://app.example.com/'] }, /corsAllowedOrigins\[0\] must be an origin like/],
    ['a user ARN as invoker', { invokers: ['arn:aws:iam::123456789012:user/alice'] }, /invokers\[0\] must be a 12-digit AWS account id or an IAM role ARN/],
    ['a repeated invoker', { invokers: ['123456789012', '123456789012'] }, /invokers lists 123456789012 more than once/],
    ['invokers on a public URL', { authType: lambda.FunctionUrlAuthType.NONE, invokers: ['123456789012'] }, /invokers only apply to an IAM-authenticated URL: remove them or set authType to AWS_IAM/],
  ];
  for (const [name, props, message] of cases) {
    it(name, () => assert.match(propsError(props), message));
  }

  it('compares margin and timeout only when both are valid on their own', () => {
    assert.doesNotMatch(propsError({ timeout: Duration.seconds(0) }), /shorter than the timeout/);
    assert.doesNotMatch(propsError({ timeout: Duration.seconds(1), stream: { deadlineMarginMs: 60_001 } }), /shorter than the timeout/);
  });

  it('lists every problem at once, naming the construct', () => {
    const message = propsError({ memorySize: 1, timeout: Duration.seconds(1000) });
    assert.match(message, /^Invalid props for SseFunction at Test\/Sse; change:\n {2}- memorySize .*\n {2}- timeout /);
  });
});

describe('SseFunction with a table of durable streams', () => {
  /** A function reading an SseTable of the same stack. */
  function withTable(props: SseFunctionProps = {}): { template: Template; sse: SseFunction; tableId: string } {
    const stack = new Stack(testApp(), 'Test');
    const table = new SseTable(stack, 'Streams');
    const sse = new SseFunction(stack, 'Sse', { ...props, streamsTable: table });
    const template = Template.fromStack(stack);
    return { template, sse, tableId: Object.keys(template.findResources('AWS::DynamoDB::Table'))[0] };
  }

  it('names the table in SSE_TABLE_NAME and sets the polling at its defaults', () => {
    const { template, sse, tableId } = withTable();
    const variables = (onlyResource(template, FUNCTION).Properties.Environment as { Variables: Record<string, unknown> }).Variables;
    assert.deepEqual(variables.SSE_TABLE_NAME, { Ref: tableId });
    assert.equal(variables.SSE_POLL_MIN_MS, '50');
    assert.equal(variables.SSE_POLL_MAX_MS, '1000');
    assert.equal(variables.SSE_TAIL_BUFFER_KIB, '1024');
    assert.equal(variables.SSE_RETENTION_HOURS, undefined, 'producers read the retention, not the function');
    assert.deepEqual(sse.durableSettings, { pollMinMs: 50, pollMaxMs: 1000, tailBufferKib: 1024 });
  });

  it('may only Query that table, besides writing its logs', () => {
    const { template, tableId } = withTable();
    const [logGroupId] = Object.keys(template.findResources('AWS::Logs::LogGroup'));
    const policy = onlyResource(template, 'AWS::IAM::Policy');
    assert.deepEqual((policy.Properties.PolicyDocument as { Statement: unknown[] }).Statement, [
      { Action: ['logs:CreateLogStream', 'logs:PutLogEvents'], Effect: 'Allow', Resource: { 'Fn::GetAtt': [logGroupId, 'Arn'] } },
      { Action: 'dynamodb:Query', Effect: 'Allow', Resource: { 'Fn::GetAtt': [tableId, 'Arn'] } },
    ]);
    assert.equal(onlyResource(template, 'AWS::DynamoDB::Table').Properties.ResourcePolicy, undefined);
  });

  it('passes the polling settings it is given, pollMinMs equal to pollMaxMs included', () => {
    const { template, sse } = withTable({ durable: { pollMinMs: 100, pollMaxMs: 100 } });
    template.hasResourceProperties(FUNCTION, { Environment: { Variables: Match.objectLike({ SSE_POLL_MIN_MS: '100', SSE_POLL_MAX_MS: '100' }) } });
    assert.deepEqual(sse.durableSettings, { pollMinMs: 100, pollMaxMs: 100, tailBufferKib: 1024 });
  });

  it('passes the tail buffer it is given, at either end of its range', () => {
    for (const tailBufferKib of [64, 65_536]) {
      const { template, sse } = withTable({ durable: { tailBufferKib } });
      template.hasResourceProperties(FUNCTION, { Environment: { Variables: Match.objectLike({ SSE_POLL_MIN_MS: '50', SSE_POLL_MAX_MS: '1000', SSE_TAIL_BUFFER_KIB: String(tailBufferKib) }) } });
      assert.deepEqual(sse.durableSettings, { pollMinMs: 50, pollMaxMs: 1000, tailBufferKib });
    }
  });

  it('keeps the defaults of polling settings left undefined', () => {
    withTable({ durable: { pollMinMs: undefined, pollMaxMs: 5000, tailBufferKib: undefined } }).template.hasResourceProperties(FUNCTION, {
      Environment: { Variables: Match.objectLike({ SSE_POLL_MIN_MS: '50', SSE_POLL_MAX_MS: '5000', SSE_TAIL_BUFFER_KIB: '1024' }) },
    });
  });

  it('reads any table with the layout, such as an imported one', () => {
    const stack = new Stack(testApp(), 'Test');
    const imported = dynamodb.Table.fromTableName(stack, 'Imported', 'existing-streams');
    const sse = new SseFunction(stack, 'Sse', { streamsTable: imported });
    const template = Template.fromStack(stack);
    assert.equal(sse.streamsTable, imported);
    template.hasResourceProperties(FUNCTION, { Environment: { Variables: Match.objectLike({ SSE_TABLE_NAME: 'existing-streams' }) } });
    const statements = (onlyResource(template, 'AWS::IAM::Policy').Properties.PolicyDocument as { Statement: { Action: unknown; Resource: unknown }[] }).Statement;
    assert.equal(statements[1].Action, 'dynamodb:Query');
    assert.match(JSON.stringify(statements[1].Resource), /:table\/existing-streams"/);
    assert.equal(statements.length, 2);
  });

  it('sets the durable variables for any binary, without the job\'s', () => {
    const stack = new Stack(testApp(), 'Test');
    const table = new SseTable(stack, 'Streams');
    new SseFunction(stack, 'Sse', { binaryName: 'my-feed', streamsTable: table });
    const variables = (onlyResource(Template.fromStack(stack), FUNCTION).Properties.Environment as { Variables: Record<string, string> }).Variables;
    assert.deepEqual(Object.keys(variables).sort(), [
      'SSE_BATCH_WINDOW_MS', 'SSE_DEADLINE_MARGIN_MS', 'SSE_HEARTBEAT_MS', 'SSE_METRICS', 'SSE_METRICS_NAMESPACE', 'SSE_POLL_MAX_MS', 'SSE_POLL_MIN_MS', 'SSE_RETRY_MS', 'SSE_TABLE_NAME', 'SSE_TAIL_BUFFER_KIB', 'SSE_WINDOW_MS',
    ]);
  });

  const tableCases: [string, SseFunctionProps['durable'], RegExp][] = [
    ['a minimum poll too short', { pollMinMs: 9 }, /durable\.pollMinMs must be an integer from 10 to 10000 \(ms\), got 9/],
    ['a minimum poll too long', { pollMinMs: 10_001 }, /durable\.pollMinMs must be an integer from 10 to 10000 \(ms\), got 10001/],
    ['a maximum poll too short', { pollMaxMs: 99 }, /durable\.pollMaxMs must be an integer from 100 to 60000 \(ms\), got 99/],
    ['a maximum poll too long', { pollMaxMs: 60_001 }, /durable\.pollMaxMs must be an integer from 100 to 60000 \(ms\), got 60001/],
    ['a fractional poll', { pollMinMs: 50.5 }, /durable\.pollMinMs must be an integer from 10 to 10000 \(ms\), got 50\.5/],
    ['a tail buffer too small', { tailBufferKib: 63 }, /durable\.tailBufferKib must be an integer from 64 to 65536 \(KiB\), got 63/],
    ['a tail buffer too large', { tailBufferKib: 65_537 }, /durable\.tailBufferKib must be an integer from 64 to 65536 \(KiB\), got 65537/],
    ['a fractional tail buffer', { tailBufferKib: 1024.5 }, /durable\.tailBufferKib must be an integer from 64 to 65536 \(KiB\), got 1024\.5/],
    [
      'a minimum above the maximum',
      { pollMinMs: 2000, pollMaxMs: 1000 },
      /durable\.pollMinMs \(2000 ms\) must not be above durable\.pollMaxMs \(1000 ms\): the function would refuse to start; lower pollMinMs or raise pollMaxMs/,
    ],
    ['a minimum above the default maximum', { pollMinMs: 5000 }, /durable\.pollMinMs \(5000 ms\) must not be above durable\.pollMaxMs \(1000 ms\)/],
  ];
  for (const [name, durable, message] of tableCases) {
    it(`rejects ${name}`, () => assert.match(propsError((stack) => ({ streamsTable: new SseTable(stack, 'Streams'), durable })), message));
  }

  it('compares minimum and maximum only when both are valid on their own', () => {
    assert.doesNotMatch(propsError((stack) => ({ streamsTable: new SseTable(stack, 'Streams'), durable: { pollMinMs: 20_000, pollMaxMs: 100 } })), /must not be above/);
  });

  it('still compares minimum and maximum when only the tail buffer is invalid', () => {
    const message = propsError((stack) => ({ streamsTable: new SseTable(stack, 'Streams'), durable: { pollMinMs: 2000, pollMaxMs: 1000, tailBufferKib: 0 } }));
    assert.match(message, /durable\.tailBufferKib must be an integer from 64 to 65536 \(KiB\), got 0/);
    assert.match(message, /durable\.pollMinMs \(2000 ms\) must not be above durable\.pollMaxMs \(1000 ms\)/);
  });
});
