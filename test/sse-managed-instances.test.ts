import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { buildSseApp } from '../cdk/sse-app';
import { SseFunction, type SseFunctionProps } from '../cdk/sse-function';
import { SseCapacity, type SseManagedInstancesOptions } from '../cdk/sse-managed-instances';
import { SseStreamStack } from '../cdk/sse-stack';
import { CDK_JSON_CONTEXT, onlyResource, testApp, testOutdir } from './helpers';

const PROVIDER = 'AWS::Lambda::CapacityProvider';
const FUNCTION = 'AWS::Lambda::Function';

interface BuiltCapacity {
  readonly stack: Stack;
  readonly sse: SseFunction;
  readonly capacity: SseCapacity;
  readonly template: Template;
}

/** An SseFunction (2048 MB unless told) on an SseCapacity, in its own stack. */
function build(options: SseManagedInstancesOptions | ((stack: Stack) => SseManagedInstancesOptions) = {}, fn: SseFunctionProps = {}): BuiltCapacity {
  const stack = new Stack(testApp(), 'Test');
  const sse = new SseFunction(stack, 'Sse', { memorySize: 2048, ...fn });
  const capacity = new SseCapacity(stack, 'Capacity', { ...(typeof options === 'function' ? options(stack) : options), sseFunction: sse });
  return { stack, sse, capacity, template: Template.fromStack(stack) };
}

/** The SSE function's resource (the stack also holds CDK's handler that empties the VPC's default security group). */
function sseFunctionResource(template: Template): { Properties: Record<string, unknown>; Metadata?: unknown } {
  const found = Object.values(template.findResources(FUNCTION, { Properties: { Runtime: 'provided.al2023' } }));
  assert.equal(found.length, 1);
  return found[0] as { Properties: Record<string, unknown> };
}

/** The error SseCapacity throws for these options and function props. */
function optionsError(options: SseManagedInstancesOptions | ((stack: Stack) => SseManagedInstancesOptions), fn: SseFunctionProps = {}): string {
  try {
    build(options, fn);
  } catch (error) {
    return (error as Error).message;
  }
  assert.fail('expected the options to be rejected');
}

