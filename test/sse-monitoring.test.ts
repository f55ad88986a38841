import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { Duration, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { METRICS, checkMetricsContract } from '../cdk/function-settings';
import { SseFunction, type SseFunctionProps } from '../cdk/sse-function';
import { ALARM_NAMES, SseMonitoring, type SseMonitoringProps } from '../cdk/sse-monitoring';
import { SseStreamStack } from '../cdk/sse-stack';
import { SseTable } from '../cdk/sse-table';
import { checkEmail, checkMetricsNamespace, checkSnsTopicArn } from '../cdk/validation';
import { REPO_ROOT, buildFunction, onlyResource, testApp } from './helpers';

const ALARM = 'AWS::CloudWatch::Alarm';
const TOPIC_ARN = 'arn:aws:sns:eu-west-1:123456789012:ops-alarms';

interface Built {
  readonly stack: Stack;
  readonly monitoring: SseMonitoring;
  readonly template: Template;
}

/** A function (with a table unless told) and its monitoring, in one stack. */
function build(fn: SseFunctionProps = {}, props: Partial<SseMonitoringProps> = {}, withTable = true): Built {
  const stack = new Stack(testApp(), 'Test');
  const table = withTable ? new SseTable(stack, 'Table') : undefined;
  const sseFunction = new SseFunction(stack, 'Sse', { streamsTable: table, ...fn });
  const monitoring = new SseMonitoring(stack, 'Monitoring', { sseFunction, ...props });
  return { stack, monitoring, template: Template.fromStack(stack) };
}

/** The error SseMonitoring throws. */
function propsError(fn: SseFunctionProps, props: Partial<SseMonitoringProps>, withTable = true): string {
  try {
    build(fn, props, withTable);
  } catch (error) {
    return (error as Error).message;
  }
  assert.fail('expected the props to be rejected');
}

/** The alarm resource with this logical id prefix. */
function alarm(template: Template, id: string): Record<string, unknown> {
  const found = Object.entries(template.findResources(ALARM)).filter(([logicalId]) => logicalId.startsWith(`Monitoring${id}`));
  assert.equal(found.length, 1, `alarm ${id}: found ${found.map(([k]) => k).join(', ')}`);
  return (found[0][1] as { Properties: Record<string, unknown> }).Properties;
}

function alarmIds(template: Template): string[] {
  return Object.keys(template.findResources(ALARM)).map((id) => id.replace(/^(?:Monitoring)?/, '').replace(/[0-9A-F]{8}$/, '')).sort();
}

const COMMON = {
  ComparisonOperator: 'GreaterThanOrEqualToThreshold',
  EvaluationPeriods: 1,
  DatapointsToAlarm: 1,
  TreatMissingData: 'notBreaching',
};

/** The DashboardBody with every token replaced by "TOKEN", parsed. */
function dashboardBody(template: Template): { widgets: { type: string; properties: { title?: string; metrics?: unknown[][]; alarms?: string[] } }[] } {
  const body = onlyResource(template, 'AWS::CloudWatch::Dashboard').Properties.DashboardBody as string | { 'Fn::Join': [string, unknown[]] };
  const text = typeof body === 'string' ? body : body['Fn::Join'][1].map((part) => (typeof part === 'string' ? part : 'TOKEN')).join('');
  return JSON.parse(text);
}

/** `namespace metric [dimension=value]` of every metric of the dashboard, and every expression. */
function dashboardMetrics(template: Template): string[] {
  return dashboardBody(template).widgets.flatMap((w) => (w.properties.metrics ?? []).map((row) => {
    const last = row[row.length - 1] as { expression?: string };
    if (last && typeof last === 'object' && last.expression !== undefined && row.length === 1) return `expression ${last.expression}`;
    const names = row.filter((cell) => typeof cell === 'string') as string[];
    // Rows that repeat the previous row's namespace and name use "." (CDK does not; kept simple).
    return names.join(' ');
  }));
}

describe('SseMonitoring alarms at their defaults', () => {
  const { template, monitoring } = build({ reservedConcurrentExecutions: 10 });

  it('creates the function, source, duration, concurrency and table alarms, and no front alarms without fronts', () => {
    assert.deepEqual(alarmIds(template), ['ConcurrencyNearCap', 'DurationNearTimeout', 'DynamoThrottles', 'Errors', 'SourceFailureRate', 'Throttles']);
    assert.deepEqual(Object.keys(monitoring.alarms).sort(), ['concurrencyNearCap', 'durationNearTimeout', 'dynamoThrottles', 'errors', 'sourceFailureRate', 'throttles']);
  });

  it('errors: AWS/Lambda Errors of the function, sum over 5 minutes, at 1 or more, missing data not breaching', () => {
    assert.deepEqual(Object.keys(alarm(template, 'Errors')).includes('AlarmActions'), false);
    template.hasResourceProperties(ALARM, {
      ...COMMON,
      Namespace: 'AWS/Lambda',
      MetricName: 'Errors',
      Dimensions: [{ Name: 'FunctionName', Value: { Ref: Match.stringLikeRegexp('^SseFunction') } }],
      Statistic: 'Sum',
      Period: 300,
      Threshold: 1,
    });
  });

  it('throttles: AWS/Lambda Throttles, sum over 5 minutes, at 1 or more', () => {
    template.hasResourceProperties(ALARM, { ...COMMON, Namespace: 'AWS/Lambda', MetricName: 'Throttles', Statistic: 'Sum', Period: 300, Threshold: 1 });
  });

  it('source failure rate: 100 * SourceErrors / StreamsStarted of the function\'s namespace, no dimension, at 5 %', () => {
    const props = alarm(template, 'SourceFailureRate');
    assert.deepEqual({ ...props, AlarmDescription: undefined }, {
      ...COMMON,
      AlarmDescription: undefined,
      Threshold: 5,
      Metrics: [
        { Expression: 'IF(started > 0, 100 * failed / started, 0)', Id: 'expr_1', Label: 'Source failures (% of streams)', ReturnData: true },
        { Id: 'failed', MetricStat: { Metric: { MetricName: 'SourceErrors', Namespace: 'LambdaSse' }, Period: 300, Stat: 'Sum' }, ReturnData: false },
        { Id: 'started', MetricStat: { Metric: { MetricName: 'StreamsStarted', Namespace: 'LambdaSse' }, Period: 300, Stat: 'Sum' }, ReturnData: false },
      ],
    });
  });

  it('duration near timeout: p99 Duration at 90 % of the 300 s timeout', () => {
    template.hasResourceProperties(ALARM, { ...COMMON, Namespace: 'AWS/Lambda', MetricName: 'Duration', ExtendedStatistic: 'p99', Period: 300, Threshold: 270_000 });
    assert.equal(monitoring.durationThresholdMs, 270_000);
  });

  it('concurrency near cap: maximum ConcurrentExecutions of the function at 80 % of the reserved 10', () => {
    template.hasResourceProperties(ALARM, { ...COMMON, Namespace: 'AWS/Lambda', MetricName: 'ConcurrentExecutions', Statistic: 'Maximum', Period: 300, Threshold: 8 });
  });

  it('table throttling: ReadThrottleEvents + WriteThrottleEvents of the table, sum, at 1 or more', () => {
    const props = alarm(template, 'DynamoThrottles');
    const metrics = props.Metrics as { Id: string; Expression?: string; MetricStat?: { Metric: { MetricName: string; Namespace: string; Dimensions: { Name: string }[] }; Stat: string; Period: number } }[];
    assert.equal(metrics[0].Expression, 'reads + writes');
    assert.deepEqual(metrics.slice(1).map((m) => [m.Id, m.MetricStat!.Metric.Namespace, m.MetricStat!.Metric.MetricName, m.MetricStat!.Metric.Dimensions[0].Name, m.MetricStat!.Stat, m.MetricStat!.Period]), [
      ['reads', 'AWS/DynamoDB', 'ReadThrottleEvents', 'TableName', 'Sum', 300],
      ['writes', 'AWS/DynamoDB', 'WriteThrottleEvents', 'TableName', 'Sum', 300],
    ]);
    assert.equal(props.Threshold, 1);
    assert.equal(props.TreatMissingData, 'notBreaching');
  });

  it('leaves out the concurrency alarm without reserved concurrency, and the table alarm without a table', () => {
    const { template: bare } = build({}, {}, false);
    assert.deepEqual(alarmIds(bare), ['DurationNearTimeout', 'Errors', 'SourceFailureRate', 'Throttles']);
  });

  it('explains each alarm and points at the README', () => {
    for (const props of Object.values(template.findResources(ALARM))) {
      assert.match((props as { Properties: { AlarmDescription: string } }).Properties.AlarmDescription, /See README\.md, "Operating it"\.$/);
    }
  });
});

describe('SseMonitoring alarm thresholds', () => {
  it('takes every threshold', () => {
    const { template } = build({ reservedConcurrentExecutions: 20 }, {
      alarms: { errors: 3, throttles: 2, sourceFailureRate: 10, durationNearTimeout: 95, concurrencyNearCap: 50, dynamoThrottles: 7 },
    });
    const thresholds = Object.fromEntries(['Errors', 'Throttles', 'SourceFailureRate', 'DurationNearTimeout', 'ConcurrencyNearCap', 'DynamoThrottles'].map((id) => [id, alarm(template, id).Threshold]));
    assert.deepEqual(thresholds, { Errors: 3, Throttles: 2, SourceFailureRate: 10, DurationNearTimeout: 285_000, ConcurrencyNearCap: 10, DynamoThrottles: 7 });
  });

  for (const [name, id] of [['errors', 'Errors'], ['throttles', 'Throttles'], ['sourceFailureRate', 'SourceFailureRate'], ['durationNearTimeout', 'DurationNearTimeout'], ['concurrencyNearCap', 'ConcurrencyNearCap'], ['dynamoThrottles', 'DynamoThrottles']] as const) {
    it(`leaves out the ${name} alarm on ${name}: false`, () => {
      const { template } = build({ reservedConcurrentExecutions: 20 }, { alarms: { [name]: false } });
      assert.ok(!alarmIds(template).includes(id));
      assert.equal(alarmIds(template).length, 5);
    });
  }

  it('leaves every alarm out on alarms: false', () => {
    const { template } = build({ reservedConcurrentExecutions: 20 }, { alarms: false });
    template.resourceCountIs(ALARM, 0);
    // The dashboard then has no alarm widget.
    assert.ok(!dashboardBody(template).widgets.some((w) => w.type === 'alarm'));
  });

  it('raises the default duration threshold above the longest planned response', () => {
    // Timeout 60 s, margin 2 s, window 120 s: responses end at 58 s; 90 % would be 54 s.
    const { monitoring, template } = build({ timeout: Duration.seconds(60) });
    assert.equal(monitoring.durationThresholdMs, 59_000);
    assert.equal(alarm(template, 'DurationNearTimeout').Threshold, 59_000);
  });

  it('has no source failure alarm when the function\'s metrics are off', () => {
    const { template } = build({ metrics: false });
    assert.ok(!alarmIds(template).includes('SourceFailureRate'));
  });
});

describe('SseMonitoring with the fronts (SseStreamStack)', () => {
  const stack = new SseStreamStack(testApp(), 'Fronts', {
    restApi: {},
    alb: { allowedCidrs: ['10.0.0.0/8'], allowPlainHttp: true },
    monitoring: { alarms: { restApiServerErrors: 4 } },
  });
  const template = Template.fromStack(stack);

  it('alarms on the REST API stage\'s 5XXError, sum over 5 minutes', () => {
    template.hasResourceProperties(ALARM, {
      ...COMMON,
      Namespace: 'AWS/ApiGateway',
      MetricName: '5XXError',
      Dimensions: Match.arrayWith([{ Name: 'ApiName', Value: Match.anyValue() }, { Name: 'Stage', Value: Match.anyValue() }]),
      Statistic: 'Sum',
      Period: 300,
      Threshold: 4,
    });
  });

  it('alarms on the ALB\'s HTTPCode_Target_5XX_Count of the function\'s target group', () => {
    template.hasResourceProperties(ALARM, {
      ...COMMON,
      Namespace: 'AWS/ApplicationELB',
      MetricName: 'HTTPCode_Target_5XX_Count',
      Dimensions: Match.arrayWith([Match.objectLike({ Name: 'LoadBalancer' }), Match.objectLike({ Name: 'TargetGroup' })]),
      Statistic: 'Sum',
      Period: 300,
      Threshold: 1,
    });
  });

  it('can leave each front alarm out', () => {
    const quiet = new SseStreamStack(testApp(), 'Quiet', {
      restApi: {},
      alb: { allowedCidrs: ['10.0.0.0/8'], allowPlainHttp: true },
      monitoring: { alarms: { restApiServerErrors: false, albTargetErrors: false } },
    });
    const names = Object.values(Template.fromStack(quiet).findResources(ALARM)).map((r) => (r as { Properties: { MetricName?: string } }).Properties.MetricName);
    assert.ok(!names.includes('5XXError') && !names.includes('HTTPCode_Target_5XX_Count'), names.join());
  });

  it('is left out, dashboard output and all, on monitoring: false', () => {
    const none = Template.fromStack(new SseStreamStack(testApp(), 'None', { monitoring: false }));
    none.resourceCountIs(ALARM, 0);
    none.resourceCountIs('AWS::CloudWatch::Dashboard', 0);
    assert.ok(!Object.keys(none.toJSON().Outputs).includes('DashboardUrl'));
  });
});

describe('SseMonitoring notifications', () => {
  it('creates an SSL-only topic with an email subscription, and every alarm notifies it when it fires and recovers', () => {
    const { template } = build({}, { alarmEmail: 'ops@example.com' });
    const [topicId] = Object.keys(template.findResources('AWS::SNS::Topic'));
    template.resourceCountIs('AWS::SNS::Topic', 1);
    template.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', Endpoint: 'ops@example.com', TopicArn: { Ref: topicId } });
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: { Statement: [Match.objectLike({ Effect: 'Deny', Action: 'sns:Publish', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })] },
    });
    const alarms = Object.values(template.findResources(ALARM)) as { Properties: { AlarmActions: unknown; OKActions: unknown } }[];
    assert.ok(alarms.length > 0);
    for (const a of alarms) {
      assert.deepEqual(a.Properties.AlarmActions, [{ Ref: topicId }]);
      assert.deepEqual(a.Properties.OKActions, [{ Ref: topicId }]);
    }
    const topic = Object.values(template.findResources('AWS::SNS::Topic'))[0] as { Metadata: { checkov: { skip: { id: string }[] } } };
    assert.deepEqual(topic.Metadata.checkov.skip.map((s) => s.id), ['CKV_AWS_26']);
  });

  it('notifies an existing topic by ARN, creating none', () => {
    const { template, monitoring } = build({}, { alarmTopicArn: TOPIC_ARN });
    template.resourceCountIs('AWS::SNS::Topic', 0);
    template.resourceCountIs('AWS::SNS::Subscription', 0);
    assert.equal(monitoring.topic?.topicArn, TOPIC_ARN);
    for (const a of Object.values(template.findResources(ALARM)) as { Properties: { AlarmActions: unknown; OKActions: unknown } }[]) {
      assert.deepEqual(a.Properties.AlarmActions, [TOPIC_ARN]);
      assert.deepEqual(a.Properties.OKActions, [TOPIC_ARN]);
    }
  });

  it('notifies nobody by default', () => {
    const { template, monitoring } = build();
    template.resourceCountIs('AWS::SNS::Topic', 0);
    assert.equal(monitoring.topic, undefined);
    for (const a of Object.values(template.findResources(ALARM)) as { Properties: Record<string, unknown> }[]) {
      assert.equal(a.Properties.AlarmActions, undefined);
    }
  });
});

