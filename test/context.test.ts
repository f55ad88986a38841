import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { CONTEXT_KEYS, readAppSettings } from '../cdk/context';
import { CDK_JSON_CONTEXT, REPO_ROOT } from './helpers';

/** The message readAppSettings throws for this context. */
function contextError(context: Record<string, unknown>): string {
  try {
    readAppSettings(context);
  } catch (error) {
    return (error as Error).message;
  }
  assert.fail('expected the context to be rejected');
}

describe('readAppSettings', () => {
  it('leaves every prop to the construct defaults when no key is set', () => {
    const settings = readAppSettings({});
    assert.equal(settings.stackName, 'SseStreamStack');
    const { stream, ...fn } = settings.sseFunction;
    assert.deepEqual(Object.values(fn).filter((v) => v !== undefined), []);
    assert.deepEqual(stream, {
      retryMs: undefined,
      jobSteps: undefined,
      jobIntervalMs: undefined,
      windowMs: undefined,
      deadlineMarginMs: undefined,
      heartbeatMs: undefined,
    });
  });

  it('ignores keys that belong to CDK: feature flags, aws:cdk:*, cached lookups', () => {
    assert.doesNotThrow(() => readAppSettings({
      ...CDK_JSON_CONTEXT,
      'aws:cdk:bundling-stacks': ['**'],
      'availability-zones:account=123456789012:region=eu-west-1': ['eu-west-1a'],
    }));
  });

  it('reads every key given with -c (strings)', () => {
    const settings = readAppSettings({
      'sse:stackName': 'SseDev',
      'sse:architecture': 'x86_64',
      'sse:authType': 'NONE',
      'sse:memory': '256',
      'sse:timeout': '900',
      'sse:logRetentionDays': '7',
      'sse:corsOrigins': 'https://app.example.com, http://localhost:3000',
      'sse:reservedConcurrency': '10',
      'sse:retryMs': '1500',
      'sse:jobSteps': '5',
      'sse:jobIntervalMs': '250',
      'sse:windowMs': '60000',
      'sse:deadlineMarginMs': '3000',
      'sse:heartbeatMs': '10000',
    });
    const fn = settings.sseFunction;
    assert.equal(settings.stackName, 'SseDev');
    assert.equal(fn.architecture, lambda.Architecture.X86_64);
    assert.equal(fn.authType, lambda.FunctionUrlAuthType.NONE);
    assert.equal(fn.memorySize, 256);
    assert.equal(fn.timeout?.toSeconds(), 900);
    assert.equal(fn.logRetention, logs.RetentionDays.ONE_WEEK);
    assert.deepEqual(fn.corsAllowedOrigins, ['https://app.example.com', 'http://localhost:3000']);
    assert.equal(fn.reservedConcurrentExecutions, 10);
    assert.deepEqual(fn.stream, { retryMs: 1500, jobSteps: 5, jobIntervalMs: 250, windowMs: 60_000, deadlineMarginMs: 3_000, heartbeatMs: 10_000 });
  });

  it('reads principals, and numbers and lists as cdk.json writes them', () => {
    const fn = readAppSettings({
      'sse:architecture': 'arm64',
      'sse:memory': 512,
      'sse:windowMs': 300_000,
      'sse:principals': ['123456789012', 'arn:aws:iam::210987654321:role/reader'],
    }).sseFunction;
    assert.equal(fn.architecture, lambda.Architecture.ARM_64);
    assert.equal(fn.memorySize, 512);
    assert.equal(fn.stream?.windowMs, 300_000);
    assert.deepEqual(fn.invokers, ['123456789012', 'arn:aws:iam::210987654321:role/reader']);
  });

  it('reads a comma-separated principals list', () => {
    assert.deepEqual(readAppSettings({ 'sse:principals': '123456789012,210987654321' }).sseFunction.invokers, ['123456789012', '210987654321']);
  });
});