describe('SseCapacity defaults', () => {
  const { template, sse } = build();
  const providerId = Object.keys(template.findResources(PROVIDER))[0];

  it('creates one capacity provider for the function\'s architecture, auto scaling, at most 48 vCPUs', () => {
    template.resourceCountIs(PROVIDER, 1);
    template.hasResourceProperties(PROVIDER, {
      InstanceRequirements: { Architectures: ['arm64'], AllowedInstanceTypes: Match.absent(), ExcludedInstanceTypes: Match.absent() },
      CapacityProviderScalingConfig: { MaxVCpuCount: 48, ScalingMode: 'Auto', ScalingPolicies: Match.absent() },
    });
  });

  it('launches instances in the new VPC\'s isolated subnets with its own security group', () => {
    const provider = onlyResource(template, PROVIDER).Properties as { VpcConfig: { SubnetIds: { Ref: string }[]; SecurityGroupIds: unknown[] } };
    assert.equal(provider.VpcConfig.SubnetIds.length, 2);
    for (const { Ref } of provider.VpcConfig.SubnetIds) assert.match(Ref, /^CapacityVpcIsolatedSubnet/);
    assert.equal(provider.VpcConfig.SecurityGroupIds.length, 1);
    assert.match(JSON.stringify(provider.VpcConfig.SecurityGroupIds), /"Fn::GetAtt":\["CapacitySecurityGroup[0-9A-F]+","GroupId"\]/);
  });

  it('gives the operator role AWSLambdaManagedEC2ResourceOperator', () => {
    template.hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: { Statement: [Match.objectLike({ Principal: { Service: 'lambda.amazonaws.com' } })] },
      ManagedPolicyArns: [{ 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':iam::aws:policy/AWSLambdaManagedEC2ResourceOperator']] }],
    });
  });

  it('attaches the function: 64 streams per environment, 2 GiB per vCPU, 3 environments kept, published to $LATEST.PUBLISHED', () => {
    template.hasResourceProperties(FUNCTION, {
      MemorySize: 2048,
      CapacityProviderConfig: {
        LambdaManagedInstancesCapacityProviderConfig: {
          CapacityProviderArn: { 'Fn::GetAtt': [providerId, 'Arn'] },
          PerExecutionEnvironmentMaxConcurrency: 64,
          ExecutionEnvironmentMemoryGiBPerVCpu: 2,
        },
      },
      PublishToLatestPublished: true,
      FunctionScalingConfig: { MinExecutionEnvironments: 3, MaxExecutionEnvironments: Match.absent() },
    });
  });

  it('does not set AWS_LAMBDA_MAX_CONCURRENCY: Lambda sets it from the concurrency', () => {
    const variables = (sseFunctionResource(template).Properties.Environment as { Variables: Record<string, unknown> }).Variables;
    assert.equal(variables.AWS_LAMBDA_MAX_CONCURRENCY, undefined);
  });

  it('keeps the streaming Function URL as it is', () => {
    template.hasResourceProperties('AWS::Lambda::Url', { AuthType: 'AWS_IAM', InvokeMode: 'RESPONSE_STREAM', TargetFunctionArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^SseFunction'), 'Arn'] } });
    assert.ok(sse.functionUrl);
  });

  it('builds a VPC in 2 AZs with isolated subnets only: no NAT gateway, no internet gateway, no public subnet', () => {
    template.resourceCountIs('AWS::EC2::VPC', 1);
    template.resourceCountIs('AWS::EC2::NatGateway', 0);
    template.resourceCountIs('AWS::EC2::InternetGateway', 0);
    template.resourceCountIs('AWS::EC2::EIP', 0);
    template.resourceCountIs('AWS::EC2::Subnet', 2);
    template.allResourcesProperties('AWS::EC2::Subnet', { MapPublicIpOnLaunch: false });
  });

  it('logs the VPC\'s rejected traffic to a log group kept as long as the function\'s logs', () => {
    template.hasResourceProperties('AWS::EC2::FlowLog', { ResourceType: 'VPC', TrafficType: 'REJECT', LogDestinationType: 'cloud-watch-logs' });
    template.resourceCountIs('AWS::Logs::LogGroup', 2);
    template.allResourcesProperties('AWS::Logs::LogGroup', { RetentionInDays: 30 });
  });

  it('reaches DynamoDB through a gateway endpoint and CloudWatch Logs through an interface endpoint, and nothing else', () => {
    template.resourceCountIs('AWS::EC2::VPCEndpoint', 2);
    template.hasResourceProperties('AWS::EC2::VPCEndpoint', {
      VpcEndpointType: 'Gateway',
      ServiceName: { 'Fn::Join': ['', ['com.amazonaws.', { Ref: 'AWS::Region' }, '.dynamodb']] },
    });
    template.hasResourceProperties('AWS::EC2::VPCEndpoint', {
      VpcEndpointType: 'Interface',
      ServiceName: { 'Fn::Join': ['', ['com.amazonaws.', { Ref: 'AWS::Region' }, '.logs']] },
      PrivateDnsEnabled: true,
    });
    assert.doesNotMatch(JSON.stringify(template.findResources('AWS::EC2::VPCEndpoint')), /xray/);
  });

  it('lets the instances out on HTTPS only and in not at all; the endpoints admit only the instances', () => {
    const groups = template.findResources('AWS::EC2::SecurityGroup');
    const [instancesId] = Object.keys(groups).filter((id) => id.startsWith('CapacitySecurityGroup'));
    const instances = groups[instancesId].Properties as Record<string, unknown>;
    assert.equal(instances.SecurityGroupIngress, undefined);
    assert.deepEqual(instances.SecurityGroupEgress, [
      { CidrIp: '0.0.0.0/0', Description: 'HTTPS to AWS APIs (VPC endpoints, DynamoDB gateway prefix list)', FromPort: 443, IpProtocol: 'tcp', ToPort: 443 },
    ]);
    template.resourceCountIs('AWS::EC2::SecurityGroupIngress', 1);
    template.hasResourceProperties('AWS::EC2::SecurityGroupIngress', {
      IpProtocol: 'tcp',
      FromPort: 443,
      ToPort: 443,
      SourceSecurityGroupId: { 'Fn::GetAtt': [instancesId, 'GroupId'] },
      GroupId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^CapacityEndpointSecurityGroup'), 'GroupId'] },
    });
  });

  it('tells checkov why the function has no VpcConfig of its own', () => {
    const skips = (sseFunctionResource(template).Metadata as { checkov: { skip: { id: string; comment: string }[] } }).checkov.skip;
    assert.match(skips.find((s) => s.id === 'CKV_AWS_117')!.comment, /Lambda Managed Instances/);
  });
});

