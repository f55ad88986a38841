import { Annotations, Duration, RemovalPolicy, Stack, Token, Validations } from 'aws-cdk-lib';
import * as apigateway from 'aws-cdk-lib/aws-apigateway';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as wafv2 from 'aws-cdk-lib/aws-wafv2';
import { Construct } from 'constructs';
import { skipCheckov } from './checkov';
import { PAGE_PATHS } from './function-settings';
import { DEFAULT_LOG_RETENTION, DEFAULT_STREAM_SETTINGS, STREAM_ENVIRONMENT, curlCommand, type SseFunction } from './sse-function';
import {
  LIMITS,
  checkAcmCertificateArn,
  checkDomainName,
  checkHeartbeatFitsIdleTimeout,
  checkIntegerInRange,
  checkIntegrationTimeoutFitsResponse,
  checkOAuthScope,
  checkStageName,
  checkUserPoolArn,
  checkWebAclArn,
  regionOfArn,
} from './validation';

/** Who may call the REST API: SigV4 (IAM), a Cognito user pool's tokens, or anyone. */
export type SseRestApiAuthorization = 'iam' | 'cognito' | 'none';

export const DEFAULT_REST_API_STAGE_NAME = 'live';
export const DEFAULT_REST_API_THROTTLE_RATE = 50;
export const DEFAULT_REST_API_THROTTLE_BURST = 100;
/** API Gateway's longest streamed response: 15 minutes. */
export const REST_API_MAX_RESPONSE_MS = 900_000;
/** The idle timeout of a streamed response, per endpoint type (seconds). */
export const REST_API_IDLE_TIMEOUT_SECONDS: Readonly<Record<string, number>> = {
  [apigateway.EndpointType.REGIONAL]: 300,
  [apigateway.EndpointType.EDGE]: 30,
};

