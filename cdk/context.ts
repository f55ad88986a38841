/**
 * `cdk deploy -c sse:key=value` -> typed, validated props.
 *
 * Which keys are checked: every key this app reads starts with `sse:`. A key
 * with that prefix that the app does not know fails synth (a typo must not be
 * silently ignored), and so does a known name typed without the prefix
 * (`-c memory=256`). Every other key belongs to someone else (CDK's own
 * `aws:cdk:*` keys, feature flags, cached lookups in cdk.context.json) and
 * is left alone.
 */
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as apigateway from 'aws-cdk-lib/aws-apigateway';
import type { SseAlbOidcOptions, SseAlbOptions } from './sse-alb';
import { DEFAULT_REST_API_THROTTLE_BURST, DEFAULT_REST_API_THROTTLE_RATE, type SseRestApiAuthorization, type SseRestApiOptions } from './sse-rest-api';
import {
  DEFAULT_DURABLE_SETTINGS,
  DEFAULT_LOG_RETENTION,
  DEFAULT_MEMORY_MB,
  DEFAULT_JOB_SETTINGS,
  DURABLE_ENVIRONMENT,
  DEFAULT_STREAM_SETTINGS,
  JOB_ENVIRONMENT,
  DEFAULT_TIMEOUT,
  STREAM_ENVIRONMENT,
  type SseDurableSettings,
  type SseFunctionProps,
  type SseStreamSettings,
} from './sse-function';
import { DEFAULT_PUBLISH_SETTINGS, PUBLISH_ENVIRONMENT, type SseTableProps } from './sse-table';
import {
  DEFAULT_MANAGED_INSTANCES_MAX_CONCURRENCY,
  DEFAULT_MANAGED_INSTANCES_MAX_VCPUS,
  DEFAULT_MANAGED_INSTANCES_MEMORY_PER_VCPU,
  DEFAULT_MANAGED_INSTANCES_MIN_ENVIRONMENTS,
  MANAGED_INSTANCES_DEFAULT_MEMORY_MB,
  MANAGED_INSTANCES_LIMITS,
  type SseManagedInstancesOptions,
  checkInstanceType,
} from './sse-managed-instances';
import { METRICS, PAGE_PATHS } from './function-settings';
import { DEFAULT_PIPELINE_BRANCH, DEFAULT_PIPELINE_STAGE, checkBranchName, checkConnectionArn, checkRepository, parseStageSpec } from './sse-pipeline';
import { ALARM_DEFAULTS, ALARM_NAMES, type SseAlarmName, type SseAlarmThresholds, type SseMonitoringOptions } from './sse-monitoring';
import {
  type IntegerRange,
  LIMITS,
  checkAcmCertificateArn,
  checkCorsOrigin,
  checkDomainName,
  checkEmail,
  checkHttpsUrl,
  checkMetricsNamespace,
  checkSnsTopicArn,
  checkIntegerInRange,
  checkInvoker,
  checkIpv4Cidr,
  checkOAuthScope,
  checkSecretNameOrArn,
  checkUserPoolArn,
  checkWebAclArn,
  checkRoleArn,
  checkStackName,
  describeRange,
} from './validation';

export const CONTEXT_PREFIX = 'sse:';
export const DEFAULT_STACK_NAME = 'SseStreamStack';

/** What the app builds from its context. */
export interface AppSettings {
  readonly stackName: string;
  readonly sseFunction: SseFunctionProps;
  /** The ALB, when `-c sse:alb=true`. */
  readonly alb?: SseAlbOptions;
  /** The REST API, when `-c sse:restApi=true`. */
  readonly restApi?: SseRestApiOptions;
  /** The table of durable streams; false on `-c sse:durableStreams=false`. */
  readonly streamsTable: SseTableProps | false;
  /** Alarms, topic and dashboard; false when `-c sse:alarms=false` and `-c sse:dashboard=false`. */
  readonly monitoring: SseMonitoringOptions | false;
  /** The pipeline, when `-c sse:pipeline=true`: the app then deploys `SsePipelineStack` instead of the stream stack. */
  readonly pipeline?: PipelineSettings;
  /** Lambda Managed Instances, when `-c sse:managedInstances=true`; false otherwise. */
  readonly managedInstances: SseManagedInstancesOptions | false;
}

/** What `-c sse:pipeline*` configures; the other keys configure every stage's stream stack. */
export interface PipelineSettings {
  readonly connectionArn: string;
  readonly repository: string;
  readonly branch: string;
  /** In order; every stage after the first waits for an approval unless `sse:pipelineApprovals=false`. */
  readonly stages: { readonly name: string; readonly env?: { readonly account: string; readonly region: string }; readonly approval: boolean }[];
}

/** One context key as the docs and error messages describe it. */
export interface ContextKey {
  /** The full key, e.g. `sse:memory`. */
  readonly key: string;
  readonly allowed: string;
  readonly defaultValue: string;
}

const ARCHITECTURES: Record<string, lambda.Architecture> = {
  arm64: lambda.Architecture.ARM_64,
  x86_64: lambda.Architecture.X86_64,
};
const AUTH_TYPES: Record<string, lambda.FunctionUrlAuthType> = {
  AWS_IAM: lambda.FunctionUrlAuthType.AWS_IAM,
  NONE: lambda.FunctionUrlAuthType.NONE,
};
const BOOLEANS: Record<string, boolean> = { true: true, false: false };
/** The monitoring switches also take on | off. */
const SWITCHES: Record<string, boolean> = { ...BOOLEANS, on: true, off: false };