describe('SseCapacity options', () => {
  it('sets concurrency, memory per vCPU, environments, vCPUs, a CPU target and instance types', () => {
    const { template, capacity } = build(
      { maxConcurrency: 200, memoryPerVcpu: 4, minEnvironments: 2, maxEnvironments: 20, maxVcpus: 96, cpuTarget: 60, instanceTypes: ['m7g.large', 'm7g.xlarge'] },
      { memorySize: 8192 },
    );
    template.hasResourceProperties(PROVIDER, {
      InstanceRequirements: { Architectures: ['arm64'], AllowedInstanceTypes: ['m7g.large', 'm7g.xlarge'] },
      CapacityProviderScalingConfig: {
        MaxVCpuCount: 96,
        ScalingMode: 'Manual',
        ScalingPolicies: [{ PredefinedMetricType: 'LambdaCapacityProviderAverageCPUUtilization', TargetValue: 60 }],
      },
    });
    template.hasResourceProperties(FUNCTION, {
      MemorySize: 8192,
      CapacityProviderConfig: { LambdaManagedInstancesCapacityProviderConfig: { PerExecutionEnvironmentMaxConcurrency: 200, ExecutionEnvironmentMemoryGiBPerVCpu: 4 } },
      FunctionScalingConfig: { MinExecutionEnvironments: 2, MaxExecutionEnvironments: 20 },
    });
    assert.deepEqual(
      [capacity.maxConcurrency, capacity.memoryPerVcpu, capacity.minEnvironments, capacity.maxEnvironments, capacity.maxVcpus, capacity.cpuTarget],
      [200, 4, 2, 20, 96, 60],
    );
  });

  it('follows an x86_64 function', () => {
    build({ instanceTypes: ['c7i.large'] }, { architecture: lambda.Architecture.X86_64 }).template.hasResourceProperties(PROVIDER, {
      InstanceRequirements: { Architectures: ['x86_64'], AllowedInstanceTypes: ['c7i.large'] },
    });
  });

  it('adds an X-Ray interface endpoint when the function traces', () => {
    const { template } = build({}, { tracing: true });
    template.resourceCountIs('AWS::EC2::VPCEndpoint', 3);
    template.hasResourceProperties('AWS::EC2::VPCEndpoint', {
      VpcEndpointType: 'Interface',
      ServiceName: { 'Fn::Join': ['', ['com.amazonaws.', { Ref: 'AWS::Region' }, '.xray']] },
    });
  });

  it('uses the given VPC and subnets, and adds no VPC, endpoint or flow log to them', () => {
    let vpc: ec2.Vpc | undefined;
    const { template } = build((stack) => {
      vpc = new ec2.Vpc(stack, 'Mine', { maxAzs: 3, natGateways: 1 });
      return { vpc, vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS } };
    });
    template.resourceCountIs('AWS::EC2::VPC', 1);
    template.resourceCountIs('AWS::EC2::VPCEndpoint', 0);
    template.resourceCountIs('AWS::EC2::FlowLog', 0);
    const subnetIds = (onlyResource(template, PROVIDER).Properties as { VpcConfig: { SubnetIds: { Ref: string }[] } }).VpcConfig.SubnetIds.map((s) => s.Ref);
    assert.equal(subnetIds.length, vpc!.privateSubnets.length);
    for (const id of subnetIds) assert.match(id, /^MinePrivateSubnet/);
    template.hasResourceProperties('AWS::EC2::SecurityGroup', { VpcId: { Ref: Match.stringLikeRegexp('^Mine') }, GroupDescription: Match.stringLikeRegexp('Lambda Managed Instances') });
  });
});