describe('SseMonitoring dashboard', () => {
  it('shows open and started streams, end reasons, events per second, time to first event, refused requests, throttles and the cost drivers', () => {
    const { template } = build();
    const titles = dashboardBody(template).widgets.map((w) => w.properties.title);
    assert.deepEqual(titles, [
      'Alarms',
      'Streams open and started',
      'How streams ended (EndReason)',
      'Events sent per second',
      'Time to first event (ms)',
      'Refused requests by error code',
      'Throttles and errors',
      'Cost drivers',
      'Publish lag: publish to send (ms)',
    ]);
    const metrics = dashboardMetrics(template);
    for (const expected of [
      'AWS/Lambda ConcurrentExecutions FunctionName TOKEN',
      'LambdaSse StreamsStarted',
      ...['completed', 'window', 'deadline', 'size', 'failed', 'behind', 'disconnected'].map((reason) => `LambdaSse StreamsEnded EndReason ${reason}`),
      'LambdaSse EventsSent',
      'LambdaSse TimeToFirstEvent',
      'AWS/Lambda Throttles FunctionName TOKEN',
      'AWS/Lambda Errors FunctionName TOKEN',
      'LambdaSse SourceErrors',
      'LambdaSse Resumes',
      'AWS/Lambda Duration FunctionName TOKEN',
      'AWS/Lambda Invocations FunctionName TOKEN',
      'LambdaSse StoreReads',
      'LambdaSse PublishLag',
    ]) {
      assert.ok(metrics.includes(expected), `${expected} not in ${metrics.join('\n')}`);
    }
    const text = JSON.stringify(dashboardBody(template));
    assert.match(text, /events \/ PERIOD\(events\)/);
    assert.match(text, /duration \/ 1000 \* 128 \/ 1024/);
    assert.match(text, /SEARCH\('\{\\"LambdaSse\\",\\"ErrorCode\\"\} MetricName=\\"RefusedRequests\\"', 'Sum', 300\)/);
    assert.match(text, /"stat":"p50"/);
    assert.match(text, /"stat":"p99"/);
  });

  it('reads the function\'s own namespace', () => {
    const { template } = build({ metricsNamespace: 'Sse/Prod' });
    const own = dashboardMetrics(template).filter((m) => !m.startsWith('AWS/') && !m.startsWith('expression'));
    assert.ok(own.length > 0);
    for (const m of own) assert.match(m, /^Sse\/Prod /);
    template.hasResourceProperties(ALARM, { Metrics: Match.arrayWith([Match.objectLike({ MetricStat: Match.objectLike({ Metric: { MetricName: 'SourceErrors', Namespace: 'Sse/Prod' } }) })]) });
  });

  it('shows only AWS metrics when the function\'s metrics are off', () => {
    const { template } = build({ metrics: false });
    const metrics = dashboardMetrics(template);
    assert.ok(metrics.length > 0);
    for (const m of metrics) assert.match(m, /^(AWS\/Lambda |expression )/);
  });

  it('is left out on dashboard: false', () => {
    const { template, monitoring } = build({}, { dashboard: false });
    template.resourceCountIs('AWS::CloudWatch::Dashboard', 0);
    assert.equal(monitoring.dashboard, undefined);
  });
});

