import { Duration, Validations } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cloudwatchActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';
import { skipCheckov } from './checkov';
import { END_REASONS, METRIC_DIMENSIONS, METRIC_NAMES } from './function-settings';
import type { SseAlb } from './sse-alb';
import type { SseFunction } from './sse-function';
import type { SseRestApi } from './sse-rest-api';
import { SseTable } from './sse-table';
import { type IntegerRange, LIMITS, checkEmail, checkIntegerInRange, checkSnsTopicArn } from './validation';

/** Every alarm looks at 5-minute periods and fires on one breaching period. */
export const ALARM_PERIOD = Duration.minutes(5);

/**
 * Each alarm's threshold; a number changes it, `false` leaves the alarm out.
 * Count alarms fire at that many or more in 5 minutes; share alarms at that
 * percentage or more.
 */
export interface SseAlarmThresholds {
  /**
   * Function errors (`AWS/Lambda` `Errors`, sum): invocations that failed
   * or were cut by the timeout. Integer of at least 1 (per 5 minutes).
   *
   * @default 1
   */
  readonly errors?: number | false;
  /**
   * Throttles (`AWS/Lambda` `Throttles`, sum): callers that got 429 because
   * the reserved concurrency or the account's pool was used up. Integer of
   * at least 1 (per 5 minutes).
   *
   * @default 1
   */
  readonly throttles?: number | false;
  /**
   * Source failures as a share of streams, in % (`SourceErrors` /
   * `StreamsStarted` of the function's metrics, no dimension). Integer from
   * 1 to 100. Needs the function's metrics (`metrics`).
   *
   * @default 5
   */
  readonly sourceFailureRate?: number | false;
  /**
   * p99 `Duration` close to the timeout, in % of the timeout: responses not
   * ending at their window or deadline margin but running until Lambda cuts
   * them. Integer from 1 to 100, above the longest planned response
   * (min(window, timeout - deadline margin)).
   *
   * @default 90, or halfway between the longest planned response and the timeout when that is above 90 %
   */
  readonly durationNearTimeout?: number | false;
  /**
   * Concurrent executions (`ConcurrentExecutions`, maximum) near the
   * reserved concurrency, in % of it: open streams close to the cap, after
   * which callers get 429. Integer from 1 to 100. Only with
   * `reservedConcurrentExecutions`.
   *
   * @default 80, when the function has reserved concurrency
   */
  readonly concurrencyNearCap?: number | false;
  /**
   * The REST API's 5XX answers (`AWS/ApiGateway` `5XXError` of its stage,
   * sum). Integer of at least 1 (per 5 minutes). Only with `restApi`.
   *
   * @default 1, when there is a REST API
   */
  readonly restApiServerErrors?: number | false;
  /**
   * The ALB's target errors (`AWS/ApplicationELB`
   * `HTTPCode_Target_5XX_Count` of the function's target group, sum).
   * Integer of at least 1 (per 5 minutes). Only with `alb`.
   *
   * @default 1, when there is an ALB
   */
  readonly albTargetErrors?: number | false;
  /**
   * Throttled requests on the streams table (`AWS/DynamoDB`
   * `ReadThrottleEvents` + `WriteThrottleEvents`, sum). Integer of at least
   * 1 (per 5 minutes). Only with `streamsTable`.
   *
   * @default 1, when there is a table
   */
  readonly dynamoThrottles?: number | false;
}

/** The name of each alarm, as props, context keys (`sse:alarm<Name>`) and the README say it. */
export type SseAlarmName = keyof SseAlarmThresholds;

/** Each alarm's default threshold and its range. */
export const ALARM_DEFAULTS: { readonly [K in SseAlarmName]-?: { readonly threshold: number; readonly range: IntegerRange } } = {
  errors: { threshold: 1, range: LIMITS.alarmCount },
  throttles: { threshold: 1, range: LIMITS.alarmCount },
  sourceFailureRate: { threshold: 5, range: LIMITS.alarmPercent },
  durationNearTimeout: { threshold: 90, range: LIMITS.alarmPercent },
  concurrencyNearCap: { threshold: 80, range: LIMITS.alarmPercent },
  restApiServerErrors: { threshold: 1, range: LIMITS.alarmCount },
  albTargetErrors: { threshold: 1, range: LIMITS.alarmCount },
  dynamoThrottles: { threshold: 1, range: LIMITS.alarmCount },
};

/** Every alarm, in the order the README lists them. */
export const ALARM_NAMES = Object.keys(ALARM_DEFAULTS) as SseAlarmName[];

