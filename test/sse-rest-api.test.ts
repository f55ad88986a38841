import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { describe, it } from 'node:test';
import { Duration, Stack, Validations } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as apigateway from 'aws-cdk-lib/aws-apigateway';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { AwsSolutionsChecks } from 'cdk-nag';
import { PAGE_PATHS } from '../cdk/function-settings';
import { SseFunction, type SseFunctionProps } from '../cdk/sse-function';
import { SseRestApi, type SseRestApiOptions } from '../cdk/sse-rest-api';
import { SseStreamStack } from '../cdk/sse-stack';
import { CERTIFICATE_ARN, REPO_ROOT, USER_POOL_ARN, VERIFIER_KEY, VERIFIER_SECRET, VERIFIER_TEMPORARY_KEY, VERIFIER_TOKEN, WEB_ACL_ARN, onlyResource, startVerifier, testApp } from './helpers';

const METHOD = 'AWS::ApiGateway::Method';
const STAGE = 'AWS::ApiGateway::Stage';
const US_EAST_1_CERTIFICATE_ARN = CERTIFICATE_ARN.replace('eu-west-1', 'us-east-1');

interface BuiltApi {
  readonly stack: SseStreamStack;
  readonly api: SseRestApi;
  readonly template: Template;
  readonly annotations: Annotations;
}

function buildApi(restApi: SseRestApiOptions = {}, sseFunction?: SseFunctionProps, streamsTable?: false): BuiltApi {
  const stack = new SseStreamStack(testApp(), 'Sse', { restApi, sseFunction, streamsTable });
  return { stack, api: stack.restApi!, template: Template.fromStack(stack), annotations: Annotations.fromStack(stack) };
}

/** The error SseStreamStack throws for these REST API options. */
function apiError(restApi: SseRestApiOptions, sseFunction?: SseFunctionProps): string {
  try {
    buildApi(restApi, sseFunction);
  } catch (error) {
    return (error as Error).message;
  }
  assert.fail('expected the REST API options to be rejected');
}

function warnings(annotations: Annotations): string[] {
  return annotations.findWarning('*', Match.anyValue()).map((w) => String(w.entry.data));
}

interface MethodResource {
  readonly Properties: Record<string, unknown>;
  readonly Metadata?: { checkov?: { skip: { id: string; comment: string }[] }; [key: string]: unknown };
}

/** The method resources by their resource's last path part; the root resource's (the watch page) is `/`. */
function methodResources(template: Template): Record<string, MethodResource> {
  const resources = template.findResources('AWS::ApiGateway::Resource');
  const apiId = Object.keys(template.findResources('AWS::ApiGateway::RestApi'))[0];
  return Object.fromEntries(Object.values(template.findResources(METHOD)).map((m) => {
    const resourceId = (m.Properties.ResourceId as { Ref?: string }).Ref;
    if (resourceId === undefined) {
      assert.deepEqual(m.Properties.ResourceId, { 'Fn::GetAtt': [apiId, 'RootResourceId'] });
      return ['/', m as MethodResource];
    }
    return [resources[resourceId].Properties.PathPart as string, m as MethodResource];
  }));
}

/** The methods' properties by their resource's last path part; the root resource's is `/`. */
function methods(template: Template): Record<string, Record<string, unknown>> {
  return Object.fromEntries(Object.entries(methodResources(template)).map(([key, m]) => [key, m.Properties]));
}

/** The watch page's keys in `methods`, from the function's page paths: `/`, `page.js`, ... */
const PAGE_KEYS = PAGE_PATHS.map((p) => (p === '/' ? '/' : p.slice(1)));
/** The stream and health methods' keys, with the durable streams table. */
const STREAM_KEYS = ['events', 'health', '{name}'];

/** The stream and health methods: every method but the watch page's. */
function streamMethods(template: Template): Record<string, Record<string, unknown>> {
  return Object.fromEntries(Object.entries(methods(template)).filter(([key]) => !PAGE_KEYS.includes(key)));
}

describe('SseStreamStack without restApi', () => {
  it('adds no REST API and no output of one', () => {
    const stack = new SseStreamStack(testApp(), 'Sse');
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::ApiGateway::RestApi', 0);
    assert.ok(!Object.keys(template.toJSON().Outputs).some((key) => key.startsWith('RestApi')));
    assert.equal(stack.restApi, undefined);
  });
});

