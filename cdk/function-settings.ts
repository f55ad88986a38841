/**
 * The environment variables the Rust function reads, with their ranges and
 * defaults, as the function itself defines them (`function/src/settings.rs`).
 *
 * `function-settings.json` is generated from that file, and a Rust test fails
 * when the two differ, so the CDK app validates and documents exactly what
 * the function accepts: one source of truth, in Rust.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { IntegerRange } from './validation';

/** One variable as the function defines it. */
export interface FunctionVariable {
  /** The environment variable, e.g. `SSE_WINDOW_MS`. */
  readonly variable: string;
  /** The CDK app's name for it: the prop and `-c sse:<key>`. */
  readonly key: string;
  /**
   * `stream` for the library's own settings, `job` for the progress job's,
   * `durable` for the durable streams' polling (read by the function when it
   * has a table), `publish` for what producers read (not the function).
   */
  readonly scope: string;
  readonly min: number;
  readonly max: number;
  /** Its value when unset. */
  readonly default: number;
  /** `ms`, `h` (hours), `KiB`, or empty for a count: one of `UNIT_WORDS`. */
  readonly unit: string;
  /** What it sets, in a few words. */
  readonly meaning: string;
}

/** The generated file, next to this one. */
export const FUNCTION_SETTINGS_FILE = path.join(__dirname, 'function-settings.json');

const GENERATED = JSON.parse(fs.readFileSync(FUNCTION_SETTINGS_FILE, 'utf8'));

/** Every variable the function reads, in the order its documentation lists them. */
export const FUNCTION_VARIABLES: readonly FunctionVariable[] = GENERATED.variables;

/** Which names a rule allows: lengths, and the characters besides ASCII letters and digits. */
export interface NameRule {
  readonly minLength: number;
  readonly maxLength: number;
  readonly punctuation: string;
}

/** The durable streams' table as the Rust code reads and writes it (`function/src/durable/`). */
export interface DurableLayout {
  /** The variable that names the table (`SSE_TABLE_NAME`). */
  readonly tableVariable: string;
  /** Partition key (String): the stream's name. */
  readonly partitionKey: string;
  /** Sort key (Number): the event's position in its stream. */
  readonly sortKey: string;
  /** TTL attribute (Number, epoch seconds). */
  readonly timeToLiveAttribute: string;
  /** DynamoDB's rule for table names, as `SSE_TABLE_NAME` is checked. */
  readonly tableName: NameRule;
  /** The rule for stream names. */
  readonly streamName: NameRule;
  /** The largest `data` of an event, in bytes. */
  readonly maxDataBytes: number;
}

/** The durable streams' layout. */
export const DURABLE_LAYOUT: DurableLayout = GENERATED.durable;

/** A regular expression that matches exactly the names `rule` allows. */
export function nameRuleRegExp(rule: NameRule): RegExp {
  const punctuation = rule.punctuation.replace(/[\]\\^-]/g, '\\$&');
  return new RegExp(`^[A-Za-z0-9${punctuation}]{${rule.minLength},${rule.maxLength}}$`);
}

/** The rule in words, for messages: `3 to 255 of A-Z a-z 0-9 _ . -`. */
export function nameRuleWords(rule: NameRule): string {
  return `${rule.minLength} to ${rule.maxLength} of A-Z a-z 0-9 ${[...rule.punctuation].join(' ')}`;
}

/** The variable the CDK app calls `key`, of `scope`; throws when the function has none such. */
export function functionVariable(key: string, scope: string): FunctionVariable {
  const found = FUNCTION_VARIABLES.find((v) => v.key === key && v.scope === scope);
  if (found === undefined) {
    throw new Error(`${FUNCTION_SETTINGS_FILE} has no ${scope} variable with key ${key}; regenerate it (see its "about") or remove the setting`);
  }
  return found;
}

/**
 * Each unit the function may give, as messages and the README write it
 * (`integer hours, 1 to 8760`). A unit not listed fails at load, so a new
 * one is named here before anything shows it.
 */
export const UNIT_WORDS: Readonly<Record<string, string>> = { '': '', ms: 'ms', h: 'hours', KiB: 'KiB' };

/** How `variable`'s unit is written; throws for a unit this file does not know. */
export function unitWord(variable: FunctionVariable): string {
  if (!Object.prototype.hasOwnProperty.call(UNIT_WORDS, variable.unit)) {
    throw new Error(
      `${FUNCTION_SETTINGS_FILE}: ${variable.variable} has unit ${JSON.stringify(variable.unit)}, which cdk/function-settings.ts does not know; ` +
        `add it to UNIT_WORDS (known: ${Object.keys(UNIT_WORDS).map((u) => JSON.stringify(u)).join(', ')})`,
    );
  }
  return UNIT_WORDS[variable.unit];
}

/** A variable's range, with its unit as a word, for validation and messages. */
export function rangeOf(variable: FunctionVariable): IntegerRange {
  const unit = unitWord(variable);
  return unit === '' ? { min: variable.min, max: variable.max } : { min: variable.min, max: variable.max, unit };
}

/** One setting as the CDK app validates and passes it. */
export interface SettingVariable {
  /** The environment variable. */
  readonly variable: string;
  /** The values the function (or producer) accepts. */
  readonly range: IntegerRange;
  /** Its value when unset. */
  readonly default: number;
}