describe('SseCapacity rejects invalid options before building', () => {
  const cases: [string, SseManagedInstancesOptions | ((stack: Stack) => SseManagedInstancesOptions), SseFunctionProps, RegExp][] = [
    ['no concurrency', { maxConcurrency: 0 }, {}, /maxConcurrency must be an integer from 1 to 1600 \(concurrent requests per execution environment\), got 0/],
    ['too much concurrency', { maxConcurrency: 1601 }, {}, /maxConcurrency must be an integer from 1 to 1600 .*got 1601/],
    ['memory per vCPU below 2', { memoryPerVcpu: 1 }, {}, /memoryPerVcpu must be an integer from 2 to 8 \(GiB per vCPU\), got 1/],
    ['memory per vCPU above 8', { memoryPerVcpu: 16 }, {}, /memoryPerVcpu must be an integer from 2 to 8 \(GiB per vCPU\), got 16/],
    ['a fractional memory per vCPU', { memoryPerVcpu: 2.5 }, {}, /memoryPerVcpu must be an integer from 2 to 8 \(GiB per vCPU\), got 2\.5/],
    ['no minimum environment', { minEnvironments: 0 }, {}, /minEnvironments must be an integer from 1 to 15000 \(execution environments\), got 0/],
    ['a maximum of no environment', { maxEnvironments: 0 }, {}, /maxEnvironments must be an integer from 1 to 15000 \(execution environments\), got 0/],
    ['a minimum above the maximum', { minEnvironments: 5, maxEnvironments: 4 }, {}, /minEnvironments \(5\) must not be above maxEnvironments \(4\); lower minEnvironments or raise maxEnvironments/],
    ['the default minimum above the maximum', { maxEnvironments: 2 }, {}, /minEnvironments \(3\) must not be above maxEnvironments \(2\)/],
    ['too few vCPUs', { maxVcpus: 11 }, {}, /maxVcpus must be an integer from 12 to 15000 \(vCPUs\), got 11/],
    ['too many vCPUs', { maxVcpus: 15_001 }, {}, /maxVcpus must be an integer from 12 to 15000 \(vCPUs\), got 15001/],
    ['vCPUs that cannot hold the minimum environments', { minEnvironments: 20, maxVcpus: 12 }, { memorySize: 4096 },
      /maxVcpus \(12\) cannot hold minEnvironments \(20\) execution environments of 4096 MB at 2 GiB per vCPU \(40 vCPUs\): raise maxVcpus, or lower minEnvironments or the memory/],
    ['a CPU target of 0', { cpuTarget: 0 }, {}, /cpuTarget must be an integer from 1 to 100 \(%\), got 0/],
    ['a CPU target above 100', { cpuTarget: 101 }, {}, /cpuTarget must be an integer from 1 to 100 \(%\), got 101/],
    ['an empty instance type list', { instanceTypes: [] }, {}, /instanceTypes is empty: list at least one type/],
    ['a malformed instance type', { instanceTypes: ['large'] }, {}, /instanceTypes\[0\] must be an EC2 instance type like c7g\.large or m7i\.xlarge, got "large"/],
    ['an x86_64 type for an arm64 function', { instanceTypes: ['c7g.large', 'c7i.large'] }, {},
      /instanceTypes\[1\] c7i\.large is x86_64 and the function is arm64: a capacity provider runs one architecture, the function's/],
    ['an arm64 type for an x86_64 function', { instanceTypes: ['m7g.large'] }, { architecture: lambda.Architecture.X86_64 }, /instanceTypes\[0\] m7g\.large is arm64 and the function is x86_64/],
    ['a repeated instance type', { instanceTypes: ['c7g.large', 'c7g.large'] }, {}, /instanceTypes lists c7g\.large more than once; list each type once/],
    ['subnets without a VPC', { vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_ISOLATED } }, {}, /vpcSubnets selects subnets of vpc, which is not given: give vpc too, or remove vpcSubnets/],
    ['a function below 2048 MB', {}, { memorySize: 1024 },
      /the function's memorySize must be an integer of at least 2048 \(MB\), got 1024: Lambda Managed Instances runs functions of at least 2 GB and 1 vCPU; raise sseFunction\.memorySize \(-c sse:memory\) to 2048 or more/],
    ['a function smaller than one vCPU', { memoryPerVcpu: 4 }, { memorySize: 3072 },
      /the function's memorySize \(3072 MB\) is less than one vCPU at memoryPerVcpu 4 GiB \(4096 MB\): Lambda Managed Instances runs functions of at least 1 vCPU; raise the memory or lower memoryPerVcpu/],
    ['reserved concurrency', {}, { reservedConcurrentExecutions: 10 },
      /the function has reservedConcurrentExecutions \(-c sse:reservedConcurrency\), which AWS documents for Lambda's own fleet and not for Lambda Managed Instances: on a capacity provider, cap streams with maxEnvironments times maxConcurrency instead; remove the reservation/],
  ];
  for (const [name, options, fn, message] of cases) {
    it(name, () => assert.match(optionsError(options, fn), message));
  }

  it('lists every problem at once, naming the construct', () => {
    const message = optionsError({ maxConcurrency: 0, cpuTarget: 0 }, { memorySize: 128 });
    assert.match(message, /^Invalid props for SseCapacity at Test\/Capacity; change:\n {2}- maxConcurrency .*\n {2}- cpuTarget .*\n {2}- the function's memorySize /);
  });
});

describe('SseStreamStack with managedInstances', () => {
  it('is off by default: no capacity provider, no VPC, the function at 128 MB', () => {
    const stack = new SseStreamStack(testApp(), 'Stack');
    const template = Template.fromStack(stack);
    assert.equal(stack.capacity, undefined);
    template.resourceCountIs(PROVIDER, 0);
    template.resourceCountIs('AWS::EC2::VPC', 0);
    template.hasResourceProperties(FUNCTION, { MemorySize: 128, CapacityProviderConfig: Match.absent() });
  });

  it('runs the function at 2048 MB on a capacity provider, and the REST API and ALB still invoke it', () => {
    const stack = new SseStreamStack(testApp(), 'Stack', {
      managedInstances: {},
      restApi: {},
      alb: { allowedCidrs: ['10.0.0.0/8'], allowPlainHttp: true },
    });
    const template = Template.fromStack(stack);
    assert.ok(stack.capacity);
    template.resourceCountIs(PROVIDER, 1);
    template.hasResourceProperties(FUNCTION, { MemorySize: 2048, CapacityProviderConfig: Match.objectLike({}) });
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::TargetGroup', { TargetType: 'lambda' });
    template.hasResourceProperties('AWS::ApiGateway::Method', { Integration: Match.objectLike({ Type: 'AWS_PROXY' }) });
  });

  it('refuses a smaller memory given explicitly', () => {
    assert.throws(
      () => new SseStreamStack(testApp(), 'Stack', { managedInstances: {}, sseFunction: { memorySize: 512 } }),
      /Invalid props for SseCapacity at Stack\/Capacity; change:\n {2}- the function's memorySize must be an integer of at least 2048 \(MB\), got 512/,
    );
  });
});

describe('the app with -c sse:managedInstances=true and cdk-nag AwsSolutionsChecks', () => {
  const variants: [string, Record<string, unknown>][] = [
    ['its defaults', {}],
    ['tracing, manual scaling, instance types, the REST API and an ALB', {
      'sse:tracing': 'true',
      'sse:restApi': 'true',
      'sse:alb': 'true',
      'sse:albAllowedCidrs': '10.0.0.0/8',
      'sse:albAllowPlainHttp': 'true',
      'sse:managedInstancesCpuTarget': '60',
      'sse:managedInstancesInstanceTypes': 'c7g.large,m7g.large',
      'sse:managedInstancesMaxEnvironments': '10',
    }],
  ];
  for (const [name, context] of variants) {
    it(`synthesizes ${name} with no finding`, () => {
      const app = new App({ context: { ...CDK_JSON_CONTEXT, 'aws:cdk:bundling-stacks': [], 'sse:managedInstances': 'true', ...context }, outdir: testOutdir() });
      buildSseApp(app);
      const assembly = app.synth();
      const report: { pluginReports: { conclusion: string; violations: unknown[] }[] } = JSON.parse(fs.readFileSync(path.join(assembly.directory, 'validation-report.json'), 'utf8'));
      assert.deepEqual(report.pluginReports.filter((r) => r.conclusion !== 'success'), []);
      assert.deepEqual(report.pluginReports.flatMap((r) => r.violations), []);
    });
  }
});