describe('SseRestApi: defaults', () => {
  const { stack, api, template, annotations } = buildApi();
  const functionId = Object.keys(template.findResources('AWS::Lambda::Function'))[0];

  it('is one REGIONAL REST API named after the stack, and keeps the Function URL', () => {
    template.resourceCountIs('AWS::ApiGateway::RestApi', 1);
    template.hasResourceProperties('AWS::ApiGateway::RestApi', { Name: 'Sse-sse', EndpointConfiguration: { Types: ['REGIONAL'] } });
    template.resourceCountIs('AWS::Lambda::Url', 1);
    template.hasResourceProperties('AWS::Lambda::Url', { InvokeMode: 'RESPONSE_STREAM', AuthType: 'AWS_IAM' });
  });

  it('serves GET /events, /health and, with the durable streams table, /streams/{name}', () => {
    assert.deepEqual(Object.keys(methods(template)).sort(), ['events', 'health', '{name}']);
    assert.deepEqual(api.paths, ['events', 'health', 'streams/{name}']);
    for (const method of Object.values(methods(template))) assert.equal(method.HttpMethod, 'GET');
    assert.deepEqual(methods(template)['{name}'].RequestParameters, { 'method.request.path.name': true });
  });

  it('integrates every method as a streaming Lambda proxy through the 2021-11-15 response-streaming-invocations path', () => {
    for (const [path, method] of Object.entries(methods(template))) {
      const integration = method.Integration as Record<string, unknown>;
      assert.equal(integration.Type, 'AWS_PROXY', path);
      assert.equal(integration.IntegrationHttpMethod, 'POST', path);
      assert.equal(integration.ResponseTransferMode, 'STREAM', path);
      const uri = JSON.stringify(integration.Uri);
      assert.match(uri, /:lambda:path\/2021-11-15\/functions\/",\{"Fn::GetAtt":\["SseFunction[0-9A-F]+","Arn"\]\},"\/response-streaming-invocations"/, path);
      assert.ok(uri.includes(functionId), path);
    }
  });

  it('sets the integration timeout to the function\'s timeout (300 s), not API Gateway\'s 29 s', () => {
    assert.equal(api.integrationTimeoutSeconds, 300);
    for (const method of Object.values(methods(template))) assert.equal((method.Integration as { TimeoutInMillis: number }).TimeoutInMillis, 300_000);
  });

  it('authorizes every method with IAM, no API key, through a request validator of parameters and body', () => {
    const validatorId = Object.keys(template.findResources('AWS::ApiGateway::RequestValidator'))[0];
    template.hasResourceProperties('AWS::ApiGateway::RequestValidator', { ValidateRequestParameters: true, ValidateRequestBody: true });
    for (const method of Object.values(methods(template))) {
      assert.equal(method.AuthorizationType, 'AWS_IAM');
      assert.equal(method.ApiKeyRequired, false);
      assert.equal(method.AuthorizerId, undefined);
      assert.deepEqual(method.RequestValidatorId, { Ref: validatorId });
    }
    template.resourceCountIs('AWS::ApiGateway::Authorizer', 0);
    template.resourceCountIs('AWS::ApiGateway::ApiKey', 0);
    template.resourceCountIs('AWS::ApiGateway::UsagePlan', 0);
  });

  it('lets API Gateway invoke the function only for this API\'s stage, method and path (no *, no test invoke)', () => {
    const permissions = Object.values(template.findResources('AWS::Lambda::Permission', { Properties: { Principal: 'apigateway.amazonaws.com' } }));
    assert.equal(permissions.length, 3);
    const apiId = Object.keys(template.findResources('AWS::ApiGateway::RestApi'))[0];
    const stageId = Object.keys(template.findResources(STAGE))[0];
    const arns = permissions.map((p) => {
      assert.equal(p.Properties.Action, 'lambda:InvokeFunction');
      assert.deepEqual(p.Properties.FunctionName, { 'Fn::GetAtt': [functionId, 'Arn'] });
      return JSON.stringify(p.Properties.SourceArn);
    });
    for (const [arn, path] of arns.map((a, i) => [a, ['/GET/events', '/GET/health', '/GET/streams/*'].find((p) => a.includes(p)) ?? `none ${i}`])) {
      assert.ok(arn.includes(`":execute-api:",{"Ref":"AWS::Region"},":",{"Ref":"AWS::AccountId"},":",{"Ref":"${apiId}"},"/",{"Ref":"${stageId}"},"${path}"`), arn);
    }
    assert.ok(!arns.some((arn) => arn.includes('test-invoke-stage')));
  });

  it('deploys to the stage live, throttled at 50 requests/s with a burst of 100, error logs, metrics and tracing on', () => {
    template.hasResourceProperties(STAGE, {
      StageName: 'live',
      TracingEnabled: true,
      MethodSettings: [{ HttpMethod: '*', ResourcePath: '/*', LoggingLevel: 'ERROR', DataTraceEnabled: false, MetricsEnabled: true, ThrottlingRateLimit: 50, ThrottlingBurstLimit: 100 }],
    });
  });

  it('writes JSON access logs to its own log group, kept as long as the function\'s (30 days)', () => {
    const stage = onlyResource(template, STAGE).Properties as { AccessLogSetting: { DestinationArn: unknown; Format: string } };
    const logGroupId = Object.keys(template.findResources('AWS::Logs::LogGroup')).find((id) => id.startsWith('RestApiAccessLogs'))!;
    assert.ok(JSON.stringify(stage.AccessLogSetting.DestinationArn).includes(`{"Ref":"${logGroupId}"}`));
    const format = JSON.parse(stage.AccessLogSetting.Format);
    assert.deepEqual(Object.keys(format), ['requestId', 'ip', 'user', 'caller', 'requestTime', 'httpMethod', 'resourcePath', 'status', 'protocol', 'responseLength']);
    assert.equal(format.status, '$context.status');
    template.hasResource('AWS::Logs::LogGroup', { Properties: { RetentionInDays: 30 }, DeletionPolicy: 'Delete' });
    assert.equal(template.findResources('AWS::Logs::LogGroup', { Properties: { RetentionInDays: 30 } })[logGroupId] !== undefined, true);
  });

  it('records the checkov skips it chose, each with a reason: no cache for streams, no KMS key for access logs', () => {
    const skips = (resource: Record<string, unknown>): string[] => ((resource as { Metadata?: { checkov?: { skip: { id: string; comment: string }[] } } }).Metadata?.checkov?.skip ?? []).map((skip) => {
      assert.ok(skip.comment.length > 20, skip.id);
      return skip.id;
    });
    assert.deepEqual(skips(onlyResource(template, STAGE)), ['CKV_AWS_120']);
    const logGroupId = Object.keys(template.findResources('AWS::Logs::LogGroup')).find((id) => id.startsWith('RestApiAccessLogs'))!;
    assert.deepEqual(skips(template.toJSON().Resources[logGroupId]), ['CKV_AWS_158']);
    for (const method of Object.values(template.findResources(METHOD))) assert.deepEqual(skips(method), []);
  });

  it('leaves the account\'s CloudWatch role alone, and adds no domain, web ACL or warning', () => {
    template.resourceCountIs('AWS::ApiGateway::Account', 0);
    template.resourceCountIs('AWS::IAM::Role', 1);
    template.resourceCountIs('AWS::ApiGateway::DomainName', 0);
    template.resourceCountIs('AWS::ApiGateway::BasePathMapping', 0);
    template.resourceCountIs('AWS::WAFv2::WebACLAssociation', 0);
    assert.deepEqual(warnings(annotations), []);
  });

  it('prints the URL and a curl signed for execute-api; no other REST API output, not CDK\'s own Endpoint', () => {
    const outputs = template.toJSON().Outputs;
    assert.deepEqual(Object.keys(outputs).filter((key) => key.startsWith('RestApi')), ['RestApiUrl', 'RestApiCurlCommand']);
    assert.ok(!Object.keys(outputs).some((key) => key.includes('Endpoint')));
    assert.match(outputs.RestApiUrl.Description, /GET <url>events, GET <url>health, GET <url>streams\/<name>/);
    assert.match(JSON.stringify(outputs.RestApiUrl.Value), /"https:\/\/",\{"Ref":"RestApi[0-9A-F]+"\},"\.execute-api\.",\{"Ref":"AWS::Region"\}/);
    const curl = stack.resolve(outputs.RestApiCurlCommand.Value) as { 'Fn::Join': [string, unknown[]] };
    const text = curl['Fn::Join'][1].map((part) => (typeof part === 'string' ? part : '<token>')).join('');
    assert.equal(
      text,
      'curl -N --aws-sigv4 "aws:amz:<token>:execute-api" --user "$AWS_ACCESS_KEY_ID:$AWS_SECRET_ACCESS_KEY" ${AWS_SESSION_TOKEN:+-H} ${AWS_SESSION_TOKEN:+"x-amz-security-token: $AWS_SESSION_TOKEN"} https://<token>.execute-api.<token>.<token>/<token>/events',
    );
  });

  it('prints a curl command whose signature an execute-api verifier accepts, with and without a session token; bin/stream.sh signs alike', async () => {
    const upstream = http.createServer((req, res) => res.writeHead(200, { 'content-type': 'text/event-stream' }).end(`data: ${req.url}\n\n`));
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
    const verifier = await startVerifier(`http://127.0.0.1:${(upstream.address() as AddressInfo).port}/`, 'eu-west-1', 'execute-api');
    try {
      const apiId = Object.keys(template.findResources('AWS::ApiGateway::RestApi'))[0];
      const stageId = Object.keys(template.findResources(STAGE))[0];
      const values: Record<string, string> = { [apiId]: 'a1b2c3d4e5', 'AWS::Region': 'eu-west-1', 'AWS::URLSuffix': 'amazonaws.com', [stageId]: 'live' };
      const parts = (template.toJSON().Outputs.RestApiCurlCommand.Value as { 'Fn::Join': [string, unknown[]] })['Fn::Join'][1];
      const deployed = parts.map((part) => (typeof part === 'string' ? part : values[(part as { Ref: string }).Ref] ?? assert.fail(`unexpected part ${JSON.stringify(part)}`))).join('');
      assert.match(deployed, /^curl -N --aws-sigv4 "aws:amz:eu-west-1:execute-api" .* https:\/\/a1b2c3d4e5\.execute-api\.eu-west-1\.amazonaws\.com\/live\/events$/);
      // The same command against the verifier, which checks the signature as execute-api would.
      const command = deployed.replace('https://a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com/', verifier.url);
      for (const [key, token] of [[VERIFIER_KEY, undefined], [VERIFIER_TEMPORARY_KEY, VERIFIER_TOKEN]] as const) {
        const env = { PATH: process.env.PATH ?? '', AWS_ACCESS_KEY_ID: key, AWS_SECRET_ACCESS_KEY: VERIFIER_SECRET, ...(token ? { AWS_SESSION_TOKEN: token } : {}) };
        const result = await promisify(execFile)('bash', ['-c', `${command} --fail-with-body --silent --show-error`], { env, encoding: 'utf8' }).catch(
          (error: { stderr?: string; stdout?: string }) => assert.fail(`${token ? 'session token' : 'long-term keys'}: ${error.stderr}${error.stdout}\n${verifier.output()}`),
        );
        assert.equal(result.stdout, 'data: /live/events\n\n');
        const script = await promisify(execFile)('bash', [path.join(REPO_ROOT, 'bin', 'stream.sh'), '--url', `${verifier.url}live`, '--region', 'eu-west-1', '--service', 'execute-api', 'events?steps=2&interval_ms=10'], { env, encoding: 'utf8' }).catch(
          (error: { stderr?: string; stdout?: string }) => assert.fail(`stream.sh: ${error.stderr}${error.stdout}\n${verifier.output()}`),
        );
        assert.equal(script.stdout, 'data: /live/events?interval_ms=10&steps=2\n\n');
      }
      assert.doesNotMatch(verifier.output(), /refused/);
    } finally {
      verifier.stop();
      upstream.close();
    }
  });

  it('leaves the Function URL\'s CurlCommand as it was: signed for lambda', () => {
    assert.match(JSON.stringify(template.toJSON().Outputs.CurlCommand.Value), /":lambda\\" --user/);
  });
});

describe('SseRestApi: every option', () => {
  const { stack, api, template } = buildApi({
    authorization: 'cognito',
    userPoolArn: USER_POOL_ARN,
    oauthScopes: ['https://sse.example.com/read', 'openid'],
    apiKey: true,
    stageName: 'prod',
    throttlingRateLimit: 20,
    throttlingBurstLimit: 40,
    integrationTimeout: Duration.seconds(200),
    tracing: false,
    domainName: 'sse.example.com',
    certificateArn: CERTIFICATE_ARN,
    webAclArn: WEB_ACL_ARN,
    logRetention: logs.RetentionDays.ONE_YEAR,
  }, { timeout: Duration.seconds(600), stream: { windowMs: 180_000 } });

  it('authorizes every stream and health method with the Cognito user pool and its scopes, and requires an API key', () => {
    const authorizerId = Object.keys(template.findResources('AWS::ApiGateway::Authorizer'))[0];
    template.hasResourceProperties('AWS::ApiGateway::Authorizer', { Type: 'COGNITO_USER_POOLS', ProviderARNs: [USER_POOL_ARN], IdentitySource: 'method.request.header.Authorization' });
    assert.deepEqual(Object.keys(streamMethods(template)).sort(), [...STREAM_KEYS].sort());
    for (const method of Object.values(streamMethods(template))) {
      assert.equal(method.AuthorizationType, 'COGNITO_USER_POOLS');
      assert.deepEqual(method.AuthorizerId, { Ref: authorizerId });
      assert.deepEqual(method.AuthorizationScopes, ['https://sse.example.com/read', 'openid']);
      assert.equal(method.ApiKeyRequired, true);
    }
  });

  it('creates one API key in a usage plan of the stage, throttled like the stage', () => {
    template.resourceCountIs('AWS::ApiGateway::ApiKey', 1);
    const stageId = Object.keys(template.findResources(STAGE))[0];
    const apiId = Object.keys(template.findResources('AWS::ApiGateway::RestApi'))[0];
    template.hasResourceProperties('AWS::ApiGateway::UsagePlan', {
      Throttle: { RateLimit: 20, BurstLimit: 40 },
      ApiStages: [{ ApiId: { Ref: apiId }, Stage: { Ref: stageId } }],
    });
    template.hasResourceProperties('AWS::ApiGateway::UsagePlanKey', { KeyType: 'API_KEY', KeyId: { Ref: Object.keys(template.findResources('AWS::ApiGateway::ApiKey'))[0] } });
  });

  it('deploys to the named stage with its throttling, tracing off', () => {
    template.hasResourceProperties(STAGE, {
      StageName: 'prod',
      TracingEnabled: false,
      MethodSettings: [Match.objectLike({ ThrottlingRateLimit: 20, ThrottlingBurstLimit: 40, LoggingLevel: 'ERROR' })],
    });
  });

  it('uses the given integration timeout and log retention', () => {
    assert.equal(api.integrationTimeoutSeconds, 200);
    for (const method of Object.values(methods(template))) assert.equal((method.Integration as { TimeoutInMillis: number }).TimeoutInMillis, 200_000);
    template.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 365 });
  });

  it('maps the stage at the root of the custom domain, regional, TLS 1.2, with the certificate', () => {
    template.hasResourceProperties('AWS::ApiGateway::DomainName', {
      DomainName: 'sse.example.com',
      RegionalCertificateArn: CERTIFICATE_ARN,
      EndpointConfiguration: { Types: ['REGIONAL'] },
      SecurityPolicy: 'TLS_1_2',
    });
    const stageId = Object.keys(template.findResources(STAGE))[0];
    template.hasResourceProperties('AWS::ApiGateway::BasePathMapping', { Stage: { Ref: stageId } });
    assert.equal(onlyResource(template, 'AWS::ApiGateway::BasePathMapping').Properties.BasePath, undefined);
  });

  it('associates the web ACL with the stage', () => {
    const stageId = Object.keys(template.findResources(STAGE))[0];
    const association = onlyResource(template, 'AWS::WAFv2::WebACLAssociation').Properties;
    assert.equal(association.WebACLArn, WEB_ACL_ARN);
    assert.ok(JSON.stringify(association.ResourceArn).includes(`/stages/",{"Ref":"${stageId}"}`), JSON.stringify(association.ResourceArn));
  });

  it('prints the domain URL and its DNS target, the key id, and a curl with the token and key headers', () => {
    const outputs = template.toJSON().Outputs;
    assert.deepEqual(Object.keys(outputs).filter((key) => key.startsWith('RestApi')).sort(), ['RestApiCurlCommand', 'RestApiDomainTarget', 'RestApiDomainUrl', 'RestApiKeyId', 'RestApiUrl']);
    assert.equal(outputs.RestApiDomainUrl.Value, 'https://sse.example.com/');
    const domainId = Object.keys(template.findResources('AWS::ApiGateway::DomainName'))[0];
    assert.deepEqual(outputs.RestApiDomainTarget.Value, { 'Fn::GetAtt': [domainId, 'RegionalDomainName'] });
    assert.deepEqual(outputs.RestApiKeyId.Value, { Ref: Object.keys(template.findResources('AWS::ApiGateway::ApiKey'))[0] });
    const curl = stack.resolve(outputs.RestApiCurlCommand.Value) as { 'Fn::Join': [string, unknown[]] };
    const text = curl['Fn::Join'][1].map((part) => (typeof part === 'string' ? part : '<token>')).join('');
    assert.equal(text, 'curl -N -H "Authorization: $SSE_TOKEN" -H "x-api-key: $SSE_API_KEY" https://<token>.execute-api.<token>.<token>/<token>/events');
    assert.match(outputs.RestApiCurlCommand.Description, /SSE_TOKEN.*SSE_API_KEY/);
  });
});

