import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { SseAlb, type SseAlbOptions, defaultIdleTimeoutSeconds } from '../cdk/sse-alb';
import { SseFunction, type SseFunctionProps } from '../cdk/sse-function';
import { SseStreamStack } from '../cdk/sse-stack';
import { CERTIFICATE_ARN, OIDC, onlyResource, testApp } from './helpers';

const LB = 'AWS::ElasticLoadBalancingV2::LoadBalancer';
const LISTENER = 'AWS::ElasticLoadBalancingV2::Listener';
const TARGET_GROUP = 'AWS::ElasticLoadBalancingV2::TargetGroup';
const SG = 'AWS::EC2::SecurityGroup';
const BUCKET = 'AWS::S3::Bucket';

/** The smallest valid ALB: internal, one CIDR, plain HTTP. */
const INTERNAL_HTTP: SseAlbOptions = { allowedCidrs: ['10.0.0.0/8'], allowPlainHttp: true };
const PUBLIC_OIDC: SseAlbOptions = { internetFacing: true, allowedCidrs: ['0.0.0.0/0'], certificateArn: CERTIFICATE_ARN, oidc: OIDC };

interface BuiltAlb {
  readonly stack: SseStreamStack;
  readonly template: Template;
  readonly annotations: Annotations;
}

function buildAlb(alb: SseAlbOptions, sseFunction?: SseFunctionProps): BuiltAlb {
  const stack = new SseStreamStack(testApp(), 'Sse', { alb, sseFunction });
  return { stack, template: Template.fromStack(stack), annotations: Annotations.fromStack(stack) };
}

/** The load balancer's attributes as a key -> value record. */
function lbAttributes(template: Template): Record<string, string> {
  const attributes = onlyResource(template, LB).Properties.LoadBalancerAttributes as { Key: string; Value: string }[];
  return Object.fromEntries(attributes.map(({ Key, Value }) => [Key, Value]));
}

/** The error SseStreamStack throws for these ALB options. */
function albError(alb: SseAlbOptions, sseFunction?: SseFunctionProps): string {
  try {
    buildAlb(alb, sseFunction);
  } catch (error) {
    return (error as Error).message;
  }
  assert.fail('expected the ALB options to be rejected');
}

function warnings(annotations: Annotations): string[] {
  return annotations.findWarning('*', Match.anyValue()).map((w) => String(w.entry.data));
}

describe('SseStreamStack without alb', () => {
  it('adds no load balancer, VPC or output', () => {
    const stack = new SseStreamStack(testApp(), 'Sse');
    const template = Template.fromStack(stack);
    template.resourceCountIs(LB, 0);
    template.resourceCountIs('AWS::EC2::VPC', 0);
    assert.equal(template.toJSON().Outputs.AlbUrl, undefined);
    assert.equal(stack.alb, undefined);
  });
});