/** `sse:alarm<Name>` for each alarm: `errors` -> `sse:alarmErrors`. */
export function alarmKey(name: SseAlarmName): string {
  return `sse:alarm${name[0].toUpperCase()}${name.slice(1)}`;
}
/** What each alarm key needs besides itself, as the message says it. */
const ALARM_KEY_NEEDS: Partial<Record<SseAlarmName, string>> = {
  sourceFailureRate: 'the function\'s metrics (sse:metrics=true, the default)',
  concurrencyNearCap: 'sse:reservedConcurrency',
  restApiServerErrors: 'sse:restApi=true',
  albTargetErrors: 'sse:alb=true',
  dynamoThrottles: 'the durable streams table (sse:durableStreams=true, the default)',
};
const ALARM_KEY_DEFAULTS: Record<SseAlarmName, string> = {
  errors: String(ALARM_DEFAULTS.errors.threshold),
  throttles: String(ALARM_DEFAULTS.throttles.threshold),
  sourceFailureRate: String(ALARM_DEFAULTS.sourceFailureRate.threshold),
  durationNearTimeout: `(${ALARM_DEFAULTS.durationNearTimeout.threshold}, or halfway between the longest planned response and the timeout when that is higher)`,
  concurrencyNearCap: `(${ALARM_DEFAULTS.concurrencyNearCap.threshold}, with sse:reservedConcurrency)`,
  restApiServerErrors: `(${ALARM_DEFAULTS.restApiServerErrors.threshold}, with sse:restApi=true)`,
  albTargetErrors: `(${ALARM_DEFAULTS.albTargetErrors.threshold}, with sse:alb=true)`,
  dynamoThrottles: `(${ALARM_DEFAULTS.dynamoThrottles.threshold}, with the durable streams table)`,
};
const ALARM_KEY_MEANINGS: Record<SseAlarmName, string> = {
  errors: 'function errors (AWS/Lambda Errors) per 5 minutes',
  throttles: 'throttled calls, 429 (AWS/Lambda Throttles) per 5 minutes',
  sourceFailureRate: '% of streams whose source failed (SourceErrors / StreamsStarted)',
  durationNearTimeout: 'p99 Duration, in % of the timeout; above the longest planned response',
  concurrencyNearCap: 'concurrent executions, in % of the reserved concurrency',
  restApiServerErrors: 'REST API 5XX answers per 5 minutes',
  albTargetErrors: 'ALB target 5XX answers per 5 minutes',
  dynamoThrottles: 'throttled reads and writes on the streams table per 5 minutes',
};
const REST_API_ENDPOINT_TYPES: Record<string, apigateway.EndpointType> = { regional: apigateway.EndpointType.REGIONAL, edge: apigateway.EndpointType.EDGE };
const REST_API_AUTHORIZATIONS: Record<string, SseRestApiAuthorization> = { iam: 'iam', cognito: 'cognito', none: 'none' };
const TABLE_REMOVAL_POLICIES: Record<string, RemovalPolicy> = { retain: RemovalPolicy.RETAIN, destroy: RemovalPolicy.DESTROY };
const RETENTION_DAYS: readonly number[] = Object.values(logs.RetentionDays).filter((v): v is number => typeof v === 'number');

const STREAM_KEY_ALLOWED = Object.fromEntries(
  (Object.keys(STREAM_ENVIRONMENT) as (keyof SseStreamSettings)[]).map((k) => [k, describeRange(STREAM_ENVIRONMENT[k].range)]),
) as Record<keyof SseStreamSettings, string>;