/** What configures the REST API; everything but the function it fronts. */
export interface SseRestApiOptions {
  /**
   * The endpoint type: `REGIONAL` (idle timeout 5 minutes) or `EDGE`
   * (through CloudFront, idle timeout 30 s), which is refused unless
   * `allowEdge`. `PRIVATE` is not supported (it needs a VPC endpoint and a
   * resource policy this construct does not build).
   *
   * @default apigateway.EndpointType.REGIONAL
   */
  readonly endpointType?: apigateway.EndpointType;
  /**
   * Allows `endpointType` `EDGE`; it then warns at synth: a streamed response
   * that sends nothing for 30 s is dropped, so the heartbeat must be 15 s or
   * shorter.
   *
   * @default false
   */
  readonly allowEdge?: boolean;
  /**
   * Who may call the API: `iam` (SigV4 signed, the caller needs
   * `execute-api:Invoke`), `cognito` (a token of `userPoolArn` in the
   * `Authorization` header) or `none` (anyone; refused unless
   * `allowUnauthenticated`).
   *
   * @default 'iam'
   */
  readonly authorization?: SseRestApiAuthorization;
  /**
   * Allows `authorization` `none`; it then warns at synth. API keys
   * (`apiKey`) identify and throttle callers but are not authorization.
   *
   * @default false
   */
  readonly allowUnauthenticated?: boolean;
  /**
   * ARN of an existing Cognito user pool whose tokens the API accepts; needed
   * with, and only with, `authorization` `cognito`.
   *
   * @default - none
   */
  readonly userPoolArn?: string;
  /**
   * OAuth scopes an access token must hold (any one of them), e.g.
   * `https://sse.example.com/read`; with `cognito` only. Without scopes, the
   * API takes the user pool's ID tokens.
   *
   * @default - none: ID tokens of the pool
   */
  readonly oauthScopes?: string[];
  /**
   * Serves the function's watch page and its scripts (`GET /` and the
   * paths of `PAGE_PATHS`, as `function/src/web.rs` defines them) without
   * authorization and without an API key: they are static files compiled
   * into the function and hold no data. The streams the page opens
   * (`/events`, `/streams/{name}`) keep the API's authorization; with
   * `cognito` the page sends a token pasted into it. `true` with `iam` warns
   * at synth: a browser cannot SigV4-sign the streams it opens.
   *
   * @default - true when authorization is cognito or none (a browser can sign in, or needs nothing) and no apiKey is required; false with iam (a browser cannot sign requests) or apiKey (the page cannot send one)
   */
  readonly watchPage?: boolean;
  /**
   * Requires an API key (`x-api-key` header) on every method, with a usage
   * plan that throttles each key at `throttlingRateLimit` and
   * `throttlingBurstLimit`; one key is created (its id is `apiKey.keyId`).
   *
   * @default false
   */
  readonly apiKey?: boolean;
  /**
   * The stage the API is deployed to; the URL ends in `/<stageName>/`.
   * 1 to 128 of A-Z a-z 0-9 _ -.
   *
   * @default 'live'
   */
  readonly stageName?: string;
  /**
   * Steady requests per second the stage admits (each stream is one
   * request). Integer from 1 to 10000.
   *
   * @default 50
   */
  readonly throttlingRateLimit?: number;
  /**
   * Requests the stage admits at once above the steady rate. Integer from 1 to 5000.
   *
   * @default 100
   */
  readonly throttlingBurstLimit?: number;
  /**
   * How long API Gateway lets one streamed response run. Whole seconds from
   * 1 to 900, at least as long as one response of the function
   * (min(window, timeout - deadline margin)).
   *
   * @default - the function's timeout, at most 15 minutes (15 minutes for a function whose timeout is unknown here)
   */
  readonly integrationTimeout?: Duration;
  /**
   * X-Ray tracing on the stage (sampled: the first request each second and
   * 5% of the others, by X-Ray's default rule).
   *
   * @default true
   */
  readonly tracing?: boolean;
  /**
   * Lets CDK set the account's API Gateway CloudWatch Logs role, which access
   * and execution logs need. That setting is one per account and region,
   * shared by every API there: it stays (with its role) when the stack is
   * deleted, and it replaces a role set before.
   *
   * @default false (the account must have the role set already: once, by hand or by another stack)
   */
  readonly cloudWatchRole?: boolean;
  /**
   * A custom domain name for the API, e.g. `sse.example.com`; needs
   * `certificateArn`. Point the name's DNS at `domain.domainNameAliasDomainName`.
   *
   * @default - none: only the execute-api URL
   */
  readonly domainName?: string;
  /**
   * ACM certificate for `domainName`: in the API's region for `REGIONAL`,
   * in us-east-1 for `EDGE`.
   *
   * @default - none; needed with, and only with, `domainName`
   */
  readonly certificateArn?: string;
  /**
   * ARN of a regional WAFv2 web ACL (in the API's region) to associate with the stage.
   *
   * @default - none
   */
  readonly webAclArn?: string;
  /**
   * How long CloudWatch keeps the access and execution logs of the stage's access log group.
   *
   * @default - the function's log retention with `sseFunction`, else logs.RetentionDays.ONE_MONTH
   */
  readonly logRetention?: logs.RetentionDays;
}

export interface SseRestApiProps extends SseRestApiOptions {
  /**
   * The SseFunction the API streams from; its settings give the window,
   * heartbeat, deadline margin, timeout and whether it serves
   * `/streams/{name}`. Give this or `function`.
   *
   * @default - none; then `function` is required
   */
  readonly sseFunction?: SseFunction;
  /**
   * Any Lambda function that answers API Gateway REST (payload 1.0) events
   * streamed, as a binary built on the lambda-sse library does. Give this or
   * `sseFunction`; with this, say its settings below.
   *
   * @default - none; then `sseFunction` is required
   */
  readonly function?: lambda.IFunction;
  /**
   * The window `function` runs with (`SSE_WINDOW_MS`). Ignored with `sseFunction`.
   *
   * @default - the library's default (120000)
   */
  readonly windowMs?: number;
  /**
   * The deadline margin `function` runs with (`SSE_DEADLINE_MARGIN_MS`). Ignored with `sseFunction`.
   *
   * @default - the library's default (2000)
   */
  readonly deadlineMarginMs?: number;
  /**
   * The heartbeat `function` runs with (`SSE_HEARTBEAT_MS`). Ignored with `sseFunction`.
   *
   * @default - the library's default (15000)
   */
  readonly heartbeatMs?: number;
  /**
   * Whether `function` serves `/streams/{name}` (it has a table of durable
   * streams). Ignored with `sseFunction`, whose `streamsTable` says it.
   *
   * @default false
   */
  readonly durableStreams?: boolean;
}