/** Each of `keys`' variable, range and default, as `scope` defines them. */
export function environmentOf<K extends string>(keys: readonly K[], scope: string): { readonly [P in K]: SettingVariable } {
  return Object.fromEntries(
    keys.map((key) => {
      const variable = functionVariable(key, scope);
      return [key, { variable: variable.variable, range: rangeOf(variable), default: variable.default }];
    }),
  ) as { readonly [P in K]: SettingVariable };
}

/** The defaults of a group of settings. */
export function defaultsOf<K extends string>(environment: { readonly [P in K]: SettingVariable }): { [P in K]: number } {
  return Object.fromEntries(Object.entries<SettingVariable>(environment).map(([key, variable]) => [key, variable.default])) as { [P in K]: number };
}

/** The function's CloudWatch metrics (Embedded Metric Format), as `function/src/metrics.rs` writes them. */
export interface MetricsContract {
  /** The variable that names the namespace (`SSE_METRICS_NAMESPACE`). */
  readonly namespaceVariable: string;
  /** The variable that turns metrics `on` (default) or `off` (`SSE_METRICS`). */
  readonly switchVariable: string;
  /** The namespace when the variable is unset. */
  readonly defaultNamespace: string;
  /** Each metric's name, by the CDK app's key for it. */
  readonly names: { readonly [K in MetricKey]: string };
  /** Each dimension's name. */
  readonly dimensions: { readonly [K in DimensionKey]: string };
}

/** The metrics the CDK app's alarms and dashboard use. */
export const METRIC_KEYS = [
  'streamsStarted', 'streamsEnded', 'eventsSent', 'bytesSent', 'timeToFirstEvent',
  'resumes', 'sourceErrors', 'storeReads', 'publishLag', 'refusedRequests',
] as const;
export type MetricKey = (typeof METRIC_KEYS)[number];
/** The dimensions the CDK app's alarms and dashboard use. */
export const DIMENSION_KEYS = ['front', 'route', 'endReason', 'errorCode'] as const;
export type DimensionKey = (typeof DIMENSION_KEYS)[number];

/**
 * Checks that the generated section names every metric and dimension the
 * CDK app uses; throws naming the missing ones (an alarm on a metric the
 * function does not write would never see data).
 */
export function checkMetricsContract(generated: unknown): MetricsContract {
  const section = (generated ?? {}) as { names?: Record<string, unknown>; dimensions?: Record<string, unknown>; [key: string]: unknown };
  const missing = [
    ...['namespaceVariable', 'switchVariable', 'defaultNamespace'].filter((key) => typeof section[key] !== 'string'),
    ...METRIC_KEYS.filter((key) => typeof section.names?.[key] !== 'string').map((key) => `names.${key}`),
    ...DIMENSION_KEYS.filter((key) => typeof section.dimensions?.[key] !== 'string').map((key) => `dimensions.${key}`),
  ];
  if (missing.length > 0) {
    throw new Error(
      `${FUNCTION_SETTINGS_FILE}: its "metrics" section has no ${missing.join(', ')}, which cdk/function-settings.ts uses; ` +
        'regenerate the file (see its "about"), or stop using them in METRIC_KEYS and DIMENSION_KEYS',
    );
  }
  return section as unknown as MetricsContract;
}

/** The function's metrics: variables, default namespace, metric and dimension names. */
export const METRICS: MetricsContract = checkMetricsContract(GENERATED.metrics);
/** Each metric's name (`METRICS.names`). */
export const METRIC_NAMES = METRICS.names;
/** Each dimension's name (`METRICS.dimensions`). */
export const METRIC_DIMENSIONS = METRICS.dimensions;

/**
 * The values of the `EndReason` dimension: the `end` of a `stream ended`
 * log line (`function/src/stream.rs`, generated into the file's `metrics`).
 */
export const END_REASONS: readonly string[] = (() => {
  const reasons: unknown = GENERATED.metrics?.endReasons;
  if (!Array.isArray(reasons) || reasons.length === 0 || !reasons.every((r) => typeof r === 'string')) {
    throw new Error(`${FUNCTION_SETTINGS_FILE} has no metrics.endReasons; regenerate it (see its "about")`);
  }
  return reasons as string[];
})();

/**
 * Checks the generated `page.paths`: a non-empty list of distinct absolute
 * paths, `/` or one segment below it (`/page.js`), each of which a REST API
 * serves as one resource. Throws naming what is wrong.
 */
export function checkPagePaths(generated: unknown): readonly string[] {
  const paths: unknown = (generated as { paths?: unknown } | undefined)?.paths;
  let problem: string | undefined;
  if (!Array.isArray(paths) || paths.length === 0) {
    problem = 'has no "page.paths" list';
  } else {
    const bad = paths.find((p) => typeof p !== 'string' || !/^\/(?:[A-Za-z0-9_-][A-Za-z0-9._-]*)?$/.test(p));
    if (bad !== undefined) problem = `has a "page.paths" entry ${JSON.stringify(bad)} that is not / or one segment below it (like /page.js)`;
    else if (new Set(paths).size !== paths.length) problem = 'lists a path twice in "page.paths"';
  }
  if (problem !== undefined) {
    throw new Error(`${FUNCTION_SETTINGS_FILE} ${problem}, which cdk/function-settings.ts reads for the watch page; regenerate it (see its "about")`);
  }
  return paths as string[];
}

/**
 * The paths the function serves its watch page and the page's scripts at
 * (`/`, `/page.js`, ...), as `function/src/web.rs` defines them: static files
 * compiled into the function, holding no data.
 */
export const PAGE_PATHS: readonly string[] = checkPagePaths(GENERATED.page);
