// The function's settings have one source of truth, `function/src/settings.rs`;
// a Rust test keeps `cdk/function-settings.json` equal to it. These tests keep
// everything on this side equal to that file: the CDK app's validation and
// defaults, the props' documentation and the README's tables.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { FUNCTION_VARIABLES, type FunctionVariable } from '../cdk/function-settings';
import { DEFAULT_JOB_SETTINGS, DEFAULT_STREAM_SETTINGS, JOB_ENVIRONMENT, STREAM_ENVIRONMENT } from '../cdk/sse-function';

const ENVIRONMENT = { ...STREAM_ENVIRONMENT, ...JOB_ENVIRONMENT };
const DEFAULTS: Record<string, number> = { ...DEFAULT_STREAM_SETTINGS, ...DEFAULT_JOB_SETTINGS };
import { REPO_ROOT } from './helpers';

const README = fs.readFileSync(path.join(REPO_ROOT, 'README.md'), 'utf8');
const PROPS_SOURCE = fs.readFileSync(path.join(REPO_ROOT, 'cdk', 'sse-function.ts'), 'utf8');

/** The README table row that starts with `first` (a code span), split into cells. */
function readmeRow(first: string): string[] {
  const row = README.split('\n').find((line) => line.startsWith(`| \`${first}\` |`));
  assert.ok(row, `README.md has no table row for ${first}`);
  return row.split('|').slice(1, -1).map((cell) => cell.trim());
}

/** The TSDoc comment right above `readonly <key>?:` in sse-function.ts. */
function propDoc(key: string): string {
  const at = PROPS_SOURCE.indexOf(`  readonly ${key}?: number;`);
  assert.ok(at > 0, `sse-function.ts has no prop ${key}`);
  const start = PROPS_SOURCE.lastIndexOf('/**', at);
  return PROPS_SOURCE.slice(start, at);
}

describe('the function settings the CDK app sets', () => {
  it('are exactly the variables the function reads', () => {
    assert.deepEqual(
      Object.values(ENVIRONMENT).map((v) => v.variable).sort(),
      FUNCTION_VARIABLES.map((v) => v.variable).sort(),
    );
  });

  for (const variable of FUNCTION_VARIABLES) {
    describe(variable.variable, () => {
      const key = variable.key as keyof typeof ENVIRONMENT;

      it('is validated with the range the function accepts, and defaults to its default', () => {
        const { range } = ENVIRONMENT[key];
        assert.deepEqual([range.min, range.max], [variable.min, variable.max]);
        assert.equal(DEFAULTS[key], variable.default);
        assert.equal(variable.scope in { stream: 1, job: 1 } && (variable.scope === 'job') === key in JOB_ENVIRONMENT, true, 'set in the group of its scope');
      });

      it('is documented with that range and default on its prop', () => {
        const doc = propDoc(variable.key);
        assert.match(doc, new RegExp(`\\(\`${variable.variable}\`\\)`), doc);
        assert.match(doc, new RegExp(`Integer from ${variable.min} to ${variable.max}\\b`), doc);
        assert.match(doc, new RegExp(`@default ${variable.default}\\n`), doc);
      });

      it('is in the README configuration and context key tables with that range and default', () => {
        assert.deepEqual(readmeRow(variable.variable).slice(2), [`${variable.min} to ${variable.max}`, String(variable.default)]);
        const [, allowed, defaultValue] = readmeRow(`sse:${variable.key}`);
        assert.match(allowed, new RegExp(`^integer${unitWord(variable)}, ${variable.min} to ${variable.max} \\(\`${variable.variable}\``));
        assert.equal(defaultValue, `\`${variable.default}\``);
      });
    });
  }

  it('documents the job query parameters with the same ranges and defaults', () => {
    const steps = FUNCTION_VARIABLES.find((v) => v.variable === 'SSE_JOB_STEPS')!;
    const interval = FUNCTION_VARIABLES.find((v) => v.variable === 'SSE_JOB_INTERVAL_MS')!;
    assert.deepEqual(readmeRow('steps').slice(2), [`${steps.min} to ${steps.max}`, `${steps.default} (\`SSE_JOB_STEPS\`)`]);
    assert.deepEqual(readmeRow('interval_ms').slice(2), [`${interval.min} to ${interval.max}`, `${interval.default} (\`SSE_JOB_INTERVAL_MS\`)`]);
  });
});

function unitWord(variable: FunctionVariable): string {
  return variable.unit === '' ? '' : ` ${variable.unit}`;
}