describe('readAppSettings rejects', () => {
  const cases: [string, Record<string, unknown>, string][] = [
    ['an unknown architecture', { 'sse:architecture': 'arm' }, '-c sse:architecture=arm: must be one of arm64, x86_64'],
    ['an unknown auth type', { 'sse:authType': 'IAM' }, '-c sse:authType=IAM: must be one of AWS_IAM, NONE'],
    ['memory that is not a number', { 'sse:memory': '1GB' }, '-c sse:memory=1GB: must be an integer from 128 to 10240 (MB)'],
    ['memory out of range', { 'sse:memory': '64' }, '-c sse:memory=64: must be an integer from 128 to 10240 (MB), got 64'],
    ['a timeout over 900 s', { 'sse:timeout': '901' }, '-c sse:timeout=901: must be an integer from 1 to 900 (s), got 901'],
    ['a retention CloudWatch does not offer', { 'sse:logRetentionDays': '31' }, '-c sse:logRetentionDays=31: must be one of 1, 3, 5, 7, 14, 30,'],
    ['a bad origin', { 'sse:corsOrigins': 'https://ok.example.com,example.com' }, '-c sse:corsOrigins=https://ok.example.com,example.com: must be an origin like'],
    ['zero reserved concurrency', { 'sse:reservedConcurrency': '0' }, '-c sse:reservedConcurrency=0: must be an integer of at least 1, got 0'],
    ['a bad principal', { 'sse:principals': 'alice' }, '-c sse:principals=alice: must be a 12-digit AWS account id or an IAM role ARN'],
    ['a retry hint out of range', { 'sse:retryMs': '50' }, '-c sse:retryMs=50: must be an integer from 100 to 600000 (ms), got 50'],
    ['too many steps', { 'sse:jobSteps': '1001' }, '-c sse:jobSteps=1001: must be an integer from 1 to 1000, got 1001'],
    ['an interval out of range', { 'sse:jobIntervalMs': '5' }, '-c sse:jobIntervalMs=5: must be an integer from 10 to 60000 (ms), got 5'],
    ['a window too short', { 'sse:windowMs': '999' }, '-c sse:windowMs=999: must be an integer from 1000 to 900000 (ms), got 999'],
    ['a window too long', { 'sse:windowMs': '900001' }, '-c sse:windowMs=900001: must be an integer from 1000 to 900000 (ms), got 900001'],
    ['a window in seconds', { 'sse:windowMs': '120s' }, '-c sse:windowMs=120s: must be an integer from 1000 to 900000 (ms)'],
    ['a margin too short', { 'sse:deadlineMarginMs': '99' }, '-c sse:deadlineMarginMs=99: must be an integer from 100 to 60000 (ms), got 99'],
    ['a margin too long', { 'sse:deadlineMarginMs': 60_001 }, '-c sse:deadlineMarginMs=60001: must be an integer from 100 to 60000 (ms), got 60001'],
    ['a heartbeat too short', { 'sse:heartbeatMs': '999' }, '-c sse:heartbeatMs=999: must be an integer from 1000 to 300000 (ms), got 999'],
    ['a heartbeat too long', { 'sse:heartbeatMs': '300001' }, '-c sse:heartbeatMs=300001: must be an integer from 1000 to 300000 (ms), got 300001'],
    ['a bad stack name', { 'sse:stackName': 'my_stack' }, '-c sse:stackName=my_stack: must start with a letter and hold only letters, digits and hyphens'],
    ['principals given as an object', { 'sse:principals': { a: 1 } }, '-c sse:principals={"a":1}: must be a comma-separated string or a list of strings'],
  ];
  for (const [name, context, expected] of cases) {
    it(name, () => assert.ok(contextError(context).includes(expected), contextError(context)));
  }

  it('an unknown sse: key, listing the keys the app reads', () => {
    assert.match(contextError({ 'sse:memroy': '256' }), /unknown context key sse:memroy; this app reads sse:stackName, sse:architecture, .*sse:jobIntervalMs, sse:windowMs, sse:deadlineMarginMs, sse:heartbeatMs$/m);
  });

  it('a known key typed without its prefix', () => {
    assert.match(contextError({ memory: '256' }), /context key memory is not read by this app; did you mean sse:memory\?/);
    assert.match(contextError({ windowMs: '60000' }), /context key windowMs is not read by this app; did you mean sse:windowMs\?/);
  });

  it('every problem in one message', () => {
    const message = contextError({ 'sse:memory': 'x', 'sse:timeout': '0', 'sse:typo': '1' });
    assert.equal(message.split('\n').length, 4, message);
  });
});

describe('CONTEXT_KEYS', () => {
  it('documents every key the reader accepts, each with allowed values and a default', () => {
    for (const { key, allowed, defaultValue } of CONTEXT_KEYS) {
      assert.match(key, /^sse:[a-zA-Z]+$/);
      assert.ok(allowed.length > 0 && defaultValue.length > 0, key);
      // A documented key is a known key: reading it alone never reports "unknown".
      assert.doesNotMatch(contextError({ [key]: '!' }), /unknown context key/);
    }
  });

  it('lists the stream window, deadline margin and heartbeat with their ranges and defaults', () => {
    const rows = CONTEXT_KEYS.filter(({ key }) => ['sse:windowMs', 'sse:deadlineMarginMs', 'sse:heartbeatMs'].includes(key));
    assert.deepEqual(rows, [
      { key: 'sse:windowMs', allowed: 'an integer from 1000 to 900000 (ms)', defaultValue: '120000' },
      { key: 'sse:deadlineMarginMs', allowed: 'an integer from 100 to 60000 (ms), shorter than the timeout', defaultValue: '2000' },
      { key: 'sse:heartbeatMs', allowed: 'an integer from 1000 to 300000 (ms)', defaultValue: '15000' },
    ]);
  });
});

describe('README.md', () => {
  it('has a table row for every context key, with its default', () => {
    const docs = fs.readFileSync(path.join(REPO_ROOT, 'README.md'), 'utf8');
    for (const { key, defaultValue } of CONTEXT_KEYS) {
      const row = docs.split('\n').find((line) => line.startsWith(`| \`${key}\` |`));
      assert.ok(row, `no row for ${key}`);
      if (!defaultValue.startsWith('(')) assert.ok(row.endsWith(`| \`${defaultValue}\` |`), `${key}: default ${defaultValue} not in ${row}`);
    }
  });
});
