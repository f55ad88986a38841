import { Annotations, Aws, CfnCondition, CfnMapping, Duration, Fn, Names, RemovalPolicy, SecretValue, Stack, Token, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { RegionInfo } from 'aws-cdk-lib/region-info';
import { Construct } from 'constructs';
import { DEFAULT_STREAM_SETTINGS, STREAM_ENVIRONMENT, type SseFunction } from './sse-function';
import {
  LIMITS,
  checkAcmCertificateArn,
  checkBatchWindowFitsTimeout,
  checkHttpsUrl,
  checkIdleTimeoutFitsBatchWindow,
  checkIntegerInRange,
  checkIpv4Cidr,
  checkSecretNameOrArn,
} from './validation';
import { skipCheckov, skipCheckovOnDefaultSecurityGroupHandler } from './checkov';

/** The CIDR that stands for "anywhere"; admitted only when listed explicitly. */
export const ANY_IPV4 = '0.0.0.0/0';
export const DEFAULT_ACCESS_LOG_RETENTION_DAYS = 90;
/** ALB's own default idle timeout, the floor of ours. */
const ALB_DEFAULT_IDLE_TIMEOUT_SECONDS = 60;
/** Slack on top of the batch window: the reconnect, the cold start, the ALB's own hop. */
const IDLE_TIMEOUT_SLACK_SECONDS = 10;

/**
 * The idle timeout that fits a batch window: ALB's default 60 s, or the
 * window plus 10 s when the window is longer than 50 s.
 */
export function defaultIdleTimeoutSeconds(batchWindowMs: number): number {
  return Math.max(ALB_DEFAULT_IDLE_TIMEOUT_SECONDS, Math.ceil(batchWindowMs / 1000) + IDLE_TIMEOUT_SLACK_SECONDS);
}

/**
 * OpenID Connect login on the HTTPS listener: the ALB sends unauthenticated
 * browsers to the IdP and passes only signed-in requests to the function.
 * All endpoints are absolute `https://` URLs from the IdP's discovery
 * document (`<issuer>/.well-known/openid-configuration`).
 */
export interface SseAlbOidcOptions {
  /** The IdP's issuer identifier, e.g. `https://login.example.com`. */
  readonly issuer: string;
  /** The IdP's authorization endpoint. */
  readonly authorizationEndpoint: string;
  /** The IdP's token endpoint; the ALB must reach it (see `internetFacing`). */
  readonly tokenEndpoint: string;
  /** The IdP's user-info endpoint; the ALB must reach it (see `internetFacing`). */
  readonly userInfoEndpoint: string;
  /** The OAuth 2.0 client id registered with the IdP. */
  readonly clientId: string;
  /**
   * Name or ARN of the Secrets Manager secret whose SecretString is the
   * client secret. Only a `{{resolve:secretsmanager:...}}` reference goes
   * into the template; CloudFormation reads the value at deploy time.
   */
  readonly clientSecretName: string;
}

/** What configures the ALB; everything but the function it fronts. */
export interface SseAlbOptions {
  /**
   * Whether the ALB gets public addresses in public subnets. Internet-facing
   * without `oidc` is refused unless `allowUnauthenticatedInternetFacing`.
   *
   * @default false (internal: reachable only from inside the VPC and what routes to it)
   */
  readonly internetFacing?: boolean;
  /**
   * Allows an internet-facing ALB without OIDC login; it then warns at synth.
   * The security group's `allowedCidrs` are then the only gate.
   *
   * @default false
   */
  readonly allowUnauthenticatedInternetFacing?: boolean;
  /**
   * VPC to place the ALB in; its public subnets are used when internet-facing,
   * otherwise its private (or isolated) subnets. Needs subnets in at least two
   * Availability Zones.
   *
   * @default - a new VPC in 2 AZs without NAT gateways: public subnets only when internet-facing, otherwise isolated subnets only, with flow logs to the access log bucket
   */
  readonly vpc?: ec2.IVpc;
  /**
   * IPv4 CIDR blocks allowed to connect to the listener port, in canonical
   * form (`10.0.0.0/8`). `0.0.0.0/0` is admitted only when listed here.
   * `allowedCidrs` and `allowedPeers` together must name at least one source.
   *
   * @default - none
   */
  readonly allowedCidrs?: string[];
  /**
   * Other sources allowed to connect to the listener port: security groups,
   * prefix lists.
   *
   * @default - none
   */
  readonly allowedPeers?: ec2.IPeer[];
  /**
   * ACM certificate for an HTTPS listener on port 443. Give this or
   * `allowPlainHttp`, not both.
   *
   * @default - no HTTPS listener; then `allowPlainHttp` must be true
   */
  readonly certificateArn?: string;
  /**
   * Allows a plain HTTP listener on port 80 when there is no certificate:
   * requests and responses cross the network unencrypted and OIDC is not
   * possible.
   *
   * @default false
   */
  readonly allowPlainHttp?: boolean;
  /**
   * OpenID Connect login on the HTTPS listener (needs `certificateArn`).
   *
   * @default - no login: anyone the security group admits reaches the function
   */
  readonly oidc?: SseAlbOidcOptions;
  /**
   * How long the ALB keeps a connection that sends no data. A buffered answer
   * sends nothing until its batch window is over, so this must be longer than
   * `stream.batchWindowMs`. Whole seconds from 1 to 4000.
   *
   * @default - max(60 s, batch window + 10 s)
   */
  readonly idleTimeout?: Duration;
  /**
   * Whether CloudFormation refuses to delete the ALB.
   *
   * @default false (`cdk destroy` removes it)
   */
  readonly deletionProtection?: boolean;
  /**
   * Days the access log bucket keeps each log object before deleting it.
   * Integer of at least 1.
   *
   * @default 90
   */
  readonly accessLogRetentionDays?: number;
  /**
   * What happens to the access log bucket when the stack is deleted. A bucket
   * that still holds logs cannot be deleted by CloudFormation, so `DESTROY`
   * only succeeds once it is empty.
   *
   * @default RemovalPolicy.RETAIN (the logs are an audit trail and outlive the stack; they expire by the lifecycle rule, then delete the bucket by hand)
   */
  readonly accessLogRemovalPolicy?: RemovalPolicy;
}

export interface SseAlbProps extends SseAlbOptions {
  /**
   * The SseFunction the ALB forwards to; its settings give the batch window,
   * the deadline margin and the timeout. Give this or `function`.
   *
   * @default - none; then `function` is required
   */
  readonly sseFunction?: SseFunction;
  /**
   * Any Lambda function that answers ALB events as a binary built on the
   * lambda-sse library does (one made elsewhere, or imported). Give this or
   * `sseFunction`; with this, say its batch window and margin below.
   *
   * @default - none; then `sseFunction` is required
   */
  readonly function?: lambda.IFunction;
  /**
   * The batch window `function` runs with (`SSE_BATCH_WINDOW_MS`), for the
   * idle timeout and the checks. Ignored with `sseFunction`.
   *
   * @default - the library's default (5000)
   */
  readonly batchWindowMs?: number;
  /**
   * The deadline margin `function` runs with (`SSE_DEADLINE_MARGIN_MS`).
   * Ignored with `sseFunction`.
   *
   * @default - the library's default (2000)
   */
  readonly deadlineMarginMs?: number;
}

/**
 * An Application Load Balancer with the SSE function as its Lambda target:
 * the buffered path for clients in a VPC, for an own certificate and domain,
 * or for OIDC login. An ALB cannot stream from Lambda, so each answer holds
 * one batch window of events and the client resumes with `Last-Event-ID`.
 */
export class SseAlb extends Construct {
  /** The load balancer. */
  public readonly loadBalancer: elbv2.ApplicationLoadBalancer;
  /** The one listener: HTTPS on 443 with a certificate, else HTTP on 80. */
  public readonly listener: elbv2.ApplicationListener;
  /**
   * The Lambda target group, health-checked on `/health`. It has a name of
   * its own (so that the invoke permission can name it without a cycle), so
   * a change that makes CloudFormation replace it needs a new construct id.
   */
  public readonly targetGroup: elbv2.ApplicationTargetGroup;
  /** Admits the allowed sources on the listener port and nothing else. */
  public readonly securityGroup: ec2.SecurityGroup;
  /** The VPC the ALB is in (given or created). */
  public readonly vpc: ec2.IVpc;
  /** Receives the access logs (and, for a new VPC, its flow logs). */
  public readonly accessLogBucket: s3.Bucket;
  /** `https://<dns name>` or `http://<dns name>`. */
  public readonly url: string;
  /** The idle timeout in use, in seconds. */
  public readonly idleTimeoutSeconds: number;

  constructor(scope: Construct, id: string, props: SseAlbProps) {
    super(scope, id);

    if ((props.sseFunction === undefined) === (props.function === undefined)) {
      throw new Error(`Invalid props for SseAlb at ${this.node.path}; change:\n  - give either sseFunction (an SseFunction) or function (any lambda.IFunction), not ${props.sseFunction ? 'both' : 'neither'}`);
    }
    const fn: lambda.IFunction = props.sseFunction?.function ?? props.function!;
    const batchWindowMs = props.sseFunction?.streamSettings.batchWindowMs ?? props.batchWindowMs ?? DEFAULT_STREAM_SETTINGS.batchWindowMs;
    const deadlineMarginMs = props.sseFunction?.streamSettings.deadlineMarginMs ?? props.deadlineMarginMs ?? DEFAULT_STREAM_SETTINGS.deadlineMarginMs;
    // An imported function's timeout is unknown here; then it is not checked.
    const functionTimeout = props.sseFunction?.function.timeout ?? (fn instanceof lambda.Function ? fn.timeout : undefined);
    const internetFacing = props.internetFacing ?? false;
    const allowedCidrs = props.allowedCidrs ?? [];
    const allowedPeers = props.allowedPeers ?? [];
    const https = props.certificateArn !== undefined;
    const accessLogRetentionDays = props.accessLogRetentionDays ?? DEFAULT_ACCESS_LOG_RETENTION_DAYS;

    const problems = validateAlbProps({ ...props, internetFacing, allowedCidrs, allowedPeers, batchWindowMs, accessLogRetentionDays });
    if (!props.sseFunction) {
      // An SseFunction checked its own; for any other function they are checked here.
      const windowProblem = checkIntegerInRange(batchWindowMs, STREAM_ENVIRONMENT.batchWindowMs.range);
      if (windowProblem) problems.push(`batchWindowMs ${windowProblem}`);
      const marginProblem = checkIntegerInRange(deadlineMarginMs, STREAM_ENVIRONMENT.deadlineMarginMs.range);
      if (marginProblem) problems.push(`deadlineMarginMs ${marginProblem}`);
    }
    // Only ALB invocations wait for a batch window, so only an ALB needs it to fit the function's timeout.
    if (functionTimeout !== undefined && !functionTimeout.isUnresolved()) {
      const problem = checkBatchWindowFitsTimeout(batchWindowMs, deadlineMarginMs, functionTimeout.toSeconds());
      if (problem) problems.push(`the function's stream.batchWindowMs ${problem}`);
    }
    if (problems.length > 0) {
      throw new Error(`Invalid props for SseAlb at ${this.node.path}; change:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    }
    this.idleTimeoutSeconds = props.idleTimeout?.toSeconds() ?? defaultIdleTimeoutSeconds(batchWindowMs);

    this.accessLogBucket = new s3.Bucket(this, 'AccessLogs', {
      // ALB access logs can only be written to SSE-S3 buckets, not SSE-KMS.
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      lifecycleRules: [{ id: 'ExpireLogs', expiration: Duration.days(accessLogRetentionDays), abortIncompleteMultipartUploadAfter: Duration.days(1) }],
      removalPolicy: props.accessLogRemovalPolicy ?? RemovalPolicy.RETAIN,
    });
    skipCheckov(this.accessLogBucket, 'CKV_AWS_18', 'This bucket only receives ALB access logs and VPC flow logs; logging its own access would need another log bucket, which would need one in turn.');
    skipCheckov(this.accessLogBucket, 'CKV_AWS_21', 'Log objects are written once by the log delivery services and expire by the lifecycle rule; versions would only keep expired logs.');
    Validations.of(this.accessLogBucket).acknowledge({
      id: 'AwsSolutions-S1',
      reason: 'This bucket only receives ALB access logs (and VPC flow logs), written by the log delivery services; logging its own access would need another log bucket, which would need one in turn. Reads are recorded by CloudTrail data events where the account enables them.',
    });

    this.vpc = props.vpc ?? this.newVpc(internetFacing);

    this.securityGroup = new ec2.SecurityGroup(this, 'SecurityGroup', {
      vpc: this.vpc,
      description: `SSE ALB: admits ${https ? 'HTTPS (443)' : 'HTTP (80)'} from the configured sources only`,
      // A Lambda target is invoked through the Lambda service, not the VPC: no egress needed
      // (OIDC adds HTTPS egress to reach the IdP).
      allowAllOutbound: false,
    });
    const port = https ? 443 : 80;
    for (const cidr of allowedCidrs) {
      this.securityGroup.addIngressRule(ec2.Peer.ipv4(cidr), ec2.Port.tcp(port), `SSE clients ${cidr}`);
    }
    for (const peer of allowedPeers) {
      this.securityGroup.addIngressRule(peer, ec2.Port.tcp(port), 'SSE clients');
    }
    if (allowedCidrs.includes(ANY_IPV4)) {
      Validations.of(this.securityGroup).acknowledge({
        id: 'AwsSolutions-EC23',
        reason: `0.0.0.0/0 was listed explicitly in allowedCidrs (sse:albAllowedCidrs): the deployer chose an open ALB${props.oidc ? ', behind OIDC login' : ''}.`,
      });
    }

    this.loadBalancer = new elbv2.ApplicationLoadBalancer(this, 'LoadBalancer', {
      vpc: this.vpc,
      vpcSubnets: { subnetType: internetFacing ? ec2.SubnetType.PUBLIC : undefined, onePerAz: true },
      internetFacing,
      securityGroup: this.securityGroup,
      idleTimeout: Duration.seconds(this.idleTimeoutSeconds),
      dropInvalidHeaderFields: true,
      desyncMitigationMode: elbv2.DesyncMitigationMode.DEFENSIVE,
      deletionProtection: props.deletionProtection ?? false,
    });
    this.logAccessLogs();

    // The ALB may invoke the function only for this stack's own target group
    // (confused-deputy rule). CDK's LambdaTarget grants any load balancer of
    // any account; scoping to the target group's ARN would be a cycle (the
    // group registers the function only once it may invoke it), so the group
    // gets a name of our choosing and the permission names it with a
    // wildcard for the suffix AWS appends.
    const targetGroupName = Names.uniqueResourceName(this, { maxLength: 32, separator: '' });
    const stack = Stack.of(this);
    const invokePermission = new lambda.CfnPermission(this, 'InvokeFromTargetGroup', {
      action: 'lambda:InvokeFunction',
      functionName: fn.functionArn,
      principal: 'elasticloadbalancing.amazonaws.com',
      sourceAccount: stack.account,
      sourceArn: stack.formatArn({ service: 'elasticloadbalancing', resource: 'targetgroup', resourceName: `${targetGroupName}/*` }),
    });
    this.targetGroup = new elbv2.ApplicationTargetGroup(this, 'TargetGroup', {
      targetGroupName,
      targetType: elbv2.TargetType.LAMBDA,
      // Repeated query parameters (and headers) reach the function as lists, so it can refuse them.
      multiValueHeadersEnabled: true,
      healthCheck: { enabled: true, path: '/health', healthyHttpCodes: '200' },
    });
    this.targetGroup.addTarget({
      attachToApplicationTargetGroup: () => ({ targetType: elbv2.TargetType.LAMBDA, targetJson: { id: fn.functionArn } }),
    });
    // The ALB checks that it may invoke the function when the target is registered.
    this.targetGroup.node.addDependency(invokePermission);

    const forward = elbv2.ListenerAction.forward([this.targetGroup]);
    if (https) {
      this.listener = this.loadBalancer.addListener('Https', {
        port: 443,
        protocol: elbv2.ApplicationProtocol.HTTPS,
        certificates: [elbv2.ListenerCertificate.fromArn(props.certificateArn!)],
        sslPolicy: elbv2.SslPolicy.RECOMMENDED_TLS,
        open: false,
        defaultAction: props.oidc
          ? elbv2.ListenerAction.authenticateOidc({
            issuer: props.oidc.issuer,
            authorizationEndpoint: props.oidc.authorizationEndpoint,
            tokenEndpoint: props.oidc.tokenEndpoint,
            userInfoEndpoint: props.oidc.userInfoEndpoint,
            clientId: props.oidc.clientId,
            clientSecret: SecretValue.secretsManager(props.oidc.clientSecretName),
            // Adds HTTPS egress from the security group, to reach the token and user-info endpoints.
            allowHttpsOutbound: true,
            next: forward,
          })
          : forward,
      });
    } else {
      this.listener = this.loadBalancer.addListener('Http', {
        port: 80,
        protocol: elbv2.ApplicationProtocol.HTTP,
        open: false,
        defaultAction: forward,
      });
      const plain = 'Plain HTTP was chosen explicitly (allowPlainHttp, -c sse:albAllowPlainHttp=true) for an ALB without a certificate; with certificateArn the listener is HTTPS with the recommended TLS policy.';
      skipCheckov(this.listener, 'CKV_AWS_2', plain);
      skipCheckov(this.listener, 'CKV_AWS_103', plain);
    }

    this.url = `${https ? 'https' : 'http'}://${this.loadBalancer.loadBalancerDnsName}`;

    if (internetFacing && !props.oidc) {
      Annotations.of(this).addWarningV2(
        'lambda-sse:unauthenticatedInternetFacingAlb',
        'The ALB is internet-facing without OIDC login: anyone allowedCidrs admits can start jobs, and each answer is billed as a Lambda invocation. ' +
          'Prefer oidc (HTTPS) or an internal ALB; keep allowedCidrs as narrow as possible and consider reservedConcurrentExecutions as a cost cap.',
      );
    }
  }

  /**
   * A minimal VPC in 2 AZs without NAT gateways: an internal ALB needs only
   * isolated subnets (it reaches its Lambda target through the Lambda
   * service), an internet-facing one public subnets.
   */
  private newVpc(internetFacing: boolean): ec2.Vpc {
    const vpc = new ec2.Vpc(this, 'Vpc', {
      maxAzs: 2,
      natGateways: 0,
      subnetConfiguration: [
        internetFacing
          ? { name: 'Public', subnetType: ec2.SubnetType.PUBLIC, cidrMask: 24 }
          : { name: 'Isolated', subnetType: ec2.SubnetType.PRIVATE_ISOLATED, cidrMask: 24 },
      ],
      // Rejected connections only: the access logs already record every request the ALB accepted.
      flowLogs: {
        FlowLogs: { destination: ec2.FlowLogDestination.toS3(this.accessLogBucket, 'vpc-flow-logs/'), trafficType: ec2.FlowLogTrafficType.REJECT },
      },
    });
    skipCheckovOnDefaultSecurityGroupHandler(this);
    return vpc;
  }

  /**
   * Turns on access logs. `ApplicationLoadBalancer.logAccessLogs` needs a
   * concrete region to pick the log writer; this stack is
   * environment-agnostic, so the bucket policy picks it at deploy time:
   * the regional Elastic Load Balancing account in regions opened before
   * August 2022, the `logdelivery.elasticloadbalancing.amazonaws.com`
   * service in the others.
   */
  private logAccessLogs(): void {
    const prefix = 'alb';
    const stack = Stack.of(this);
    const objects = this.accessLogBucket.arnForObjects(`${prefix}/AWSLogs/${stack.account}/*`);
    this.accessLogBucket.addToResourcePolicy(new iam.PolicyStatement({
      sid: 'AlbAccessLogsFromService',
      actions: ['s3:PutObject'],
      principals: [new iam.ServicePrincipal('logdelivery.elasticloadbalancing.amazonaws.com')],
      resources: [objects],
    }));
    const legacyWriter = elbLegacyLogWriter(this);
    if (legacyWriter !== undefined) {
      this.accessLogBucket.addToResourcePolicy(new iam.PolicyStatement({
        sid: 'AlbAccessLogsFromRegionalAccount',
        actions: ['s3:PutObject'],
        principals: [new iam.ArnPrincipal(legacyWriter)],
        resources: [objects],
      }));
    }
    this.loadBalancer.setAttribute('access_logs.s3.enabled', 'true');
    this.loadBalancer.setAttribute('access_logs.s3.bucket', this.accessLogBucket.bucketName);
    this.loadBalancer.setAttribute('access_logs.s3.prefix', prefix);
    // The ALB checks that it may write the bucket when the attribute is set.
    const policy = this.accessLogBucket.policy?.node.defaultChild;
    if (policy) this.loadBalancer.node.addDependency(policy);
  }
}

/**
 * The principal that writes ALB access logs in a region opened before August
 * 2022 (`arn:<partition>:iam::<elb account>:root`), or undefined when the
 * stack's region is known to use the service principal. For an
 * environment-agnostic stack, a mapping and condition choose at deploy time;
 * in newer regions the statement then names the stack's own account, which
 * grants nothing its own IAM policies do not already.
 */
function elbLegacyLogWriter(scope: Construct): string | undefined {
  const stack = Stack.of(scope);
  if (!Token.isUnresolved(stack.region)) {
    const account = RegionInfo.get(stack.region).elbv2Account;
    return account === undefined ? undefined : `arn:${stack.partition}:iam::${account}:root`;
  }
  const id = 'SseAlbLogWriterAccounts';
  let mapping = stack.node.tryFindChild(id) as CfnMapping | undefined;
  if (!mapping) {
    mapping = new CfnMapping(stack, id, {
      mapping: Object.fromEntries(RegionInfo.regions.map((region) => [region.name, { account: region.elbv2Account ?? 'none' }])),
    });
  }
  const condition = (stack.node.tryFindChild(`${id}Legacy`) as CfnCondition | undefined) ?? new CfnCondition(stack, `${id}Legacy`, {
    expression: Fn.conditionNot(Fn.conditionEquals(mapping.findInMap(Aws.REGION, 'account'), 'none')),
  });
  return Fn.conditionIf(
    condition.logicalId,
    Fn.join('', ['arn:', Aws.PARTITION, ':iam::', mapping.findInMap(Aws.REGION, 'account'), ':root']),
    Fn.join('', ['arn:', Aws.PARTITION, ':iam::', Aws.ACCOUNT_ID, ':root']),
  ).toString();
}

interface CheckedAlbProps extends Omit<SseAlbOptions, 'allowedCidrs' | 'allowedPeers'> {
  readonly internetFacing: boolean;
  readonly allowedCidrs: readonly string[];
  readonly allowedPeers: readonly ec2.IPeer[];
  readonly batchWindowMs: number;
  readonly accessLogRetentionDays: number;
}

/** Every problem with the props, each naming the prop; empty when all is well. */
function validateAlbProps(props: CheckedAlbProps): string[] {
  const problems: string[] = [];
  const add = (name: string, problem: string | undefined): void => {
    if (problem) problems.push(`${name} ${problem}`);
  };

  props.allowedCidrs.forEach((cidr, i) => add(`allowedCidrs[${i}]`, checkIpv4Cidr(cidr)));
  const repeated = props.allowedCidrs.filter((cidr, i) => props.allowedCidrs.indexOf(cidr) !== i);
  if (repeated.length > 0) problems.push(`allowedCidrs lists ${repeated.join(', ')} more than once; list each block once`);
  if (props.allowedCidrs.length === 0 && props.allowedPeers.length === 0) {
    problems.push(
      'allowedCidrs and allowedPeers are both empty, so the security group would admit nobody: list the client networks in allowedCidrs ' +
        '(-c sse:albAllowedCidrs=10.0.0.0/8) or give allowedPeers; 0.0.0.0/0 is admitted only when listed',
    );
  }

  if (props.certificateArn !== undefined) {
    add('certificateArn', checkAcmCertificateArn(props.certificateArn));
    if (props.allowPlainHttp) {
      problems.push('certificateArn and allowPlainHttp are both set: with a certificate the ALB listens on HTTPS (443) only; remove allowPlainHttp');
    }
  } else if (!props.allowPlainHttp) {
    problems.push(
      'no listener: give certificateArn (an ACM certificate for HTTPS on 443, -c sse:albCertificateArn=arn:aws:acm:...) ' +
        'or set allowPlainHttp to true for plain HTTP on 80 (-c sse:albAllowPlainHttp=true)',
    );
  }

  if (props.oidc) {
    if (props.certificateArn === undefined) {
      problems.push('oidc needs an HTTPS listener (the ALB authenticates on HTTPS only): give certificateArn, or remove oidc');
    }
    for (const key of ['issuer', 'authorizationEndpoint', 'tokenEndpoint', 'userInfoEndpoint'] as const) {
      add(`oidc.${key}`, checkHttpsUrl(props.oidc[key]));
    }
    if (props.oidc.clientId.trim() === '') problems.push('oidc.clientId must not be empty: give the client id registered with the IdP');
    add('oidc.clientSecretName', checkSecretNameOrArn(props.oidc.clientSecretName));
    if (!props.internetFacing && props.vpc === undefined) {
      problems.push(
        'oidc on an internal ALB in the new VPC cannot work: that VPC has no NAT or internet gateway, so the ALB cannot reach the IdP\'s token and user-info endpoints; ' +
          'give a vpc whose subnets route to the IdP (e.g. through a NAT gateway), or set internetFacing',
      );
    }
  }
  if (props.internetFacing && !props.oidc && !props.allowUnauthenticatedInternetFacing) {
    problems.push(
      'internetFacing without oidc would let anyone the security group admits start jobs unauthenticated: add oidc (needs certificateArn), ' +
        'make the ALB internal, or set allowUnauthenticatedInternetFacing to true (-c sse:albAllowUnauthenticatedInternetFacing=true)',
    );
  }

  if (props.idleTimeout !== undefined) {
    if (props.idleTimeout.isUnresolved()) {
      problems.push('idleTimeout must be a concrete Duration, not a token');
    } else {
      const ms = props.idleTimeout.toMilliseconds({ integral: false });
      const problem = ms % 1000 === 0 ? checkIntegerInRange(ms / 1000, LIMITS.albIdleTimeoutSeconds) : `must be whole seconds from ${LIMITS.albIdleTimeoutSeconds.min} to ${LIMITS.albIdleTimeoutSeconds.max}, got ${ms} ms`;
      add('idleTimeout', problem ?? checkIdleTimeoutFitsBatchWindow(ms / 1000, props.batchWindowMs));
    }
  }
  add('accessLogRetentionDays', checkIntegerInRange(props.accessLogRetentionDays, LIMITS.accessLogRetentionDays));
  return problems;
}