describe('SseAlb: internal, plain HTTP, new VPC', () => {
  const { stack, template, annotations } = buildAlb(INTERNAL_HTTP);
  const alb = stack.alb!;

  it('is internal, with invalid header fields dropped, defensive desync mitigation and no deletion protection', () => {
    template.hasResourceProperties(LB, { Scheme: 'internal', Type: 'application' });
    const attributes = lbAttributes(template);
    assert.equal(attributes['routing.http.drop_invalid_header_fields.enabled'], 'true');
    assert.equal(attributes['routing.http.desync_mitigation_mode'], 'defensive');
    assert.equal(attributes['deletion_protection.enabled'], 'false');
  });

  it('sits in a new VPC of 2 isolated subnets: no NAT gateway, no internet gateway', () => {
    template.resourceCountIs('AWS::EC2::VPC', 1);
    template.resourceCountIs('AWS::EC2::NatGateway', 0);
    template.resourceCountIs('AWS::EC2::InternetGateway', 0);
    template.resourceCountIs('AWS::EC2::EIP', 0);
    const subnets = template.findResources('AWS::EC2::Subnet');
    assert.equal(Object.keys(subnets).length, 2);
    for (const subnet of Object.values(subnets)) {
      assert.equal(subnet.Properties.MapPublicIpOnLaunch, false);
      assert.ok(subnet.Properties.Tags.some((t: { Key: string; Value: string }) => t.Key === 'aws-cdk:subnet-type' && t.Value === 'Isolated'));
    }
    const lbSubnets = onlyResource(template, LB).Properties.Subnets as { Ref: string }[];
    assert.deepEqual(lbSubnets.map((s) => s.Ref).sort(), Object.keys(subnets).sort());
  });

  it('logs rejected VPC flows to the access log bucket', () => {
    template.hasResourceProperties('AWS::EC2::FlowLog', { LogDestinationType: 's3', TrafficType: 'REJECT', ResourceType: 'VPC' });
  });

  it('admits exactly the allowed CIDRs on port 80, with no egress', () => {
    const sg = onlyResource(template, SG).Properties;
    assert.deepEqual(sg.SecurityGroupIngress, [
      { CidrIp: '10.0.0.0/8', Description: 'SSE clients 10.0.0.0/8', FromPort: 80, IpProtocol: 'tcp', ToPort: 80 },
    ]);
    // CDK's placeholder for "no egress": a rule that matches no traffic.
    assert.deepEqual(sg.SecurityGroupEgress, [
      { CidrIp: '255.255.255.255/32', Description: 'Disallow all traffic', FromPort: 252, IpProtocol: 'icmp', ToPort: 86 },
    ]);
    template.resourceCountIs('AWS::EC2::SecurityGroupIngress', 0);
    template.resourceCountIs('AWS::EC2::SecurityGroupEgress', 0);
  });

  it('listens on plain HTTP port 80 and forwards to the Lambda target group', () => {
    template.resourceCountIs(LISTENER, 1);
    const targetGroupId = Object.keys(template.findResources(TARGET_GROUP))[0];
    template.hasResourceProperties(LISTENER, {
      Port: 80,
      Protocol: 'HTTP',
      Certificates: Match.absent(),
      DefaultActions: [{ Type: 'forward', TargetGroupArn: { Ref: targetGroupId } }],
    });
  });

  it('targets the function, health-checked on /health with 200, with multi-value headers', () => {
    const functionId = Object.keys(template.findResources('AWS::Lambda::Function'))[0];
    template.hasResourceProperties(TARGET_GROUP, {
      TargetType: 'lambda',
      Targets: [{ Id: { 'Fn::GetAtt': [functionId, 'Arn'] } }],
      HealthCheckEnabled: true,
      HealthCheckPath: '/health',
      Matcher: { HttpCode: '200' },
      TargetGroupAttributes: Match.arrayWith([{ Key: 'lambda.multi_value_headers.enabled', Value: 'true' }]),
    });
  });

  it('lets the load balancing service invoke the function for this target group only, before the group registers it', () => {
    const functionId = Object.keys(template.findResources('AWS::Lambda::Function'))[0];
    const permissions = template.findResources('AWS::Lambda::Permission', { Properties: { Principal: 'elasticloadbalancing.amazonaws.com' } });
    assert.equal(Object.keys(permissions).length, 1, 'one permission, scoped');
    const [[permissionId, permission]] = Object.entries(permissions) as [string, { Properties: Record<string, unknown> }][];
    const targetGroupName = (onlyResource(template, TARGET_GROUP).Properties.Name as string);
    assert.match(targetGroupName, /^[A-Za-z0-9]{1,32}$/);
    assert.deepEqual(permission.Properties, {
      Action: 'lambda:InvokeFunction',
      FunctionName: { 'Fn::GetAtt': [functionId, 'Arn'] },
      Principal: 'elasticloadbalancing.amazonaws.com',
      SourceAccount: { Ref: 'AWS::AccountId' },
      SourceArn: {
        'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':elasticloadbalancing:', { Ref: 'AWS::Region' }, ':', { Ref: 'AWS::AccountId' }, `:targetgroup/${targetGroupName}/*`]],
      },
    });
    assert.ok((onlyResource(template, TARGET_GROUP).DependsOn as string[]).includes(permissionId), 'registered only once it may be invoked');
  });

  it('sets an idle timeout that fits the default 5 s batch window: 60 s', () => {
    assert.equal(lbAttributes(template)['idle_timeout.timeout_seconds'], '60');
    assert.equal(alb.idleTimeoutSeconds, 60);
  });

  it('writes access logs to an SSE-S3, TLS-only, private bucket that expires them after 90 days and is retained', () => {
    const bucketId = Object.keys(template.findResources(BUCKET))[0];
    const attributes = lbAttributes(template);
    assert.equal(attributes['access_logs.s3.enabled'], 'true');
    template.hasResourceProperties(LB, {
      LoadBalancerAttributes: Match.arrayWith([
        { Key: 'access_logs.s3.bucket', Value: { Ref: bucketId } },
        { Key: 'access_logs.s3.prefix', Value: 'alb' },
      ]),
    });
    template.hasResource(BUCKET, {
      Properties: {
        BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] },
        PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
        OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] },
        LifecycleConfiguration: { Rules: [Match.objectLike({ ExpirationInDays: 90, Status: 'Enabled' })] },
      },
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
    });
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Action: 's3:*', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
          Match.objectLike({ Sid: 'AlbAccessLogsFromService', Effect: 'Allow', Action: 's3:PutObject', Principal: { Service: 'logdelivery.elasticloadbalancing.amazonaws.com' } }),
          Match.objectLike({ Sid: 'AlbAccessLogsFromRegionalAccount', Effect: 'Allow', Action: 's3:PutObject' }),
        ]),
      },
    });
  });

  it('creates the load balancer after the bucket policy that lets it write its logs', () => {
    const policyId = Object.keys(template.findResources('AWS::S3::BucketPolicy'))[0];
    assert.ok((onlyResource(template, LB).DependsOn as string[]).includes(policyId));
  });

  it('picks the log writer per region at deploy time in an environment-agnostic stack', () => {
    const json = template.toJSON();
    assert.equal(json.Mappings.SseAlbLogWriterAccounts['us-east-1'].account, '127311923021');
    assert.equal(json.Mappings.SseAlbLogWriterAccounts['ap-southeast-5'].account, 'none');
    assert.ok(json.Conditions.SseAlbLogWriterAccountsLegacy);
  });

  it('prints the http URL as AlbUrl and exposes its parts', () => {
    const lbId = Object.keys(template.findResources(LB))[0];
    assert.deepEqual(template.toJSON().Outputs.AlbUrl.Value, { 'Fn::Join': ['', ['http://', { 'Fn::GetAtt': [lbId, 'DNSName'] }]] });
    assert.ok(alb.loadBalancer && alb.listener && alb.securityGroup && alb.targetGroup && alb.accessLogBucket && alb.vpc);
    assert.equal(alb.listener.port, 80);
  });

  it('warns about nothing', () => {
    assert.deepEqual(warnings(annotations), []);
  });
});

