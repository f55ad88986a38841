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

/** Lambda's own limits and the limits the Rust function enforces at start-up. */
export const LIMITS = {
  /** Lambda memory, MB. */
  memoryMb: { min: 128, max: 10_240, unit: 'MB' },
  /** Lambda timeout, seconds: an invocation (so a stream) never outlives 900 s. */
  timeoutSeconds: { min: 1, max: 900, unit: 's' },
  /** 0 would throttle every request, so a cap starts at 1. */
  reservedConcurrency: { min: 1 },
  /** `SSE_RETRY_MS`: the reconnection hint sent to clients. */
  retryMs: { min: 100, max: 600_000, unit: 'ms' },
  /** `SSE_JOB_STEPS`: progress steps of a job when the request names none. */
  jobSteps: { min: 1, max: 1_000 },
  /** `SSE_JOB_INTERVAL_MS`: time between steps when the request names none. */
  jobIntervalMs: { min: 10, max: 60_000, unit: 'ms' },
  /** `SSE_WINDOW_MS`: longest one response lasts before it ends with `reconnect`. */
  windowMs: { min: 1_000, max: 900_000, unit: 'ms' },
  /** `SSE_DEADLINE_MARGIN_MS`: a response ends at least this long before the invocation's deadline. */
  deadlineMarginMs: { min: 100, max: 60_000, unit: 'ms' },
  /** `SSE_HEARTBEAT_MS`: idle time after which a `: keep-alive` comment is sent. */
  heartbeatMs: { min: 1_000, max: 300_000, unit: 'ms' },
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
