import { DURABLE_LAYOUT, nameRuleRegExp, nameRuleWords } from './function-settings';
/**
 * Pure checks shared by the construct (props) and the app (context values).
 *
 * Each check returns `undefined` when the value is fine, or a sentence that
 * says what is wrong and what is allowed, so callers can prefix it with the
 * name the user typed (a prop name or a `-c` key) and list every problem at once.
 */

/** An inclusive integer range with the unit a user would write the value in. */
export interface IntegerRange {
  readonly min: number;
  /** @default - no upper bound */
  readonly max?: number;
  /** Shown after the numbers, e.g. 'MB'. @default - no unit */
  readonly unit?: string;
}

/**
 * Lambda's and the ALB's own limits. The limits of the function's own
 * settings come from the function (`STREAM_ENVIRONMENT` in sse-function.ts).
 */
export const LIMITS = {
  /** Lambda memory, MB. */
  memoryMb: { min: 128, max: 10_240, unit: 'MB' },
  /** Lambda timeout, seconds: an invocation (so a stream) never outlives 900 s. */
  timeoutSeconds: { min: 1, max: 900, unit: 's' },
  /** 0 would throttle every request, so a cap starts at 1. */
  reservedConcurrency: { min: 1 },
  /** ALB idle timeout (`idle_timeout.timeout_seconds`). */
  albIdleTimeoutSeconds: { min: 1, max: 4_000, unit: 's' },
  /** Days the ALB access logs are kept before the bucket's lifecycle rule deletes them. */
  accessLogRetentionDays: { min: 1, unit: 'days' },
  /** A REST API integration's timeout: up to 15 minutes with response streaming (whole seconds here). */
  restApiIntegrationTimeoutSeconds: { min: 1, max: 900, unit: 's' },
  /** A REST API stage's steady request rate; API Gateway's default account quota is 10000 requests per second. */
  restApiThrottleRate: { min: 1, max: 10_000, unit: 'requests per second' },
  /** A REST API stage's burst; API Gateway's default account quota is 5000 requests. */
  restApiThrottleBurst: { min: 1, max: 5_000, unit: 'requests' },
  /** A count alarm's threshold: it fires at this many in 5 minutes. */
  alarmCount: { min: 1, unit: 'per 5 minutes' },
  /** A share alarm's threshold. */
  alarmPercent: { min: 1, max: 100, unit: '%' },
} as const satisfies Record<string, IntegerRange>;

/** Describes a range as a user reads it: "an integer from 128 to 10240 (MB)". */
export function describeRange(range: IntegerRange): string {
  const unit = range.unit ? ` (${range.unit})` : '';
  return range.max === undefined
    ? `an integer of at least ${range.min}${unit}`
    : `an integer from ${range.min} to ${range.max}${unit}`;
}

export function checkIntegerInRange(value: number, range: IntegerRange): string | undefined {
  const inRange = Number.isInteger(value) && value >= range.min && (range.max === undefined || value <= range.max);
  return inRange ? undefined : `must be ${describeRange(range)}, got ${value}`;
}

/**
 * A CORS origin as browsers send it: `scheme://host[:port]`, no path, no
 * trailing slash. `*` is accepted only because a user wrote it on purpose;
 * nothing in this project defaults to it.
 */
export function checkCorsOrigin(origin: string): string | undefined {
  if (origin === '*') return undefined;
  const hint = 'must be an origin like https://app.example.com or http://localhost:3000 (scheme, host and optional port; no path or trailing slash) or *';
  let parsed: URL;
  try {
    parsed = new URL(origin);
  } catch {
    return `${hint}, got ${JSON.stringify(origin)}`;
  }
  // A wildcard inside a host (https://*.example.com) is not an origin browsers send; only a lone * is.
  const wellFormed = (parsed.protocol === 'https:' || parsed.protocol === 'http:') && parsed.origin === origin && !parsed.hostname.includes('*');
  return wellFormed ? undefined : `${hint}, got ${JSON.stringify(origin)}`;
}

/** What a principal string names; decides which IAM principal is granted. */
export type InvokerKind = 'account' | 'role';

const ACCOUNT_ID = /^\d{12}$/;
// Role names and paths use [\w+=,.@-]; the partition may be aws, aws-cn, aws-us-gov, ...
const ROLE_ARN = /^arn:aws(?:-[a-z]+)*:iam::\d{12}:role\/(?:[\w+=,.@-]+\/)*[\w+=,.@-]{1,64}$/;