/** Every key the app reads, with its allowed values and default. */
export const CONTEXT_KEYS: readonly ContextKey[] = [
  { key: 'sse:stackName', allowed: 'a CloudFormation stack name', defaultValue: DEFAULT_STACK_NAME },
  { key: 'sse:architecture', allowed: Object.keys(ARCHITECTURES).join(' | '), defaultValue: 'arm64' },
  { key: 'sse:authType', allowed: Object.keys(AUTH_TYPES).join(' | '), defaultValue: 'AWS_IAM' },
  { key: 'sse:memory', allowed: `${describeRange(LIMITS.memoryMb)}; at least ${MANAGED_INSTANCES_DEFAULT_MEMORY_MB} with sse:managedInstances=true`, defaultValue: String(DEFAULT_MEMORY_MB) },
  { key: 'sse:timeout', allowed: describeRange(LIMITS.timeoutSeconds), defaultValue: String(DEFAULT_TIMEOUT.toSeconds()) },
  { key: 'sse:logRetentionDays', allowed: `one of ${RETENTION_DAYS.join(', ')}`, defaultValue: String(DEFAULT_LOG_RETENTION) },
  { key: 'sse:corsOrigins', allowed: 'comma-separated origins (https://app.example.com) or *', defaultValue: '(none: no CORS)' },
  { key: 'sse:reservedConcurrency', allowed: `${describeRange(LIMITS.reservedConcurrency)}; needs an account concurrency quota of at least 10 more (Lambda keeps 10 unreserved)`, defaultValue: '(none: unreserved)' },
  { key: 'sse:principals', allowed: 'comma-separated 12-digit account ids or IAM role ARNs (AWS_IAM only)', defaultValue: '(none)' },
  { key: 'sse:retryMs', allowed: STREAM_KEY_ALLOWED.retryMs, defaultValue: String(DEFAULT_STREAM_SETTINGS.retryMs) },
  { key: 'sse:jobSteps', allowed: describeRange(JOB_ENVIRONMENT.jobSteps.range), defaultValue: String(DEFAULT_JOB_SETTINGS.jobSteps) },
  { key: 'sse:jobIntervalMs', allowed: describeRange(JOB_ENVIRONMENT.jobIntervalMs.range), defaultValue: String(DEFAULT_JOB_SETTINGS.jobIntervalMs) },
  { key: 'sse:windowMs', allowed: STREAM_KEY_ALLOWED.windowMs, defaultValue: String(DEFAULT_STREAM_SETTINGS.windowMs) },
  { key: 'sse:deadlineMarginMs', allowed: `${STREAM_KEY_ALLOWED.deadlineMarginMs}, shorter than the timeout`, defaultValue: String(DEFAULT_STREAM_SETTINGS.deadlineMarginMs) },
  { key: 'sse:heartbeatMs', allowed: STREAM_KEY_ALLOWED.heartbeatMs, defaultValue: String(DEFAULT_STREAM_SETTINGS.heartbeatMs) },
  { key: 'sse:batchWindowMs', allowed: `${STREAM_KEY_ALLOWED.batchWindowMs}, with sse:alb plus the deadline margin shorter than the timeout`, defaultValue: String(DEFAULT_STREAM_SETTINGS.batchWindowMs) },
  { key: 'sse:durableStreams', allowed: 'true | false (false: no table, no /streams/{name})', defaultValue: 'true' },
  { key: 'sse:retentionHours', allowed: describeRange(PUBLISH_ENVIRONMENT.retentionHours.range), defaultValue: String(DEFAULT_PUBLISH_SETTINGS.retentionHours) },
  { key: 'sse:pollMinMs', allowed: `${describeRange(DURABLE_ENVIRONMENT.pollMinMs.range)}, at most sse:pollMaxMs`, defaultValue: String(DEFAULT_DURABLE_SETTINGS.pollMinMs) },
  { key: 'sse:pollMaxMs', allowed: describeRange(DURABLE_ENVIRONMENT.pollMaxMs.range), defaultValue: String(DEFAULT_DURABLE_SETTINGS.pollMaxMs) },
  { key: 'sse:tailBufferKib', allowed: describeRange(DURABLE_ENVIRONMENT.tailBufferKib.range), defaultValue: String(DEFAULT_DURABLE_SETTINGS.tailBufferKib) },
  { key: 'sse:tableRemovalPolicy', allowed: Object.keys(TABLE_REMOVAL_POLICIES).join(' | '), defaultValue: 'retain' },
  { key: 'sse:publisherRoleArns', allowed: 'comma-separated IAM role ARNs, granted dynamodb:PutItem and dynamodb:Query in the table\'s resource policy', defaultValue: '(none)' },
  { key: 'sse:alb', allowed: 'true | false', defaultValue: 'false' },
  { key: 'sse:albInternetFacing', allowed: 'true | false (true needs OIDC or sse:albAllowUnauthenticatedInternetFacing=true)', defaultValue: 'false' },
  { key: 'sse:albAllowUnauthenticatedInternetFacing', allowed: 'true | false (true warns at synth)', defaultValue: 'false' },
  { key: 'sse:albAllowedCidrs', allowed: 'comma-separated IPv4 CIDR blocks (10.0.0.0/8); 0.0.0.0/0 only when listed; required with sse:alb=true', defaultValue: '(none)' },
  { key: 'sse:albCertificateArn', allowed: 'an ACM certificate ARN: HTTPS listener on 443', defaultValue: '(none: needs sse:albAllowPlainHttp=true)' },
  { key: 'sse:albAllowPlainHttp', allowed: 'true | false: plain HTTP listener on 80 when there is no certificate', defaultValue: 'false' },
  { key: 'sse:albIdleTimeout', allowed: `${describeRange(LIMITS.albIdleTimeoutSeconds)}, longer than the batch window`, defaultValue: '(max(60, batch window in s + 10))' },
  { key: 'sse:albOidcIssuer', allowed: 'an https:// URL; all six sse:albOidc* keys together, HTTPS only', defaultValue: '(none: no login)' },
  { key: 'sse:albOidcAuthorizationEndpoint', allowed: 'an https:// URL', defaultValue: '(none)' },
  { key: 'sse:albOidcTokenEndpoint', allowed: 'an https:// URL', defaultValue: '(none)' },
  { key: 'sse:albOidcUserInfoEndpoint', allowed: 'an https:// URL', defaultValue: '(none)' },
  { key: 'sse:albOidcClientId', allowed: 'the OAuth client id', defaultValue: '(none)' },
  { key: 'sse:albOidcClientSecretName', allowed: 'name or ARN of a Secrets Manager secret holding the client secret', defaultValue: '(none)' },
  { key: 'sse:restApi', allowed: 'true | false', defaultValue: 'false' },
  { key: 'sse:restApiEndpointType', allowed: `${Object.keys(REST_API_ENDPOINT_TYPES).join(' | ')} (edge needs sse:restApiAllowEdge=true)`, defaultValue: 'regional' },
  { key: 'sse:restApiAllowEdge', allowed: 'true | false (true warns at synth: 30 s idle timeout)', defaultValue: 'false' },
  { key: 'sse:restApiAuth', allowed: `${Object.keys(REST_API_AUTHORIZATIONS).join(' | ')} (cognito needs sse:restApiUserPoolArn; none needs sse:restApiAllowUnauthenticated=true)`, defaultValue: 'iam' },
  { key: 'sse:restApiAllowUnauthenticated', allowed: 'true | false (true warns at synth)', defaultValue: 'false' },
  { key: 'sse:restApiUserPoolArn', allowed: 'a Cognito user pool ARN; with sse:restApiAuth=cognito only', defaultValue: '(none)' },
  { key: 'sse:restApiScopes', allowed: 'comma-separated OAuth scopes (https://sse.example.com/read); with sse:restApiAuth=cognito only', defaultValue: '(none: ID tokens)' },
  { key: 'sse:restApiWatchPage', allowed: `true | false: serve the watch page and its scripts (GET ${PAGE_PATHS.join(', ')}) without authorization; its streams keep theirs (true with iam or an API key warns at synth: a browser cannot sign, the page cannot send a key)`, defaultValue: '(true with sse:restApiAuth=cognito or none and no sse:restApiApiKey, false otherwise)' },
  { key: 'sse:restApiApiKey', allowed: 'true | false: an API key and a usage plan that throttles it', defaultValue: 'false' },
  { key: 'sse:restApiThrottleRate', allowed: describeRange(LIMITS.restApiThrottleRate), defaultValue: String(DEFAULT_REST_API_THROTTLE_RATE) },
  { key: 'sse:restApiThrottleBurst', allowed: describeRange(LIMITS.restApiThrottleBurst), defaultValue: String(DEFAULT_REST_API_THROTTLE_BURST) },
  { key: 'sse:restApiDomainName', allowed: 'a DNS name (sse.example.com); needs sse:restApiCertificateArn', defaultValue: '(none)' },
  { key: 'sse:restApiCertificateArn', allowed: 'an ACM certificate ARN for the domain: the API\'s region (regional) or us-east-1 (edge)', defaultValue: '(none)' },
  { key: 'sse:restApiWebAclArn', allowed: 'a regional WAFv2 web ACL ARN in the API\'s region', defaultValue: '(none)' },
  { key: 'sse:restApiCloudWatchRole', allowed: 'true | false: let the stack set the account\'s API Gateway CloudWatch Logs role (shared by every API in the account and region; kept on destroy)', defaultValue: 'false' },
  { key: 'sse:managedInstances', allowed: 'true | false: run the function on Lambda Managed Instances (a capacity provider in a VPC without NAT; memory at least 2048 MB, no sse:reservedConcurrency)', defaultValue: 'false' },
  { key: 'sse:managedInstancesMaxConcurrency', allowed: `${describeRange(MANAGED_INSTANCES_LIMITS.maxConcurrency)}: streams one execution environment serves at once`, defaultValue: String(DEFAULT_MANAGED_INSTANCES_MAX_CONCURRENCY) },
  { key: 'sse:managedInstancesMemoryPerVcpu', allowed: `${describeRange(MANAGED_INSTANCES_LIMITS.memoryPerVcpu)}: 2 fits C instances, 4 M, 8 R; sse:memory must hold at least one vCPU`, defaultValue: String(DEFAULT_MANAGED_INSTANCES_MEMORY_PER_VCPU) },
  { key: 'sse:managedInstancesMinEnvironments', allowed: `${describeRange(MANAGED_INSTANCES_LIMITS.environments)}, kept running even when idle; at most sse:managedInstancesMaxEnvironments`, defaultValue: String(DEFAULT_MANAGED_INSTANCES_MIN_ENVIRONMENTS) },
  { key: 'sse:managedInstancesMaxEnvironments', allowed: describeRange(MANAGED_INSTANCES_LIMITS.environments), defaultValue: '(none: sse:managedInstancesMaxVcpus bounds it)' },
  { key: 'sse:managedInstancesMaxVcpus', allowed: `${describeRange(MANAGED_INSTANCES_LIMITS.maxVcpus)}: the capacity provider's ceiling`, defaultValue: String(DEFAULT_MANAGED_INSTANCES_MAX_VCPUS) },
  { key: 'sse:managedInstancesCpuTarget', allowed: `${describeRange(MANAGED_INSTANCES_LIMITS.cpuTarget)}: manual scaling to this average CPU utilization`, defaultValue: '(none: automatic scaling)' },
  { key: 'sse:managedInstancesInstanceTypes', allowed: 'comma-separated EC2 instance types (c7g.large) of the function\'s architecture, the only ones launched', defaultValue: '(none: any Lambda picks)' },
  { key: 'sse:metrics', allowed: `true | false (or on | off): the function's CloudWatch metrics (${METRICS.switchVariable})`, defaultValue: 'true' },
  { key: 'sse:metricsNamespace', allowed: `1 to 255 of A-Z a-z 0-9 . - _ / # : and space, not starting with AWS/ (${METRICS.namespaceVariable})`, defaultValue: METRICS.defaultNamespace },
  { key: 'sse:tracing', allowed: 'true | false (or on | off): X-Ray active tracing', defaultValue: 'false' },
  { key: 'sse:alarms', allowed: 'true | false (or on | off): false leaves every alarm out', defaultValue: 'true' },
  ...ALARM_NAMES.map((name) => ({
    key: alarmKey(name),
    allowed: `${describeRange(ALARM_DEFAULTS[name].range)}: ${ALARM_KEY_MEANINGS[name]}; or off`,
    defaultValue: ALARM_KEY_DEFAULTS[name],
  })),
  { key: 'sse:alarmTopicArn', allowed: 'a standard SNS topic ARN the alarms notify; not with sse:alarmEmail', defaultValue: '(none)' },
  { key: 'sse:alarmEmail', allowed: 'an email address: a new SNS topic notifies it of the alarms; not with sse:alarmTopicArn', defaultValue: '(none)' },
  { key: 'sse:dashboard', allowed: 'true | false (or on | off): a CloudWatch dashboard of the streams', defaultValue: 'true' },
  { key: 'sse:pipeline', allowed: 'true | false: deploy SsePipelineStack (a CDK Pipeline that tests, deploys and smoke-tests every stage) instead of the stream stack', defaultValue: 'false' },
  { key: 'sse:pipelineConnectionArn', allowed: 'a CodeConnections connection ARN (arn:aws:codeconnections:<region>:<account>:connection/<id>, or codestar-connections); required with sse:pipeline=true', defaultValue: '(none)' },
  { key: 'sse:pipelineRepository', allowed: 'owner/repo; required with sse:pipeline=true', defaultValue: '(none)' },
  { key: 'sse:pipelineBranch', allowed: 'a git branch name', defaultValue: DEFAULT_PIPELINE_BRANCH },
  { key: 'sse:pipelineStages', allowed: 'comma-separated stages, in order, each name or name@account/region (a name: a letter, then letters, digits, hyphens)', defaultValue: DEFAULT_PIPELINE_STAGE },
  { key: 'sse:pipelineApprovals', allowed: 'true | false: every stage after the first waits for a manual approval', defaultValue: 'true' },
];