/** How the stack (and the context keys) configure monitoring. */
export interface SseMonitoringOptions {
  /**
   * The alarms and their thresholds; `false` leaves every alarm out.
   *
   * @default - every alarm that applies, at its default threshold
   */
  readonly alarms?: SseAlarmThresholds | false;
  /**
   * An existing standard SNS topic the alarms notify (when they fire and
   * when they recover), by ARN. Not with `alarmEmail`.
   *
   * @default - a new topic when `alarmEmail` is given, else no notification (the alarms only change state)
   */
  readonly alarmTopicArn?: string;
  /**
   * An email address to notify: a new SNS topic is created for the alarms
   * and the address subscribed to it (AWS sends a confirmation email first).
   * Not with `alarmTopicArn`.
   *
   * @default - no email
   */
  readonly alarmEmail?: string;
  /**
   * A CloudWatch dashboard of the function: open and started streams, how
   * they ended, events per second, time to first event, refused requests,
   * throttles and errors, and the cost drivers. A dashboard costs 3 USD a
   * month beyond the account's first three.
   *
   * @default true
   */
  readonly dashboard?: boolean;
}

export interface SseMonitoringProps extends SseMonitoringOptions {
  /** The function to watch. */
  readonly sseFunction: SseFunction;
  /**
   * The REST API in front of it, for its 5XX alarm.
   *
   * @default - none
   */
  readonly restApi?: SseRestApi;
  /**
   * The ALB in front of it, for its target errors alarm.
   *
   * @default - none
   */
  readonly alb?: SseAlb;
  /**
   * The table of durable streams, for its throttling alarm.
   *
   * @default - the function's own `streamsTable`, if any
   */
  readonly streamsTable?: SseTable | dynamodb.ITable;
}

/**
 * Alarms, an optional SNS topic they notify, and a dashboard for an
 * `SseFunction` and the fronts and table around it. The function's own
 * metrics come from its Embedded Metric Format log lines, in its
 * `metricsNamespace`.
 */
export class SseMonitoring extends Construct {
  /** The alarms, by name. */
  public readonly alarms: { readonly [K in SseAlarmName]?: cloudwatch.Alarm };
  /** The topic the alarms notify, when there is one. */
  public readonly topic?: sns.ITopic;
  /** The dashboard, unless `dashboard` is false. */
  public readonly dashboard?: cloudwatch.Dashboard;
  /** What the p99 duration alarm fires at, in ms, when there is one. */
  public readonly durationThresholdMs?: number;

  private readonly sse: SseFunction;