describe('SseFunction metrics and tracing', () => {
  it('turns metrics on into the default namespace, without tracing, by default', () => {
    const { template } = buildFunction();
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ SSE_METRICS: 'on', SSE_METRICS_NAMESPACE: METRICS.defaultNamespace }) },
      TracingConfig: Match.absent(),
    });
    assert.equal(METRICS.defaultNamespace, 'LambdaSse');
  });

  it('passes metrics: false and metricsNamespace', () => {
    const { template, sse } = buildFunction({ metrics: false, metricsNamespace: 'Sse/Prod' });
    template.hasResourceProperties('AWS::Lambda::Function', { Environment: { Variables: Match.objectLike({ SSE_METRICS: 'off', SSE_METRICS_NAMESPACE: 'Sse/Prod' }) } });
    assert.equal(sse.metricsEnabled, false);
    assert.equal(sse.metricsNamespace, 'Sse/Prod');
  });

  it('turns on X-Ray active tracing with the X-Ray write actions on its role', () => {
    const { template } = buildFunction({ tracing: true });
    template.hasResourceProperties('AWS::Lambda::Function', { TracingConfig: { Mode: 'Active' } });
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Action: ['xray:PutTelemetryRecords', 'xray:PutTraceSegments'], Resource: '*' })]) },
    });
  });
});