/** Classifies an invoker: a 12-digit account id or an IAM role ARN. */
export function invokerKind(invoker: string): InvokerKind | undefined {
  if (ACCOUNT_ID.test(invoker)) return 'account';
  if (ROLE_ARN.test(invoker)) return 'role';
  return undefined;
}

/** An IAM role ARN, as a resource policy names a principal. */
export function checkRoleArn(arn: string): string | undefined {
  return ROLE_ARN.test(arn)
    ? undefined
    : `must be an IAM role ARN (arn:aws:iam::123456789012:role/name), got ${JSON.stringify(arn)}`;
}

/** DynamoDB's rule for table names. */
export function checkTableName(name: string): string | undefined {
  const rule = DURABLE_LAYOUT.tableName;
  return nameRuleRegExp(rule).test(name)
    ? undefined
    : `must be ${nameRuleWords(rule)} (DynamoDB's rule for table names), got ${JSON.stringify(name)}`;
}

/** A durable stream's name, as the function and producers accept it (`function/src/durable/name.rs`). */
export function checkStreamName(name: string): string | undefined {
  const rule = DURABLE_LAYOUT.streamName;
  return nameRuleRegExp(rule).test(name)
    ? undefined
    : `must be ${nameRuleWords(rule)} (a durable stream's name), got ${JSON.stringify(name)}`;
}

export function checkInvoker(invoker: string): string | undefined {
  return invokerKind(invoker)
    ? undefined
    : `must be a 12-digit AWS account id or an IAM role ARN (arn:aws:iam::123456789012:role/name), got ${JSON.stringify(invoker)}`;
}

/** CloudFormation's rule for stack names. */
export function checkStackName(name: string): string | undefined {
  return /^[A-Za-z][A-Za-z0-9-]{0,127}$/.test(name)
    ? undefined
    : `must start with a letter and hold only letters, digits and hyphens (at most 128 characters), got ${JSON.stringify(name)}`;
}

/**
 * Each response ends at min(window, time to the deadline - margin). A margin
 * as long as the timeout (or longer) leaves no time at all: every response
 * would end as soon as it starts, and clients would reconnect in a loop.
 * An error, not a warning: such a deployment cannot stream anything.
 */
export function checkMarginFitsTimeout(deadlineMarginMs: number, timeoutSeconds: number): string | undefined {
  const timeoutMs = timeoutSeconds * 1000;
  return deadlineMarginMs < timeoutMs
    ? undefined
    : `must be shorter than the timeout (${timeoutSeconds} s = ${timeoutMs} ms), got ${deadlineMarginMs} ms: ` +
      'every response would end as soon as it starts; lower the deadline margin or raise the timeout';
}

/**
 * A buffered (ALB) answer holds the events of one batch window and must be
 * sent before the deadline margin; a window that does not fit the timeout
 * would be cut by Lambda, and the ALB would answer 502 instead of a batch.
 */
export function checkBatchWindowFitsTimeout(batchWindowMs: number, deadlineMarginMs: number, timeoutSeconds: number): string | undefined {
  const timeoutMs = timeoutSeconds * 1000;
  return batchWindowMs + deadlineMarginMs < timeoutMs
    ? undefined
    : `plus the deadline margin (${batchWindowMs} ms + ${deadlineMarginMs} ms) must be shorter than the timeout (${timeoutSeconds} s = ${timeoutMs} ms): ` +
      'Lambda would cut every buffered (ALB) answer before it is sent; lower the batch window or raise the timeout';
}

/**
 * The ALB drops a connection that sees no data for the idle timeout, and a
 * buffered answer sends nothing until its batch window is over: an idle
 * timeout not longer than the window would cut every answer.
 */
export function checkIdleTimeoutFitsBatchWindow(idleTimeoutSeconds: number, batchWindowMs: number): string | undefined {
  const idleMs = idleTimeoutSeconds * 1000;
  return idleMs > batchWindowMs
    ? undefined
    : `must be longer than the batch window (${batchWindowMs} ms), got ${idleTimeoutSeconds} s = ${idleMs} ms: ` +
      'the ALB would drop every answer before its batch is complete; raise the idle timeout or lower the batch window';
}

/**
 * An IPv4 CIDR block in canonical form (`10.0.0.0/8`): the address is the
 * network address of the block, so what is written is what is allowed.
 */