describe('SseAlb: HTTPS with a certificate and OIDC, internet-facing', () => {
  const { template, annotations } = buildAlb(PUBLIC_OIDC);

  it('is internet-facing in 2 public subnets of a new VPC without NAT gateways', () => {
    template.hasResourceProperties(LB, { Scheme: 'internet-facing' });
    template.resourceCountIs('AWS::EC2::InternetGateway', 1);
    template.resourceCountIs('AWS::EC2::NatGateway', 0);
    const subnets = Object.values(template.findResources('AWS::EC2::Subnet'));
    assert.equal(subnets.length, 2);
    for (const subnet of subnets) assert.equal(subnet.Properties.MapPublicIpOnLaunch, true);
  });

  it('listens on HTTPS 443 with the certificate and a TLS 1.2+ policy', () => {
    template.resourceCountIs(LISTENER, 1);
    template.hasResourceProperties(LISTENER, {
      Port: 443,
      Protocol: 'HTTPS',
      Certificates: [{ CertificateArn: CERTIFICATE_ARN }],
      SslPolicy: Match.stringLikeRegexp('^ELBSecurityPolicy-TLS13-1-2-'),
    });
  });

  it('authenticates with OIDC before forwarding, the client secret only as a Secrets Manager reference', () => {
    const targetGroupId = Object.keys(template.findResources(TARGET_GROUP))[0];
    template.hasResourceProperties(LISTENER, {
      DefaultActions: [
        {
          Type: 'authenticate-oidc',
          Order: 1,
          AuthenticateOidcConfig: {
            Issuer: OIDC.issuer,
            AuthorizationEndpoint: OIDC.authorizationEndpoint,
            TokenEndpoint: OIDC.tokenEndpoint,
            UserInfoEndpoint: OIDC.userInfoEndpoint,
            ClientId: OIDC.clientId,
            ClientSecret: '{{resolve:secretsmanager:sse/alb-oidc-client-secret:SecretString:::}}',
          },
        },
        { Type: 'forward', Order: 2, TargetGroupArn: { Ref: targetGroupId } },
      ],
    });
  });

  it('admits the listed 0.0.0.0/0 on 443 only, and may reach the IdP over HTTPS', () => {
    const sg = onlyResource(template, SG).Properties;
    assert.deepEqual(sg.SecurityGroupIngress, [
      { CidrIp: '0.0.0.0/0', Description: 'SSE clients 0.0.0.0/0', FromPort: 443, IpProtocol: 'tcp', ToPort: 443 },
    ]);
    assert.deepEqual(sg.SecurityGroupEgress, [
      { CidrIp: '0.0.0.0/0', Description: 'Allow to IdP endpoint', FromPort: 443, IpProtocol: 'tcp', ToPort: 443 },
    ]);
  });

  it('prints the https URL as AlbUrl', () => {
    const lbId = Object.keys(template.findResources(LB))[0];
    assert.deepEqual(template.toJSON().Outputs.AlbUrl.Value, { 'Fn::Join': ['', ['https://', { 'Fn::GetAtt': [lbId, 'DNSName'] }]] });
  });

  it('warns about nothing: login is required', () => {
    assert.deepEqual(warnings(annotations), []);
  });
});