  constructor(scope: Construct, id: string, props: SseMonitoringProps) {
    super(scope, id);
    const sse = props.sseFunction;
    this.sse = sse;
    const table = props.streamsTable instanceof SseTable ? props.streamsTable.table : props.streamsTable ?? sse.streamsTable;
    const given: SseAlarmThresholds = props.alarms === false ? {} : props.alarms ?? {};

    const problems: string[] = [];
    for (const name of ALARM_NAMES) {
      const value = given[name];
      if (typeof value === 'number') {
        const problem = checkIntegerInRange(value, ALARM_DEFAULTS[name].range);
        if (problem) problems.push(`alarms.${name} ${problem}`);
      }
    }
    const needs: [SseAlarmName, boolean, string][] = [
      ['sourceFailureRate', sse.metricsEnabled, 'the function\'s metrics, which are off: set metrics to true'],
      ['concurrencyNearCap', sse.reservedConcurrentExecutions !== undefined, 'reserved concurrency: set reservedConcurrentExecutions'],
      ['restApiServerErrors', props.restApi !== undefined, 'a REST API: give restApi'],
      ['albTargetErrors', props.alb !== undefined, 'an ALB: give alb'],
      ['dynamoThrottles', table !== undefined, 'a table of durable streams: give streamsTable'],
    ];
    for (const [name, present, what] of needs) {
      if (typeof given[name] === 'number' && !present) problems.push(`alarms.${name} needs ${what}, or remove alarms.${name}`);
    }
    const timeoutMs = sse.timeout.toMilliseconds();
    const plannedMs = Math.min(sse.streamSettings.windowMs, timeoutMs - sse.streamSettings.deadlineMarginMs);
    const durationPercent = given.durationNearTimeout;
    if (typeof durationPercent === 'number' && !checkIntegerInRange(durationPercent, LIMITS.alarmPercent) && (durationPercent * timeoutMs) / 100 <= plannedMs) {
      problems.push(
        `alarms.durationNearTimeout (${durationPercent} % of ${timeoutMs} ms = ${(durationPercent * timeoutMs) / 100} ms) must be above the longest planned response ` +
          `(min(window, timeout - deadline margin) = ${plannedMs} ms): it would fire on every long stream; raise it, or lower stream.windowMs`,
      );
    }
    if (props.alarmTopicArn !== undefined) {
      const problem = checkSnsTopicArn(props.alarmTopicArn);
      if (problem) problems.push(`alarmTopicArn ${problem}`);
    }
    if (props.alarmEmail !== undefined) {
      const problem = checkEmail(props.alarmEmail);
      if (problem) problems.push(`alarmEmail ${problem}`);
    }
    if (props.alarmTopicArn !== undefined && props.alarmEmail !== undefined) {
      problems.push('alarmEmail subscribes to a topic this construct creates, and alarmTopicArn names an existing one: subscribe the address to that topic yourself, or remove alarmTopicArn');
    }
    if (props.alarms === false && (props.alarmTopicArn !== undefined || props.alarmEmail !== undefined)) {
      problems.push('alarmTopicArn and alarmEmail notify of alarms, and alarms is false: remove them, or turn the alarms on');
    }
    if (problems.length > 0) {
      throw new Error(`Invalid props for SseMonitoring at ${this.node.path}; change:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    }

    if (props.alarmTopicArn !== undefined) {
      this.topic = sns.Topic.fromTopicArn(this, 'AlarmTopic', props.alarmTopicArn);
    } else if (props.alarmEmail !== undefined) {
      const topic = new sns.Topic(this, 'AlarmTopic', { displayName: 'lambda-sse alarms', enforceSSL: true });
      topic.addSubscription(new subscriptions.EmailSubscription(props.alarmEmail));
      const reason = 'The topic carries CloudWatch alarm notifications (alarm name, state, metric values), no secret; CloudWatch can publish to an encrypted topic only with a customer managed KMS key whose policy admits it, which would add a key to manage and a monthly charge. Publishing needs TLS (enforceSSL).';
      Validations.of(topic).acknowledge({ id: 'AwsSolutions-SNS2', reason });
      skipCheckov(topic, 'CKV_AWS_26', reason);
      this.topic = topic;
    }

    // Which alarms apply, with their thresholds.
    const threshold = (name: SseAlarmName, applies: boolean): number | undefined => {
      if (props.alarms === false || !applies) return undefined;
      const value = given[name];
      return value === false ? undefined : value ?? ALARM_DEFAULTS[name].threshold;
    };
    const alarms: { [K in SseAlarmName]?: cloudwatch.Alarm } = {};
    const fn = sse.function;
    const sum = { statistic: cloudwatch.Stats.SUM, period: ALARM_PERIOD };

    const errors = threshold('errors', true);
    if (errors !== undefined) {
      alarms.errors = this.alarm('Errors', fn.metricErrors(sum), errors,
        `${errors} or more invocations of ${fn.node.path} failed in 5 minutes (AWS/Lambda Errors): a panic, a failure before the response, or a timeout. Look for ERROR lines in the function's log group.`);
    }
    const throttles = threshold('throttles', true);
    if (throttles !== undefined) {
      alarms.throttles = this.alarm('Throttles', fn.metricThrottles(sum), throttles,
        `${throttles} or more callers got 429 in 5 minutes (AWS/Lambda Throttles): the reserved concurrency or the account's pool is used up. Raise the cap or the account quota, or shorten the window.`);
    }
    const sourceFailureRate = threshold('sourceFailureRate', sse.metricsEnabled);
    if (sourceFailureRate !== undefined) {
      const rate = new cloudwatch.MathExpression({
        expression: 'IF(started > 0, 100 * failed / started, 0)',
        usingMetrics: { failed: this.functionMetric(METRIC_NAMES.sourceErrors), started: this.functionMetric(METRIC_NAMES.streamsStarted) },
        period: ALARM_PERIOD,
        label: 'Source failures (% of streams)',
      });
      alarms.sourceFailureRate = this.alarm('SourceFailureRate', rate, sourceFailureRate,
        `${sourceFailureRate} % or more of the streams in 5 minutes ended with their source failing (${sse.metricsNamespace} SourceErrors / StreamsStarted): clients got an error event. The source's error text is in ERROR lines.`);
    }
    const durationPercentUsed = threshold('durationNearTimeout', true);
    if (durationPercentUsed !== undefined) {
      const thresholdMs = given.durationNearTimeout === undefined
        ? Math.max(Math.round(timeoutMs * 0.9), Math.round((plannedMs + timeoutMs) / 2))
        : Math.round((durationPercentUsed * timeoutMs) / 100);
      this.durationThresholdMs = thresholdMs;
      alarms.durationNearTimeout = this.alarm('DurationNearTimeout', fn.metricDuration({ statistic: cloudwatch.Stats.p(99), period: ALARM_PERIOD }), thresholdMs,
        `p99 Duration reached ${thresholdMs} ms of the ${timeoutMs} ms timeout in 5 minutes: responses are not ending at their window (${sse.streamSettings.windowMs} ms) or deadline margin but run until Lambda cuts them.`);
    }
    const reserved = sse.reservedConcurrentExecutions;
    const concurrencyPercent = threshold('concurrencyNearCap', reserved !== undefined);
    if (concurrencyPercent !== undefined && reserved !== undefined) {
      const executions = Math.max(1, Math.ceil((reserved * concurrencyPercent) / 100));
      alarms.concurrencyNearCap = this.alarm('ConcurrencyNearCap', fn.metric('ConcurrentExecutions', { statistic: cloudwatch.Stats.MAXIMUM, period: ALARM_PERIOD }), executions,
        `${executions} or more concurrent executions (${concurrencyPercent} % of the reserved ${reserved}) in 5 minutes: open streams are near the cap, beyond which callers get 429.`);
    }
    const restApiServerErrors = threshold('restApiServerErrors', props.restApi !== undefined);
    if (restApiServerErrors !== undefined && props.restApi) {
      alarms.restApiServerErrors = this.alarm('RestApiServerErrors', props.restApi.stage.metricServerError(sum), restApiServerErrors,
        `${restApiServerErrors} or more 5XX answers from the REST API stage in 5 minutes (AWS/ApiGateway 5XXError): the function failed or was throttled behind API Gateway. Its access log has the status and integration error.`);
    }
    const albTargetErrors = threshold('albTargetErrors', props.alb !== undefined);
    if (albTargetErrors !== undefined && props.alb) {
      alarms.albTargetErrors = this.alarm('AlbTargetErrors', props.alb.targetGroup.metrics.httpCodeTarget(elbv2.HttpCodeTarget.TARGET_5XX_COUNT, sum), albTargetErrors,
        `${albTargetErrors} or more 5XX answers from the function behind the ALB in 5 minutes (AWS/ApplicationELB HTTPCode_Target_5XX_Count): failed or throttled invocations. The ALB's access logs have each request.`);
    }
    const dynamoThrottles = threshold('dynamoThrottles', table !== undefined);
    if (dynamoThrottles !== undefined && table) {
      const throttled = new cloudwatch.MathExpression({
        expression: 'reads + writes',
        usingMetrics: { reads: table.metric('ReadThrottleEvents', sum), writes: table.metric('WriteThrottleEvents', sum) },
        period: ALARM_PERIOD,
        label: 'Throttled reads and writes',
      });
      alarms.dynamoThrottles = this.alarm('DynamoThrottles', throttled, dynamoThrottles,
        `${dynamoThrottles} or more throttled reads or writes on the streams table in 5 minutes (AWS/DynamoDB Read/WriteThrottleEvents): subscribers poll or producers publish faster than the table allows. Raise pollMinMs, or the table's limits.`);
    }
    this.alarms = alarms;

    if (props.dashboard ?? true) this.dashboard = this.buildDashboard(table);
  }

  /** A metric of the function's own, in its namespace, with no dimension (the aggregate). */
  public functionMetric(metricName: string, options: cloudwatch.MetricOptions = {}): cloudwatch.Metric {
    return new cloudwatch.Metric({ namespace: this.sse.metricsNamespace, metricName, statistic: cloudwatch.Stats.SUM, period: ALARM_PERIOD, ...options });
  }

  private alarm(id: string, metric: cloudwatch.IMetric, threshold: number, description: string): cloudwatch.Alarm {
    const alarm = new cloudwatch.Alarm(this, id, {
      metric,
      threshold,
      evaluationPeriods: 1,
      datapointsToAlarm: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      // No data means no streams, no errors: nothing is wrong.
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      alarmDescription: `${description} See README.md, "Operating it".`,
    });
    if (this.topic) {
      const action = new cloudwatchActions.SnsAction(this.topic);
      alarm.addAlarmAction(action);
      alarm.addOkAction(action);
    }
    return alarm;
  }

  private buildDashboard(table: dynamodb.ITable | undefined): cloudwatch.Dashboard {
    const sse = this.sse;
    const fn = sse.function;
    const period = ALARM_PERIOD;
    const sum = { statistic: cloudwatch.Stats.SUM, period };
    const own = sse.metricsEnabled;
    const dashboard = new cloudwatch.Dashboard(this, 'Dashboard', { defaultInterval: Duration.hours(3) });
    const widgets: cloudwatch.IWidget[] = [];
    const graph = (title: string, left: cloudwatch.IMetric[], right: cloudwatch.IMetric[] = [], stacked = false): cloudwatch.GraphWidget =>
      new cloudwatch.GraphWidget({ title, left, right, stacked, width: 12, height: 6 });

    widgets.push(graph(
      'Streams open and started',
      [fn.metric('ConcurrentExecutions', { statistic: cloudwatch.Stats.MAXIMUM, period, label: 'Open streams (concurrent executions, max)' })],
      own ? [this.functionMetric(METRIC_NAMES.streamsStarted, { label: 'Streams started' })] : [],
    ));
    if (own) {
      widgets.push(graph(
        'How streams ended (EndReason)',
        END_REASONS.map((reason) => this.functionMetric(METRIC_NAMES.streamsEnded, { dimensionsMap: { [METRIC_DIMENSIONS.endReason]: reason }, label: reason })),
        [],
        true,
      ));
      const events = this.functionMetric(METRIC_NAMES.eventsSent);
      widgets.push(graph('Events sent per second', [new cloudwatch.MathExpression({ expression: 'events / PERIOD(events)', usingMetrics: { events }, period, label: 'Events per second' })]));
      widgets.push(graph('Time to first event (ms)', [
        this.functionMetric(METRIC_NAMES.timeToFirstEvent, { statistic: cloudwatch.Stats.p(50), label: 'p50' }),
        this.functionMetric(METRIC_NAMES.timeToFirstEvent, { statistic: cloudwatch.Stats.p(99), label: 'p99' }),
      ]));
      const namespace = JSON.stringify(sse.metricsNamespace);
      widgets.push(graph('Refused requests by error code', [new cloudwatch.MathExpression({
        expression: `SEARCH('{${namespace},${JSON.stringify(METRIC_DIMENSIONS.errorCode)}} MetricName=${JSON.stringify(METRIC_NAMES.refusedRequests)}', 'Sum', ${period.toSeconds()})`,
        usingMetrics: {},
        period,
        label: '',
      })], [], true));
    }
    widgets.push(graph(
      'Throttles and errors',
      [fn.metricThrottles({ ...sum, label: 'Throttles (429)' }), fn.metricErrors({ ...sum, label: 'Function errors' })],
      own ? [this.functionMetric(METRIC_NAMES.sourceErrors, { label: 'Source errors' }), this.functionMetric(METRIC_NAMES.resumes, { label: 'Resumes' })] : [],
    ));
    const gbSeconds = new cloudwatch.MathExpression({
      expression: `duration / 1000 * ${sse.memorySize} / 1024`,
      usingMetrics: { duration: fn.metricDuration(sum) },
      period,
      label: `Duration, GB-seconds (${sse.memorySize} MB)`,
    });
    widgets.push(graph(
      'Cost drivers',
      [gbSeconds, fn.metricInvocations({ ...sum, label: 'Invocations' })],
      own && table ? [this.functionMetric(METRIC_NAMES.storeReads, { label: 'Store reads (DynamoDB queries)' })] : [],
    ));
    if (own && table) {
      widgets.push(graph('Publish lag: publish to send (ms)', [
        this.functionMetric(METRIC_NAMES.publishLag, { statistic: cloudwatch.Stats.p(50), label: 'p50' }),
        this.functionMetric(METRIC_NAMES.publishLag, { statistic: cloudwatch.Stats.p(99), label: 'p99' }),
      ]));
    }
    const alarms = Object.values(this.alarms).filter((a): a is cloudwatch.Alarm => a !== undefined);
    if (alarms.length > 0) dashboard.addWidgets(new cloudwatch.AlarmStatusWidget({ title: 'Alarms', alarms, width: 24, height: 3 }));
    for (let i = 0; i < widgets.length; i += 2) dashboard.addWidgets(...widgets.slice(i, i + 2));
    return dashboard;
  }
}
