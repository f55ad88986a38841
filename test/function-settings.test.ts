// The function's settings have one source of truth, `function/src/settings.rs`;
// a Rust test keeps `cdk/function-settings.json` equal to it. These tests keep
// everything on this side equal to that file: the CDK app's validation and
// defaults, the props' documentation and the README's tables.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { FUNCTION_SETTINGS_FILE, FUNCTION_VARIABLES, PAGE_PATHS, UNIT_WORDS, type SettingVariable, checkPagePaths, unitWord } from '../cdk/function-settings';
import {
  DEFAULT_DURABLE_SETTINGS,
  DEFAULT_JOB_SETTINGS,
  DEFAULT_STREAM_SETTINGS,
  DURABLE_ENVIRONMENT,
  JOB_ENVIRONMENT,
  STREAM_ENVIRONMENT,
} from '../cdk/sse-function';
import { DEFAULT_PUBLISH_SETTINGS, PUBLISH_ENVIRONMENT } from '../cdk/sse-table';
import { REPO_ROOT } from './helpers';

/** Each scope's settings as the CDK app validates them, their defaults, and the file whose props document them. */
const SCOPES: Record<string, { environment: Readonly<Record<string, SettingVariable>>; defaults: Readonly<Record<string, number>>; source: string }> = {
  stream: { environment: STREAM_ENVIRONMENT, defaults: DEFAULT_STREAM_SETTINGS, source: 'sse-function.ts' },
  job: { environment: JOB_ENVIRONMENT, defaults: DEFAULT_JOB_SETTINGS, source: 'sse-function.ts' },
  durable: { environment: DURABLE_ENVIRONMENT, defaults: DEFAULT_DURABLE_SETTINGS, source: 'sse-function.ts' },
  publish: { environment: PUBLISH_ENVIRONMENT, defaults: DEFAULT_PUBLISH_SETTINGS, source: 'sse-table.ts' },
};

const README = fs.readFileSync(path.join(REPO_ROOT, 'README.md'), 'utf8');

/** The README table row that starts with `first` (a code span), split into cells. */
function readmeRow(first: string): string[] {
  const row = README.split('\n').find((line) => line.startsWith(`| \`${first}\` |`));
  assert.ok(row, `README.md has no table row for ${first}`);
  return row.split('|').slice(1, -1).map((cell) => cell.trim());
}

/** The TSDoc comment right above `readonly <key>?:` in `cdk/<file>`. */
function propDoc(file: string, key: string): string {
  const source = fs.readFileSync(path.join(REPO_ROOT, 'cdk', file), 'utf8');
  const at = source.indexOf(`  readonly ${key}?: number;`);
  assert.ok(at > 0, `${file} has no prop ${key}`);
  const start = source.lastIndexOf('/**', at);
  return source.slice(start, at);
}

describe('the function settings the CDK app sets', () => {
  it('are exactly the variables the function and producers read, each in the group of its scope', () => {
    assert.deepEqual(
      Object.entries(SCOPES).flatMap(([scope, { environment }]) => Object.values(environment).map((v) => `${scope} ${v.variable}`)).sort(),
      FUNCTION_VARIABLES.map((v) => `${v.scope} ${v.variable}`).sort(),
    );
  });

  it('have units the CDK app knows how to write', () => {
    for (const variable of FUNCTION_VARIABLES) assert.ok(variable.unit in UNIT_WORDS, `${variable.variable}: unit ${JSON.stringify(variable.unit)}`);
    assert.throws(() => unitWord({ ...FUNCTION_VARIABLES[0], unit: 'min' }), /has unit "min", which cdk\/function-settings\.ts does not know; add it to UNIT_WORDS/);
  });

  for (const variable of FUNCTION_VARIABLES) {
    describe(variable.variable, () => {
      const scope = SCOPES[variable.scope];

      it('is validated with the range the function accepts, and defaults to its default', () => {
        assert.ok(scope, `scope ${variable.scope} is not one the CDK app sets`);
        const { range } = scope.environment[variable.key];
        assert.deepEqual([range.min, range.max, range.unit ?? ''], [variable.min, variable.max, unitWord(variable)]);
        assert.equal(scope.defaults[variable.key], variable.default);
      });

      it('is documented with that range and default on its prop', () => {
        const doc = propDoc(scope.source, variable.key);
        assert.match(doc, new RegExp(`\\(\`${variable.variable}\`\\)`), doc);
        assert.match(doc, new RegExp(`Integer from ${variable.min} to ${variable.max}\\b`), doc);
        assert.match(doc, new RegExp(`@default ${variable.default}\\n`), doc);
      });

      it('is in the README configuration and context key tables with that range and default', () => {
        assert.deepEqual(readmeRow(variable.variable).slice(2), [`${variable.min} to ${variable.max}`, String(variable.default)]);
        const [, allowed, defaultValue] = readmeRow(`sse:${variable.key}`);
        assert.match(allowed, new RegExp(`^integer${unitWord(variable) === '' ? '' : ` ${unitWord(variable)}`}, ${variable.min} to ${variable.max} \\(\`${variable.variable}\``));
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

describe('the watch page\'s paths', () => {
  it('are the generated page.paths: / and the scripts it loads', () => {
    const generated = JSON.parse(fs.readFileSync(FUNCTION_SETTINGS_FILE, 'utf8'));
    assert.deepEqual(PAGE_PATHS, generated.page.paths);
    assert.equal(PAGE_PATHS[0], '/');
    assert.ok(PAGE_PATHS.includes('/page.js'), PAGE_PATHS.join(', '));
  });

  it('are checked when read: a list of distinct paths, / or one segment below it', () => {
    assert.deepEqual(checkPagePaths({ paths: ['/', '/a.js'] }), ['/', '/a.js']);
    const cases: [unknown, RegExp][] = [
      [undefined, /has no "page\.paths" list, which cdk\/function-settings\.ts reads for the watch page; regenerate it/],
      [{ paths: [] }, /has no "page\.paths" list/],
      [{ paths: '/' }, /has no "page\.paths" list/],
      [{ paths: ['/', 'page.js'] }, /has a "page\.paths" entry "page\.js" that is not \/ or one segment below it/],
      [{ paths: ['/', '/js/page.js'] }, /entry "\/js\/page\.js"/],
      [{ paths: ['/', '/..'] }, /entry "\/\.\."/],
      [{ paths: ['/', '/{name}'] }, /entry "\/\{name\}"/],
      [{ paths: ['/', 7] }, /entry 7/],
      [{ paths: ['/', '/a.js', '/a.js'] }, /lists a path twice in "page\.paths"/],
    ];
    for (const [generated, expected] of cases) assert.throws(() => checkPagePaths(generated), expected, JSON.stringify(generated));
  });

  it('are each in the README row of sse:restApiWatchPage', () => {
    const row = README.split('\n').find((line) => line.startsWith('| `sse:restApiWatchPage` |'));
    assert.ok(row, 'README.md has no table row for sse:restApiWatchPage');
    for (const pagePath of PAGE_PATHS) assert.ok(row.includes(pagePath === '/' ? '`GET /`' : `\`${pagePath}\``), `${pagePath} not in ${row}`);
  });
});
