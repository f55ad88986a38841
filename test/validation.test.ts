import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  LIMITS,
  checkCorsOrigin,
  checkIntegerInRange,
  checkInvoker,
  checkMarginFitsTimeout,
  checkStackName,
  describeRange,
  invokerKind,
} from '../cdk/validation';

describe('checkIntegerInRange', () => {
  it('accepts both ends of the range', () => {
    assert.equal(checkIntegerInRange(128, LIMITS.memoryMb), undefined);
    assert.equal(checkIntegerInRange(10_240, LIMITS.memoryMb), undefined);
  });

  it('rejects values just outside, and fractions, naming the range and the value', () => {
    assert.equal(checkIntegerInRange(127, LIMITS.memoryMb), 'must be an integer from 128 to 10240 (MB), got 127');
    assert.equal(checkIntegerInRange(10_241, LIMITS.memoryMb), 'must be an integer from 128 to 10240 (MB), got 10241');
    assert.equal(checkIntegerInRange(200.5, LIMITS.memoryMb), 'must be an integer from 128 to 10240 (MB), got 200.5');
    assert.equal(checkIntegerInRange(Number.NaN, LIMITS.jobSteps), 'must be an integer from 1 to 1000, got NaN');
  });

  it('has no upper bound when the range has none', () => {
    assert.equal(checkIntegerInRange(1_000_000, LIMITS.reservedConcurrency), undefined);
    assert.equal(checkIntegerInRange(0, LIMITS.reservedConcurrency), 'must be an integer of at least 1, got 0');
  });

  it('keeps the limits the Rust function enforces', () => {
    assert.equal(describeRange(LIMITS.retryMs), 'an integer from 100 to 600000 (ms)');
    assert.equal(describeRange(LIMITS.jobSteps), 'an integer from 1 to 1000');
    assert.equal(describeRange(LIMITS.jobIntervalMs), 'an integer from 10 to 60000 (ms)');
    assert.equal(describeRange(LIMITS.windowMs), 'an integer from 1000 to 900000 (ms)');
    assert.equal(describeRange(LIMITS.deadlineMarginMs), 'an integer from 100 to 60000 (ms)');
    assert.equal(describeRange(LIMITS.heartbeatMs), 'an integer from 1000 to 300000 (ms)');
    assert.equal(describeRange(LIMITS.timeoutSeconds), 'an integer from 1 to 900 (s)');
  });
});

describe('checkCorsOrigin', () => {
  for (const origin of ['https://app.example.com', 'http://localhost:3000', 'https://xn--bcher-kva.example', '*']) {
    it(`accepts ${origin}`, () => assert.equal(checkCorsOrigin(origin), undefined));
  }
  for (const origin of ['https://app.example.com/', 'https://app.example.com/path', 'app.example.com', 'ftp://example.com', 'https://APP.example.com', '', 'https://*.example.com']) {
    it(`rejects ${JSON.stringify(origin)}`, () => {
      assert.match(checkCorsOrigin(origin) ?? '', /^must be an origin like https:\/\/app\.example\.com/);
    });
  }
});

describe('invokers', () => {
  it('tells account ids from role ARNs', () => {
    assert.equal(invokerKind('123456789012'), 'account');
    assert.equal(invokerKind('arn:aws:iam::123456789012:role/reader'), 'role');
    assert.equal(invokerKind('arn:aws:iam::123456789012:role/team/ci/reader'), 'role');
    assert.equal(invokerKind('arn:aws-cn:iam::123456789012:role/reader'), 'role');
  });

  it('rejects what is neither, saying what is allowed', () => {
    for (const bad of ['12345678901', '1234567890123', 'arn:aws:iam::123456789012:user/alice', 'arn:aws:iam::123456789012:role/', 'arn:aws:sts::123456789012:assumed-role/r/s', '*']) {
      assert.equal(invokerKind(bad), undefined, bad);
      assert.match(checkInvoker(bad) ?? '', /^must be a 12-digit AWS account id or an IAM role ARN/, bad);
    }
  });
});

describe('checkStackName', () => {
  it('follows CloudFormation', () => {
    assert.equal(checkStackName('SseStreamStack-dev'), undefined);
    assert.match(checkStackName('1stack') ?? '', /must start with a letter/);
    assert.match(checkStackName('sse_stack') ?? '', /only letters, digits and hyphens/);
    assert.match(checkStackName('a'.repeat(129)) ?? '', /at most 128/);
  });
});

describe('checkMarginFitsTimeout', () => {
  it('accepts a margin shorter than the timeout', () => {
    assert.equal(checkMarginFitsTimeout(2_000, 300), undefined);
    assert.equal(checkMarginFitsTimeout(999, 1), undefined);
    assert.equal(checkMarginFitsTimeout(60_000, 61), undefined);
  });

  it('rejects a margin as long as the timeout or longer, saying what to change', () => {
    assert.equal(
      checkMarginFitsTimeout(1_000, 1),
      'must be shorter than the timeout (1 s = 1000 ms), got 1000 ms: every response would end as soon as it starts; ' +
        'lower the deadline margin or raise the timeout',
    );
    assert.match(checkMarginFitsTimeout(60_000, 30) ?? '', /^must be shorter than the timeout \(30 s = 30000 ms\), got 60000 ms: every response would end as soon as it starts/);
  });
});