describe('SseAlb options', () => {
  it('serves HTTPS without OIDC on an internal ALB', () => {
    const { template } = buildAlb({ allowedCidrs: ['10.0.0.0/8'], certificateArn: CERTIFICATE_ARN });
    template.hasResourceProperties(LB, { Scheme: 'internal' });
    template.hasResourceProperties(LISTENER, { Port: 443, Protocol: 'HTTPS', DefaultActions: [Match.objectLike({ Type: 'forward' })] });
    template.hasResourceProperties(SG, { SecurityGroupIngress: [Match.objectLike({ CidrIp: '10.0.0.0/8', FromPort: 443, ToPort: 443 })] });
  });

  it('allows an unauthenticated internet-facing ALB only on opt-in, with a warning', () => {
    const { template, annotations } = buildAlb({ internetFacing: true, allowUnauthenticatedInternetFacing: true, allowedCidrs: ['203.0.113.0/24'], allowPlainHttp: true });
    template.hasResourceProperties(LB, { Scheme: 'internet-facing' });
    const [warning] = warnings(annotations);
    assert.match(warning, /The ALB is internet-facing without OIDC login: anyone allowedCidrs admits can start jobs/);
    assert.match(warning, /lambda-sse:unauthenticatedInternetFacingAlb/);
  });

  it('fronts any lambda.IFunction, with its batch window for the idle timeout', () => {
    const stack = new Stack(testApp(), 'Test');
    const fn = lambda.Function.fromFunctionAttributes(stack, 'Imported', {
      functionArn: 'arn:aws:lambda:eu-west-1:123456789012:function:my-sse',
      sameEnvironment: true,
    });
    const alb = new SseAlb(stack, 'Alb', { function: fn, batchWindowMs: 55_000, allowedCidrs: ['10.0.0.0/8'], allowPlainHttp: true });
    assert.equal(alb.idleTimeoutSeconds, 65);
    const template = Template.fromStack(stack);
    template.hasResourceProperties(TARGET_GROUP, { Targets: [{ Id: 'arn:aws:lambda:eu-west-1:123456789012:function:my-sse' }] });
    template.hasResourceProperties('AWS::Lambda::Permission', { FunctionName: 'arn:aws:lambda:eu-west-1:123456789012:function:my-sse', Principal: 'elasticloadbalancing.amazonaws.com' });
  });

  it('checks the batch window and margin given for any other function', () => {
    const stack = new Stack(testApp(), 'Test');
    const fn = lambda.Function.fromFunctionArn(stack, 'Imported', 'arn:aws:lambda:eu-west-1:123456789012:function:my-sse');
    assert.throws(
      () => new SseAlb(stack, 'Alb', { function: fn, batchWindowMs: 999, deadlineMarginMs: 60_001, allowedCidrs: ['10.0.0.0/8'], allowPlainHttp: true }),
      (error: Error) => /batchWindowMs must be an integer from 1000 to 60000 \(ms\), got 999/.test(error.message) && /deadlineMarginMs must be an integer from 100 to 60000 \(ms\), got 60001/.test(error.message),
    );
  });

  it('needs exactly one function to front', () => {
    const stack = new Stack(testApp(), 'Test');
    assert.throws(() => new SseAlb(stack, 'Neither', { allowedCidrs: ['10.0.0.0/8'], allowPlainHttp: true }), /give either sseFunction \(an SseFunction\) or function \(any lambda.IFunction\), not neither/);
    const sse = new SseFunction(stack, 'Sse');
    assert.throws(() => new SseAlb(stack, 'Both', { sseFunction: sse, function: sse.function, allowedCidrs: ['10.0.0.0/8'], allowPlainHttp: true }), /not both/);
  });

  it('admits several CIDRs and peers, each once', () => {
    const stack = new Stack(testApp(), 'Test');
    const vpc = new ec2.Vpc(stack, 'Vpc', { natGateways: 0, maxAzs: 2 });
    const clients = new ec2.SecurityGroup(stack, 'Clients', { vpc });
    const sse = new SseFunction(stack, 'Sse');
    new SseAlb(stack, 'Alb', { sseFunction: sse, vpc, allowedCidrs: ['10.1.0.0/16', '192.168.7.7/32'], allowedPeers: [clients], allowPlainHttp: true });
    const template = Template.fromStack(stack);
    const albSg = Object.values(template.findResources(SG)).find((sg) => String(sg.Properties.GroupDescription).startsWith('SSE ALB'))!;
    assert.deepEqual(albSg.Properties.SecurityGroupIngress.map((r: { CidrIp: string; FromPort: number }) => [r.CidrIp, r.FromPort]), [['10.1.0.0/16', 80], ['192.168.7.7/32', 80]]);
    const clientsId = Object.keys(template.findResources(SG)).find((id) => id.startsWith('Clients'))!;
    template.hasResourceProperties('AWS::EC2::SecurityGroupIngress', { SourceSecurityGroupId: { 'Fn::GetAtt': [clientsId, 'GroupId'] }, FromPort: 80, ToPort: 80, IpProtocol: 'tcp' });
  });

  it('uses a given VPC (its private subnets when internal) instead of creating one', () => {
    const stack = new Stack(testApp(), 'Test');
    const vpc = new ec2.Vpc(stack, 'Given', { natGateways: 1, maxAzs: 2 });
    const sse = new SseFunction(stack, 'Sse');
    const alb = new SseAlb(stack, 'Alb', { sseFunction: sse, vpc, allowedCidrs: ['10.0.0.0/8'], allowPlainHttp: true });
    assert.equal(alb.vpc, vpc);
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::EC2::VPC', 1);
    template.resourceCountIs('AWS::EC2::FlowLog', 0);
    const subnets = onlyResource(template, LB).Properties.Subnets as { Ref: string }[];
    assert.deepEqual(subnets.map((s) => s.Ref).map((id) => /Private/.test(id)), [true, true]);
  });

  it('allows OIDC on an internal ALB in a given VPC (which routes to the IdP)', () => {
    const stack = new Stack(testApp(), 'Test');
    const vpc = new ec2.Vpc(stack, 'Given', { natGateways: 1, maxAzs: 2 });
    const sse = new SseFunction(stack, 'Sse');
    new SseAlb(stack, 'Alb', { sseFunction: sse, vpc, allowedCidrs: ['10.0.0.0/8'], certificateArn: CERTIFICATE_ARN, oidc: OIDC });
    Template.fromStack(stack).hasResourceProperties(LISTENER, { DefaultActions: Match.arrayWith([Match.objectLike({ Type: 'authenticate-oidc' })]) });
  });

  it('takes an idle timeout, and derives the default from a long batch window', () => {
    assert.equal(lbAttributes(buildAlb({ ...INTERNAL_HTTP, idleTimeout: Duration.seconds(120) }).template)['idle_timeout.timeout_seconds'], '120');
    assert.equal(lbAttributes(buildAlb(INTERNAL_HTTP, { stream: { batchWindowMs: 55_500 } }).template)['idle_timeout.timeout_seconds'], '66');
    assert.equal(defaultIdleTimeoutSeconds(5_000), 60);
    assert.equal(defaultIdleTimeoutSeconds(50_000), 60);
    assert.equal(defaultIdleTimeoutSeconds(60_000), 70);
  });

  it('turns on deletion protection, and sets log retention and removal', () => {
    const { template } = buildAlb({ ...INTERNAL_HTTP, deletionProtection: true, accessLogRetentionDays: 7, accessLogRemovalPolicy: RemovalPolicy.DESTROY });
    assert.equal(lbAttributes(template)['deletion_protection.enabled'], 'true');
    template.hasResource(BUCKET, {
      Properties: Match.objectLike({ LifecycleConfiguration: { Rules: [Match.objectLike({ ExpirationInDays: 7 })] } }),
      DeletionPolicy: 'Delete',
    });
  });

  it('uses the regional log writer account directly in a region-bound stack', () => {
    const stack = new SseStreamStack(testApp(), 'Bound', { env: { account: '123456789012', region: 'eu-west-1' }, alb: INTERNAL_HTTP });
    const json = Template.fromStack(stack).toJSON();
    assert.equal(json.Mappings?.SseAlbLogWriterAccounts, undefined);
    assert.match(JSON.stringify(json), /arn:aws:iam::156460612806:root/);
  });
});

