import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  LIMITS,
  checkAcmCertificateArn,
  checkBatchWindowFitsTimeout,
  checkCorsOrigin,
  checkDomainName,
  checkHeartbeatFitsIdleTimeout,
  checkHttpsUrl,
  checkIdleTimeoutFitsBatchWindow,
  checkIntegrationTimeoutFitsResponse,
  checkOAuthScope,
  checkStageName,
  checkUserPoolArn,
  checkWebAclArn,
  regionOfArn,
  checkIpv4Cidr,
  checkSecretNameOrArn,
  checkIntegerInRange,
  checkInvoker,
  checkMarginFitsTimeout,
  checkRoleArn,
  checkStackName,
  checkStreamName,
  checkTableName,
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
    assert.equal(checkIntegerInRange(Number.NaN, { min: 1, max: 1000 }), 'must be an integer from 1 to 1000, got NaN');
  });

  it('has no upper bound when the range has none', () => {
    assert.equal(checkIntegerInRange(1_000_000, LIMITS.reservedConcurrency), undefined);
    assert.equal(checkIntegerInRange(0, LIMITS.reservedConcurrency), 'must be an integer of at least 1, got 0');
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

describe('checkRoleArn', () => {
  it('accepts role ARNs of any partition, with paths', () => {
    for (const arn of ['arn:aws:iam::123456789012:role/producer', 'arn:aws:iam::123456789012:role/team/ci/producer', 'arn:aws-us-gov:iam::123456789012:role/p']) {
      assert.equal(checkRoleArn(arn), undefined, arn);
    }
  });

  it('rejects account ids, users and sessions, saying what is allowed', () => {
    for (const bad of ['123456789012', 'arn:aws:iam::123456789012:user/alice', 'arn:aws:sts::123456789012:assumed-role/r/s', 'arn:aws:iam::123456789012:role/', '*']) {
      assert.equal(checkRoleArn(bad), `must be an IAM role ARN (arn:aws:iam::123456789012:role/name), got ${JSON.stringify(bad)}`);
    }
  });
});

describe('checkTableName', () => {
  it('follows DynamoDB', () => {
    assert.equal(checkTableName('abc'), undefined);
    assert.equal(checkTableName('Sse_streams-1.prod'), undefined);
    assert.equal(checkTableName('a'.repeat(255)), undefined);
    for (const bad of ['ab', 'a'.repeat(256), 'my table', 'streams/1']) {
      assert.match(checkTableName(bad) ?? '', /^must be 3 to 255 of A-Z a-z 0-9 _ \. - \(DynamoDB's rule for table names\), got /, bad);
    }
  });
});

describe('checkStreamName', () => {
  it('follows the function\'s rule for stream names', () => {
    assert.equal(checkStreamName('demo'), undefined);
    assert.equal(checkStreamName('a'), undefined);
    assert.equal(checkStreamName('Build-42_log.v2'), undefined);
    assert.equal(checkStreamName('a'.repeat(128)), undefined);
    for (const bad of ['', 'a'.repeat(129), 'my stream', "it's", 'a/b']) {
      assert.match(checkStreamName(bad) ?? '', /^must be 1 to 128 of A-Z a-z 0-9 - _ \. \(a durable stream's name\), got /, bad);
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

describe('checkBatchWindowFitsTimeout', () => {
  it('accepts a window that with the margin is shorter than the timeout', () => {
    assert.equal(checkBatchWindowFitsTimeout(5_000, 2_000, 300), undefined);
    assert.equal(checkBatchWindowFitsTimeout(5_999, 2_000, 8), undefined);
    assert.equal(checkBatchWindowFitsTimeout(60_000, 100, 61), undefined);
  });

  it('rejects a window that with the margin reaches the timeout, saying what to change', () => {
    assert.equal(
      checkBatchWindowFitsTimeout(6_000, 2_000, 8),
      'plus the deadline margin (6000 ms + 2000 ms) must be shorter than the timeout (8 s = 8000 ms): ' +
        'Lambda would cut every buffered (ALB) answer before it is sent; lower the batch window or raise the timeout',
    );
    assert.match(checkBatchWindowFitsTimeout(60_000, 2_000, 30) ?? '', /^plus the deadline margin \(60000 ms \+ 2000 ms\) must be shorter than the timeout \(30 s = 30000 ms\)/);
  });
});

describe('checkIdleTimeoutFitsBatchWindow', () => {
  it('accepts an idle timeout longer than the batch window', () => {
    assert.equal(checkIdleTimeoutFitsBatchWindow(60, 5_000), undefined);
    assert.equal(checkIdleTimeoutFitsBatchWindow(6, 5_999), undefined);
  });

  it('rejects one as long as the window or shorter, saying what to change', () => {
    assert.equal(
      checkIdleTimeoutFitsBatchWindow(5, 5_000),
      'must be longer than the batch window (5000 ms), got 5 s = 5000 ms: the ALB would drop every answer before its batch is complete; ' +
        'raise the idle timeout or lower the batch window',
    );
    assert.match(checkIdleTimeoutFitsBatchWindow(30, 45_000) ?? '', /^must be longer than the batch window \(45000 ms\), got 30 s = 30000 ms/);
  });
});

describe('checkIpv4Cidr', () => {
  for (const cidr of ['10.0.0.0/8', '0.0.0.0/0', '203.0.113.7/32', '192.168.0.0/16', '172.16.0.0/12']) {
    it(`accepts ${cidr}`, () => assert.equal(checkIpv4Cidr(cidr), undefined));
  }
  for (const cidr of ['10.0.0.0', '10.0.0.256/32', '10.0.0.0/33', '010.0.0.0/8', '::/0', 'any', '', ' 10.0.0.0/8', '10.0.0.0/8/8']) {
    it(`rejects ${JSON.stringify(cidr)}`, () => assert.match(checkIpv4Cidr(cidr) ?? '', /^must be an IPv4 CIDR block like 10\.0\.0\.0\/8 or 203\.0\.113\.7\/32, got /));
  }
  it('rejects host bits, naming the block and the single address', () => {
    assert.equal(checkIpv4Cidr('10.1.2.3/8'), 'has host bits set: 10.1.2.3/8 is the block 10.0.0.0/8; write 10.0.0.0/8, or 10.1.2.3/32 for one address');
    assert.match(checkIpv4Cidr('192.168.1.129/25') ?? '', /is the block 192\.168\.1\.128\/25/);
  });
});

describe('checkAcmCertificateArn', () => {
  it('accepts ACM certificate ARNs of any partition', () => {
    assert.equal(checkAcmCertificateArn('arn:aws:acm:eu-west-1:123456789012:certificate/0a1b2c3d-4e5f-6a7b-8c9d-0e1f2a3b4c5d'), undefined);
    assert.equal(checkAcmCertificateArn('arn:aws-cn:acm:cn-north-1:123456789012:certificate/0a1b2c3d-4e5f-6a7b-8c9d-0e1f2a3b4c5d'), undefined);
  });
  it('rejects IAM server certificates, private CA ARNs and bare ids', () => {
    for (const bad of [
      'arn:aws:iam::123456789012:server-certificate/web',
      'arn:aws:acm-pca:eu-west-1:123456789012:certificate-authority/0a1b2c3d-4e5f-6a7b-8c9d-0e1f2a3b4c5d',
      '0a1b2c3d-4e5f-6a7b-8c9d-0e1f2a3b4c5d',
      'arn:aws:acm:eu-west-1:123456789012:certificate/not-a-uuid',
    ]) {
      assert.match(checkAcmCertificateArn(bad) ?? '', /^must be an ACM certificate ARN \(arn:aws:acm:<region>:<account>:certificate\/<uuid>\)/, bad);
    }
  });
});

describe('checkHttpsUrl', () => {
  it('accepts absolute https URLs', () => {
    assert.equal(checkHttpsUrl('https://login.example.com'), undefined);
    assert.equal(checkHttpsUrl('https://login.example.com/oauth2/token'), undefined);
  });
  it('rejects http, relative and malformed URLs', () => {
    for (const bad of ['http://login.example.com', '/oauth2/token', 'login.example.com', '', 'https://', 'https://login.example.com/a b']) {
      assert.match(checkHttpsUrl(bad) ?? '', /^must be an absolute https:\/\/ URL, got /, bad);
    }
  });
});

describe('checkSecretNameOrArn', () => {
  it('accepts secret names and ARNs', () => {
    assert.equal(checkSecretNameOrArn('sse/alb-oidc-client-secret'), undefined);
    assert.equal(checkSecretNameOrArn('arn:aws:secretsmanager:eu-west-1:123456789012:secret:sse/oidc-AbCdEf'), undefined);
  });
  it('rejects what cannot be a secret name, such as a secret value with spaces', () => {
    assert.match(checkSecretNameOrArn('my secret') ?? '', /^must be a Secrets Manager secret name/);
    assert.match(checkSecretNameOrArn('') ?? '', /^must be a Secrets Manager secret name/);
    assert.match(checkSecretNameOrArn('arn:aws:s3:::bucket') ?? '', /^must be a Secrets Manager secret ARN/);
  });
});

describe('the REST API checks', () => {
  it('checkUserPoolArn accepts a user pool ARN, not its id or another service', () => {
    assert.equal(checkUserPoolArn('arn:aws:cognito-idp:eu-west-1:123456789012:userpool/eu-west-1_AbCdEf123'), undefined);
    for (const bad of ['eu-west-1_AbCdEf123', 'arn:aws:cognito-identity:eu-west-1:123456789012:identitypool/x', 'arn:aws:cognito-idp:eu-west-1:123456789012:userpool/']) {
      assert.match(checkUserPoolArn(bad) ?? '', /^must be a Cognito user pool ARN/, bad);
    }
  });

  it('checkOAuthScope accepts resource-server and standard scopes, not spaces or quotes', () => {
    assert.equal(checkOAuthScope('https://sse.example.com/read'), undefined);
    assert.equal(checkOAuthScope('openid'), undefined);
    for (const bad of ['read write', '"read"', '', 'a\\b']) assert.match(checkOAuthScope(bad) ?? '', /^must be an OAuth scope/, bad);
  });

  it('checkWebAclArn accepts a regional web ACL only', () => {
    assert.equal(checkWebAclArn('arn:aws:wafv2:eu-west-1:123456789012:regional/webacl/sse/0a1b2c3d-4e5f-6a7b-8c9d-0e1f2a3b4c5d'), undefined);
    assert.match(checkWebAclArn('arn:aws:wafv2:us-east-1:123456789012:global/webacl/sse/0a1b2c3d-4e5f-6a7b-8c9d-0e1f2a3b4c5d') ?? '', /^must be a regional WAFv2 web ACL ARN/);
  });

  it('checkDomainName accepts lowercase DNS names, not URLs, wildcards or single labels', () => {
    assert.equal(checkDomainName('sse.example.com'), undefined);
    assert.equal(checkDomainName('a-b.c.example.co.uk'), undefined);
    for (const bad of ['https://sse.example.com', '*.example.com', 'localhost', 'SSE.example.com', 'sse.example.com.', '-a.example.com']) {
      assert.match(checkDomainName(bad) ?? '', /^must be a lowercase DNS name/, bad);
    }
  });

  it('checkStageName follows API Gateway\'s rule', () => {
    assert.equal(checkStageName('live'), undefined);
    assert.match(checkStageName('my stage') ?? '', /^must be 1 to 128 of A-Z a-z 0-9 _ -/);
    assert.match(checkStageName('') ?? '', /^must be 1 to 128/);
  });

  it('checkHeartbeatFitsIdleTimeout allows at most half the idle timeout', () => {
    assert.equal(checkHeartbeatFitsIdleTimeout(15_000, 30, 'an EDGE REST API'), undefined);
    assert.equal(
      checkHeartbeatFitsIdleTimeout(15_001, 30, 'an EDGE REST API'),
      'must be at most half an EDGE REST API\'s idle timeout (30 s, so at most 15000 ms), got 15001 ms: a quiet stream would be dropped between two heartbeats; lower the heartbeat',
    );
  });

  it('checkIntegrationTimeoutFitsResponse needs the timeout to cover one response', () => {
    assert.equal(checkIntegrationTimeoutFitsResponse(120, 120_000), undefined);
    assert.match(checkIntegrationTimeoutFitsResponse(119, 120_000) ?? '', /^\(119 s = 119000 ms\) must be at least as long as one response/);
  });

  it('regionOfArn reads the fourth field', () => {
    assert.equal(regionOfArn('arn:aws:acm:us-east-1:123456789012:certificate/x'), 'us-east-1');
    assert.equal(regionOfArn('arn:aws:iam::123456789012:role/x'), undefined);
  });

  it('checkAcmCertificateArn names the region the certificate must be in', () => {
    assert.match(checkAcmCertificateArn('cert', 'us-east-1 (EDGE)') ?? '', / in us-east-1 \(EDGE\), got "cert"$/);
    assert.match(checkAcmCertificateArn('cert') ?? '', / in the ALB's region, got "cert"$/);
  });
});
