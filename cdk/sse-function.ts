import * as path from 'node:path';
import { Annotations, Duration, Fn, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { type BundlingOptions, RustFunction } from 'cargo-lambda-cdk';
import { Construct } from 'constructs';
import { skipCheckov } from './checkov';
import { METRICS, type SettingVariable, defaultsOf, environmentOf } from './function-settings';
import { SseTable, TABLE_NAME_VARIABLE, grantSubscribeTo } from './sse-table';
import {
  LIMITS,
  checkCorsOrigin,
  checkIntegerInRange,
  checkInvoker,
  checkMarginFitsTimeout,
  checkMetricsNamespace,
  invokerKind,
} from './validation';

/**
 * Settings of the event stream itself, passed to the function as environment
 * variables (the function validates them again at start-up).
 *
 * A group of its own so stream settings join here without touching the
 * deployment props.
 */
export interface SseStreamSettings {
  /**
   * Reconnection hint sent to clients in the SSE `retry:` field, in ms
   * (`SSE_RETRY_MS`). Integer from 100 to 600000.
   *
   * @default 5000
   */
  readonly retryMs?: number;
  /**
   * Longest one response lasts, in ms (`SSE_WINDOW_MS`): it then ends with a
   * `reconnect` event and the client resumes where it left off. A response
   * also ends `deadlineMarginMs` before the invocation's deadline, whichever
   * comes first, so this bounds what one abandoned stream costs.
   * Integer from 1000 to 900000.
   *
   * @default 120000
   */
  readonly windowMs?: number;
  /**
   * A response ends at least this long before the invocation's deadline, in
   * ms (`SSE_DEADLINE_MARGIN_MS`), so it closes cleanly before Lambda cuts it.
   * Integer from 100 to 60000, and shorter than the timeout.
   *
   * @default 2000
   */
  readonly deadlineMarginMs?: number;
  /**
   * Idle time after which a `: keep-alive` comment is sent, in ms
   * (`SSE_HEARTBEAT_MS`), so proxies and clients do not drop a quiet stream.
   * Integer from 1000 to 300000.
   *
   * @default 15000
   */
  readonly heartbeatMs?: number;
  /**
   * How long one buffered answer to an ALB invocation collects events, in ms
   * (`SSE_BATCH_WINDOW_MS`); the client then reconnects with `Last-Event-ID`
   * for the next batch. Only ALB invocations use it; Function URL streams do
   * not. Integer from 1000 to 60000; an `SseAlb` in front of the function
   * also needs it, plus `deadlineMarginMs`, to be shorter than the timeout.
   *
   * @default 5000
   */
  readonly batchWindowMs?: number;
}

/**
 * Settings of the demo progress job (`/events`), passed to the function as
 * environment variables only when the binary mounts the job.
 */
export interface SseJobSettings {
  /**
   * Number of progress steps of a job when the request does not ask for a
   * number (`SSE_JOB_STEPS`). Integer from 1 to 1000.
   *
   * @default 11
   */
  readonly jobSteps?: number;
  /**
   * Milliseconds between two steps when the request does not ask for an
   * interval (`SSE_JOB_INTERVAL_MS`). Integer from 10 to 60000.
   *
   * @default 2000
   */
  readonly jobIntervalMs?: number;
}

/**
 * How the function polls the table of durable streams (`/streams/{name}`)
 * and how many recent events it keeps of each, passed as environment
 * variables when it has a table (`streamsTable`).
 */
export interface SseDurableSettings {
  /**
   * Wait between two reads of a durable stream while events flow, in ms
   * (`SSE_POLL_MIN_MS`): the shortest delay between a publish and its
   * delivery, and what an active stream costs in reads.
   * Integer from 10 to 10000, at most `pollMaxMs`.
   *
   * @default 50
   */
  readonly pollMinMs?: number;
  /**
   * Longest wait between two reads of an idle durable stream, in ms
   * (`SSE_POLL_MAX_MS`): after each empty read the wait doubles from
   * `pollMinMs` up to this, so it bounds the delay of the first event after a
   * quiet spell. Integer from 100 to 60000.
   *
   * @default 1000
   */
  readonly pollMaxMs?: number;
  /**
   * Recent events of each durable stream kept in memory, in KiB
   * (`SSE_TAIL_BUFFER_KIB`): the subscribers of one stream in one process
   * share one poll loop and this buffer (at least its newest event), so a
   * reconnect whose last event it still holds resumes with no table read. A
   * subscriber that falls further behind than it holds (a slow client) ends
   * its response with a `reconnect` block (reason `behind`) and resumes from
   * the table, never delaying the others. What it costs is memory: up to this
   * much per stream followed at once. Integer from 64 to 65536.
   *
   * @default 1024
   */
  readonly tailBufferKib?: number;
}

/** The stream settings with every default filled in. */
export type ResolvedStreamSettings = Required<SseStreamSettings>;
/** The job settings with every default filled in. */
export type ResolvedJobSettings = Required<SseJobSettings>;
/** The durable streams' settings with every default filled in. */
export type ResolvedDurableSettings = Required<SseDurableSettings>;

/** One stream setting as the function reads it. */
export type StreamVariable = SettingVariable;

/** Every prop of `SseStreamSettings`; each must be a variable of the library. */
const STREAM_SETTING_KEYS: readonly (keyof ResolvedStreamSettings)[] = ['retryMs', 'windowMs', 'deadlineMarginMs', 'heartbeatMs', 'batchWindowMs'];
/** Every prop of `SseJobSettings`; each must be a variable of the job. */
const JOB_SETTING_KEYS: readonly (keyof ResolvedJobSettings)[] = ['jobSteps', 'jobIntervalMs'];
/** Every prop of `SseDurableSettings`; each must be a variable of the durable source. */
const DURABLE_SETTING_KEYS: readonly (keyof ResolvedDurableSettings)[] = ['pollMinMs', 'pollMaxMs', 'tailBufferKib'];

/**
 * Each stream setting's variable, range and default, read from the function's
 * own definitions (`function-settings.ts`): the CDK app never restates them.
 * Adding a setting is one variable in `function/src/settings.rs` plus one
 * prop above.
 */
export const STREAM_ENVIRONMENT = environmentOf(STREAM_SETTING_KEYS, 'stream');
/** The same for the job's settings (`function/src/sources/job.rs`). */
export const JOB_ENVIRONMENT = environmentOf(JOB_SETTING_KEYS, 'job');
/** The same for the durable streams' polling and shared tail (`function/src/sources/durable.rs`). */
export const DURABLE_ENVIRONMENT = environmentOf(DURABLE_SETTING_KEYS, 'durable');

/** The function's defaults, which every unset prop takes. */
export const DEFAULT_STREAM_SETTINGS: ResolvedStreamSettings = defaultsOf(STREAM_ENVIRONMENT);
/** The job's defaults. */
export const DEFAULT_JOB_SETTINGS: ResolvedJobSettings = defaultsOf(JOB_ENVIRONMENT);
/** The durable streams' defaults. */
export const DEFAULT_DURABLE_SETTINGS: ResolvedDurableSettings = defaultsOf(DURABLE_ENVIRONMENT);

/** The workspace root manifest of this repository (a virtual workspace). */
export const DEFAULT_MANIFEST_PATH = path.join(__dirname, '..', 'Cargo.toml');
export const DEFAULT_BINARY_NAME = 'sse-function';
/**
 * Five minutes. The timeout no longer limits how long a job may run: each
 * response ends after the window (120 s by default) or the deadline margin
 * before the deadline, whichever comes first, and the client resumes. Nor does
 * it bound what an abandoned stream (Lambda keeps running it after the client
 * went away) costs: the window does, at most min(window, timeout - margin).
 * 300 s leaves room for a longer window.
 */
export const DEFAULT_TIMEOUT = Duration.seconds(300);
export const DEFAULT_MEMORY_MB = 128;
export const DEFAULT_LOG_RETENTION = logs.RetentionDays.ONE_MONTH;

/** Request headers a browser `fetch` sends to a SigV4-signed, resumable stream. */
const CORS_ALLOWED_HEADERS = ['authorization', 'x-amz-date', 'x-amz-security-token', 'x-amz-content-sha256', 'last-event-id'];

export interface SseFunctionProps {
  /**
   * Instruction set the function is built for and runs on.
   *
   * @default lambda.Architecture.ARM_64 (cheaper per GB-second, faster cold start for Rust)
   */
  readonly architecture?: lambda.Architecture;
  /**
   * Memory in MB; Lambda gives CPU in proportion. Integer from 128 to 10240;
   * at least 2048 on Lambda Managed Instances (`SseCapacity`).
   *
   * @default 128 (2048 in an `SseStreamStack` with `managedInstances`)
   */
  readonly memorySize?: number;
  /**
   * Longest one invocation, and so one response, may run. Whole seconds from
   * 1 to 900 (Lambda's maximum), longer than `stream.deadlineMarginMs`.
   * Each response ends at min(`stream.windowMs`, time to the deadline -
   * `stream.deadlineMarginMs`) and the client reconnects and resumes, so a job
   * may run longer than this. A client that disconnects does not stop the
   * invocation; what one abandoned stream is billed for is bounded by the
   * window: at most min(window, timeout - margin).
   *
   * @default Duration.seconds(300)
   */
  readonly timeout?: Duration;
  /**
   * How long CloudWatch keeps the function's logs.
   *
   * @default logs.RetentionDays.ONE_MONTH
   */
  readonly logRetention?: logs.RetentionDays;
  /**
   * What happens to the log group when the stack is deleted.
   *
   * @default RemovalPolicy.DESTROY (the logs belong to this function; `cdk destroy` leaves nothing behind)
   */
  readonly logRemovalPolicy?: RemovalPolicy;
  /**
   * Who may call the Function URL. `NONE` makes it public to the internet,
   * which is allowed only when set explicitly and then warns at synth.
   *
   * @default lambda.FunctionUrlAuthType.AWS_IAM
   */
  readonly authType?: lambda.FunctionUrlAuthType;
  /**
   * Browser origins allowed to read the stream across origins, e.g.
   * `https://app.example.com`. Each is `scheme://host[:port]`, or `*`.
   * Only GET is allowed, with the headers a SigV4-signed `fetch` sends.
   *
   * @default - no CORS configuration: only same-origin and non-browser clients
   */
  readonly corsAllowedOrigins?: string[];
  /**
   * Concurrent executions reserved for, and capping, this function. Each open
   * stream holds one execution, so this caps simultaneous streams (and cost).
   * Integer of at least 1. Lambda keeps at least 10 executions of the
   * account unreserved, so the deploy fails unless the account's concurrency
   * quota is at least 10 more than this (new accounts often have a quota of
   * 10, which leaves nothing to reserve: see `aws lambda get-account-settings`
   * and raise it through Service Quotas). Callers beyond the cap get 429, and
   * a browser `EventSource` gives up for good on a 429 at a window's
   * reconnect: clients should retry 429 and 5xx with backoff and `Last-Event-ID`.
   *
   * @default - no reservation: the function shares the account's unreserved pool
   */
  readonly reservedConcurrentExecutions?: number;
  /**
   * Principals allowed to call the URL, granted at deploy time through the
   * function's resource policy: 12-digit account ids (any identity in that
   * account whose own policy allows it) or IAM role ARNs. Requires `AWS_IAM`.
   *
   * @default - none; identities of the deploying account may still call it if their IAM policies allow
   */
  readonly invokers?: string[];
  /**
   * Settings of the event stream, passed as environment variables. All of
   * them are always set, so the deployed behaviour is visible in the template
   * and does not depend on defaults compiled into the binary.
   *
   * @default - every setting at its own default
   */
  readonly stream?: SseStreamSettings;
  /**
   * Settings of the demo progress job, passed as environment variables when
   * the binary mounts the job (`progressJob`). Giving them for a binary that
   * does not is refused: they would do nothing.
   *
   * @default - every setting at its own default, when the binary has the job
   */
  readonly job?: SseJobSettings;
  /**
   * The table of durable streams: the function serves `/streams/{name}` from
   * it (`SSE_TABLE_NAME`) and may only `dynamodb:Query` it. An `SseTable`,
   * or any table with its layout (partition key `stream`, sort key `seq`).
   *
   * @default - no table: the function does not serve `/streams/{name}`
   */
  readonly streamsTable?: SseTable | dynamodb.ITable;
  /**
   * How the function polls `streamsTable`, passed as environment variables.
   * Giving them without a table is refused: they would do nothing.
   *
   * @default - every setting at its own default, when there is a table
   */
  readonly durable?: SseDurableSettings;
  /**
   * Cargo manifest to build from: this repository's, or that of any crate
   * built on the `lambda-sse` library.
   *
   * @default - this repository's workspace root `Cargo.toml`
   */
  readonly manifestPath?: string;
  /**
   * Binary of that manifest that serves the stream.
   *
   * @default 'sse-function'
   */
  readonly binaryName?: string;
  /**
   * Whether the binary mounts the demo progress job, and so reads the job's
   * variables (`job`).
   *
   * @default - true for this repository's `sse-function`, false for any other binary
   */
  readonly progressJob?: boolean;
  /**
   * Whether the function writes its CloudWatch metrics (`SSE_METRICS`):
   * one Embedded Metric Format log line per response and per refused
   * request, which CloudWatch Logs turns into metrics in `metricsNamespace`
   * (streams started and ended, events, bytes, time to first event,
   * resumes, source errors, store reads, publish lag, refused requests).
   * `SseMonitoring`'s source failure alarm and most of its dashboard need them.
   *
   * @default true
   */
  readonly metrics?: boolean;
  /**
   * The CloudWatch namespace of the function's metrics
   * (`SSE_METRICS_NAMESPACE`): 1 to 255 of A-Z a-z 0-9 . - _ / # : and
   * space, not starting with `AWS/`. Give each deployment its own when
   * several share an account and region.
   *
   * @default 'LambdaSse'
   */
  readonly metricsNamespace?: string;
  /**
   * X-Ray active tracing: Lambda samples invocations and records a trace of
   * each sampled one (initialization, invocation, the time to the end of
   * the stream). Adds `xray:PutTraceSegments` and `xray:PutTelemetryRecords`
   * to the role; X-Ray bills per trace beyond its free tier.
   *
   * @default false
   */
  readonly tracing?: boolean;
  /**
   * More environment variables for the function (a table name, a feature
   * switch of your source). The variables the construct sets (from `stream`,
   * `job`, `durable`, `streamsTable`, `metrics` and `metricsNamespace`) may
   * not be given here.
   *
   * @default - none
   */
  readonly environment?: Record<string, string>;
  /**
   * How cargo-lambda builds the binary, passed to `cargo-lambda-cdk`'s
   * `RustFunction` as it is (features, cargo flags, build environment,
   * Docker fallback...).
   *
   * @default - cargo-lambda-cdk's defaults: a release build for the architecture
   */
  readonly bundling?: BundlingOptions;
}

/**
 * The Rust SSE function, its log group and least-privilege role, and its
 * streaming (`RESPONSE_STREAM`) Function URL.
 */
export class SseFunction extends Construct {
  /** The Lambda function (built by cargo-lambda). */
  public readonly function: lambda.Function;
  /** The streaming Function URL. */
  public readonly functionUrl: lambda.FunctionUrl;
  /** The function's log group; the role may write here and nowhere else. */
  public readonly logGroup: logs.LogGroup;
  /** How long the log group keeps logs; fronts (`SseRestApi`) keep theirs as long. */
  public readonly logRetention: logs.RetentionDays;
  /** The function's execution role. */
  public readonly role: iam.Role;
  /** Who may call the URL. */
  public readonly authType: lambda.FunctionUrlAuthType;
  /** The stream settings the function receives, defaults filled in. */
  public readonly streamSettings: ResolvedStreamSettings;
  /** The job settings the function receives, when the binary has the job. */
  public readonly jobSettings?: ResolvedJobSettings;
  /** The table of durable streams the function reads, when it has one. */
  public readonly streamsTable?: dynamodb.ITable;
  /** The durable streams' settings the function receives, when it has a table. */
  public readonly durableSettings?: ResolvedDurableSettings;
  /** The longest one invocation may run. */
  public readonly timeout: Duration;
  /** Memory in MB. */
  public readonly memorySize: number;
  /** The concurrency reserved for (and capping) the function, when set. */
  public readonly reservedConcurrentExecutions?: number;
  /** Whether the function writes its CloudWatch metrics. */
  public readonly metricsEnabled: boolean;
  /** The namespace of the function's metrics (also when they are off: where they would go). */
  public readonly metricsNamespace: string;
  /** Whether X-Ray active tracing is on. */
  public readonly tracing: boolean;

  constructor(scope: Construct, id: string, props: SseFunctionProps = {}) {
    super(scope, id);

    const memorySize = props.memorySize ?? DEFAULT_MEMORY_MB;
    const timeout = props.timeout ?? DEFAULT_TIMEOUT;
    const authType = props.authType ?? lambda.FunctionUrlAuthType.AWS_IAM;
    const corsAllowedOrigins = props.corsAllowedOrigins ?? [];
    const invokers = props.invokers ?? [];
    const streamSettings: ResolvedStreamSettings = { ...DEFAULT_STREAM_SETTINGS, ...definedOnly(props.stream ?? {}) };
    const binaryName = props.binaryName ?? DEFAULT_BINARY_NAME;
    const manifestPath = props.manifestPath ?? DEFAULT_MANIFEST_PATH;
    const progressJob = props.progressJob ?? (binaryName === DEFAULT_BINARY_NAME && manifestPath === DEFAULT_MANIFEST_PATH);
    const jobSettings: ResolvedJobSettings | undefined = progressJob ? { ...DEFAULT_JOB_SETTINGS, ...definedOnly(props.job ?? {}) } : undefined;
    const environment = props.environment ?? {};
    const streamsTable = props.streamsTable instanceof SseTable ? props.streamsTable.table : props.streamsTable;
    const durableSettings: ResolvedDurableSettings | undefined = streamsTable ? { ...DEFAULT_DURABLE_SETTINGS, ...definedOnly(props.durable ?? {}) } : undefined;

    const metricsEnabled = props.metrics ?? true;
    const metricsNamespace = props.metricsNamespace ?? METRICS.defaultNamespace;
    const tracing = props.tracing ?? false;

    const problems = validateProps({ memorySize, timeout, authType, corsAllowedOrigins, invokers, streamSettings, reservedConcurrentExecutions: props.reservedConcurrentExecutions });
    const namespaceProblem = checkMetricsNamespace(metricsNamespace);
    if (namespaceProblem) problems.push(`metricsNamespace ${namespaceProblem}`);
    if (jobSettings) {
      for (const key of JOB_SETTING_KEYS) {
        const problem = checkIntegerInRange(jobSettings[key], JOB_ENVIRONMENT[key].range);
        if (problem) problems.push(`job.${key} ${problem}`);
      }
    } else if (props.job && Object.values(props.job).some((value) => value !== undefined)) {
      problems.push(`job settings apply only to a binary that mounts the progress job, and ${binaryName} is taken not to: set progressJob to true, or remove job`);
    }
    if (durableSettings) {
      problems.push(...validateDurable(durableSettings));
    } else if (props.durable && Object.values(props.durable).some((value) => value !== undefined)) {
      problems.push('durable settings apply only to a function that reads a table of durable streams: give streamsTable, or remove durable');
    }
    const managed = [...Object.values(STREAM_ENVIRONMENT), ...Object.values(JOB_ENVIRONMENT), ...Object.values(DURABLE_ENVIRONMENT)].map((v) => v.variable);
    managed.push(TABLE_NAME_VARIABLE, METRICS.switchVariable, METRICS.namespaceVariable);
    const clashing = Object.keys(environment).filter((name) => managed.includes(name));
    if (clashing.length > 0) {
      problems.push(`environment sets ${clashing.join(', ')}, which the construct sets from stream, job, durable, streamsTable, metrics and metricsNamespace: give them there instead`);
    }
    if (problems.length > 0) {
      throw new Error(`Invalid props for SseFunction at ${this.node.path}; change:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    }

    this.authType = authType;
    this.streamSettings = streamSettings;
    this.jobSettings = jobSettings;
    this.streamsTable = streamsTable;
    this.durableSettings = durableSettings;
    this.timeout = timeout;
    this.memorySize = memorySize;
    this.reservedConcurrentExecutions = props.reservedConcurrentExecutions;
    this.metricsEnabled = metricsEnabled;
    this.metricsNamespace = metricsNamespace;
    this.tracing = tracing;

    this.logRetention = props.logRetention ?? DEFAULT_LOG_RETENTION;
    this.logGroup = new logs.LogGroup(this, 'LogGroup', {
      retention: this.logRetention,
      removalPolicy: props.logRemovalPolicy ?? RemovalPolicy.DESTROY,
    });

    // An own role instead of AWSLambdaBasicExecutionRole: that managed policy
    // may create and write any log group in the account.
    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: 'Runs the SSE function; may write its own log group and nothing else',
    });
    this.logGroup.grantWrite(this.role);

    const settingsEnvironment = (env: { readonly [key: string]: StreamVariable }, values: Readonly<Record<string, number>>): [string, string][] =>
      Object.keys(env).map((key) => [env[key].variable, String(values[key])]);
    this.function = new RustFunction(this, 'Function', {
      manifestPath,
      binaryName,
      bundling: props.bundling,
      runtime: 'provided.al2023',
      architecture: props.architecture ?? lambda.Architecture.ARM_64,
      memorySize,
      timeout,
      role: this.role,
      logGroup: this.logGroup,
      loggingFormat: lambda.LoggingFormat.JSON,
      reservedConcurrentExecutions: props.reservedConcurrentExecutions,
      tracing: tracing ? lambda.Tracing.ACTIVE : lambda.Tracing.DISABLED,
      environment: {
        ...environment,
        [METRICS.switchVariable]: metricsEnabled ? 'on' : 'off',
        [METRICS.namespaceVariable]: metricsNamespace,
        ...Object.fromEntries(settingsEnvironment(STREAM_ENVIRONMENT, streamSettings)),
        ...(jobSettings ? Object.fromEntries(settingsEnvironment(JOB_ENVIRONMENT, jobSettings)) : {}),
        ...(streamsTable && durableSettings
          ? { [TABLE_NAME_VARIABLE]: streamsTable.tableName, ...Object.fromEntries(settingsEnvironment(DURABLE_ENVIRONMENT, durableSettings)) }
          : {}),
      },
      description: 'Streams Server-Sent Events through a RESPONSE_STREAM Function URL',
    });

    // Strongly consistent Query of the streams it serves, nothing else.
    if (streamsTable) grantSubscribeTo(streamsTable, this.role);

    if (tracing) {
      Validations.of(this.role).acknowledge({
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason: 'X-Ray active tracing (tracing prop, -c sse:tracing=true): xray:PutTraceSegments and xray:PutTelemetryRecords have no resource-level permissions, so Lambda\'s tracing policy names Resource *.',
      });
    }

    skipCheckov(this.function, 'CKV_AWS_116', 'Invoked synchronously only (Function URL, ALB): a dead-letter queue takes failed asynchronous invocations, and there are none.');
    skipCheckov(this.function, 'CKV_AWS_117', 'Reaches no resource in a VPC: it streams to its caller, writes its own log group and, with durable streams, queries DynamoDB through its public endpoint. A VPC would add ENIs and a NAT or endpoints, for nothing.');
    skipCheckov(this.function, 'CKV_AWS_173', 'The construct puts only numeric stream settings, the metrics switch and namespace and the streams table\'s name in the environment, and Lambda encrypts it at rest with an AWS-owned key; variables added through the environment prop are the deployer\'s, and secrets belong in Secrets Manager or SSM, not there.');
    if (props.reservedConcurrentExecutions === undefined) {
      skipCheckov(this.function, 'CKV_AWS_115', 'A concurrency cap is opt-in (reservedConcurrentExecutions, -c sse:reservedConcurrency): Lambda keeps 10 executions unreserved, so an account whose quota is 10 cannot reserve any, and a default cap would fail such a first deploy.');
    }
    skipCheckov(this.logGroup, 'CKV_AWS_158', 'The log lines hold stream metadata (job ids, counts, end reasons), no secret; CloudWatch Logs encrypts them at rest. A customer managed key would add a key policy to manage and a monthly charge.');

    this.functionUrl = this.function.addFunctionUrl({
      authType,
      invokeMode: lambda.InvokeMode.RESPONSE_STREAM,
      cors: corsAllowedOrigins.length === 0 ? undefined : {
        allowedOrigins: corsAllowedOrigins,
        allowedMethods: [lambda.HttpMethod.GET],
        allowedHeaders: CORS_ALLOWED_HEADERS,
        maxAge: Duration.hours(1),
      },
    });

    if (authType === lambda.FunctionUrlAuthType.NONE) {
      skipCheckov(this.functionUrl, 'CKV_AWS_258', 'authType NONE was chosen explicitly (authType prop, -c sse:authType=NONE), and synth warns about it.');
      Annotations.of(this).addWarningV2(
        'lambda-sse:publicFunctionUrl',
        'The Function URL has authType NONE: anyone on the internet can open streams, and each stream is billed for as long as it runs. ' +
          'Prefer AWS_IAM (the default); if the URL must be public, set reservedConcurrentExecutions as a cost cap.',
      );
    }

    for (const invoker of invokers) {
      this.grantInvokeUrl(invokerKind(invoker) === 'account' ? new iam.AccountPrincipal(invoker) : new iam.ArnPrincipal(invoker));
    }
  }

  /** The Function URL, ending in `/`. */
  public get url(): string {
    return this.functionUrl.url;
  }

  /**
   * Grants a principal the right to call the URL: `lambda:InvokeFunctionUrl`
   * and, as Lambda requires since October 2025, `lambda:InvokeFunction` with
   * the condition `lambda:InvokedViaFunctionUrl`. A principal of this account
   * gets an identity policy; any other gets a statement in the function's
   * resource policy.
   */
  public grantInvokeUrl(grantee: iam.IGrantable): iam.Grant {
    if (this.authType !== lambda.FunctionUrlAuthType.AWS_IAM) {
      throw new Error(`Cannot grant access to the Function URL of ${this.node.path}: its authType is ${this.authType}, so it is not IAM-authenticated; grants need authType AWS_IAM`);
    }
    return this.function.grantInvokeUrl(grantee);
  }

  /**
   * A ready-to-paste `curl` command for `path` (no leading slash), for bash,
   * zsh or any POSIX shell. Signed with the caller's credentials from the
   * environment when the URL uses AWS_IAM: the `x-amz-security-token` header
   * is sent only when `AWS_SESSION_TOKEN` is set, because curl signs a header
   * given with an empty value but does not send it, and the signature then
   * fails (403) for long-term keys. A query in `path` must be sorted by name:
   * curl before 8.0 signs it as written, and AWS sorts it.
   */
  public curlCommand(urlPath = 'events'): string {
    return curlCommand({
      url: this.url,
      urlPath,
      sigv4Service: this.authType === lambda.FunctionUrlAuthType.NONE ? undefined : 'lambda',
      region: Stack.of(this).region,
    });
  }
}

/** What `curlCommand` builds a command from. */
export interface CurlCommandOptions {
  /** The base URL, ending in `/` (may be a token). */
  readonly url: string;
  /** The path after it, no leading slash; a query must be sorted by name. */
  readonly urlPath: string;
  /**
   * The service to sign for with SigV4 (`lambda` for a Function URL,
   * `execute-api` for an API Gateway API).
   *
   * @default - not signed
   */
  readonly sigv4Service?: string;
  /** The region to sign for (may be a token). */
  readonly region: string;
  /**
   * More header arguments, as they go on the command line, e.g.
   * `-H "x-api-key: $SSE_API_KEY"`.
   *
   * @default - none
   */
  readonly headers?: string[];
}

/**
 * A ready-to-paste `curl` command, for bash, zsh or any POSIX shell. When
 * signed, it uses the caller's credentials from the environment: the
 * `x-amz-security-token` header is sent only when `AWS_SESSION_TOKEN` is
 * set, because curl signs a header given with an empty value but does not
 * send it, and the signature then fails (403) for long-term keys. A query
 * in the path must be sorted by name: curl before 8.0 signs it as written,
 * and AWS sorts it.
 */
export function curlCommand(options: CurlCommandOptions): string {
  const headers = (options.headers ?? []).map((header) => `${header} `).join('');
  if (options.sigv4Service === undefined) {
    return Fn.join('', [`curl -N ${headers}`, options.url, options.urlPath]);
  }
  return Fn.join('', [
    'curl -N --aws-sigv4 "aws:amz:',
    options.region,
    `:${options.sigv4Service}" --user "$AWS_ACCESS_KEY_ID:$AWS_SECRET_ACCESS_KEY" \${AWS_SESSION_TOKEN:+-H} \${AWS_SESSION_TOKEN:+"x-amz-security-token: $AWS_SESSION_TOKEN"} ${headers}`,
    options.url,
    options.urlPath,
  ]);
}

interface CheckedProps {
  readonly memorySize: number;
  readonly timeout: Duration;
  readonly authType: lambda.FunctionUrlAuthType;
  readonly corsAllowedOrigins: readonly string[];
  readonly invokers: readonly string[];
  readonly streamSettings: ResolvedStreamSettings;
  readonly reservedConcurrentExecutions: number | undefined;
}

/** Every problem with the props, each naming the prop; empty when all is well. */
function validateProps(props: CheckedProps): string[] {
  const problems: string[] = [];
  const add = (name: string, problem: string | undefined): void => {
    if (problem) problems.push(`${name} ${problem}`);
  };

  add('memorySize', checkIntegerInRange(props.memorySize, LIMITS.memoryMb));
  let timeoutSeconds: number | undefined;
  if (props.timeout.isUnresolved()) {
    problems.push('timeout must be a concrete Duration, not a token');
  } else {
    const ms = props.timeout.toMilliseconds({ integral: false });
    const problem = ms % 1000 === 0 ? checkIntegerInRange(ms / 1000, LIMITS.timeoutSeconds) : `must be whole seconds from ${LIMITS.timeoutSeconds.min} to ${LIMITS.timeoutSeconds.max}, got ${ms} ms`;
    add('timeout', problem);
    if (!problem) timeoutSeconds = ms / 1000;
  }
  if (props.reservedConcurrentExecutions !== undefined) {
    add('reservedConcurrentExecutions', checkIntegerInRange(props.reservedConcurrentExecutions, LIMITS.reservedConcurrency));
  }
  for (const key of Object.keys(STREAM_ENVIRONMENT) as (keyof ResolvedStreamSettings)[]) {
    add(`stream.${key}`, checkIntegerInRange(props.streamSettings[key], STREAM_ENVIRONMENT[key].range));
  }
  // Compared only when both are valid on their own; otherwise their own problems say it.
  const margin = props.streamSettings.deadlineMarginMs;
  if (timeoutSeconds !== undefined && !checkIntegerInRange(margin, STREAM_ENVIRONMENT.deadlineMarginMs.range)) {
    add('stream.deadlineMarginMs', checkMarginFitsTimeout(margin, timeoutSeconds));
  }
  props.corsAllowedOrigins.forEach((origin, i) => add(`corsAllowedOrigins[${i}]`, checkCorsOrigin(origin)));
  props.invokers.forEach((invoker, i) => add(`invokers[${i}]`, checkInvoker(invoker)));
  const repeated = props.invokers.filter((invoker, i) => props.invokers.indexOf(invoker) !== i);
  if (repeated.length > 0) problems.push(`invokers lists ${repeated.join(', ')} more than once; list each principal once`);
  if (props.invokers.length > 0 && props.authType !== lambda.FunctionUrlAuthType.AWS_IAM) {
    problems.push(`invokers only apply to an IAM-authenticated URL: remove them or set authType to AWS_IAM (it is ${props.authType})`);
  }
  return problems;
}

/** Every problem with the durable settings, each naming the prop. */
function validateDurable(settings: ResolvedDurableSettings): string[] {
  const problems: string[] = [];
  for (const key of DURABLE_SETTING_KEYS) {
    const problem = checkIntegerInRange(settings[key], DURABLE_ENVIRONMENT[key].range);
    if (problem) problems.push(`durable.${key} ${problem}`);
  }
  // Compared only when both are valid on their own; otherwise their own problems say it.
  const pollValid = (['pollMinMs', 'pollMaxMs'] as const).every((key) => checkIntegerInRange(settings[key], DURABLE_ENVIRONMENT[key].range) === undefined);
  if (pollValid && settings.pollMinMs > settings.pollMaxMs) {
    problems.push(
      `durable.pollMinMs (${settings.pollMinMs} ms) must not be above durable.pollMaxMs (${settings.pollMaxMs} ms): ` +
        'the function would refuse to start; lower pollMinMs or raise pollMaxMs',
    );
  }
  return problems;
}

/** Drops keys whose value is `undefined` so they do not override defaults when spread. */
function definedOnly<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