describe('SseAlb rejects invalid props before building', () => {
  const cases: [string, SseAlbOptions, RegExp, SseFunctionProps?][] = [
    [
      'no certificate and no plain HTTP',
      { allowedCidrs: ['10.0.0.0/8'] },
      /no listener: give certificateArn \(an ACM certificate for HTTPS on 443, -c sse:albCertificateArn=arn:aws:acm:\.\.\.\) or set allowPlainHttp to true for plain HTTP on 80 \(-c sse:albAllowPlainHttp=true\)/,
    ],
    ['both a certificate and plain HTTP', { allowedCidrs: ['10.0.0.0/8'], certificateArn: CERTIFICATE_ARN, allowPlainHttp: true }, /certificateArn and allowPlainHttp are both set: .* remove allowPlainHttp/],
    ['a certificate that is not an ACM ARN', { allowedCidrs: ['10.0.0.0/8'], certificateArn: 'arn:aws:iam::123456789012:server-certificate/x' }, /certificateArn must be an ACM certificate ARN/],
    [
      'internet-facing without authentication',
      { internetFacing: true, allowedCidrs: ['0.0.0.0/0'], allowPlainHttp: true },
      /internetFacing without oidc would let anyone the security group admits start jobs unauthenticated: add oidc \(needs certificateArn\), make the ALB internal, or set allowUnauthenticatedInternetFacing to true/,
    ],
    ['OIDC without HTTPS', { internetFacing: true, allowedCidrs: ['0.0.0.0/0'], allowPlainHttp: true, oidc: OIDC }, /oidc needs an HTTPS listener \(the ALB authenticates on HTTPS only\): give certificateArn, or remove oidc/],
    ['OIDC on an internal ALB in the new VPC', { allowedCidrs: ['10.0.0.0/8'], certificateArn: CERTIFICATE_ARN, oidc: OIDC }, /oidc on an internal ALB in the new VPC cannot work: that VPC has no NAT or internet gateway/],
    ['an OIDC endpoint over http', { ...PUBLIC_OIDC, oidc: { ...OIDC, tokenEndpoint: 'http://login.example.com/token' } }, /oidc\.tokenEndpoint must be an absolute https:\/\/ URL, got "http:\/\/login\.example\.com\/token"/],
    ['an empty OIDC client id', { ...PUBLIC_OIDC, oidc: { ...OIDC, clientId: ' ' } }, /oidc\.clientId must not be empty/],
    ['a client secret that is not a secret name', { ...PUBLIC_OIDC, oidc: { ...OIDC, clientSecretName: 'not a name!' } }, /oidc\.clientSecretName must be a Secrets Manager secret name/],
    [
      'no allowed source',
      { allowPlainHttp: true },
      /allowedCidrs and allowedPeers are both empty, so the security group would admit nobody: list the client networks in allowedCidrs \(-c sse:albAllowedCidrs=10\.0\.0\.0\/8\) or give allowedPeers; 0\.0\.0\.0\/0 is admitted only when listed/,
    ],
    ['an empty CIDR list', { allowedCidrs: [], allowPlainHttp: true }, /allowedCidrs and allowedPeers are both empty/],
    ['a CIDR with host bits', { allowedCidrs: ['10.1.2.3/8'], allowPlainHttp: true }, /allowedCidrs\[0\] has host bits set: 10\.1\.2\.3\/8 is the block 10\.0\.0\.0\/8; write 10\.0\.0\.0\/8, or 10\.1\.2\.3\/32 for one address/],
    ['a repeated CIDR', { allowedCidrs: ['10.0.0.0/8', '10.0.0.0/8'], allowPlainHttp: true }, /allowedCidrs lists 10\.0\.0\.0\/8 more than once/],
    [
      'an idle timeout as long as the batch window',
      { ...INTERNAL_HTTP, idleTimeout: Duration.seconds(5) },
      /idleTimeout must be longer than the batch window \(5000 ms\), got 5 s = 5000 ms: the ALB would drop every answer before its batch is complete; raise the idle timeout or lower the batch window/,
    ],
    ['an idle timeout shorter than a long batch window', { ...INTERNAL_HTTP, idleTimeout: Duration.seconds(30) }, /idleTimeout must be longer than the batch window \(45000 ms\), got 30 s/, { stream: { batchWindowMs: 45_000 } }],
    ['an idle timeout over 4000 s', { ...INTERNAL_HTTP, idleTimeout: Duration.seconds(4001) }, /idleTimeout must be an integer from 1 to 4000 \(s\), got 4001/],
    ['an idle timeout in part seconds', { ...INTERNAL_HTTP, idleTimeout: Duration.millis(60_500) }, /idleTimeout must be whole seconds from 1 to 4000, got 60500 ms/],
    ['zero days of access logs', { ...INTERNAL_HTTP, accessLogRetentionDays: 0 }, /accessLogRetentionDays must be an integer of at least 1 \(days\), got 0/],
  ];
  for (const [name, alb, message, sseFunction] of cases) {
    it(name, () => assert.match(albError(alb, sseFunction), message));
  }

  it('rejects a batch window that with the margin does not fit the function timeout', () => {
    assert.match(
      albError(INTERNAL_HTTP, { timeout: Duration.seconds(7), stream: { batchWindowMs: 5_000 } }),
      /^Invalid props for SseAlb at Sse\/Alb; change:\n {2}- the function's stream\.batchWindowMs plus the deadline margin \(5000 ms \+ 2000 ms\) must be shorter than the timeout \(7 s = 7000 ms\): Lambda would cut every buffered \(ALB\) answer before it is sent; lower the batch window or raise the timeout$/,
    );
    assert.match(
      albError(INTERNAL_HTTP, { timeout: Duration.seconds(60), stream: { batchWindowMs: 60_000, deadlineMarginMs: 100 } }),
      /stream\.batchWindowMs plus the deadline margin \(60000 ms \+ 100 ms\) must be shorter than the timeout \(60 s = 60000 ms\)/,
    );
  });

  it('accepts a batch window that with the margin is just shorter than the timeout', () => {
    const { template } = buildAlb(INTERNAL_HTTP, { timeout: Duration.seconds(8), stream: { batchWindowMs: 5_999 } });
    template.hasResourceProperties('AWS::Lambda::Function', { Timeout: 8, Environment: { Variables: Match.objectLike({ SSE_BATCH_WINDOW_MS: '5999' }) } });
  });

  it('lists every problem at once, naming the construct', () => {
    const message = albError({ internetFacing: true });
    assert.match(message, /^Invalid props for SseAlb at Sse\/Alb; change:\n/);
    assert.equal(message.split('\n').length, 4, message);
  });
});