describe('SseRestApi: options one by one', () => {
  it('leaves /streams/{name} out when the function has no durable streams table', () => {
    const { api, template } = buildApi({}, undefined, false);
    assert.deepEqual(Object.keys(methods(template)).sort(), ['events', 'health']);
    assert.deepEqual(api.paths, ['events', 'health']);
    assert.doesNotMatch(template.toJSON().Outputs.RestApiUrl.Description, /streams/);
  });

  it('caps the default integration timeout at the function\'s timeout (900 s: 15 minutes)', () => {
    assert.equal(buildApi({}, { timeout: Duration.seconds(900), stream: { windowMs: 900_000 } }).api.integrationTimeoutSeconds, 900);
    assert.equal(buildApi({}, { timeout: Duration.seconds(60) }).api.integrationTimeoutSeconds, 60);
  });

  it('takes Cognito ID tokens when no scopes are given', () => {
    const { template } = buildApi({ authorization: 'cognito', userPoolArn: USER_POOL_ARN });
    for (const method of Object.values(methods(template))) assert.equal(method.AuthorizationScopes, undefined);
  });

  it('allows authorization none only on opt-in, with a warning, and a plain curl', () => {
    const { template, annotations } = buildApi({ authorization: 'none', allowUnauthenticated: true });
    for (const method of Object.values(methods(template))) assert.equal(method.AuthorizationType, 'NONE');
    const [warning] = warnings(annotations);
    assert.match(warning, /The REST API has authorization none: anyone on the internet can open streams/);
    assert.match(warning, /lambda-sse:unauthenticatedRestApi/);
    assert.match(JSON.stringify(template.toJSON().Outputs.RestApiCurlCommand.Value), /^\{"Fn::Join":\["",\["curl -N https:\/\//);
    for (const method of Object.values(template.findResources(METHOD))) {
      assert.deepEqual(method.Metadata.checkov.skip.map((skip: { id: string }) => skip.id), ['CKV_AWS_59']);
    }
    const withKey = buildApi({ authorization: 'none', allowUnauthenticated: true, apiKey: true }).template;
    for (const [key, method] of Object.entries(methodResources(withKey))) {
      if (!PAGE_KEYS.includes(key)) assert.equal(method.Metadata?.checkov, undefined, `${key}: a required API key passes CKV_AWS_59`);
    }
  });

  it('allows EDGE only on opt-in, with a warning about the 30 s idle timeout, and a certificate in us-east-1', () => {
    const { template, annotations } = buildApi({ endpointType: apigateway.EndpointType.EDGE, allowEdge: true, domainName: 'sse.example.com', certificateArn: US_EAST_1_CERTIFICATE_ARN });
    template.hasResourceProperties('AWS::ApiGateway::RestApi', { EndpointConfiguration: { Types: ['EDGE'] } });
    template.hasResourceProperties('AWS::ApiGateway::DomainName', { CertificateArn: US_EAST_1_CERTIFICATE_ARN, EndpointConfiguration: { Types: ['EDGE'] } });
    const [warning] = warnings(annotations);
    assert.match(warning, /EDGE-optimized: CloudFront drops a streamed response that sends nothing for 30 s/);
    assert.match(warning, /lambda-sse:edgeRestApi/);
  });

  it('sets the account\'s CloudWatch role on opt-in, retained when the stack is deleted', () => {
    const { template } = buildApi({ cloudWatchRole: true });
    template.hasResource('AWS::ApiGateway::Account', { DeletionPolicy: 'Retain' });
    template.hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: { Statement: [Match.objectLike({ Principal: { Service: 'apigateway.amazonaws.com' } })] },
      ManagedPolicyArns: [{ 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs']] }],
    });
  });

  it('fronts any lambda.IFunction with the settings given for it', () => {
    const stack = new Stack(testApp(), 'Test');
    const fn = lambda.Function.fromFunctionAttributes(stack, 'Imported', { functionArn: 'arn:aws:lambda:eu-west-1:123456789012:function:my-sse', sameEnvironment: true });
    const api = new SseRestApi(stack, 'Api', { function: fn, durableStreams: true, windowMs: 60_000 });
    assert.equal(api.integrationTimeoutSeconds, 900, 'an unknown timeout: 15 minutes');
    const template = Template.fromStack(stack);
    assert.deepEqual(Object.keys(methods(template)).sort(), ['events', 'health', '{name}']);
    template.hasResourceProperties('AWS::Lambda::Permission', { FunctionName: 'arn:aws:lambda:eu-west-1:123456789012:function:my-sse', Principal: 'apigateway.amazonaws.com' });
    assert.match(JSON.stringify(Object.values(template.findResources(METHOD))[0].Properties.Integration.Uri), /path\/2021-11-15\/functions\/arn:aws:lambda:eu-west-1:123456789012:function:my-sse\/response-streaming-invocations/);
  });

  it('takes the log retention of an SseFunction given directly', () => {
    const stack = new Stack(testApp(), 'Test');
    const sse = new SseFunction(stack, 'Sse', { logRetention: logs.RetentionDays.ONE_WEEK });
    new SseRestApi(stack, 'Api', { sseFunction: sse });
    assert.equal(Object.values(Template.fromStack(stack).findResources('AWS::Logs::LogGroup', { Properties: { RetentionInDays: 7 } })).length, 2);
  });
});

describe('SseRestApi: the watch page', () => {
  const cognito: SseRestApiOptions = { authorization: 'cognito', userPoolArn: USER_POOL_ARN };
  const open: SseRestApiOptions = { authorization: 'none', allowUnauthenticated: true };
  const pagePaths = PAGE_PATHS.map((p) => p.slice(1));

  /** The rule ids acknowledged on each method construct, by its path (`/`, `/page.js`, `/events`, ...). */
  function acknowledged(api: SseRestApi): Record<string, string[]> {
    return Object.fromEntries(api.api.methods.map((method) => [
      method.resource.path,
      method.node.metadata
        .filter((entry) => entry.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
        .flatMap((entry) => Object.keys(entry.data as Record<string, string>))
        .map((id) => id.replace(/^Annotation::/, ''))
        .sort(),
    ]));
  }

  it('reads the page\'s paths from the function\'s settings: / first, then its scripts', () => {
    assert.equal(PAGE_PATHS[0], '/');
    assert.ok(PAGE_PATHS.length > 1);
    assert.ok(PAGE_PATHS.slice(1).every((p) => /^\/[a-z0-9-]+\.js$/.test(p)), PAGE_PATHS.join(', '));
  });

  it('is left out with iam, the default: a browser cannot sign', () => {
    const { api, template, annotations } = buildApi();
    assert.equal(api.watchPage, false);
    assert.deepEqual(api.pagePaths, []);
    assert.deepEqual(Object.keys(methods(template)).sort(), [...STREAM_KEYS].sort());
    assert.ok(!api.api.methods.some((m) => m.resource.path === '/'));
    assert.deepEqual(warnings(annotations), []);
  });

  it('is left out by default when an API key is required: the page cannot send one', () => {
    const { api, template, annotations } = buildApi({ ...cognito, apiKey: true });
    assert.equal(api.watchPage, false);
    assert.deepEqual(Object.keys(methods(template)).sort(), [...STREAM_KEYS].sort());
    assert.deepEqual(warnings(annotations), []);
  });

  describe('with cognito (served by default; here with an API key, asked for)', () => {
    const { stack, api, template, annotations } = buildApi({ ...cognito, apiKey: true, watchPage: true, oauthScopes: ['https://sse.example.com/read'] });

    it('adds GET / on the root resource and one resource per script, next to the stream and health methods', () => {
      assert.equal(api.watchPage, true);
      assert.deepEqual(api.pagePaths, pagePaths);
      assert.deepEqual(pagePaths[0], '');
      assert.deepEqual(Object.keys(methods(template)).sort(), [...STREAM_KEYS, ...PAGE_KEYS].sort());
      assert.deepEqual(api.api.methods.map((m) => m.resource.path).filter((p) => PAGE_PATHS.includes(p)), [...PAGE_PATHS]);
      assert.equal(api.api.methods.find((m) => m.resource.path === '/')?.resource, api.api.root);
      for (const key of PAGE_KEYS.filter((k) => k !== '/')) {
        template.hasResourceProperties('AWS::ApiGateway::Resource', { PathPart: key, ParentId: { 'Fn::GetAtt': [Object.keys(template.findResources('AWS::ApiGateway::RestApi'))[0], 'RootResourceId'] } });
      }
    });

    it('serves the page without authorization, authorizer, scopes or API key; the streams keep Cognito and the key', () => {
      const all = methods(template);
      for (const key of PAGE_KEYS) {
        const method = all[key];
        assert.equal(method.HttpMethod, 'GET', key);
        assert.equal(method.AuthorizationType, 'NONE', key);
        assert.equal(method.ApiKeyRequired, false, key);
        assert.equal(method.AuthorizerId, undefined, key);
        assert.equal(method.AuthorizationScopes, undefined, key);
      }
      const authorizerId = Object.keys(template.findResources('AWS::ApiGateway::Authorizer'))[0];
      for (const [key, method] of Object.entries(streamMethods(template))) {
        assert.equal(method.AuthorizationType, 'COGNITO_USER_POOLS', key);
        assert.deepEqual(method.AuthorizerId, { Ref: authorizerId }, key);
        assert.equal(method.ApiKeyRequired, true, key);
      }
      assert.equal(all.events.AuthorizationType, 'COGNITO_USER_POOLS');
      // The page loads, but its streams need the key it cannot send: said at synth.
      const found = warnings(annotations);
      assert.equal(found.length, 1, found.join('\n'));
      assert.match(found[0], /requires an API key: the page loads, but it cannot send x-api-key/);
      assert.match(found[0], /lambda-sse:watchPageWithApiKey/);
    });

    it('integrates the page like the streams: the same streaming Lambda proxy', () => {
      const all = methods(template);
      for (const key of PAGE_KEYS) assert.deepEqual(all[key].Integration, all.events.Integration, key);
      assert.equal((all['/'].Integration as { ResponseTransferMode: string }).ResponseTransferMode, 'STREAM');
    });

    it('lets API Gateway invoke the function for each page method, scoped to its path', () => {
      const permissions = Object.values(template.findResources('AWS::Lambda::Permission', { Properties: { Principal: 'apigateway.amazonaws.com' } }));
      assert.equal(permissions.length, STREAM_KEYS.length + PAGE_PATHS.length);
      const apiId = Object.keys(template.findResources('AWS::ApiGateway::RestApi'))[0];
      const stageId = Object.keys(template.findResources(STAGE))[0];
      const arns = permissions.map((p) => JSON.stringify(p.Properties.SourceArn));
      for (const pagePath of PAGE_PATHS) {
        const suffix = `{"Ref":"${apiId}"},"/",{"Ref":"${stageId}"},"/GET${pagePath}"]]}`;
        assert.equal(arns.filter((arn) => arn.endsWith(suffix)).length, 1, `${pagePath}: ${arns.join('\n')}`);
      }
    });

    it('acknowledges AwsSolutions-APIG4 and COG4 on the page methods only, and skips checkov\'s CKV_AWS_59 there only, each with a reason', () => {
      const acks = acknowledged(api);
      for (const pagePath of PAGE_PATHS) assert.deepEqual(acks[pagePath], ['AwsSolutions-APIG4', 'AwsSolutions-COG4'], pagePath);
      for (const streamPath of ['/events', '/health', '/streams/{name}']) assert.deepEqual(acks[streamPath], [], streamPath);
      const reason = JSON.stringify(api.api.methods.find((m) => m.resource.path === '/')!.node.metadata.find((e) => e.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)!.data);
      assert.match(reason, /static files compiled into the function: they hold no data, and every stream the page opens .* is authorized as before \(cognito\)/);
      for (const [key, method] of Object.entries(methodResources(template))) {
        const skips = (method.Metadata?.checkov?.skip ?? []).map((skip) => skip.id);
        assert.deepEqual(skips, PAGE_KEYS.includes(key) ? ['CKV_AWS_59'] : [], key);
      }
      assert.match(methodResources(template)['/'].Metadata!.checkov!.skip[0].comment, /hold no data/);
    });

    it('adds no warning without the API key', () => {
      assert.deepEqual(warnings(buildApi({ ...cognito }).annotations), []);
    });

    it('keeps the page out of the paths, the URL\'s description and the curl command', () => {
      assert.deepEqual(api.paths, ['events', 'health', 'streams/{name}']);
      const outputs = template.toJSON().Outputs;
      for (const script of PAGE_PATHS.slice(1)) assert.doesNotMatch(outputs.RestApiUrl.Description, new RegExp(script.replace('.', '\\.')));
      assert.match(outputs.RestApiUrl.Description, /GET <url>events, GET <url>health, GET <url>streams\/<name>$/);
      const curl = stack.resolve(outputs.RestApiCurlCommand.Value) as { 'Fn::Join': [string, unknown[]] };
      assert.match(curl['Fn::Join'][1].filter((part) => typeof part === 'string').join(''), /\/events$/);
    });
  });

  it('synthesizes with cognito and the page with no unacknowledged cdk-nag finding', () => {
    const app = testApp();
    new SseStreamStack(app, 'Sse', { restApi: { ...cognito } });
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
    // The same setup fails on an unacknowledged finding (test/app.test.ts), so an empty report means none.
    app.synth();
    const report = JSON.parse(fs.readFileSync(path.join(app.outdir, 'validation-report.json'), 'utf8')) as { pluginReports: { violations: unknown[] }[] };
    assert.deepEqual(report.pluginReports.flatMap((p) => p.violations), []);
  });

  it('fails cdk-nag on a method like the page\'s that nobody acknowledged', () => {
    const app = testApp();
    const stack = new SseStreamStack(app, 'Sse', { restApi: { ...cognito, watchPage: false } });
    stack.restApi!.api.root.addResource('other').addMethod('GET', undefined, { authorizationType: apigateway.AuthorizationType.NONE });
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
    assert.throws(() => app.synth(), /Validation failed/);
    const report = JSON.parse(fs.readFileSync(path.join(app.outdir, 'validation-report.json'), 'utf8')) as { pluginReports: { violations: { ruleName: string }[] }[] };
    assert.deepEqual(report.pluginReports.flatMap((p) => p.violations.map((v) => v.ruleName)).sort(), ['AwsSolutions-APIG4', 'AwsSolutions-COG4']);
  });

  it('is served with none too, without a warning of its own', () => {
    const { api, template, annotations } = buildApi(open);
    assert.equal(api.watchPage, true);
    assert.deepEqual(api.pagePaths, pagePaths);
    for (const key of PAGE_KEYS) assert.equal(methods(template)[key]?.AuthorizationType, 'NONE', key);
    assert.deepEqual(acknowledged(api)['/'], ['AwsSolutions-APIG4', 'AwsSolutions-COG4']);
    const found = warnings(annotations);
    assert.equal(found.length, 1, found.join('\n'));
    assert.match(found[0], /lambda-sse:unauthenticatedRestApi/);
  });

  it('is left out on watchPage false, with cognito', () => {
    const { api, template } = buildApi({ ...cognito, watchPage: false });
    assert.equal(api.watchPage, false);
    assert.deepEqual(api.pagePaths, []);
    assert.deepEqual(Object.keys(methods(template)).sort(), [...STREAM_KEYS].sort());
    assert.equal(Object.values(template.findResources('AWS::Lambda::Permission', { Properties: { Principal: 'apigateway.amazonaws.com' } })).length, STREAM_KEYS.length);
    for (const method of Object.values(methods(template))) assert.equal(method.AuthorizationType, 'COGNITO_USER_POOLS');
  });

  it('is served on watchPage true with iam, with a warning that its streams need SigV4; the streams stay IAM', () => {
    const { api, template, annotations } = buildApi({ watchPage: true });
    assert.equal(api.watchPage, true);
    assert.deepEqual(api.pagePaths, pagePaths);
    for (const key of PAGE_KEYS) assert.equal(methods(template)[key]?.AuthorizationType, 'NONE', key);
    for (const [key, method] of Object.entries(streamMethods(template))) assert.equal(method.AuthorizationType, 'AWS_IAM', key);
    assert.equal(Object.values(template.findResources('AWS::Lambda::Permission', { Properties: { Principal: 'apigateway.amazonaws.com' } })).length, STREAM_KEYS.length + PAGE_PATHS.length);
    assert.deepEqual(acknowledged(api)['/page.js'], ['AwsSolutions-APIG4', 'AwsSolutions-COG4']);
    assert.deepEqual(acknowledged(api)['/events'], ['AwsSolutions-COG4']);
    const found = warnings(annotations);
    assert.equal(found.length, 1, found.join('\n'));
    assert.match(found[0], /lambda-sse:watchPageWithIam/);
    assert.match(found[0], /the page loads, but the streams it opens need SigV4 signatures, which browsers cannot send/);
    assert.match(found[0], /Use authorization cognito .* or a public Function URL/);
  });
});

describe('SseRestApi rejects', () => {
  const cases: [string, SseRestApiOptions, RegExp, SseFunctionProps?][] = [
    ['EDGE without the opt-in', { endpointType: apigateway.EndpointType.EDGE }, /endpointType EDGE drops a streamed response after 30 s without data \(REGIONAL: 5 minutes\): use REGIONAL \(the default\), or set allowEdge to true \(-c sse:restApiAllowEdge=true\)/],
    ['PRIVATE', { endpointType: apigateway.EndpointType.PRIVATE }, /endpointType PRIVATE is not supported/],
    ['authorization none without the opt-in', { authorization: 'none' }, /authorization none would let anyone on the internet open streams .* or set allowUnauthenticated to true \(-c sse:restApiAllowUnauthenticated=true\)/],
    ['an unknown authorization', { authorization: 'jwt' as never }, /authorization must be one of iam, cognito, none, got "jwt"/],
    ['cognito without a user pool', { authorization: 'cognito' }, /authorization cognito needs userPoolArn: .*-c sse:restApiUserPoolArn=/],
    ['a user pool ARN that is not one', { authorization: 'cognito', userPoolArn: 'eu-west-1_AbC' }, /userPoolArn must be a Cognito user pool ARN \(arn:aws:cognito-idp:<region>:<account>:userpool\/<region>_<id>\), got "eu-west-1_AbC"/],
    ['a user pool without cognito', { userPoolArn: USER_POOL_ARN }, /userPoolArn applies only to authorization cognito \(it is iam\)/],
    ['scopes without cognito', { oauthScopes: ['openid'] }, /oauthScopes apply only to authorization cognito \(it is iam\)/],
    ['a scope with a space', { authorization: 'cognito', userPoolArn: USER_POOL_ARN, oauthScopes: ['read write'] }, /oauthScopes\[0\] must be an OAuth scope/],
    ['a bad stage name', { stageName: 'my stage' }, /stageName must be 1 to 128 of A-Z a-z 0-9 _ - \(API Gateway's rule for stage names\), got "my stage"/],
    ['a rate of 0', { throttlingRateLimit: 0 }, /throttlingRateLimit must be an integer from 1 to 10000 \(requests per second\), got 0/],
    ['a burst over 5000', { throttlingBurstLimit: 5001 }, /throttlingBurstLimit must be an integer from 1 to 5000 \(requests\), got 5001/],
    ['a domain without a certificate', { domainName: 'sse.example.com' }, /domainName needs certificateArn: give an ACM certificate for sse.example.com in the API's region/],
    ['a certificate without a domain', { certificateArn: CERTIFICATE_ARN }, /certificateArn applies only to a custom domain: give domainName/],
    ['a domain that is a URL', { domainName: 'https://sse.example.com', certificateArn: CERTIFICATE_ARN }, /domainName must be a lowercase DNS name like sse.example.com/],
    ['a certificate that is not an ACM ARN', { domainName: 'sse.example.com', certificateArn: 'my-cert' }, /certificateArn must be an ACM certificate ARN .* in the API's region \(REGIONAL\)/],
    ['an EDGE certificate outside us-east-1', { endpointType: apigateway.EndpointType.EDGE, allowEdge: true, domainName: 'sse.example.com', certificateArn: CERTIFICATE_ARN }, /certificateArn must be in us-east-1 for an EDGE API \(CloudFront reads it there\), got one in eu-west-1/],
    ['a web ACL that is not regional', { webAclArn: WEB_ACL_ARN.replace(':regional/', ':global/') }, /webAclArn must be a regional WAFv2 web ACL ARN/],
    ['an integration timeout over 15 minutes', { integrationTimeout: Duration.seconds(901) }, /integrationTimeout must be an integer from 1 to 900 \(s\), got 901/],
    ['an integration timeout in milliseconds', { integrationTimeout: Duration.millis(1500) }, /integrationTimeout must be whole seconds from 1 to 900, got 1500 ms/],
    [
      'an integration timeout shorter than one response',
      { integrationTimeout: Duration.seconds(60) },
      /integrationTimeout \(60 s = 60000 ms\) must be at least as long as one response \(min\(window, timeout - deadline margin\) = 120000 ms\): API Gateway would cut every long response/,
    ],
    [
      'a heartbeat too slow for EDGE',
      { endpointType: apigateway.EndpointType.EDGE, allowEdge: true },
      /the function's stream.heartbeatMs must be at most half an EDGE REST API's idle timeout \(30 s, so at most 15000 ms\), got 20000 ms/,
      { stream: { heartbeatMs: 20_000 } },
    ],
    [
      'a heartbeat too slow for REGIONAL',
      {},
      /the function's stream.heartbeatMs must be at most half a REGIONAL REST API's idle timeout \(300 s, so at most 150000 ms\), got 200000 ms/,
      { stream: { heartbeatMs: 200_000 } },
    ],
  ];
  for (const [name, options, expected, fn] of cases) {
    it(name, () => {
      const message = apiError(options, fn);
      assert.match(message, /^Invalid props for SseRestApi at Sse\/RestApi; change:\n {2}- /);
      assert.match(message, expected);
    });
  }

  it('a window over 15 minutes, for any other function', () => {
    const stack = new Stack(testApp(), 'Test');
    const fn = lambda.Function.fromFunctionArn(stack, 'Imported', 'arn:aws:lambda:eu-west-1:123456789012:function:my-sse');
    assert.throws(() => new SseRestApi(stack, 'Api', { function: fn, windowMs: 900_001 }), (error: Error) =>
      /windowMs must be an integer from 1000 to 900000 \(ms\), got 900001/.test(error.message) &&
      /windowMs must be at most 900000 ms \(15 minutes, API Gateway's longest streamed response\), got 900001 ms/.test(error.message));
    assert.throws(() => new SseRestApi(stack, 'Api2', { function: fn, heartbeatMs: 999, deadlineMarginMs: 60_001 }), (error: Error) =>
      /heartbeatMs must be an integer from 1000 to 300000 \(ms\), got 999/.test(error.message) && /deadlineMarginMs must be an integer from 100 to 60000 \(ms\), got 60001/.test(error.message));
  });

  it('needs exactly one function to front', () => {
    const stack = new Stack(testApp(), 'Test');
    assert.throws(() => new SseRestApi(stack, 'Neither', {}), /give either sseFunction \(an SseFunction\) or function \(any lambda.IFunction\), not neither/);
    const sse = new SseFunction(stack, 'Sse');
    assert.throws(() => new SseRestApi(stack, 'Both', { sseFunction: sse, function: sse.function }), /not both/);
  });

  it('every problem in one message', () => {
    const message = apiError({ stageName: '', throttlingRateLimit: 0, domainName: 'x' });
    assert.equal(message.split('\n').length, 5, message);
  });
});