export function checkIpv4Cidr(cidr: string): string | undefined {
  const hint = 'must be an IPv4 CIDR block like 10.0.0.0/8 or 203.0.113.7/32';
  const match = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(cidr);
  if (!match) return `${hint}, got ${JSON.stringify(cidr)}`;
  const octets = match.slice(1, 5).map(Number);
  const prefix = Number(match[5]);
  if (octets.some((o, i) => o > 255 || String(o) !== match[i + 1]) || prefix > 32) return `${hint}, got ${JSON.stringify(cidr)}`;
  const address = octets.reduce((acc, o) => acc * 256 + o, 0);
  const size = 2 ** (32 - prefix);
  const network = address - (address % size);
  if (network !== address) {
    const canonical = [24, 16, 8, 0].map((shift) => Math.floor(network / 2 ** shift) % 256).join('.');
    return `has host bits set: ${cidr} is the block ${canonical}/${prefix}; write ${canonical}/${prefix}, or ${octets.join('.')}/32 for one address`;
  }
  return undefined;
}

const ACM_CERTIFICATE_ARN = /^arn:aws(?:-[a-z]+)*:acm:[a-z]{2}(?:-[a-z]+)+-\d:\d{12}:certificate\/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * An ACM certificate ARN, as an HTTPS listener or an API Gateway domain
 * takes it; `where` says which region it must be in.
 */
export function checkAcmCertificateArn(arn: string, where = "the ALB's region"): string | undefined {
  return ACM_CERTIFICATE_ARN.test(arn)
    ? undefined
    : `must be an ACM certificate ARN (arn:aws:acm:<region>:<account>:certificate/<uuid>) in ${where}, got ${JSON.stringify(arn)}`;
}

/** The region named in an ARN (its fourth field), or undefined when there is none. */
export function regionOfArn(arn: string): string | undefined {
  const region = arn.split(':')[3];
  return region ? region : undefined;
}

const USER_POOL_ARN = /^arn:aws(?:-[a-z]+)*:cognito-idp:[a-z]{2}(?:-[a-z]+)+-\d:\d{12}:userpool\/[a-z]{2}(?:-[a-z]+)+-\d_[0-9A-Za-z]+$/;

/** A Cognito user pool ARN, as an API Gateway authorizer takes it. */
export function checkUserPoolArn(arn: string): string | undefined {
  return USER_POOL_ARN.test(arn)
    ? undefined
    : `must be a Cognito user pool ARN (arn:aws:cognito-idp:<region>:<account>:userpool/<region>_<id>), got ${JSON.stringify(arn)}`;
}

/**
 * An OAuth scope as a Cognito resource server defines it
 * (`<resource server>/<scope>`, or a standard scope like `openid`):
 * printable ASCII without spaces, quotes or backslashes.
 */
export function checkOAuthScope(scope: string): string | undefined {
  return /^[\x21\x23-\x5B\x5D-\x7E]{1,256}$/.test(scope)
    ? undefined
    : `must be an OAuth scope like https://api.example.com/read or openid (no spaces, quotes or backslashes), got ${JSON.stringify(scope)}`;
}

const WEB_ACL_ARN = /^arn:aws(?:-[a-z]+)*:wafv2:[a-z]{2}(?:-[a-z]+)+-\d:\d{12}:regional\/webacl\/[\w-]{1,128}\/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** A regional WAFv2 web ACL ARN, as an API Gateway stage is associated with it. */
export function checkWebAclArn(arn: string): string | undefined {
  return WEB_ACL_ARN.test(arn)
    ? undefined
    : `must be a regional WAFv2 web ACL ARN (arn:aws:wafv2:<region>:<account>:regional/webacl/<name>/<uuid>) in the API's region, got ${JSON.stringify(arn)}`;
}

/** A DNS name a custom domain can be: lowercase labels, at least two, no wildcard. */
export function checkDomainName(name: string): string | undefined {
  const label = '[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?';
  return name.length <= 253 && new RegExp(`^(?:${label}\\.)+${label}$`).test(name)
    ? undefined
    : `must be a lowercase DNS name like sse.example.com (no scheme, path, wildcard or trailing dot), got ${JSON.stringify(name)}`;
}

/** API Gateway's rule for stage names. */
export function checkStageName(name: string): string | undefined {
  return /^[A-Za-z0-9_-]{1,128}$/.test(name)
    ? undefined
    : `must be 1 to 128 of A-Z a-z 0-9 _ - (API Gateway's rule for stage names), got ${JSON.stringify(name)}`;
}

