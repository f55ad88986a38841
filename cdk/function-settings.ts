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
  /** `stream` for the library's own settings, `job` for the progress job's. */
  readonly scope: string;
  readonly min: number;
  readonly max: number;
  /** Its value when unset. */
  readonly default: number;
  /** `ms`, or empty for a count. */
  readonly unit: string;
  /** What it sets, in a few words. */
  readonly meaning: string;
}

/** The generated file, next to this one. */
export const FUNCTION_SETTINGS_FILE = path.join(__dirname, 'function-settings.json');

/** Every variable the function reads, in the order its documentation lists them. */
export const FUNCTION_VARIABLES: readonly FunctionVariable[] = JSON.parse(fs.readFileSync(FUNCTION_SETTINGS_FILE, 'utf8')).variables;

/** The variable the CDK app calls `key`, of `scope`; throws when the function has none such. */
export function functionVariable(key: string, scope: string): FunctionVariable {
  const found = FUNCTION_VARIABLES.find((v) => v.key === key && v.scope === scope);
  if (found === undefined) {
    throw new Error(`${FUNCTION_SETTINGS_FILE} has no ${scope} variable with key ${key}; regenerate it (see its "about") or remove the setting`);
  }
  return found;
}

/** A variable's range, with its unit, for validation and messages. */
export function rangeOf(variable: FunctionVariable): IntegerRange {
  return variable.unit === '' ? { min: variable.min, max: variable.max } : { min: variable.min, max: variable.max, unit: variable.unit };
}