/** The `sse:albOidc*` keys and the option each sets; all or none must be given. */
const OIDC_KEYS: readonly [string, keyof SseAlbOidcOptions, (value: string) => string | undefined][] = [
  ['sse:albOidcIssuer', 'issuer', checkHttpsUrl],
  ['sse:albOidcAuthorizationEndpoint', 'authorizationEndpoint', checkHttpsUrl],
  ['sse:albOidcTokenEndpoint', 'tokenEndpoint', checkHttpsUrl],
  ['sse:albOidcUserInfoEndpoint', 'userInfoEndpoint', checkHttpsUrl],
  ['sse:albOidcClientId', 'clientId', checkNotBlank],
  ['sse:albOidcClientSecretName', 'clientSecretName', checkSecretNameOrArn],
];

/** Keys that configure the durable streams and so need `sse:durableStreams` (on by default). */
const DURABLE_OPTION_KEYS: readonly string[] = ['sse:retentionHours', 'sse:pollMinMs', 'sse:pollMaxMs', 'sse:tailBufferKib', 'sse:tableRemovalPolicy', 'sse:publisherRoleArns'];

/** Keys that configure the ALB and so need `sse:alb=true`. */
const ALB_OPTION_KEYS = CONTEXT_KEYS.map((k) => k.key).filter((key) => key.startsWith('sse:alb') && key !== 'sse:alb');