/**
 * A proxy drops a connection that sends nothing for its idle timeout; the
 * function's heartbeat comment is what a quiet stream sends, so it must come
 * well inside it: at most half, so that one late heartbeat (a cold start, a
 * slow poll) does not lose the stream.
 */
export function checkHeartbeatFitsIdleTimeout(heartbeatMs: number, idleTimeoutSeconds: number, front: string): string | undefined {
  const idleMs = idleTimeoutSeconds * 1000;
  return heartbeatMs * 2 <= idleMs
    ? undefined
    : `must be at most half ${front}'s idle timeout (${idleTimeoutSeconds} s, so at most ${idleMs / 2} ms), got ${heartbeatMs} ms: ` +
      `a quiet stream would be dropped between two heartbeats; lower the heartbeat`;
}

/**
 * A streamed response ends at min(window, timeout - margin); an integration
 * timeout shorter than that would cut every long response before the
 * function ends it with its `reconnect` event.
 */
export function checkIntegrationTimeoutFitsResponse(integrationTimeoutSeconds: number, responseMs: number): string | undefined {
  const timeoutMs = integrationTimeoutSeconds * 1000;
  return timeoutMs >= responseMs
    ? undefined
    : `(${integrationTimeoutSeconds} s = ${timeoutMs} ms) must be at least as long as one response (min(window, timeout - deadline margin) = ${responseMs} ms): ` +
      'API Gateway would cut every long response before the function ends it cleanly; raise the integration timeout or lower the window';
}

/** An absolute https URL, as OIDC issuers and endpoints must be. */
export function checkHttpsUrl(url: string): string | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return `must be an absolute https:// URL, got ${JSON.stringify(url)}`;
  }
  return parsed.protocol === 'https:' && parsed.hostname !== '' && !/\s/.test(url)
    ? undefined
    : `must be an absolute https:// URL, got ${JSON.stringify(url)}`;
}

const SECRET_NAME = /^[A-Za-z0-9/_+=.@-]{1,512}$/;
const SECRET_ARN = /^arn:aws(?:-[a-z]+)*:secretsmanager:[a-z]{2}(?:-[a-z]+)+-\d:\d{12}:secret:[A-Za-z0-9/_+=.@-]{1,512}$/;

/**
 * A Secrets Manager secret by name or ARN. The client secret itself never
 * appears in the template, only a `{{resolve:secretsmanager:...}}` reference.
 */
export function checkSecretNameOrArn(value: string): string | undefined {
  if (value.startsWith('arn:')) {
    return SECRET_ARN.test(value) ? undefined : `must be a Secrets Manager secret ARN (arn:aws:secretsmanager:<region>:<account>:secret:<name>) or name, got ${JSON.stringify(value)}`;
  }
  return SECRET_NAME.test(value)
    ? undefined
    : `must be a Secrets Manager secret name (1 to 512 of A-Z a-z 0-9 / _ + = . @ -) or ARN, got ${JSON.stringify(value)}`;
}

/**
 * A CloudWatch namespace for the function's own metrics, as the function
 * checks `SSE_METRICS_NAMESPACE` (`function/src/metrics.rs`): `AWS/` is
 * CloudWatch's own.
 */
export function checkMetricsNamespace(namespace: string): string | undefined {
  return /^[A-Za-z0-9.\-_/#: ]{1,255}$/.test(namespace) && !namespace.startsWith('AWS/')
    ? undefined
    : `must be 1 to 255 of A-Z a-z 0-9 . - _ / # : and space, not starting with AWS/ (a CloudWatch namespace for custom metrics), got ${JSON.stringify(namespace)}`;
}

const SNS_TOPIC_ARN = /^arn:aws(?:-[a-z]+)*:sns:[a-z]{2}(?:-[a-z]+)+-\d:\d{12}:[A-Za-z0-9_-]{1,256}$/;

/** A standard SNS topic's ARN, as an alarm action takes it (FIFO topics cannot take alarms). */
export function checkSnsTopicArn(arn: string): string | undefined {
  return SNS_TOPIC_ARN.test(arn)
    ? undefined
    : `must be a standard SNS topic ARN (arn:aws:sns:<region>:<account>:<name>, no .fifo), got ${JSON.stringify(arn)}`;
}

/** An email address an SNS subscription can confirm: one @, a dot in the domain, no spaces. */
export function checkEmail(email: string): string | undefined {
  return /^[^\s@]+@[^\s@.]+(?:\.[^\s@.]+)+$/.test(email)
    ? undefined
    : `must be an email address like ops@example.com, got ${JSON.stringify(email)}`;
}