describe('rejects', () => {
  const cases: [string, SseFunctionProps, Partial<SseMonitoringProps>, RegExp, boolean?][] = [
    ['a count threshold below 1', {}, { alarms: { errors: 0 } }, /alarms\.errors must be an integer of at least 1 \(per 5 minutes\), got 0/],
    ['a fractional count threshold', {}, { alarms: { throttles: 1.5 } }, /alarms\.throttles must be an integer of at least 1 \(per 5 minutes\), got 1\.5/],
    ['a share above 100 %', {}, { alarms: { sourceFailureRate: 101 } }, /alarms\.sourceFailureRate must be an integer from 1 to 100 \(%\), got 101/],
    ['a duration threshold at or below the longest planned response', {}, { alarms: { durationNearTimeout: 40 } },
      /alarms\.durationNearTimeout \(40 % of 300000 ms = 120000 ms\) must be above the longest planned response \(min\(window, timeout - deadline margin\) = 120000 ms\): it would fire on every long stream; raise it, or lower stream\.windowMs/],
    ['a source failure threshold with metrics off', { metrics: false }, { alarms: { sourceFailureRate: 5 } }, /alarms\.sourceFailureRate needs the function's metrics, which are off: set metrics to true, or remove alarms\.sourceFailureRate/],
    ['a concurrency threshold without reserved concurrency', {}, { alarms: { concurrencyNearCap: 80 } }, /alarms\.concurrencyNearCap needs reserved concurrency: set reservedConcurrentExecutions, or remove/],
    ['a REST API threshold without a REST API', {}, { alarms: { restApiServerErrors: 1 } }, /alarms\.restApiServerErrors needs a REST API: give restApi, or remove/],
    ['an ALB threshold without an ALB', {}, { alarms: { albTargetErrors: 1 } }, /alarms\.albTargetErrors needs an ALB: give alb, or remove/],
    ['a table threshold without a table', {}, { alarms: { dynamoThrottles: 1 } }, /alarms\.dynamoThrottles needs a table of durable streams: give streamsTable, or remove/, false],
    ['a topic ARN that is not one', {}, { alarmTopicArn: 'ops-alarms' }, /alarmTopicArn must be a standard SNS topic ARN \(arn:aws:sns:<region>:<account>:<name>, no \.fifo\), got "ops-alarms"/],
    ['a FIFO topic', {}, { alarmTopicArn: `${TOPIC_ARN}.fifo` }, /alarmTopicArn must be a standard SNS topic ARN/],
    ['a bad email', {}, { alarmEmail: 'ops' }, /alarmEmail must be an email address like ops@example\.com, got "ops"/],
    ['an email and a topic ARN', {}, { alarmEmail: 'ops@example.com', alarmTopicArn: TOPIC_ARN }, /alarmEmail subscribes to a topic this construct creates, and alarmTopicArn names an existing one/],
    ['a topic with the alarms off', {}, { alarms: false, alarmTopicArn: TOPIC_ARN }, /alarmTopicArn and alarmEmail notify of alarms, and alarms is false/],
  ];
  for (const [name, fn, props, expected, withTable] of cases) {
    it(name, () => assert.match(propsError(fn, props, withTable ?? true), expected));
  }

  it('every problem in one message', () => {
    const message = propsError({}, { alarms: { errors: 0, throttles: 0 }, alarmEmail: 'x' });
    assert.match(message, /^Invalid props for SseMonitoring at Test\/Monitoring; change:\n/);
    assert.equal(message.split('\n').length, 4, message);
  });

  it('a metrics namespace CloudWatch refuses, on SseFunction', () => {
    for (const namespace of ['', 'AWS/Lambda', 'bad,name', 'x'.repeat(256)]) {
      assert.throws(() => buildFunction({ metricsNamespace: namespace }), /metricsNamespace must be 1 to 255 of A-Z a-z 0-9 \. - _ \/ # : and space, not starting with AWS\//);
    }
  });

  it('the metrics variables in environment, on SseFunction', () => {
    assert.throws(() => buildFunction({ environment: { SSE_METRICS: 'off', SSE_METRICS_NAMESPACE: 'x' } }), /environment sets SSE_METRICS, SSE_METRICS_NAMESPACE, which the construct sets from .*metrics and metricsNamespace/);
  });
});

describe('the monitoring checks', () => {
  it('checkMetricsNamespace takes what the function takes', () => {
    for (const ok of ['LambdaSse', 'Sse/Prod', 'my app: sse#1', 'a.b-c_d']) assert.equal(checkMetricsNamespace(ok), undefined, ok);
    for (const bad of ['', 'AWS/Lambda', 'é', 'a,b', 'x'.repeat(256)]) assert.ok(checkMetricsNamespace(bad), bad);
  });

  it('checkSnsTopicArn takes standard topic ARNs of any partition', () => {
    for (const ok of [TOPIC_ARN, 'arn:aws-us-gov:sns:us-gov-west-1:123456789012:a_b-c']) assert.equal(checkSnsTopicArn(ok), undefined, ok);
    for (const bad of ['', 'ops', `${TOPIC_ARN}.fifo`, 'arn:aws:sqs:eu-west-1:123456789012:q', 'arn:aws:sns:eu-west-1:1234:x']) assert.ok(checkSnsTopicArn(bad), bad);
  });

  it('checkEmail takes addresses with a domain', () => {
    for (const ok of ['ops@example.com', 'a.b+alarms@mail.example.co.uk']) assert.equal(checkEmail(ok), undefined, ok);
    for (const bad of ['', 'ops', 'ops@example', 'o ps@example.com', 'a@b@c.com']) assert.ok(checkEmail(bad), bad);
  });

  it('the generated metrics section must name every metric and dimension the app uses', () => {
    assert.throws(() => checkMetricsContract({ ...METRICS, names: { ...METRICS.names, sourceErrors: undefined } }), /its "metrics" section has no names\.sourceErrors, which cdk\/function-settings\.ts uses; regenerate the file/);
    assert.throws(() => checkMetricsContract(undefined), /has no namespaceVariable, switchVariable, defaultNamespace, names\.streamsStarted/);
    assert.deepEqual(checkMetricsContract(METRICS), METRICS);
  });
});

describe('README.md, "Operating it"', () => {
  it('says what each alarm means and what to do', () => {
    const readme = fs.readFileSync(path.join(REPO_ROOT, 'README.md'), 'utf8');
    const section = readme.slice(readme.indexOf('## Operating it'), readme.indexOf('## Benchmarks'));
    for (const name of ALARM_NAMES) {
      const id = name[0].toUpperCase() + name.slice(1);
      assert.ok(section.split('\n').some((line) => line.startsWith(`| \`${id}\` |`) && line.split('|').length === 6), `no row for ${id}`);
    }
  });
});