/**
 * An API Gateway REST API in front of the SSE function, streaming: each
 * method is a Lambda proxy integration with `responseTransferMode` STREAM,
 * so API Gateway invokes the function with InvokeWithResponseStream and
 * passes the events on as they come. Adds what the Function URL lacks:
 * Cognito or API-key callers, throttling, a WAF, a custom domain, and
 * access logs; responses are limited to 15 minutes (the window ends them
 * sooner) and to 5 minutes without data (30 s on EDGE).
 */
export class SseRestApi extends Construct {
  /** The REST API. */
  public readonly api: apigateway.RestApi;
  /** The stage the API is deployed to. */
  public readonly stage: apigateway.Stage;
  /** Receives the stage's access logs (JSON, one line per request). */
  public readonly accessLogGroup: logs.LogGroup;
  /** The Cognito authorizer, with `authorization` `cognito`. */
  public readonly authorizer?: apigateway.CognitoUserPoolsAuthorizer;
  /** The API key, with `apiKey`. */
  public readonly apiKey?: apigateway.IApiKey;
  /** The usage plan of the API key, with `apiKey`. */
  public readonly usagePlan?: apigateway.UsagePlan;
  /** The custom domain, with `domainName`. */
  public readonly domain?: apigateway.DomainName;
  /** The custom domain's name, with `domainName`. */
  public readonly domainName?: string;
  /** Who may call the API. */
  public readonly authorization: SseRestApiAuthorization;
  /** The integration timeout in use, in seconds. */
  public readonly integrationTimeoutSeconds: number;
  /**
   * The stream and health paths the API serves, without the leading slash
   * (`events`, `health`, `streams/{name}`); the watch page's are in `pagePaths`.
   */
  public readonly paths: readonly string[];
  /** Whether the API serves the watch page (`watchPage`). */
  public readonly watchPage: boolean;
  /**
   * The watch page's paths, without the leading slash (`''` is the page at the
   * stage URL itself, then `page.js`, ...), served without authorization;
   * empty unless `watchPage`.
   */
  public readonly pagePaths: readonly string[];

