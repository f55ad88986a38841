import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { RemovalPolicy } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { CONTEXT_KEYS, readAppSettings } from '../cdk/context';
import { PAGE_PATHS } from '../cdk/function-settings';
import * as apigateway from 'aws-cdk-lib/aws-apigateway';
import { CDK_JSON_CONTEXT, CERTIFICATE_ARN, OIDC, OIDC_CONTEXT, REPO_ROOT, USER_POOL_ARN, WEB_ACL_ARN } from './helpers';

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
    const { stream, job, durable, ...fn } = settings.sseFunction;
    assert.deepEqual(Object.values(fn).filter((v) => v !== undefined), []);
    assert.deepEqual(job, { jobSteps: undefined, jobIntervalMs: undefined });
    assert.deepEqual(durable, { pollMinMs: undefined, pollMaxMs: undefined, tailBufferKib: undefined });
    assert.deepEqual(settings.streamsTable, { retentionHours: undefined, removalPolicy: undefined, publisherRoleArns: undefined });
    assert.deepEqual(stream, {
      retryMs: undefined,
      windowMs: undefined,
      deadlineMarginMs: undefined,
      heartbeatMs: undefined,
      batchWindowMs: undefined,
    });
    assert.equal(settings.alb, undefined);
    assert.equal(settings.restApi, undefined);
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
      'sse:batchWindowMs': '2500',
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
    assert.deepEqual(fn.stream, { retryMs: 1500, windowMs: 60_000, deadlineMarginMs: 3_000, heartbeatMs: 10_000, batchWindowMs: 2_500 });
    assert.deepEqual(fn.job, { jobSteps: 5, jobIntervalMs: 250 });
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

describe('readAppSettings: the durable streams', () => {
  it('reads every durable key, as -c and as cdk.json writes them', () => {
    const fromCli = readAppSettings({
      'sse:durableStreams': 'true',
      'sse:retentionHours': '168',
      'sse:pollMinMs': '20',
      'sse:pollMaxMs': '5000',
      'sse:tailBufferKib': '4096',
      'sse:tableRemovalPolicy': 'destroy',
      'sse:publisherRoleArns': 'arn:aws:iam::123456789012:role/a, arn:aws:iam::210987654321:role/path/b',
    });
    assert.deepEqual(fromCli.streamsTable, {
      retentionHours: 168,
      removalPolicy: RemovalPolicy.DESTROY,
      publisherRoleArns: ['arn:aws:iam::123456789012:role/a', 'arn:aws:iam::210987654321:role/path/b'],
    });
    assert.deepEqual(fromCli.sseFunction.durable, { pollMinMs: 20, pollMaxMs: 5000, tailBufferKib: 4096 });
    const fromJson = readAppSettings({ 'sse:durableStreams': true, 'sse:retentionHours': 1, 'sse:tailBufferKib': 64, 'sse:tableRemovalPolicy': 'retain', 'sse:publisherRoleArns': ['arn:aws:iam::123456789012:role/a'] });
    assert.deepEqual(fromJson.streamsTable, { retentionHours: 1, removalPolicy: RemovalPolicy.RETAIN, publisherRoleArns: ['arn:aws:iam::123456789012:role/a'] });
    assert.deepEqual(fromJson.sseFunction.durable, { pollMinMs: undefined, pollMaxMs: undefined, tailBufferKib: 64 });
  });

  it('leaves the table and the polling out on sse:durableStreams=false', () => {
    for (const off of ['false', false]) {
      const settings = readAppSettings({ 'sse:durableStreams': off });
      assert.equal(settings.streamsTable, false);
      assert.equal(settings.sseFunction.durable, undefined);
    }
  });

  it('accepts a tail buffer at either end of its range', () => {
    assert.equal(readAppSettings({ 'sse:tailBufferKib': '64' }).sseFunction.durable?.tailBufferKib, 64);
    assert.equal(readAppSettings({ 'sse:tailBufferKib': '65536' }).sseFunction.durable?.tailBufferKib, 65536);
  });

  it('accepts a minimum poll equal to the maximum, and within the default maximum', () => {
    assert.deepEqual(readAppSettings({ 'sse:pollMinMs': '700', 'sse:pollMaxMs': '700' }).sseFunction.durable, { pollMinMs: 700, pollMaxMs: 700, tailBufferKib: undefined });
    assert.deepEqual(readAppSettings({ 'sse:pollMinMs': '1000' }).sseFunction.durable, { pollMinMs: 1000, pollMaxMs: undefined, tailBufferKib: undefined });
  });
});