/** Keys that configure the REST API and so need `sse:restApi=true`. */
const REST_API_OPTION_KEYS = CONTEXT_KEYS.map((k) => k.key).filter((key) => key.startsWith('sse:restApi') && key !== 'sse:restApi');

/** Keys that configure Lambda Managed Instances and so need `sse:managedInstances=true`. */
const MANAGED_INSTANCES_OPTION_KEYS = CONTEXT_KEYS.map((k) => k.key).filter((key) => key.startsWith('sse:managedInstances') && key !== 'sse:managedInstances');

/** Keys that configure the pipeline and so need `sse:pipeline=true`. */
const PIPELINE_OPTION_KEYS = CONTEXT_KEYS.map((k) => k.key).filter((key) => key.startsWith('sse:pipeline') && key !== 'sse:pipeline');

const KNOWN_KEYS = new Set(CONTEXT_KEYS.map((k) => k.key));

/**
 * Reads the app's settings from the whole context (`app.node.getAllContext()`).
 * Throws one error listing every bad key, each with the values it allows.
 */
export function readAppSettings(context: Readonly<Record<string, unknown>>): AppSettings {
  const problems: string[] = [];
  const reader = new ContextReader(context, problems);

  for (const key of Object.keys(context)) {
    if (key.startsWith(CONTEXT_PREFIX) && !KNOWN_KEYS.has(key)) {
      problems.push(`unknown context key ${key}; this app reads ${[...KNOWN_KEYS].join(', ')}`);
    } else if (KNOWN_KEYS.has(CONTEXT_PREFIX + key)) {
      problems.push(`context key ${key} is not read by this app; did you mean ${CONTEXT_PREFIX}${key}?`);
    }
  }

  const stream: SseStreamSettings = {
    retryMs: reader.integer('sse:retryMs', STREAM_ENVIRONMENT.retryMs.range),
    windowMs: reader.integer('sse:windowMs', STREAM_ENVIRONMENT.windowMs.range),
    deadlineMarginMs: reader.integer('sse:deadlineMarginMs', STREAM_ENVIRONMENT.deadlineMarginMs.range),
    heartbeatMs: reader.integer('sse:heartbeatMs', STREAM_ENVIRONMENT.heartbeatMs.range),
    batchWindowMs: reader.integer('sse:batchWindowMs', STREAM_ENVIRONMENT.batchWindowMs.range),
  };
  const timeoutSeconds = reader.integer('sse:timeout', LIMITS.timeoutSeconds);
  const logRetention = reader.oneOf('sse:logRetentionDays', Object.fromEntries(RETENTION_DAYS.map((d) => [String(d), d as logs.RetentionDays])));
  const { streamsTable, durable } = readDurableOptions(context, reader, problems);
  const settings: AppSettings = {
    stackName: reader.text('sse:stackName', checkStackName) ?? DEFAULT_STACK_NAME,
    sseFunction: {
      architecture: reader.oneOf('sse:architecture', ARCHITECTURES),
      authType: reader.oneOf('sse:authType', AUTH_TYPES),
      memorySize: reader.integer('sse:memory', LIMITS.memoryMb),
      timeout: timeoutSeconds === undefined ? undefined : Duration.seconds(timeoutSeconds),
      logRetention,
      corsAllowedOrigins: reader.list('sse:corsOrigins', checkCorsOrigin),
      reservedConcurrentExecutions: reader.integer('sse:reservedConcurrency', LIMITS.reservedConcurrency),
      invokers: reader.list('sse:principals', checkInvoker),
      stream,
      job: {
        jobSteps: reader.integer('sse:jobSteps', JOB_ENVIRONMENT.jobSteps.range),
        jobIntervalMs: reader.integer('sse:jobIntervalMs', JOB_ENVIRONMENT.jobIntervalMs.range),
      },
      durable,
      metrics: reader.oneOf('sse:metrics', SWITCHES),
      metricsNamespace: reader.text('sse:metricsNamespace', checkMetricsNamespace),
      tracing: reader.oneOf('sse:tracing', SWITCHES),
    },
    alb: readAlbOptions(context, reader, problems),
    restApi: readRestApiOptions(context, reader, problems),
    streamsTable,
    monitoring: readMonitoringOptions(context, reader, problems),
    pipeline: readPipelineOptions(context, reader, problems),
    managedInstances: readManagedInstancesOptions(context, reader, problems),
  };

  if (problems.length > 0) {
    throw new Error(`Invalid context for the lambda-sse app; change:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
  return settings;
}

/**
 * The table of durable streams and the function's polling of it, unless
 * `sse:durableStreams=false`. A durable key with the table off is a problem:
 * it would be silently ignored.
 */
function readDurableOptions(
  context: Readonly<Record<string, unknown>>,
  reader: ContextReader,
  problems: string[],
): { streamsTable: SseTableProps | false; durable?: SseDurableSettings } {
  const enabled = reader.oneOf('sse:durableStreams', BOOLEANS) ?? true;
  if (!enabled) {
    const given = DURABLE_OPTION_KEYS.filter((key) => context[key] !== undefined);
    if (given.length > 0) {
      problems.push(
        `${given.join(', ')} configure${given.length === 1 ? 's' : ''} the durable streams table, which sse:durableStreams=false leaves out: ` +
          `remove ${given.length === 1 ? 'it' : 'them'}, or set -c sse:durableStreams=true`,
      );
    }
    return { streamsTable: false };
  }
  const durable: SseDurableSettings = {
    pollMinMs: reader.integer('sse:pollMinMs', DURABLE_ENVIRONMENT.pollMinMs.range),
    pollMaxMs: reader.integer('sse:pollMaxMs', DURABLE_ENVIRONMENT.pollMaxMs.range),
    tailBufferKib: reader.integer('sse:tailBufferKib', DURABLE_ENVIRONMENT.tailBufferKib.range),
  };
  const min = durable.pollMinMs ?? DEFAULT_DURABLE_SETTINGS.pollMinMs;
  const max = durable.pollMaxMs ?? DEFAULT_DURABLE_SETTINGS.pollMaxMs;
  // Compared only when both are valid on their own (or defaults); otherwise their own problems say it.
  const bothValid = (context['sse:pollMinMs'] === undefined || durable.pollMinMs !== undefined) && (context['sse:pollMaxMs'] === undefined || durable.pollMaxMs !== undefined);
  if (bothValid && min > max) {
    const which = durable.pollMinMs === undefined ? `sse:pollMinMs (${min}, its default)` : `-c sse:pollMinMs=${min}`;
    const bound = durable.pollMaxMs === undefined ? `sse:pollMaxMs (${max}, its default)` : `sse:pollMaxMs (${max})`;
    problems.push(`${which}: must not be above ${bound}; lower sse:pollMinMs or raise sse:pollMaxMs`);
  }
  return {
    streamsTable: {
      retentionHours: reader.integer('sse:retentionHours', PUBLISH_ENVIRONMENT.retentionHours.range),
      removalPolicy: reader.oneOf('sse:tableRemovalPolicy', TABLE_REMOVAL_POLICIES),
      publisherRoleArns: reader.list('sse:publisherRoleArns', checkRoleArn),
    },
    durable,
  };
}

/**
 * The ALB options, when `sse:alb=true`; undefined otherwise. An ALB key
 * without `sse:alb=true` is a problem: it would be silently ignored.
 */
function readAlbOptions(context: Readonly<Record<string, unknown>>, reader: ContextReader, problems: string[]): SseAlbOptions | undefined {
  const enabled = reader.oneOf('sse:alb', BOOLEANS) ?? false;
  if (!enabled) {
    const given = ALB_OPTION_KEYS.filter((key) => context[key] !== undefined);
    if (given.length > 0) {
      problems.push(`${given.join(', ')} configure${given.length === 1 ? 's' : ''} the ALB, which is off: add -c sse:alb=true, or remove ${given.length === 1 ? 'it' : 'them'}`);
    }
    return undefined;
  }
  const idleTimeoutSeconds = reader.integer('sse:albIdleTimeout', LIMITS.albIdleTimeoutSeconds);
  const oidcGiven = OIDC_KEYS.filter(([key]) => context[key] !== undefined);
  let oidc: SseAlbOidcOptions | undefined;
  if (oidcGiven.length > 0 && oidcGiven.length < OIDC_KEYS.length) {
    const missing = OIDC_KEYS.filter(([key]) => context[key] === undefined).map(([key]) => key);
    problems.push(`OIDC needs all of ${OIDC_KEYS.map(([key]) => key).join(', ')}; missing ${missing.join(', ')}`);
  } else if (oidcGiven.length === OIDC_KEYS.length) {
    const values = OIDC_KEYS.map(([key, option, check]) => [option, reader.text(key, check)] as const);
    if (values.every(([, value]) => value !== undefined)) oidc = Object.fromEntries(values) as unknown as SseAlbOidcOptions;
  }
  return {
    internetFacing: reader.oneOf('sse:albInternetFacing', BOOLEANS),
    allowUnauthenticatedInternetFacing: reader.oneOf('sse:albAllowUnauthenticatedInternetFacing', BOOLEANS),
    allowedCidrs: reader.list('sse:albAllowedCidrs', checkIpv4Cidr),
    certificateArn: reader.text('sse:albCertificateArn', checkAcmCertificateArn),
    allowPlainHttp: reader.oneOf('sse:albAllowPlainHttp', BOOLEANS),
    idleTimeout: idleTimeoutSeconds === undefined ? undefined : Duration.seconds(idleTimeoutSeconds),
    oidc,
  };
}

/**
 * The REST API options, when `sse:restApi=true`; undefined otherwise. A REST
 * API key without `sse:restApi=true` is a problem: it would be silently ignored.
 */
function readRestApiOptions(context: Readonly<Record<string, unknown>>, reader: ContextReader, problems: string[]): SseRestApiOptions | undefined {
  const enabled = reader.oneOf('sse:restApi', BOOLEANS) ?? false;
  if (!enabled) {
    const given = REST_API_OPTION_KEYS.filter((key) => context[key] !== undefined);
    if (given.length > 0) {
      problems.push(`${given.join(', ')} configure${given.length === 1 ? 's' : ''} the REST API, which is off: add -c sse:restApi=true, or remove ${given.length === 1 ? 'it' : 'them'}`);
    }
    return undefined;
  }
  return {
    endpointType: reader.oneOf('sse:restApiEndpointType', REST_API_ENDPOINT_TYPES),
    allowEdge: reader.oneOf('sse:restApiAllowEdge', BOOLEANS),
    authorization: reader.oneOf('sse:restApiAuth', REST_API_AUTHORIZATIONS),
    allowUnauthenticated: reader.oneOf('sse:restApiAllowUnauthenticated', BOOLEANS),
    userPoolArn: reader.text('sse:restApiUserPoolArn', checkUserPoolArn),
    oauthScopes: reader.list('sse:restApiScopes', checkOAuthScope),
    watchPage: reader.oneOf('sse:restApiWatchPage', BOOLEANS),
    apiKey: reader.oneOf('sse:restApiApiKey', BOOLEANS),
    throttlingRateLimit: reader.integer('sse:restApiThrottleRate', LIMITS.restApiThrottleRate),
    throttlingBurstLimit: reader.integer('sse:restApiThrottleBurst', LIMITS.restApiThrottleBurst),
    domainName: reader.text('sse:restApiDomainName', checkDomainName),
    certificateArn: reader.text('sse:restApiCertificateArn', (arn) => checkAcmCertificateArn(arn, 'the API\'s region (us-east-1 for edge)')),
    webAclArn: reader.text('sse:restApiWebAclArn', checkWebAclArn),
    cloudWatchRole: reader.oneOf('sse:restApiCloudWatchRole', BOOLEANS),
  };
}

/**
 * Alarms, their topic and the dashboard. An alarm key that cannot apply
 * (the alarms are off, or what it watches is not deployed) is a problem: it
 * would be silently ignored.
 */
function readMonitoringOptions(context: Readonly<Record<string, unknown>>, reader: ContextReader, problems: string[]): SseMonitoringOptions | false {
  const alarmsOn = reader.oneOf('sse:alarms', SWITCHES) ?? true;
  const dashboard = reader.oneOf('sse:dashboard', SWITCHES);
  const alarmKeys = [...ALARM_NAMES.map(alarmKey), 'sse:alarmTopicArn', 'sse:alarmEmail'];
  if (!alarmsOn) {
    const given = alarmKeys.filter((key) => context[key] !== undefined);
    if (given.length > 0) {
      problems.push(`${given.join(', ')} configure${given.length === 1 ? 's' : ''} the alarms, which sse:alarms=${String(context['sse:alarms'])} leaves out: remove ${given.length === 1 ? 'it' : 'them'}, or set -c sse:alarms=true`);
    }
    return dashboard === false ? false : { alarms: false, dashboard };
  }
  const present: Record<SseAlarmName, boolean> = {
    errors: true,
    throttles: true,
    sourceFailureRate: (SWITCHES[String(context['sse:metrics'] ?? 'true')] ?? true) !== false,
    durationNearTimeout: true,
    concurrencyNearCap: context['sse:reservedConcurrency'] !== undefined,
    restApiServerErrors: SWITCHES[String(context['sse:restApi'])] === true,
    albTargetErrors: SWITCHES[String(context['sse:alb'])] === true,
    dynamoThrottles: (SWITCHES[String(context['sse:durableStreams'] ?? 'true')] ?? true) !== false,
  };
  const alarms: { -readonly [K in SseAlarmName]?: number | false } = {};
  for (const name of ALARM_NAMES) {
    const key = alarmKey(name);
    const value = reader.integerOrOff(key, ALARM_DEFAULTS[name].range);
    if (context[key] === undefined) continue;
    if (typeof value === 'number' && !present[name]) problems.push(`-c ${key}=${String(context[key])}: needs ${ALARM_KEY_NEEDS[name]}; set that, or remove ${key} (or set it to off)`);
    alarms[name] = value;
  }
  const alarmTopicArn = reader.text('sse:alarmTopicArn', checkSnsTopicArn);
  const alarmEmail = reader.text('sse:alarmEmail', checkEmail);
  if (context['sse:alarmTopicArn'] !== undefined && context['sse:alarmEmail'] !== undefined) {
    problems.push('sse:alarmEmail subscribes to a new topic and sse:alarmTopicArn names an existing one: give one of them (subscribe the address to your topic yourself)');
  }
  const thresholds: SseAlarmThresholds = alarms;
  return { alarms: thresholds, alarmTopicArn, alarmEmail, dashboard };
}

/**
 * Lambda Managed Instances, when `sse:managedInstances=true`; false
 * otherwise. A `sse:managedInstances*` key without it is a problem: it would
 * be silently ignored. The function's memory (2048 MB unless set) and
 * reserved concurrency are checked by `SseCapacity`, with the keys to change.
 */
function readManagedInstancesOptions(context: Readonly<Record<string, unknown>>, reader: ContextReader, problems: string[]): SseManagedInstancesOptions | false {
  const enabled = reader.oneOf('sse:managedInstances', BOOLEANS) ?? false;
  if (!enabled) {
    const given = MANAGED_INSTANCES_OPTION_KEYS.filter((key) => context[key] !== undefined);
    if (given.length > 0) {
      problems.push(`${given.join(', ')} configure${given.length === 1 ? 's' : ''} Lambda Managed Instances, which are off: add -c sse:managedInstances=true, or remove ${given.length === 1 ? 'it' : 'them'}`);
    }
    return false;
  }
  const minEnvironments = reader.integer('sse:managedInstancesMinEnvironments', MANAGED_INSTANCES_LIMITS.environments);
  const maxEnvironments = reader.integer('sse:managedInstancesMaxEnvironments', MANAGED_INSTANCES_LIMITS.environments);
  // Compared only when both are valid on their own (or the default); otherwise their own problems say it.
  const min = minEnvironments ?? (context['sse:managedInstancesMinEnvironments'] === undefined ? DEFAULT_MANAGED_INSTANCES_MIN_ENVIRONMENTS : undefined);
  if (min !== undefined && maxEnvironments !== undefined && min > maxEnvironments) {
    const which = minEnvironments === undefined ? `sse:managedInstancesMinEnvironments (${min}, its default)` : `-c sse:managedInstancesMinEnvironments=${min}`;
    problems.push(`${which}: must not be above sse:managedInstancesMaxEnvironments (${maxEnvironments}); lower the minimum or raise the maximum`);
  }
  return {
    maxConcurrency: reader.integer('sse:managedInstancesMaxConcurrency', MANAGED_INSTANCES_LIMITS.maxConcurrency),
    memoryPerVcpu: reader.integer('sse:managedInstancesMemoryPerVcpu', MANAGED_INSTANCES_LIMITS.memoryPerVcpu),
    minEnvironments,
    maxEnvironments,
    maxVcpus: reader.integer('sse:managedInstancesMaxVcpus', MANAGED_INSTANCES_LIMITS.maxVcpus),
    cpuTarget: reader.integer('sse:managedInstancesCpuTarget', MANAGED_INSTANCES_LIMITS.cpuTarget),
    instanceTypes: reader.list('sse:managedInstancesInstanceTypes', checkInstanceType),
  };
}

/**
 * The pipeline, when `sse:pipeline=true`; undefined otherwise. A pipeline
 * key without `sse:pipeline=true` is a problem: it would be silently ignored.
 */
function readPipelineOptions(context: Readonly<Record<string, unknown>>, reader: ContextReader, problems: string[]): PipelineSettings | undefined {
  const enabled = reader.oneOf('sse:pipeline', BOOLEANS) ?? false;
  if (!enabled) {
    const given = PIPELINE_OPTION_KEYS.filter((key) => context[key] !== undefined);
    if (given.length > 0) {
      problems.push(`${given.join(', ')} only appl${given.length === 1 ? 'ies' : 'y'} with -c sse:pipeline=true: add it, or remove ${given.length === 1 ? 'it' : 'them'}`);
    }
    return undefined;
  }
  for (const [key, example] of [['sse:pipelineConnectionArn', 'arn:aws:codeconnections:<region>:<account>:connection/<id>'], ['sse:pipelineRepository', '<owner>/<repo>']]) {
    if (context[key] === undefined) problems.push(`sse:pipeline=true needs -c ${key}=${example} (README.md, "Deploy from a pipeline")`);
  }
  const connectionArn = reader.text('sse:pipelineConnectionArn', checkConnectionArn);
  const repository = reader.text('sse:pipelineRepository', checkRepository);
  const branch = reader.text('sse:pipelineBranch', checkBranchName) ?? DEFAULT_PIPELINE_BRANCH;
  const approvals = reader.oneOf('sse:pipelineApprovals', BOOLEANS) ?? true;
  const specs = reader.list('sse:pipelineStages', (spec) => parseStageSpec(spec).problem) ?? (context['sse:pipelineStages'] === undefined ? [DEFAULT_PIPELINE_STAGE] : undefined);
  if (specs !== undefined && specs.length === 0) problems.push('-c sse:pipelineStages is empty: name at least one stage, like dev or dev,prod');
  const names = (specs ?? []).map((spec) => parseStageSpec(spec).stage!.name.toLowerCase());
  const repeated = names.filter((name, i) => names.indexOf(name) !== i);
  if (repeated.length > 0) problems.push(`-c sse:pipelineStages=${String(context['sse:pipelineStages'])}: names ${[...new Set(repeated)].join(', ')} more than once (ignoring case); give each stage its own name`);
  if (connectionArn === undefined || repository === undefined || specs === undefined) return undefined;
  return {
    connectionArn,
    repository,
    branch,
    stages: specs.map((spec, index) => ({ ...parseStageSpec(spec).stage!, approval: approvals && index > 0 })),
  };
}

function checkNotBlank(value: string): string | undefined {
  return value.trim() === '' ? 'must not be empty' : undefined;
}

/** Reads one key at a time, recording a problem (and returning undefined) for a bad value. */
class ContextReader {
  constructor(
    private readonly context: Readonly<Record<string, unknown>>,
    private readonly problems: string[],
  ) {}

  integer(key: string, range: IntegerRange): number | undefined {
    const raw = this.context[key];
    if (raw === undefined) return undefined;
    const value = typeof raw === 'number' ? raw : typeof raw === 'string' && /^-?\d+$/.test(raw.trim()) ? Number(raw.trim()) : NaN;
    const problem = Number.isNaN(value) ? `must be ${describeRange(range)}` : checkIntegerInRange(value, range);
    return this.report(key, raw, problem) ? value : undefined;
  }

  /** An integer in range, or `off` (false). */
  integerOrOff(key: string, range: IntegerRange): number | false | undefined {
    const raw = this.context[key];
    if (raw === undefined) return undefined;
    if (raw === 'off' || raw === false) return false;
    const value = typeof raw === 'number' ? raw : typeof raw === 'string' && /^-?\d+$/.test(raw.trim()) ? Number(raw.trim()) : NaN;
    const problem = Number.isNaN(value) ? `must be ${describeRange(range)}, or off` : checkIntegerInRange(value, range) && `${checkIntegerInRange(value, range)}, or off`;
    return this.report(key, raw, problem || undefined) ? value : undefined;
  }

  oneOf<T>(key: string, allowed: Readonly<Record<string, T>>): T | undefined {
    const raw = this.context[key];
    if (raw === undefined) return undefined;
    const name = String(raw);
    const known = Object.prototype.hasOwnProperty.call(allowed, name);
    return this.report(key, raw, known ? undefined : `must be one of ${Object.keys(allowed).join(', ')}`) ? allowed[name] : undefined;
  }

  text(key: string, check: (value: string) => string | undefined): string | undefined {
    const raw = this.context[key];
    if (raw === undefined) return undefined;
    return this.report(key, raw, typeof raw === 'string' ? check(raw) : 'must be a string') ? (raw as string) : undefined;
  }

  /** A list from a comma-separated string (`-c`) or a JSON array (cdk.json). */
  list(key: string, check: (item: string) => string | undefined): string[] | undefined {
    const raw = this.context[key];
    if (raw === undefined) return undefined;
    const items = typeof raw === 'string' ? raw.split(',') : Array.isArray(raw) ? raw : undefined;
    if (items === undefined || items.some((item) => typeof item !== 'string')) {
      this.report(key, raw, 'must be a comma-separated string or a list of strings');
      return undefined;
    }
    const trimmed = (items as string[]).map((item) => item.trim()).filter((item) => item !== '');
    const problems = trimmed.map(check).filter((p): p is string => p !== undefined);
    return this.report(key, raw, problems.length > 0 ? problems.join('; ') : undefined) ? trimmed : undefined;
  }

  /** Records the problem, if any; true when the value is good. */
  private report(key: string, raw: unknown, problem: string | undefined): boolean {
    if (problem === undefined) return true;
    const shown = typeof raw === 'string' ? raw : JSON.stringify(raw);
    this.problems.push(`-c ${key}=${shown}: ${problem}`);
    return false;
  }
}