  constructor(scope: Construct, id: string, props: SseRestApiProps) {
    super(scope, id);

    if ((props.sseFunction === undefined) === (props.function === undefined)) {
      throw new Error(`Invalid props for SseRestApi at ${this.node.path}; change:\n  - give either sseFunction (an SseFunction) or function (any lambda.IFunction), not ${props.sseFunction ? 'both' : 'neither'}`);
    }
    const fn: lambda.IFunction = props.sseFunction?.function ?? props.function!;
    const settings = props.sseFunction?.streamSettings;
    const windowMs = settings?.windowMs ?? props.windowMs ?? DEFAULT_STREAM_SETTINGS.windowMs;
    const deadlineMarginMs = settings?.deadlineMarginMs ?? props.deadlineMarginMs ?? DEFAULT_STREAM_SETTINGS.deadlineMarginMs;
    const heartbeatMs = settings?.heartbeatMs ?? props.heartbeatMs ?? DEFAULT_STREAM_SETTINGS.heartbeatMs;
    const durableStreams = props.sseFunction ? props.sseFunction.streamsTable !== undefined : props.durableStreams ?? false;
    // An imported function's timeout is unknown here; then it is not checked.
    const functionTimeout = props.sseFunction?.function.timeout ?? (fn instanceof lambda.Function ? fn.timeout : undefined);
    const functionTimeoutMs = functionTimeout && !functionTimeout.isUnresolved() ? functionTimeout.toMilliseconds() : undefined;
    const endpointType = props.endpointType ?? apigateway.EndpointType.REGIONAL;
    const authorization = props.authorization ?? 'iam';
    const stageName = props.stageName ?? DEFAULT_REST_API_STAGE_NAME;
    const throttlingRateLimit = props.throttlingRateLimit ?? DEFAULT_REST_API_THROTTLE_RATE;
    const throttlingBurstLimit = props.throttlingBurstLimit ?? DEFAULT_REST_API_THROTTLE_BURST;

    const problems = validateRestApiProps({ ...props, endpointType, authorization, stageName, throttlingRateLimit, throttlingBurstLimit });
    if (!props.sseFunction) {
      // An SseFunction checked its own; for any other function they are checked here.
      for (const [name, value, key] of [['windowMs', windowMs, 'windowMs'], ['deadlineMarginMs', deadlineMarginMs, 'deadlineMarginMs'], ['heartbeatMs', heartbeatMs, 'heartbeatMs']] as const) {
        const problem = checkIntegerInRange(value, STREAM_ENVIRONMENT[key].range);
        if (problem) problems.push(`${name} ${problem}`);
      }
    }
    const setting = (name: string): string => (props.sseFunction ? `the function's stream.${name}` : name);
    if (windowMs > REST_API_MAX_RESPONSE_MS) {
      problems.push(`${setting('windowMs')} must be at most ${REST_API_MAX_RESPONSE_MS} ms (15 minutes, API Gateway's longest streamed response), got ${windowMs} ms; lower the window`);
    }
    const idleTimeoutSeconds = REST_API_IDLE_TIMEOUT_SECONDS[endpointType];
    if (idleTimeoutSeconds !== undefined) {
      const problem = checkHeartbeatFitsIdleTimeout(heartbeatMs, idleTimeoutSeconds, endpointType === apigateway.EndpointType.EDGE ? 'an EDGE REST API' : 'a REGIONAL REST API');
      if (problem) problems.push(`${setting('heartbeatMs')} ${problem}`);
    }

    let integrationTimeoutSeconds = Math.min(functionTimeoutMs ?? REST_API_MAX_RESPONSE_MS, REST_API_MAX_RESPONSE_MS) / 1000;
    if (props.integrationTimeout !== undefined) {
      if (props.integrationTimeout.isUnresolved()) {
        problems.push('integrationTimeout must be a concrete Duration, not a token');
      } else {
        const ms = props.integrationTimeout.toMilliseconds({ integral: false });
        const range = LIMITS.restApiIntegrationTimeoutSeconds;
        const problem = ms % 1000 === 0 ? checkIntegerInRange(ms / 1000, range) : `must be whole seconds from ${range.min} to ${range.max}, got ${ms} ms`;
        if (problem) problems.push(`integrationTimeout ${problem}`);
        else integrationTimeoutSeconds = ms / 1000;
      }
    }
    // One response lasts at most min(window, timeout - margin); the integration must let it run that long.
    const responseMs = functionTimeoutMs === undefined ? windowMs : Math.min(windowMs, functionTimeoutMs - deadlineMarginMs);
    if (problems.length === 0) {
      const problem = checkIntegrationTimeoutFitsResponse(integrationTimeoutSeconds, responseMs);
      if (problem) problems.push(`integrationTimeout ${problem}`);
    }
    if (problems.length > 0) {
      throw new Error(`Invalid props for SseRestApi at ${this.node.path}; change:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    }
    this.authorization = authorization;
    this.integrationTimeoutSeconds = integrationTimeoutSeconds;

    this.accessLogGroup = new logs.LogGroup(this, 'AccessLogs', {
      retention: props.logRetention ?? props.sseFunction?.logRetention ?? DEFAULT_LOG_RETENTION,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    skipCheckov(this.accessLogGroup, 'CKV_AWS_158', 'The access log lines hold request metadata (caller IP and identity, path, status, latency), no secret; CloudWatch Logs encrypts them at rest. A customer managed key would add a key policy to manage and a monthly charge.');

    const cloudWatchRole = props.cloudWatchRole ?? false;
    this.api = new apigateway.RestApi(this, 'Api', {
      restApiName: `${Stack.of(this).stackName}-sse`,
      description: 'Streams Server-Sent Events from the SSE function (Lambda proxy integrations, response streaming)',
      endpointConfiguration: { types: [endpointType] },
      cloudWatchRole,
      // Kept when the stack is deleted: the account setting may serve other APIs by then.
      cloudWatchRoleRemovalPolicy: cloudWatchRole ? RemovalPolicy.RETAIN : undefined,
      deployOptions: {
        stageName,
        throttlingRateLimit,
        throttlingBurstLimit,
        accessLogDestination: new apigateway.LogGroupLogDestination(this.accessLogGroup),
        accessLogFormat: apigateway.AccessLogFormat.jsonWithStandardFields({
          caller: true,
          httpMethod: true,
          ip: true,
          protocol: true,
          requestTime: true,
          resourcePath: true,
          responseLength: true,
          status: true,
          user: true,
        }),
        // Errors only, and no bodies: a stream's events are not copied into the logs.
        loggingLevel: apigateway.MethodLoggingLevel.ERROR,
        dataTraceEnabled: false,
        metricsEnabled: true,
        tracingEnabled: props.tracing ?? true,
      },
    });
    this.stage = this.api.deploymentStage;
    // RestApi adds an output of its URL; the stack prints it as RestApiUrl (with the paths), or a caller as it likes.
    this.api.node.tryRemoveChild('Endpoint');

    if (cloudWatchRole) {
      const role = this.api.node.tryFindChild('CloudWatchRole');
      if (role) {
        Validations.of(role).acknowledge({
          id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]',
          reason: 'AmazonAPIGatewayPushToCloudWatchLogs is the policy AWS documents for the account-wide API Gateway logging role (cloudWatchRole, -c sse:restApiCloudWatchRole=true): API Gateway creates log groups per API and stage, so no narrower resource list exists.',
        });
      }
    }

    const validator = this.api.addRequestValidator('Validator', {
      requestValidatorName: 'sse-parameters',
      validateRequestParameters: true,
      validateRequestBody: true,
    });
    // Every method streams; STREAM needs a proxy integration, which forwards the request as it is.
    const integration = new apigateway.LambdaIntegration(fn, {
      proxy: true,
      responseTransferMode: apigateway.ResponseTransferMode.STREAM,
      timeout: Duration.seconds(integrationTimeoutSeconds),
      // One permission per method, scoped to this API's stage, method and path; none for the console's test invoke.
      scopePermissionToMethod: true,
      allowTestInvoke: false,
    });

    if (authorization === 'cognito') {
      this.authorizer = new apigateway.CognitoUserPoolsAuthorizer(this, 'Authorizer', {
        cognitoUserPools: [cognito.UserPool.fromUserPoolArn(this, 'UserPool', props.userPoolArn!)],
      });
    }
    const scopes = props.oauthScopes ?? [];
    const methodOptions: apigateway.MethodOptions = {
      authorizationType: {
        iam: apigateway.AuthorizationType.IAM,
        cognito: apigateway.AuthorizationType.COGNITO,
        none: apigateway.AuthorizationType.NONE,
      }[authorization],
      authorizer: this.authorizer,
      authorizationScopes: scopes.length > 0 ? scopes : undefined,
      apiKeyRequired: props.apiKey ?? false,
      requestValidator: validator,
    };

    const paths = ['events', 'health', ...(durableStreams ? ['streams/{name}'] : [])];
    this.paths = paths;
    this.watchPage = props.watchPage ?? (authorization !== 'iam' && !(props.apiKey ?? false));
    this.pagePaths = this.watchPage ? PAGE_PATHS.map((p) => p.slice(1)) : [];
    const taken = this.pagePaths.filter((p) => paths.some((streamPath) => streamPath.split('/')[0] === p));
    if (taken.length > 0) {
      throw new Error(`Invalid props for SseRestApi at ${this.node.path}; change:\n  - the watch page's paths ${taken.map((p) => `/${p}`).join(', ')} clash with the API's stream paths: set watchPage to false`);
    }
    const methods: apigateway.Method[] = [];
    methods.push(this.api.root.addResource('events').addMethod('GET', integration, methodOptions));
    methods.push(this.api.root.addResource('health').addMethod('GET', integration, methodOptions));
    if (durableStreams) {
      methods.push(this.api.root.addResource('streams').addResource('{name}').addMethod('GET', integration, {
        ...methodOptions,
        requestParameters: { 'method.request.path.name': true },
      }));
    }

    // The page and its scripts: no authorizer, no API key, so a browser can load them; the streams it opens stay authorized.
    const pageMethods = this.pagePaths.map((p) =>
      (p === '' ? this.api.root : this.api.root.addResource(p)).addMethod('GET', integration, {
        authorizationType: apigateway.AuthorizationType.NONE,
        apiKeyRequired: false,
        requestValidator: validator,
      }));
    const pageReason = 'The watch page and its scripts are static files compiled into the function: they hold no data, and every stream the page opens ' +
      `(/events, /streams/{name}) is authorized as before (${authorization}); a page load cannot carry a token or an API key. Leave them out with watchPage false (-c sse:restApiWatchPage=false).`;
    for (const method of pageMethods) {
      Validations.of(method).acknowledge({ id: 'AwsSolutions-APIG4', reason: pageReason });
      Validations.of(method).acknowledge({ id: 'AwsSolutions-COG4', reason: pageReason });
      skipCheckov(method, 'CKV_AWS_59', pageReason);
    }
    if (this.watchPage && authorization === 'iam') {
      Annotations.of(this).addWarningV2(
        'lambda-sse:watchPageWithIam',
        'The REST API serves the watch page (watchPage) but has authorization iam: the page loads, but the streams it opens need SigV4 signatures, which browsers cannot send. ' +
          'Use authorization cognito (the page sends a pasted token) or a public Function URL to watch from a browser, or set watchPage to false.',
      );
    }
    if (this.watchPage && (props.apiKey ?? false)) {
      Annotations.of(this).addWarningV2(
        'lambda-sse:watchPageWithApiKey',
        'The REST API serves the watch page (watchPage) but requires an API key: the page loads, but it cannot send x-api-key, so every stream it opens is refused (403). ' +
          'Drop apiKey to watch from a browser, or set watchPage to false.',
      );
    }

    if (authorization !== 'cognito') {
      for (const method of methods) {
        Validations.of(method).acknowledge({
          id: 'AwsSolutions-COG4',
          reason: authorization === 'iam'
            ? 'The method is authorized with IAM (SigV4, execute-api:Invoke), the default; a Cognito authorizer is the alternative (-c sse:restApiAuth=cognito), not an addition.'
            : 'authorization none was chosen explicitly (allowUnauthenticated, -c sse:restApiAllowUnauthenticated=true), and synth warns about it.',
        });
      }
    }
    if (authorization === 'none') {
      for (const method of methods) {
        Validations.of(method).acknowledge({
          id: 'AwsSolutions-APIG4',
          reason: 'authorization none was chosen explicitly (allowUnauthenticated, -c sse:restApiAllowUnauthenticated=true), and synth warns about it.',
        });
        if (!props.apiKey) {
          skipCheckov(method, 'CKV_AWS_59', 'authorization none was chosen explicitly (allowUnauthenticated, -c sse:restApiAllowUnauthenticated=true), and synth warns about it.');
        }
      }
      Annotations.of(this).addWarningV2(
        'lambda-sse:unauthenticatedRestApi',
        'The REST API has authorization none: anyone on the internet can open streams, and each stream is billed for as long as it runs. ' +
          'Prefer iam (the default) or cognito; if it must be open, keep the stage throttling low, consider a web ACL (webAclArn) and set reservedConcurrentExecutions on the function as a cost cap.' +
          (props.apiKey ? ' API keys identify callers for the usage plan; they are not authorization.' : ''),
      );
    }

    if (props.apiKey) {
      this.apiKey = this.api.addApiKey('ApiKey', { description: 'Key for the SSE REST API (x-api-key header); read its value with aws apigateway get-api-key --include-value' });
      this.usagePlan = this.api.addUsagePlan('UsagePlan', {
        description: 'Throttles each key of the SSE REST API',
        throttle: { rateLimit: throttlingRateLimit, burstLimit: throttlingBurstLimit },
        apiStages: [{ api: this.api, stage: this.stage }],
      });
      this.usagePlan.addApiKey(this.apiKey);
    }

    if (props.domainName !== undefined) {
      this.domainName = props.domainName;
      this.domain = this.api.addDomainName('Domain', {
        domainName: props.domainName,
        certificate: acm.Certificate.fromCertificateArn(this, 'Certificate', props.certificateArn!),
        endpointType,
        securityPolicy: apigateway.SecurityPolicy.TLS_1_2,
      });
    }

    if (props.webAclArn !== undefined) {
      new wafv2.CfnWebACLAssociation(this, 'WebAcl', { resourceArn: this.stage.stageArn, webAclArn: props.webAclArn });
    } else {
      Validations.of(this.stage).acknowledge({
        id: 'AwsSolutions-APIG3',
        reason: 'A web ACL is opt-in (webAclArn, -c sse:restApiWebAclArn): every method is authorized (IAM by default) and the stage is throttled; a web ACL costs per ACL, rule and request, and its rules are the deployer\'s to choose.',
      });
    }
    skipCheckov(this.stage, 'CKV_AWS_120', 'Response streaming (responseTransferMode STREAM) cannot be cached: API Gateway does not cache streamed responses, and each SSE response is unique to its caller anyway.');

    if (endpointType === apigateway.EndpointType.EDGE) {
      Annotations.of(this).addWarningV2(
        'lambda-sse:edgeRestApi',
        'The REST API is EDGE-optimized: CloudFront drops a streamed response that sends nothing for 30 s (5 minutes on REGIONAL), so the heartbeat must stay at 15 s or less, ' +
          'and each response passes one more hop. Prefer REGIONAL (the default) unless clients are far from the region.',
      );
    }
  }

  /** The API's URL on its stage, ending in `/`. */
  public get url(): string {
    return this.api.url;
  }

  /** `https://<domainName>/`, with `domainName`. */
  public get domainUrl(): string | undefined {
    return this.domainName === undefined ? undefined : `https://${this.domainName}/`;
  }

  /**
   * A ready-to-paste `curl` command for `path` (no leading slash): signed for
   * `execute-api` with IAM, with `Authorization: $SSE_TOKEN` (a token of the
   * user pool) with Cognito, and with `x-api-key: $SSE_API_KEY` when the API
   * requires a key. See `curlCommand` in sse-function.ts for the details.
   */
  public curlCommand(urlPath = 'events'): string {
    const headers = [
      ...(this.authorization === 'cognito' ? ['-H "Authorization: $SSE_TOKEN"'] : []),
      ...(this.apiKey ? ['-H "x-api-key: $SSE_API_KEY"'] : []),
    ];
    return curlCommand({
      url: this.url,
      urlPath,
      sigv4Service: this.authorization === 'iam' ? 'execute-api' : undefined,
      region: Stack.of(this).region,
      headers,
    });
  }
}

interface CheckedRestApiProps extends SseRestApiOptions {
  readonly endpointType: apigateway.EndpointType;
  readonly authorization: SseRestApiAuthorization;
  readonly stageName: string;
  readonly throttlingRateLimit: number;
  readonly throttlingBurstLimit: number;
}

/** Every problem with the props, each naming the prop; empty when all is well. */
function validateRestApiProps(props: CheckedRestApiProps): string[] {
  const problems: string[] = [];
  const add = (name: string, problem: string | undefined): void => {
    if (problem) problems.push(`${name} ${problem}`);
  };

  if (props.endpointType === apigateway.EndpointType.PRIVATE) {
    problems.push('endpointType PRIVATE is not supported (it needs a VPC endpoint and a resource policy this construct does not build): use REGIONAL, or an internal ALB (SseAlb) for clients in a VPC');
  } else if (props.endpointType === apigateway.EndpointType.EDGE && !props.allowEdge) {
    problems.push('endpointType EDGE drops a streamed response after 30 s without data (REGIONAL: 5 minutes): use REGIONAL (the default), or set allowEdge to true (-c sse:restApiAllowEdge=true)');
  }

  if (!['iam', 'cognito', 'none'].includes(props.authorization)) {
    problems.push(`authorization must be one of iam, cognito, none, got ${JSON.stringify(props.authorization)}`);
  }
  if (props.authorization === 'cognito') {
    if (props.userPoolArn === undefined) {
      problems.push('authorization cognito needs userPoolArn: give the ARN of the user pool whose tokens the API accepts (-c sse:restApiUserPoolArn=arn:aws:cognito-idp:...)');
    } else {
      add('userPoolArn', checkUserPoolArn(props.userPoolArn));
    }
  } else {
    if (props.userPoolArn !== undefined) problems.push(`userPoolArn applies only to authorization cognito (it is ${props.authorization}): remove it, or set authorization to cognito`);
    if (props.oauthScopes !== undefined && props.oauthScopes.length > 0) {
      problems.push(`oauthScopes apply only to authorization cognito (it is ${props.authorization}): remove them, or set authorization to cognito`);
    }
  }
  (props.oauthScopes ?? []).forEach((scope, i) => add(`oauthScopes[${i}]`, checkOAuthScope(scope)));
  if (props.authorization === 'none' && !props.allowUnauthenticated) {
    problems.push(
      'authorization none would let anyone on the internet open streams (API keys are not authorization): use iam (the default) or cognito, ' +
        'or set allowUnauthenticated to true (-c sse:restApiAllowUnauthenticated=true)',
    );
  }

  add('stageName', checkStageName(props.stageName));
  add('throttlingRateLimit', checkIntegerInRange(props.throttlingRateLimit, LIMITS.restApiThrottleRate));
  add('throttlingBurstLimit', checkIntegerInRange(props.throttlingBurstLimit, LIMITS.restApiThrottleBurst));

  const edge = props.endpointType === apigateway.EndpointType.EDGE;
  if (props.domainName !== undefined) {
    add('domainName', checkDomainName(props.domainName));
    if (props.certificateArn === undefined) {
      problems.push(`domainName needs certificateArn: give an ACM certificate for ${props.domainName} ${edge ? 'in us-east-1' : "in the API's region"} (-c sse:restApiCertificateArn=arn:aws:acm:...)`);
    }
  }
  if (props.certificateArn !== undefined) {
    if (props.domainName === undefined) {
      problems.push('certificateArn applies only to a custom domain: give domainName (-c sse:restApiDomainName=sse.example.com), or remove it');
    }
    const problem = checkAcmCertificateArn(props.certificateArn, edge ? 'us-east-1 (EDGE)' : "the API's region (REGIONAL)");
    add('certificateArn', problem);
    const region = regionOfArn(props.certificateArn);
    if (!problem && edge && region !== 'us-east-1') {
      problems.push(`certificateArn must be in us-east-1 for an EDGE API (CloudFront reads it there), got one in ${region}`);
    }
  }
  if (props.webAclArn !== undefined) add('webAclArn', checkWebAclArn(props.webAclArn));
  if (props.logRetention !== undefined && Token.isUnresolved(props.logRetention)) problems.push('logRetention must be a concrete value, not a token');
  return problems;
}