describe('readAppSettings: the ALB', () => {
  it('adds no ALB without sse:alb, or with sse:alb=false', () => {
    assert.equal(readAppSettings({}).alb, undefined);
    assert.equal(readAppSettings({ 'sse:alb': 'false' }).alb, undefined);
    assert.equal(readAppSettings({ 'sse:alb': false }).alb, undefined);
  });

  it('reads an internal plain-HTTP ALB, leaving the rest to the construct defaults', () => {
    const alb = readAppSettings({ 'sse:alb': 'true', 'sse:albAllowedCidrs': '10.0.0.0/8, 192.168.0.0/16', 'sse:albAllowPlainHttp': 'true' }).alb;
    assert.deepEqual(alb, {
      internetFacing: undefined,
      allowUnauthenticatedInternetFacing: undefined,
      allowedCidrs: ['10.0.0.0/8', '192.168.0.0/16'],
      certificateArn: undefined,
      allowPlainHttp: true,
      idleTimeout: undefined,
      oidc: undefined,
    });
  });

  it('reads every ALB key, booleans and lists as cdk.json writes them too', () => {
    const alb = readAppSettings({
      'sse:alb': true,
      'sse:albInternetFacing': true,
      'sse:albAllowUnauthenticatedInternetFacing': 'false',
      'sse:albAllowedCidrs': ['0.0.0.0/0'],
      'sse:albCertificateArn': CERTIFICATE_ARN,
      'sse:albAllowPlainHttp': 'false',
      'sse:albIdleTimeout': '90',
      ...OIDC_CONTEXT,
    }).alb!;
    assert.equal(alb.internetFacing, true);
    assert.equal(alb.allowUnauthenticatedInternetFacing, false);
    assert.deepEqual(alb.allowedCidrs, ['0.0.0.0/0']);
    assert.equal(alb.certificateArn, CERTIFICATE_ARN);
    assert.equal(alb.allowPlainHttp, false);
    assert.equal(alb.idleTimeout?.toSeconds(), 90);
    assert.deepEqual(alb.oidc, OIDC);
  });

  it('adds no REST API without sse:restApi, or with sse:restApi=false', () => {
    assert.equal(readAppSettings({ 'sse:restApi': 'false' }).restApi, undefined);
    assert.equal(readAppSettings({ 'sse:restApi': false }).restApi, undefined);
  });

  it('reads sse:restApi=true alone as every REST API default', () => {
    const restApi = readAppSettings({ 'sse:restApi': 'true' }).restApi!;
    assert.deepEqual(Object.values(restApi).filter((v) => v !== undefined), []);
  });

  it('reads every REST API key, as -c and as cdk.json writes them', () => {
    const restApi = readAppSettings({
      'sse:restApi': true,
      'sse:restApiEndpointType': 'edge',
      'sse:restApiAllowEdge': 'true',
      'sse:restApiAuth': 'cognito',
      'sse:restApiAllowUnauthenticated': false,
      'sse:restApiUserPoolArn': USER_POOL_ARN,
      'sse:restApiScopes': 'https://sse.example.com/read, openid',
      'sse:restApiWatchPage': 'false',
      'sse:restApiApiKey': 'true',
      'sse:restApiThrottleRate': '20',
      'sse:restApiThrottleBurst': 40,
      'sse:restApiDomainName': 'sse.example.com',
      'sse:restApiCertificateArn': CERTIFICATE_ARN,
      'sse:restApiWebAclArn': WEB_ACL_ARN,
      'sse:restApiCloudWatchRole': 'true',
    }).restApi;
    assert.deepEqual(restApi, {
      endpointType: apigateway.EndpointType.EDGE,
      allowEdge: true,
      authorization: 'cognito',
      allowUnauthenticated: false,
      userPoolArn: USER_POOL_ARN,
      oauthScopes: ['https://sse.example.com/read', 'openid'],
      watchPage: false,
      apiKey: true,
      throttlingRateLimit: 20,
      throttlingBurstLimit: 40,
      domainName: 'sse.example.com',
      certificateArn: CERTIFICATE_ARN,
      webAclArn: WEB_ACL_ARN,
      cloudWatchRole: true,
    });
    assert.deepEqual(readAppSettings({ 'sse:restApi': 'true', 'sse:restApiScopes': ['openid'] }).restApi!.oauthScopes, ['openid']);
  });

  it('reads sse:restApiWatchPage as true or false, -c and cdk.json alike, and leaves its default to the construct', () => {
    assert.equal(readAppSettings({ 'sse:restApi': 'true' }).restApi!.watchPage, undefined);
    assert.equal(readAppSettings({ 'sse:restApi': 'true', 'sse:restApiWatchPage': 'true' }).restApi!.watchPage, true);
    assert.equal(readAppSettings({ 'sse:restApi': 'true', 'sse:restApiWatchPage': true }).restApi!.watchPage, true);
    assert.equal(readAppSettings({ 'sse:restApi': true, 'sse:restApiAuth': 'cognito', 'sse:restApiUserPoolArn': USER_POOL_ARN, 'sse:restApiWatchPage': 'false' }).restApi!.watchPage, false);
    assert.equal(readAppSettings({ 'sse:restApi': 'true', 'sse:restApiWatchPage': false }).restApi!.watchPage, false);
  });

  it('takes a client secret ARN', () => {
    const arn = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:sse/oidc-AbCdEf';
    const alb = readAppSettings({ 'sse:alb': 'true', 'sse:albCertificateArn': CERTIFICATE_ARN, ...OIDC_CONTEXT, 'sse:albOidcClientSecretName': arn }).alb!;
    assert.equal(alb.oidc?.clientSecretName, arn);
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
    ['a batch window too short', { 'sse:batchWindowMs': '999' }, '-c sse:batchWindowMs=999: must be an integer from 1000 to 60000 (ms), got 999'],
    ['a batch window too long', { 'sse:batchWindowMs': '60001' }, '-c sse:batchWindowMs=60001: must be an integer from 1000 to 60000 (ms), got 60001'],
    ['sse:alb that is not a boolean', { 'sse:alb': 'yes' }, '-c sse:alb=yes: must be one of true, false'],
    ['an ALB key without sse:alb=true', { 'sse:albAllowedCidrs': '10.0.0.0/8' }, 'sse:albAllowedCidrs configures the ALB, which is off: add -c sse:alb=true, or remove it'],
    [
      'ALB keys with sse:alb=false',
      { 'sse:alb': 'false', 'sse:albInternetFacing': 'true', 'sse:albOidcClientId': 'x' },
      'sse:albInternetFacing, sse:albOidcClientId configure the ALB, which is off: add -c sse:alb=true, or remove them',
    ],
    ['a bad CIDR', { 'sse:alb': 'true', 'sse:albAllowedCidrs': '10.0.0.0/8,10.0.0.256/32' }, '-c sse:albAllowedCidrs=10.0.0.0/8,10.0.0.256/32: must be an IPv4 CIDR block like 10.0.0.0/8'],
    ['a CIDR with host bits', { 'sse:alb': 'true', 'sse:albAllowedCidrs': '192.168.1.1/24' }, '-c sse:albAllowedCidrs=192.168.1.1/24: has host bits set: 192.168.1.1/24 is the block 192.168.1.0/24'],
    ['a certificate that is not an ACM ARN', { 'sse:alb': 'true', 'sse:albCertificateArn': 'my-cert' }, '-c sse:albCertificateArn=my-cert: must be an ACM certificate ARN'],
    ['a non-boolean internet-facing', { 'sse:alb': 'true', 'sse:albInternetFacing': 'public' }, '-c sse:albInternetFacing=public: must be one of true, false'],
    ['a non-boolean plain HTTP', { 'sse:alb': 'true', 'sse:albAllowPlainHttp': '1' }, '-c sse:albAllowPlainHttp=1: must be one of true, false'],
    ['a non-boolean unauthenticated opt-in', { 'sse:alb': 'true', 'sse:albAllowUnauthenticatedInternetFacing': 'yes' }, '-c sse:albAllowUnauthenticatedInternetFacing=yes: must be one of true, false'],
    ['an idle timeout over 4000 s', { 'sse:alb': 'true', 'sse:albIdleTimeout': '4001' }, '-c sse:albIdleTimeout=4001: must be an integer from 1 to 4000 (s), got 4001'],
    ['an idle timeout with a unit', { 'sse:alb': 'true', 'sse:albIdleTimeout': '60s' }, '-c sse:albIdleTimeout=60s: must be an integer from 1 to 4000 (s)'],
    [
      'part of the OIDC keys',
      { 'sse:alb': 'true', 'sse:albOidcIssuer': 'https://login.example.com', 'sse:albOidcClientId': 'x' },
      'OIDC needs all of sse:albOidcIssuer, sse:albOidcAuthorizationEndpoint, sse:albOidcTokenEndpoint, sse:albOidcUserInfoEndpoint, sse:albOidcClientId, sse:albOidcClientSecretName; ' +
        'missing sse:albOidcAuthorizationEndpoint, sse:albOidcTokenEndpoint, sse:albOidcUserInfoEndpoint, sse:albOidcClientSecretName',
    ],
    ['an OIDC endpoint over http', { 'sse:alb': 'true', ...OIDC_CONTEXT, 'sse:albOidcIssuer': 'http://login.example.com' }, '-c sse:albOidcIssuer=http://login.example.com: must be an absolute https:// URL'],
    ['an empty OIDC client id', { 'sse:alb': 'true', ...OIDC_CONTEXT, 'sse:albOidcClientId': '' }, '-c sse:albOidcClientId=: must not be empty'],
    ['a client secret that is a value, not a name', { 'sse:alb': 'true', ...OIDC_CONTEXT, 'sse:albOidcClientSecretName': 's3cr3t value' }, '-c sse:albOidcClientSecretName=s3cr3t value: must be a Secrets Manager secret name'],
    ['principals given as an object', { 'sse:principals': { a: 1 } }, '-c sse:principals={"a":1}: must be a comma-separated string or a list of strings'],
    ['sse:durableStreams that is not a boolean', { 'sse:durableStreams': 'no' }, '-c sse:durableStreams=no: must be one of true, false'],
    ['a retention of 0 hours', { 'sse:retentionHours': '0' }, '-c sse:retentionHours=0: must be an integer from 1 to 8760 (hours), got 0'],
    ['a retention over a year', { 'sse:retentionHours': '8761' }, '-c sse:retentionHours=8761: must be an integer from 1 to 8760 (hours), got 8761'],
    ['a retention in days', { 'sse:retentionHours': '7d' }, '-c sse:retentionHours=7d: must be an integer from 1 to 8760 (hours)'],
    ['a minimum poll too short', { 'sse:pollMinMs': '9' }, '-c sse:pollMinMs=9: must be an integer from 10 to 10000 (ms), got 9'],
    ['a minimum poll too long', { 'sse:pollMinMs': '10001' }, '-c sse:pollMinMs=10001: must be an integer from 10 to 10000 (ms), got 10001'],
    ['a maximum poll too short', { 'sse:pollMaxMs': '99' }, '-c sse:pollMaxMs=99: must be an integer from 100 to 60000 (ms), got 99'],
    ['a maximum poll too long', { 'sse:pollMaxMs': '60001' }, '-c sse:pollMaxMs=60001: must be an integer from 100 to 60000 (ms), got 60001'],
    ['a minimum poll above the maximum', { 'sse:pollMinMs': '500', 'sse:pollMaxMs': '400' }, '-c sse:pollMinMs=500: must not be above sse:pollMaxMs (400); lower sse:pollMinMs or raise sse:pollMaxMs'],
    ['a minimum poll above the default maximum', { 'sse:pollMinMs': '1001' }, '-c sse:pollMinMs=1001: must not be above sse:pollMaxMs (1000, its default); lower sse:pollMinMs or raise sse:pollMaxMs'],
    ['a maximum poll below the default minimum', { 'sse:pollMaxMs': '100', 'sse:pollMinMs': '200' }, '-c sse:pollMinMs=200: must not be above sse:pollMaxMs (100)'],
    ['a tail buffer too small', { 'sse:tailBufferKib': '63' }, '-c sse:tailBufferKib=63: must be an integer from 64 to 65536 (KiB), got 63'],
    ['a tail buffer too large', { 'sse:tailBufferKib': '65537' }, '-c sse:tailBufferKib=65537: must be an integer from 64 to 65536 (KiB), got 65537'],
    ['a tail buffer in MiB', { 'sse:tailBufferKib': '1MiB' }, '-c sse:tailBufferKib=1MiB: must be an integer from 64 to 65536 (KiB)'],
    ['a tail buffer that is not whole', { 'sse:tailBufferKib': 1024.5 }, '-c sse:tailBufferKib=1024.5: must be an integer from 64 to 65536 (KiB)'],
    ['a removal policy CloudFormation does not offer for tables', { 'sse:tableRemovalPolicy': 'snapshot' }, '-c sse:tableRemovalPolicy=snapshot: must be one of retain, destroy'],
    ['a removal policy in capitals', { 'sse:tableRemovalPolicy': 'RETAIN' }, '-c sse:tableRemovalPolicy=RETAIN: must be one of retain, destroy'],
    ['a publisher that is a user', { 'sse:publisherRoleArns': 'arn:aws:iam::123456789012:user/alice' }, '-c sse:publisherRoleArns=arn:aws:iam::123456789012:user/alice: must be an IAM role ARN (arn:aws:iam::123456789012:role/name), got "arn:aws:iam::123456789012:user/alice"'],
    ['a publisher that is an account', { 'sse:publisherRoleArns': '123456789012' }, '-c sse:publisherRoleArns=123456789012: must be an IAM role ARN'],
    ['publishers given as an object', { 'sse:publisherRoleArns': { a: 1 } }, '-c sse:publisherRoleArns={"a":1}: must be a comma-separated string or a list of strings'],
    [
      'durable keys with sse:durableStreams=false',
      { 'sse:durableStreams': 'false', 'sse:pollMinMs': '20', 'sse:publisherRoleArns': 'arn:aws:iam::123456789012:role/a' },
      'sse:pollMinMs, sse:publisherRoleArns configure the durable streams table, which sse:durableStreams=false leaves out: remove them, or set -c sse:durableStreams=true',
    ],
    ['the tail buffer with sse:durableStreams=false', { 'sse:durableStreams': 'false', 'sse:tailBufferKib': '2048' }, 'sse:tailBufferKib configures the durable streams table, which sse:durableStreams=false leaves out: remove it, or set -c sse:durableStreams=true'],
    ['one durable key with sse:durableStreams=false', { 'sse:durableStreams': false, 'sse:retentionHours': '48' }, 'sse:retentionHours configures the durable streams table, which sse:durableStreams=false leaves out: remove it, or set -c sse:durableStreams=true'],
    ['sse:restApi that is not a boolean', { 'sse:restApi': 'on' }, '-c sse:restApi=on: must be one of true, false'],
    ['a REST API key without sse:restApi=true', { 'sse:restApiAuth': 'cognito' }, 'sse:restApiAuth configures the REST API, which is off: add -c sse:restApi=true, or remove it'],
    [
      'REST API keys with sse:restApi=false',
      { 'sse:restApi': 'false', 'sse:restApiApiKey': 'true', 'sse:restApiWebAclArn': WEB_ACL_ARN },
      'sse:restApiApiKey, sse:restApiWebAclArn configure the REST API, which is off: add -c sse:restApi=true, or remove them',
    ],
    ['an unknown endpoint type', { 'sse:restApi': 'true', 'sse:restApiEndpointType': 'private' }, '-c sse:restApiEndpointType=private: must be one of regional, edge'],
    ['an endpoint type in capitals', { 'sse:restApi': 'true', 'sse:restApiEndpointType': 'REGIONAL' }, '-c sse:restApiEndpointType=REGIONAL: must be one of regional, edge'],
    ['a non-boolean edge opt-in', { 'sse:restApi': 'true', 'sse:restApiAllowEdge': 'yes' }, '-c sse:restApiAllowEdge=yes: must be one of true, false'],
    ['an unknown authorization', { 'sse:restApi': 'true', 'sse:restApiAuth': 'AWS_IAM' }, '-c sse:restApiAuth=AWS_IAM: must be one of iam, cognito, none'],
    ['a non-boolean unauthenticated opt-in', { 'sse:restApi': 'true', 'sse:restApiAllowUnauthenticated': '1' }, '-c sse:restApiAllowUnauthenticated=1: must be one of true, false'],
    ['a user pool id instead of its ARN', { 'sse:restApi': 'true', 'sse:restApiUserPoolArn': 'eu-west-1_AbCdEf123' }, '-c sse:restApiUserPoolArn=eu-west-1_AbCdEf123: must be a Cognito user pool ARN'],
    ['a scope with a quote', { 'sse:restApi': 'true', 'sse:restApiScopes': 'openid,"read"' }, '-c sse:restApiScopes=openid,"read": must be an OAuth scope'],
    ['a non-boolean API key', { 'sse:restApi': 'true', 'sse:restApiApiKey': 'my-key' }, '-c sse:restApiApiKey=my-key: must be one of true, false'],
    ['a rate of 0', { 'sse:restApi': 'true', 'sse:restApiThrottleRate': '0' }, '-c sse:restApiThrottleRate=0: must be an integer from 1 to 10000 (requests per second), got 0'],
    ['a fractional rate', { 'sse:restApi': 'true', 'sse:restApiThrottleRate': '0.5' }, '-c sse:restApiThrottleRate=0.5: must be an integer from 1 to 10000 (requests per second)'],
    ['a burst over 5000', { 'sse:restApi': 'true', 'sse:restApiThrottleBurst': '5001' }, '-c sse:restApiThrottleBurst=5001: must be an integer from 1 to 5000 (requests), got 5001'],
    ['a domain with a scheme', { 'sse:restApi': 'true', 'sse:restApiDomainName': 'https://sse.example.com' }, '-c sse:restApiDomainName=https://sse.example.com: must be a lowercase DNS name like sse.example.com'],
    ['a certificate that is not an ACM ARN', { 'sse:restApi': 'true', 'sse:restApiCertificateArn': 'cert' }, '-c sse:restApiCertificateArn=cert: must be an ACM certificate ARN (arn:aws:acm:<region>:<account>:certificate/<uuid>) in the API\'s region (us-east-1 for edge)'],
    ['a web ACL that is not an ARN', { 'sse:restApi': 'true', 'sse:restApiWebAclArn': 'my-acl' }, '-c sse:restApiWebAclArn=my-acl: must be a regional WAFv2 web ACL ARN'],
    ['a non-boolean CloudWatch role', { 'sse:restApi': 'true', 'sse:restApiCloudWatchRole': 'create' }, '-c sse:restApiCloudWatchRole=create: must be one of true, false'],
    ['a watch page switch that is not a boolean', { 'sse:restApi': 'true', 'sse:restApiWatchPage': 'on' }, '-c sse:restApiWatchPage=on: must be one of true, false'],
    ['the watch page without sse:restApi=true', { 'sse:restApiWatchPage': 'true' }, 'sse:restApiWatchPage configures the REST API, which is off: add -c sse:restApi=true, or remove it'],
    ['the watch page with sse:restApi=false', { 'sse:restApi': 'false', 'sse:restApiWatchPage': 'false' }, 'sse:restApiWatchPage configures the REST API, which is off: add -c sse:restApi=true, or remove it'],
  ];
  for (const [name, context, expected] of cases) {
    it(name, () => assert.ok(contextError(context).includes(expected), contextError(context)));
  }

  it('an unknown sse: key, listing the keys the app reads', () => {
    assert.match(contextError({ 'sse:memroy': '256' }), /unknown context key sse:memroy; this app reads sse:stackName, sse:architecture, .*sse:jobIntervalMs, sse:windowMs, sse:deadlineMarginMs, sse:heartbeatMs, sse:batchWindowMs, sse:durableStreams, sse:retentionHours, sse:pollMinMs, sse:pollMaxMs, sse:tailBufferKib, sse:tableRemovalPolicy, sse:publisherRoleArns, sse:alb, sse:albInternetFacing, .*sse:albOidcClientSecretName, sse:restApi, sse:restApiEndpointType, .*sse:restApiCloudWatchRole, sse:managedInstances, .*sse:managedInstancesInstanceTypes, sse:metrics, sse:metricsNamespace, sse:tracing, sse:alarms, sse:alarmErrors, .*sse:alarmEmail, sse:dashboard, sse:pipeline, sse:pipelineConnectionArn, .*sse:pipelineApprovals$/m);
  });

  it('a known key typed without its prefix', () => {
    assert.match(contextError({ memory: '256' }), /context key memory is not read by this app; did you mean sse:memory\?/);
    assert.match(contextError({ windowMs: '60000' }), /context key windowMs is not read by this app; did you mean sse:windowMs\?/);
    assert.match(contextError({ alb: 'true' }), /context key alb is not read by this app; did you mean sse:alb\?/);
    assert.match(contextError({ pollMinMs: '20' }), /context key pollMinMs is not read by this app; did you mean sse:pollMinMs\?/);
    assert.match(contextError({ restApi: 'true' }), /context key restApi is not read by this app; did you mean sse:restApi\?/);
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

describe('CONTEXT_KEYS: the durable streams', () => {
  it('lists every durable key with its allowed values and default', () => {
    const rows = Object.fromEntries(CONTEXT_KEYS.map(({ key, allowed, defaultValue }) => [key, { allowed, defaultValue }]));
    assert.deepEqual(rows['sse:durableStreams'], { allowed: 'true | false (false: no table, no /streams/{name})', defaultValue: 'true' });
    assert.deepEqual(rows['sse:retentionHours'], { allowed: 'an integer from 1 to 8760 (hours)', defaultValue: '24' });
    assert.deepEqual(rows['sse:pollMinMs'], { allowed: 'an integer from 10 to 10000 (ms), at most sse:pollMaxMs', defaultValue: '50' });
    assert.deepEqual(rows['sse:pollMaxMs'], { allowed: 'an integer from 100 to 60000 (ms)', defaultValue: '1000' });
    assert.deepEqual(rows['sse:tailBufferKib'], { allowed: 'an integer from 64 to 65536 (KiB)', defaultValue: '1024' });
    assert.deepEqual(rows['sse:tableRemovalPolicy'], { allowed: 'retain | destroy', defaultValue: 'retain' });
    assert.match(rows['sse:publisherRoleArns'].allowed, /^comma-separated IAM role ARNs, granted dynamodb:PutItem and dynamodb:Query in the table's resource policy$/);
    assert.equal(rows['sse:publisherRoleArns'].defaultValue, '(none)');
  });
});

describe('CONTEXT_KEYS: the ALB', () => {
  it('lists the batch window and every ALB key, with allowed values and defaults', () => {
    const rows = Object.fromEntries(CONTEXT_KEYS.map(({ key, allowed, defaultValue }) => [key, { allowed, defaultValue }]));
    assert.deepEqual(rows['sse:batchWindowMs'], { allowed: 'an integer from 1000 to 60000 (ms), with sse:alb plus the deadline margin shorter than the timeout', defaultValue: '5000' });
    assert.deepEqual(rows['sse:alb'], { allowed: 'true | false', defaultValue: 'false' });
    assert.deepEqual(rows['sse:albIdleTimeout'], { allowed: 'an integer from 1 to 4000 (s), longer than the batch window', defaultValue: '(max(60, batch window in s + 10))' });
    for (const key of [
      'sse:albInternetFacing', 'sse:albAllowUnauthenticatedInternetFacing', 'sse:albAllowedCidrs', 'sse:albCertificateArn', 'sse:albAllowPlainHttp',
      'sse:albOidcIssuer', 'sse:albOidcAuthorizationEndpoint', 'sse:albOidcTokenEndpoint', 'sse:albOidcUserInfoEndpoint', 'sse:albOidcClientId', 'sse:albOidcClientSecretName',
    ]) {
      assert.ok(rows[key], `${key} is not documented`);
    }
  });
});

describe('CONTEXT_KEYS: the REST API', () => {
  it('lists every REST API key, with allowed values and defaults', () => {
    const rows = Object.fromEntries(CONTEXT_KEYS.map(({ key, allowed, defaultValue }) => [key, { allowed, defaultValue }]));
    assert.deepEqual(rows['sse:restApi'], { allowed: 'true | false', defaultValue: 'false' });
    assert.deepEqual(rows['sse:restApiEndpointType'], { allowed: 'regional | edge (edge needs sse:restApiAllowEdge=true)', defaultValue: 'regional' });
    assert.deepEqual(rows['sse:restApiAuth'], { allowed: 'iam | cognito | none (cognito needs sse:restApiUserPoolArn; none needs sse:restApiAllowUnauthenticated=true)', defaultValue: 'iam' });
    assert.deepEqual(rows['sse:restApiThrottleRate'], { allowed: 'an integer from 1 to 10000 (requests per second)', defaultValue: '50' });
    assert.deepEqual(rows['sse:restApiThrottleBurst'], { allowed: 'an integer from 1 to 5000 (requests)', defaultValue: '100' });
    assert.equal(rows['sse:restApiCloudWatchRole'].defaultValue, 'false');
    assert.deepEqual(rows['sse:restApiWatchPage'], {
      allowed: `true | false: serve the watch page and its scripts (GET ${PAGE_PATHS.join(', ')}) without authorization; its streams keep theirs (true with iam or an API key warns at synth: a browser cannot sign, the page cannot send a key)`,
      defaultValue: '(true with sse:restApiAuth=cognito or none and no sse:restApiApiKey, false otherwise)',
    });
    assert.match(rows['sse:restApiWatchPage'].allowed, /GET \/, \/page\.js, /);
    for (const key of [
      'sse:restApiAllowEdge', 'sse:restApiAllowUnauthenticated', 'sse:restApiUserPoolArn', 'sse:restApiScopes', 'sse:restApiApiKey',
      'sse:restApiDomainName', 'sse:restApiCertificateArn', 'sse:restApiWebAclArn',
    ]) {
      assert.ok(rows[key], `${key} is not documented`);
    }
  });
});

describe('readAppSettings: monitoring', () => {
  it('leaves metrics, tracing, the alarms and the dashboard at their defaults when no key is set', () => {
    const settings = readAppSettings({});
    assert.equal(settings.sseFunction.metrics, undefined);
    assert.equal(settings.sseFunction.metricsNamespace, undefined);
    assert.equal(settings.sseFunction.tracing, undefined);
    assert.ok(settings.monitoring);
    const { alarms, alarmTopicArn, alarmEmail, dashboard } = settings.monitoring;
    assert.deepEqual([alarms, alarmTopicArn, alarmEmail, dashboard], [{}, undefined, undefined, undefined]);
  });

  it('reads metrics, tracing, every alarm threshold (a number or off), the email and the dashboard', () => {
    const settings = readAppSettings({
      'sse:metrics': 'on',
      'sse:metricsNamespace': 'Sse/Prod',
      'sse:tracing': 'true',
      'sse:reservedConcurrency': '20',
      'sse:restApi': 'true',
      'sse:alb': 'true',
      'sse:albAllowedCidrs': '10.0.0.0/8',
      'sse:albAllowPlainHttp': 'true',
      'sse:alarmErrors': '3',
      'sse:alarmThrottles': 'off',
      'sse:alarmSourceFailureRate': '10',
      'sse:alarmDurationNearTimeout': '95',
      'sse:alarmConcurrencyNearCap': 90,
      'sse:alarmRestApiServerErrors': '5',
      'sse:alarmAlbTargetErrors': 'off',
      'sse:alarmDynamoThrottles': '7',
      'sse:alarmEmail': 'ops@example.com',
      'sse:dashboard': 'off',
    });
    assert.equal(settings.sseFunction.metrics, true);
    assert.equal(settings.sseFunction.metricsNamespace, 'Sse/Prod');
    assert.equal(settings.sseFunction.tracing, true);
    assert.deepEqual(settings.monitoring, {
      alarms: { errors: 3, throttles: false, sourceFailureRate: 10, durationNearTimeout: 95, concurrencyNearCap: 90, restApiServerErrors: 5, albTargetErrors: false, dynamoThrottles: 7 },
      alarmTopicArn: undefined,
      alarmEmail: 'ops@example.com',
      dashboard: false,
    });
  });

  it('reads an existing topic, and leaves monitoring out when the alarms and the dashboard are off', () => {
    const topic = readAppSettings({ 'sse:alarmTopicArn': 'arn:aws:sns:eu-west-1:123456789012:ops' }).monitoring;
    assert.ok(topic && topic.alarmTopicArn === 'arn:aws:sns:eu-west-1:123456789012:ops');
    assert.deepEqual(readAppSettings({ 'sse:alarms': 'false' }).monitoring, { alarms: false, dashboard: undefined });
    assert.equal(readAppSettings({ 'sse:alarms': 'off', 'sse:dashboard': 'off' }).monitoring, false);
    assert.equal(readAppSettings({ 'sse:metrics': 'off' }).sseFunction.metrics, false);
  });

  const rejected: [string, Record<string, unknown>, RegExp][] = [
    ['a metrics switch that is not one', { 'sse:metrics': 'yes' }, /-c sse:metrics=yes: must be one of true, false, on, off/],
    ['a namespace CloudWatch refuses', { 'sse:metricsNamespace': 'AWS/Lambda' }, /-c sse:metricsNamespace=AWS\/Lambda: must be 1 to 255 of A-Z a-z 0-9 \. - _ \/ # : and space, not starting with AWS\//],
    ['a tracing switch that is not one', { 'sse:tracing': 'active' }, /-c sse:tracing=active: must be one of true, false, on, off/],
    ['an alarms switch that is not one', { 'sse:alarms': 'some' }, /-c sse:alarms=some: must be one of true, false, on, off/],
    ['a dashboard switch that is not one', { 'sse:dashboard': '1' }, /-c sse:dashboard=1: must be one of true, false, on, off/],
    ['a count threshold that is not a number', { 'sse:alarmErrors': 'many' }, /-c sse:alarmErrors=many: must be an integer of at least 1 \(per 5 minutes\), or off/],
    ['a count threshold of 0', { 'sse:alarmThrottles': '0' }, /-c sse:alarmThrottles=0: must be an integer of at least 1 \(per 5 minutes\), got 0, or off/],
    ['a share above 100', { 'sse:alarmSourceFailureRate': '150' }, /-c sse:alarmSourceFailureRate=150: must be an integer from 1 to 100 \(%\), got 150, or off/],
    ['a duration share of 0', { 'sse:alarmDurationNearTimeout': '0' }, /-c sse:alarmDurationNearTimeout=0: must be an integer from 1 to 100 \(%\), got 0, or off/],
    ['a concurrency threshold without reserved concurrency', { 'sse:alarmConcurrencyNearCap': '80' }, /-c sse:alarmConcurrencyNearCap=80: needs sse:reservedConcurrency; set that, or remove sse:alarmConcurrencyNearCap \(or set it to off\)/],
    ['a REST API threshold without the REST API', { 'sse:alarmRestApiServerErrors': '1' }, /-c sse:alarmRestApiServerErrors=1: needs sse:restApi=true/],
    ['an ALB threshold without the ALB', { 'sse:alarmAlbTargetErrors': '1' }, /-c sse:alarmAlbTargetErrors=1: needs sse:alb=true/],
    ['a table threshold without the table', { 'sse:durableStreams': 'false', 'sse:alarmDynamoThrottles': '1' }, /-c sse:alarmDynamoThrottles=1: needs the durable streams table \(sse:durableStreams=true, the default\)/],
    ['a source failure threshold with metrics off', { 'sse:metrics': 'off', 'sse:alarmSourceFailureRate': '5' }, /-c sse:alarmSourceFailureRate=5: needs the function's metrics/],
    ['a topic ARN that is not one', { 'sse:alarmTopicArn': 'ops' }, /-c sse:alarmTopicArn=ops: must be a standard SNS topic ARN/],
    ['an email that is not one', { 'sse:alarmEmail': 'ops' }, /-c sse:alarmEmail=ops: must be an email address like ops@example\.com/],
    ['an email and a topic', { 'sse:alarmEmail': 'ops@example.com', 'sse:alarmTopicArn': 'arn:aws:sns:eu-west-1:123456789012:ops' }, /sse:alarmEmail subscribes to a new topic and sse:alarmTopicArn names an existing one: give one of them/],
    ['alarm keys with the alarms off', { 'sse:alarms': 'off', 'sse:alarmErrors': '2', 'sse:alarmEmail': 'ops@example.com' }, /sse:alarmErrors, sse:alarmEmail configure the alarms, which sse:alarms=off leaves out: remove them, or set -c sse:alarms=true/],
  ];
  for (const [name, context, expected] of rejected) {
    it(`rejects ${name}`, () => assert.match(contextError(context), expected));
  }

  it('documents the monitoring keys', () => {
    const rows = Object.fromEntries(CONTEXT_KEYS.map(({ key, allowed, defaultValue }) => [key, { allowed, defaultValue }]));
    assert.deepEqual(rows['sse:alarmErrors'], { allowed: 'an integer of at least 1 (per 5 minutes): function errors (AWS/Lambda Errors) per 5 minutes; or off', defaultValue: '1' });
    assert.deepEqual(rows['sse:alarmSourceFailureRate'], { allowed: 'an integer from 1 to 100 (%): % of streams whose source failed (SourceErrors / StreamsStarted); or off', defaultValue: '5' });
    assert.equal(rows['sse:metricsNamespace'].defaultValue, 'LambdaSse');
    for (const key of ['sse:metrics', 'sse:tracing', 'sse:alarms', 'sse:alarmThrottles', 'sse:alarmDurationNearTimeout', 'sse:alarmConcurrencyNearCap', 'sse:alarmRestApiServerErrors', 'sse:alarmAlbTargetErrors', 'sse:alarmDynamoThrottles', 'sse:alarmTopicArn', 'sse:alarmEmail', 'sse:dashboard']) {
      assert.ok(rows[key], `${key} is not documented`);
    }
  });
});

describe('readAppSettings: the pipeline', () => {
  const CONNECTION = 'arn:aws:codeconnections:eu-west-1:111122223333:connection/0a1b2c3d-4e5f-6a7b-8c9d-0e1f2a3b4c5d';
  const required = { 'sse:pipeline': 'true', 'sse:pipelineConnectionArn': CONNECTION, 'sse:pipelineRepository': 'example/lambda-sse' };

  it('builds no pipeline without sse:pipeline, or with sse:pipeline=false', () => {
    assert.equal(readAppSettings({}).pipeline, undefined);
    assert.equal(readAppSettings({ 'sse:pipeline': 'false' }).pipeline, undefined);
  });

  it('reads the required keys, with branch main and one stage dev by default', () => {
    assert.deepEqual(readAppSettings(required).pipeline, {
      connectionArn: CONNECTION,
      repository: 'example/lambda-sse',
      branch: 'main',
      stages: [{ name: 'dev', approval: false }],
    });
  });

  it('reads every key: stages in other accounts, approvals for all but the first, or none', () => {
    const settings = readAppSettings({ ...required, 'sse:pipelineBranch': 'release/1', 'sse:pipelineStages': 'dev, staging,prod@444455556666/us-east-1', 'sse:memory': '256' });
    assert.deepEqual(settings.pipeline, {
      connectionArn: CONNECTION,
      repository: 'example/lambda-sse',
      branch: 'release/1',
      stages: [
        { name: 'dev', approval: false },
        { name: 'staging', approval: true },
        { name: 'prod', env: { account: '444455556666', region: 'us-east-1' }, approval: true },
      ],
    });
    assert.equal(settings.sseFunction.memorySize, 256);
    assert.deepEqual(readAppSettings({ ...required, 'sse:pipelineStages': ['dev', 'prod'], 'sse:pipelineApprovals': 'false' }).pipeline?.stages, [
      { name: 'dev', approval: false },
      { name: 'prod', approval: false },
    ]);
  });

  const rejected: [string, Record<string, unknown>, RegExp][] = [
    ['sse:pipeline that is not a boolean', { 'sse:pipeline': 'yes' }, /-c sse:pipeline=yes: must be one of true, false/],
    ['a pipeline key without sse:pipeline=true', { 'sse:pipelineRepository': 'example/lambda-sse' }, /sse:pipelineRepository only applies with -c sse:pipeline=true: add it, or remove it/],
    ['pipeline keys with sse:pipeline=false', { 'sse:pipeline': 'false', 'sse:pipelineStages': 'dev', 'sse:pipelineBranch': 'main' }, /sse:pipelineBranch, sse:pipelineStages only apply with -c sse:pipeline=true: add it, or remove them/],
    ['sse:pipeline=true without a connection', { 'sse:pipeline': 'true', 'sse:pipelineRepository': 'example/lambda-sse' }, /sse:pipeline=true needs -c sse:pipelineConnectionArn=arn:aws:codeconnections:<region>:<account>:connection\/<id> \(README\.md, "Deploy from a pipeline"\)/],
    ['sse:pipeline=true without a repository', { 'sse:pipeline': 'true', 'sse:pipelineConnectionArn': CONNECTION }, /sse:pipeline=true needs -c sse:pipelineRepository=<owner>\/<repo>/],
    ['a connection ARN that is not one', { ...required, 'sse:pipelineConnectionArn': 'arn:aws:iam::111122223333:role/x' }, /-c sse:pipelineConnectionArn=arn:aws:iam::111122223333:role\/x: must be a CodeConnections connection ARN/],
    ['a repository that is a URL', { ...required, 'sse:pipelineRepository': 'https://github.com/example/lambda-sse' }, /-c sse:pipelineRepository=https:\/\/github\.com\/example\/lambda-sse: must be owner\/repo/],
    ['a branch that git refuses', { ...required, 'sse:pipelineBranch': 'feature..x' }, /-c sse:pipelineBranch=feature\.\.x: must be a git branch name/],
    ['a stage with a bad name', { ...required, 'sse:pipelineStages': 'dev,prod_1' }, /-c sse:pipelineStages=dev,prod_1: "prod_1" \(name or name@account\/region, like prod@111122223333\/eu-west-1\): the stage name must start with a letter/],
    ['a stage with an account but no region', { ...required, 'sse:pipelineStages': 'prod@444455556666' }, /"prod@444455556666" must be name or name@account\/region/],
    ['a stage with a bad account', { ...required, 'sse:pipelineStages': 'prod@4444/eu-west-1' }, /the account must be a 12-digit AWS account id, got "4444"/],
    ['a stage with a bad region', { ...required, 'sse:pipelineStages': 'prod@444455556666/europe' }, /the region must be an AWS region like eu-west-1, got "europe"/],
    ['no stage', { ...required, 'sse:pipelineStages': ' , ' }, /-c sse:pipelineStages is empty: name at least one stage, like dev or dev,prod/],
    ['one stage twice', { ...required, 'sse:pipelineStages': 'dev,Dev' }, /-c sse:pipelineStages=dev,Dev: names dev more than once \(ignoring case\); give each stage its own name/],
    ['approvals that are not a boolean', { ...required, 'sse:pipelineApprovals': 'manual' }, /-c sse:pipelineApprovals=manual: must be one of true, false/],
  ];
  for (const [name, context, expected] of rejected) {
    it(`rejects ${name}`, () => assert.match(contextError(context), expected));
  }

  it('documents the pipeline keys', () => {
    const rows = Object.fromEntries(CONTEXT_KEYS.map(({ key, allowed, defaultValue }) => [key, { allowed, defaultValue }]));
    assert.equal(rows['sse:pipeline'].defaultValue, 'false');
    assert.equal(rows['sse:pipelineBranch'].defaultValue, 'main');
    assert.equal(rows['sse:pipelineStages'].defaultValue, 'dev');
    assert.equal(rows['sse:pipelineApprovals'].defaultValue, 'true');
    assert.match(rows['sse:pipelineConnectionArn'].allowed, /required with sse:pipeline=true/);
    assert.match(rows['sse:pipelineRepository'].allowed, /required with sse:pipeline=true/);
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

describe('readAppSettings: Lambda Managed Instances', () => {
  it('is off unless sse:managedInstances=true', () => {
    assert.equal(readAppSettings({}).managedInstances, false);
    assert.equal(readAppSettings({ 'sse:managedInstances': 'false' }).managedInstances, false);
  });

  it('turns on with every option left to the construct', () => {
    const settings = readAppSettings({ 'sse:managedInstances': 'true' });
    assert.ok(settings.managedInstances);
    assert.deepEqual(Object.values(settings.managedInstances).filter((v) => v !== undefined), []);
    assert.equal(settings.sseFunction.memorySize, undefined, 'the stack makes it 2048 in this mode');
  });

  it('reads every option', () => {
    const settings = readAppSettings({
      'sse:managedInstances': 'true',
      'sse:managedInstancesMaxConcurrency': '200',
      'sse:managedInstancesMemoryPerVcpu': 4,
      'sse:managedInstancesMinEnvironments': '2',
      'sse:managedInstancesMaxEnvironments': '20',
      'sse:managedInstancesMaxVcpus': '96',
      'sse:managedInstancesCpuTarget': '60',
      'sse:managedInstancesInstanceTypes': 'c7g.large, c7g.xlarge',
    });
    assert.deepEqual(settings.managedInstances, {
      maxConcurrency: 200,
      memoryPerVcpu: 4,
      minEnvironments: 2,
      maxEnvironments: 20,
      maxVcpus: 96,
      cpuTarget: 60,
      instanceTypes: ['c7g.large', 'c7g.xlarge'],
    });
  });

  it('takes the instance types as a JSON list (cdk.json)', () => {
    const settings = readAppSettings({ 'sse:managedInstances': 'true', 'sse:managedInstancesInstanceTypes': ['m7g.large'] });
    assert.deepEqual(settings.managedInstances && settings.managedInstances.instanceTypes, ['m7g.large']);
  });

  const cases: [string, Record<string, unknown>, string][] = [
    ['a value that is not a switch', { 'sse:managedInstances': 'yes' }, '-c sse:managedInstances=yes: must be one of true, false'],
    ['an option without the switch', { 'sse:managedInstancesMaxConcurrency': '100' },
      'sse:managedInstancesMaxConcurrency configures Lambda Managed Instances, which are off: add -c sse:managedInstances=true, or remove it'],
    ['options with the switch off', { 'sse:managedInstances': 'false', 'sse:managedInstancesMaxVcpus': '96', 'sse:managedInstancesCpuTarget': '50' },
      'sse:managedInstancesMaxVcpus, sse:managedInstancesCpuTarget configure Lambda Managed Instances, which are off: add -c sse:managedInstances=true, or remove them'],
    ['concurrency out of range', { 'sse:managedInstances': 'true', 'sse:managedInstancesMaxConcurrency': '1601' },
      '-c sse:managedInstancesMaxConcurrency=1601: must be an integer from 1 to 1600 (concurrent requests per execution environment), got 1601'],
    ['memory per vCPU out of range', { 'sse:managedInstances': 'true', 'sse:managedInstancesMemoryPerVcpu': '1' },
      '-c sse:managedInstancesMemoryPerVcpu=1: must be an integer from 2 to 8 (GiB per vCPU), got 1'],
    ['a minimum of no environment', { 'sse:managedInstances': 'true', 'sse:managedInstancesMinEnvironments': '0' },
      '-c sse:managedInstancesMinEnvironments=0: must be an integer from 1 to 15000 (execution environments), got 0'],
    ['a maximum that is not a number', { 'sse:managedInstances': 'true', 'sse:managedInstancesMaxEnvironments': 'many' },
      '-c sse:managedInstancesMaxEnvironments=many: must be an integer from 1 to 15000 (execution environments)'],
    ['a minimum above the maximum', { 'sse:managedInstances': 'true', 'sse:managedInstancesMinEnvironments': '5', 'sse:managedInstancesMaxEnvironments': '4' },
      '-c sse:managedInstancesMinEnvironments=5: must not be above sse:managedInstancesMaxEnvironments (4); lower the minimum or raise the maximum'],
    ['the default minimum above the maximum', { 'sse:managedInstances': 'true', 'sse:managedInstancesMaxEnvironments': '2' },
      'sse:managedInstancesMinEnvironments (3, its default): must not be above sse:managedInstancesMaxEnvironments (2); lower the minimum or raise the maximum'],
    ['too few vCPUs', { 'sse:managedInstances': 'true', 'sse:managedInstancesMaxVcpus': '8' }, '-c sse:managedInstancesMaxVcpus=8: must be an integer from 12 to 15000 (vCPUs), got 8'],
    ['a CPU target above 100', { 'sse:managedInstances': 'true', 'sse:managedInstancesCpuTarget': '101' }, '-c sse:managedInstancesCpuTarget=101: must be an integer from 1 to 100 (%), got 101'],
    ['a malformed instance type', { 'sse:managedInstances': 'true', 'sse:managedInstancesInstanceTypes': 'c7g.large,big' },
      '-c sse:managedInstancesInstanceTypes=c7g.large,big: must be an EC2 instance type like c7g.large or m7i.xlarge, got "big"'],
  ];
  for (const [name, context, message] of cases) {
    it(`refuses ${name}`, () => assert.ok(contextError(context).includes(message), contextError(context)));
  }

  it('compares minimum and maximum only when both are valid on their own', () => {
    assert.doesNotMatch(contextError({ 'sse:managedInstances': 'true', 'sse:managedInstancesMinEnvironments': '0', 'sse:managedInstancesMaxEnvironments': '0' }), /must not be above/);
  });
});

describe('CONTEXT_KEYS: Lambda Managed Instances', () => {
  it('lists every key with its allowed values and default', () => {
    const rows = Object.fromEntries(CONTEXT_KEYS.map(({ key, allowed, defaultValue }) => [key, { allowed, defaultValue }]));
    assert.equal(rows['sse:managedInstances'].defaultValue, 'false');
    assert.deepEqual(rows['sse:managedInstancesMaxConcurrency'], { allowed: 'an integer from 1 to 1600 (concurrent requests per execution environment): streams one execution environment serves at once', defaultValue: '64' });
    assert.equal(rows['sse:managedInstancesMemoryPerVcpu'].defaultValue, '2');
    assert.equal(rows['sse:managedInstancesMinEnvironments'].defaultValue, '3');
    assert.equal(rows['sse:managedInstancesMaxVcpus'].defaultValue, '48');
    for (const key of ['sse:managedInstancesMaxEnvironments', 'sse:managedInstancesCpuTarget', 'sse:managedInstancesInstanceTypes']) {
      assert.ok(rows[key], `${key} is not documented`);
    }
    assert.match(rows['sse:memory'].allowed, /at least 2048 with sse:managedInstances=true/);
  });
});
