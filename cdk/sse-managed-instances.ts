import { RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { skipCheckov, skipCheckovOnDefaultSecurityGroupHandler } from './checkov';
import type { SseFunction } from './sse-function';
import { type IntegerRange, checkIntegerInRange, describeRange } from './validation';

/**
 * Lambda Managed Instances' own limits (docs/managed-instances.md cites each).
 */
export const MANAGED_INSTANCES_LIMITS = {
  /** `PerExecutionEnvironmentMaxConcurrency`: API_LambdaManagedInstancesCapacityProviderConfig. */
  maxConcurrency: { min: 1, max: 1_600, unit: 'concurrent requests per execution environment' },
  /**
   * `ExecutionEnvironmentMemoryGiBPerVCpu` (the API takes 2.0 to 8.0): whole
   * GiB here, the ratios of the C (2), M (4) and R (8) instance families.
   */
  memoryPerVcpu: { min: 2, max: 8, unit: 'GiB per vCPU' },
  /** Execution environments of `$LATEST.PUBLISHED`; CDK allows 0 to 15000, and 0 could serve nothing. */
  environments: { min: 1, max: 15_000, unit: 'execution environments' },
  /** The capacity provider's `MaxVCpuCount`, as aws-cdk-lib checks it. */
  maxVcpus: { min: 12, max: 15_000, unit: 'vCPUs' },
  /** A target tracking policy's average CPU utilization. */
  cpuTarget: { min: 1, max: 100, unit: '%' },
  /** "The minimum supported function size is 2GB and 1 vCPU" (lambda-managed-instances-best-practices). */
  memoryMb: { min: 2_048, unit: 'MB' },
} as const satisfies Record<string, IntegerRange>;

/** The function's memory in this mode when none is given: Lambda Managed Instances' minimum. */
export const MANAGED_INSTANCES_DEFAULT_MEMORY_MB = MANAGED_INSTANCES_LIMITS.memoryMb.min;
export const DEFAULT_MANAGED_INSTANCES_MAX_CONCURRENCY = 64;
export const DEFAULT_MANAGED_INSTANCES_MEMORY_PER_VCPU = 2;
export const DEFAULT_MANAGED_INSTANCES_MIN_ENVIRONMENTS = 3;
export const DEFAULT_MANAGED_INSTANCES_MAX_VCPUS = 48;

/** An EC2 instance type as AWS names it: family, generation, capabilities, size (`c7g.large`). */
const INSTANCE_TYPE = /^[a-z]+\d{1,2}[a-z-]*\.[a-z0-9-]+$/;

/** An EC2 instance type name, as a capacity provider's allowed list takes it. */
export function checkInstanceType(name: string): string | undefined {
  return INSTANCE_TYPE.test(name)
    ? undefined
    : `must be an EC2 instance type like c7g.large or m7i.xlarge, got ${JSON.stringify(name)}`;
}

/**
 * How the function runs on Lambda Managed Instances: a capacity provider
 * (EC2 instances Lambda manages in your account) instead of Lambda's own
 * fleet. Each execution environment serves many streams at once.
 */
export interface SseManagedInstancesOptions {
  /**
   * Most requests (open streams) one execution environment serves at once
   * (`PerExecutionEnvironmentMaxConcurrency`); Lambda sets
   * `AWS_LAMBDA_MAX_CONCURRENCY` to it and the runtime polls that many at
   * a time. A stream mostly waits on its source, so this is far above
   * Lambda's own default for Rust (8 per vCPU). Integer from 1 to 1600.
   *
   * @default 64
   */
  readonly maxConcurrency?: number;
  /**
   * Memory per vCPU of each execution environment, in GiB
   * (`ExecutionEnvironmentMemoryGiBPerVCpu`): 2 fits C instances, 4 M, 8 R.
   * The function's memory divided by this gives its vCPUs, which must be at
   * least 1. Integer from 2 to 8.
   *
   * @default 2
   */
  readonly memoryPerVcpu?: number;
  /**
   * Execution environments kept running for `$LATEST.PUBLISHED` even when
   * idle: Lambda Managed Instances does not start one on demand, so these
   * serve the first streams. Lambda's default, 3, spreads them across
   * Availability Zones. Integer from 1 to 15000, at most `maxEnvironments`.
   *
   * @default 3
   */
  readonly minEnvironments?: number;
  /**
   * Most execution environments for `$LATEST.PUBLISHED`: with
   * `maxConcurrency`, caps simultaneous streams (and cost). Integer from 1
   * to 15000.
   *
   * @default - no cap of its own: `maxVcpus` bounds it
   */
  readonly maxEnvironments?: number;
  /**
   * Most vCPUs the capacity provider runs across all its instances
   * (`MaxVCpuCount`): the ceiling of the EC2 bill. Integer from 12 to 15000,
   * and enough for `minEnvironments` of the function's size.
   *
   * @default 48
   */
  readonly maxVcpus?: number;
  /**
   * Scale instances to keep their average CPU utilization at this percentage
   * (manual scaling, one target tracking policy). Integer from 1 to 100.
   *
   * @default - automatic scaling: Lambda decides (ScalingMode Auto)
   */
  readonly cpuTarget?: number;
  /**
   * The only EC2 instance types the capacity provider may launch, e.g.
   * `['c7g.large', 'c7g.xlarge']`; each must be of the function's
   * architecture (Graviton `g` types for arm64).
   *
   * @default - any type Lambda picks for the architecture
   */
  readonly instanceTypes?: string[];
  /**
   * VPC to launch the instances in, instead of a new one. Its subnets (see
   * `vpcSubnets`) must reach CloudWatch Logs (and DynamoDB, and X-Ray with
   * tracing) through endpoints or a NAT gateway: nothing is added to it.
   *
   * @default - a new VPC in 2 AZs with isolated subnets only (no NAT gateway, no internet gateway), a DynamoDB gateway endpoint, a CloudWatch Logs interface endpoint (and an X-Ray one with tracing), and rejected-traffic flow logs
   */
  readonly vpc?: ec2.IVpc;
  /**
   * Subnets of `vpc` to launch the instances in (1 to 16). Needs `vpc`.
   *
   * @default - the VPC's private subnets (isolated ones when it has no private ones)
   */
  readonly vpcSubnets?: ec2.SubnetSelection;
}

export interface SseCapacityProps extends SseManagedInstancesOptions {
  /**
   * The function to run on the capacity provider; its architecture is the
   * provider's, and its memory (at least 2048 MB) is one execution
   * environment's.
   */
  readonly sseFunction: SseFunction;
}

/**
 * Runs an SseFunction on Lambda Managed Instances: a `lambda.CapacityProvider`
 * in a VPC without NAT (or yours), a security group with no ingress and
 * HTTPS egress only, and the function attached with its per-environment
 * concurrency, memory per vCPU and scaling. Its Function URL, REST API and
 * ALB keep working: invocations arrive through the Lambda service, never
 * through the VPC, and go to `$LATEST.PUBLISHED`.
 */
export class SseCapacity extends Construct {
  /** The capacity provider. */
  public readonly capacityProvider: lambda.CapacityProvider;
  /** The VPC the instances run in (given or created). */
  public readonly vpc: ec2.IVpc;
  /** The instances' security group: no ingress, HTTPS egress. */
  public readonly securityGroup: ec2.SecurityGroup;
  /** Requests one execution environment serves at once. */
  public readonly maxConcurrency: number;
  /** GiB per vCPU of an execution environment. */
  public readonly memoryPerVcpu: number;
  /** Execution environments kept running. */
  public readonly minEnvironments: number;
  /** Most execution environments, when capped. */
  public readonly maxEnvironments?: number;
  /** Most vCPUs of the capacity provider. */
  public readonly maxVcpus: number;
  /** The CPU target of manual scaling, or undefined for automatic scaling. */
  public readonly cpuTarget?: number;

  constructor(scope: Construct, id: string, props: SseCapacityProps) {
    super(scope, id);

    const sse = props.sseFunction;
    const maxConcurrency = props.maxConcurrency ?? DEFAULT_MANAGED_INSTANCES_MAX_CONCURRENCY;
    const memoryPerVcpu = props.memoryPerVcpu ?? DEFAULT_MANAGED_INSTANCES_MEMORY_PER_VCPU;
    const minEnvironments = props.minEnvironments ?? DEFAULT_MANAGED_INSTANCES_MIN_ENVIRONMENTS;
    const maxVcpus = props.maxVcpus ?? DEFAULT_MANAGED_INSTANCES_MAX_VCPUS;
    const architecture = sse.function.architecture;

    const problems = validateManagedInstances({ ...props, maxConcurrency, memoryPerVcpu, minEnvironments, maxVcpus, architecture });
    if (problems.length > 0) {
      throw new Error(`Invalid props for SseCapacity at ${this.node.path}; change:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    }
    this.maxConcurrency = maxConcurrency;
    this.memoryPerVcpu = memoryPerVcpu;
    this.minEnvironments = minEnvironments;
    this.maxEnvironments = props.maxEnvironments;
    this.maxVcpus = maxVcpus;
    this.cpuTarget = props.cpuTarget;

    this.vpc = props.vpc ?? this.newVpc(sse);
    const subnets = props.vpc ? this.vpc.selectSubnets(props.vpcSubnets).subnets : this.vpc.isolatedSubnets;

    this.securityGroup = new ec2.SecurityGroup(this, 'SecurityGroup', {
      vpc: this.vpc,
      description: 'SSE function on Lambda Managed Instances: no ingress (invocations come through the Lambda service), HTTPS egress to AWS APIs',
      allowAllOutbound: false,
    });
    this.securityGroup.addEgressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(443), 'HTTPS to AWS APIs (VPC endpoints, DynamoDB gateway prefix list)');
    if (!props.vpc) this.addEndpoints(sse);

    this.capacityProvider = new lambda.CapacityProvider(this, 'CapacityProvider', {
      subnets,
      securityGroups: [this.securityGroup],
      architectures: [architecture],
      maxVCpuCount: maxVcpus,
      scalingOptions: props.cpuTarget === undefined
        ? lambda.ScalingOptions.auto()
        : lambda.ScalingOptions.manual([lambda.TargetTrackingScalingPolicy.cpuUtilization(props.cpuTarget)]),
      instanceTypeFilter: props.instanceTypes ? lambda.InstanceTypeFilter.allow(props.instanceTypes.map((name) => new ec2.InstanceType(name))) : undefined,
    });
    Validations.of(this.capacityProvider).acknowledge({
      id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/AWSLambdaManagedEC2ResourceOperator]',
      reason: 'The capacity provider\'s operator role, which Lambda assumes to launch and manage the instances: AWS documents that it needs at least the AWSLambdaManagedEC2ResourceOperator managed policy, which AWS keeps up to date as the service changes.',
    });

    this.capacityProvider.addFunction(sse.function, {
      perExecutionEnvironmentMaxConcurrency: maxConcurrency,
      executionEnvironmentMemoryGiBPerVCpu: memoryPerVcpu,
      publishToLatestPublished: true,
      latestPublishedScalingConfig: { minExecutionEnvironments: minEnvironments, maxExecutionEnvironments: props.maxEnvironments },
    });
    skipCheckov(sse.function, 'CKV_AWS_117', 'Runs on Lambda Managed Instances: the instances are in a VPC, which the capacity provider (AWS::Lambda::CapacityProvider VpcConfig) names, not the function\'s own VpcConfig.');
  }

  /**
   * A VPC in 2 AZs with isolated subnets only: no NAT gateway, no internet
   * gateway. AWS services are reached through endpoints (`addEndpoints`).
   */
  private newVpc(sse: SseFunction): ec2.Vpc {
    const flowLogGroup = new logs.LogGroup(this, 'FlowLogs', {
      retention: sse.logRetention,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    skipCheckov(flowLogGroup, 'CKV_AWS_158', 'Rejected-traffic flow log records (addresses and ports), no secret; CloudWatch Logs encrypts them at rest. A customer managed key would add a key policy to manage and a monthly charge.');
    const vpc = new ec2.Vpc(this, 'Vpc', {
      maxAzs: 2,
      natGateways: 0,
      subnetConfiguration: [{ name: 'Isolated', subnetType: ec2.SubnetType.PRIVATE_ISOLATED, cidrMask: 24 }],
      // Rejected connections only: nothing may connect in, and egress is HTTPS to endpoints.
      flowLogs: { FlowLogs: { destination: ec2.FlowLogDestination.toCloudWatchLogs(flowLogGroup), trafficType: ec2.FlowLogTrafficType.REJECT } },
    });
    skipCheckovOnDefaultSecurityGroupHandler(this);
    return vpc;
  }

  /**
   * What the function reaches without NAT: DynamoDB through a gateway
   * endpoint (free), CloudWatch Logs (its logs and EMF metrics) and, with
   * tracing, X-Ray through interface endpoints that admit only the
   * instances' security group.
   */
  private addEndpoints(sse: SseFunction): void {
    const vpc = this.vpc as ec2.Vpc;
    const subnets: ec2.SubnetSelection = { subnetType: ec2.SubnetType.PRIVATE_ISOLATED };
    vpc.addGatewayEndpoint('DynamoDbEndpoint', { service: ec2.GatewayVpcEndpointAwsService.DYNAMODB, subnets: [subnets] });
    const endpointGroup = new ec2.SecurityGroup(this, 'EndpointSecurityGroup', {
      vpc,
      description: 'Interface endpoints of the SSE function VPC: HTTPS from the function instances only',
      allowAllOutbound: false,
    });
    endpointGroup.addIngressRule(this.securityGroup, ec2.Port.tcp(443), 'HTTPS from the SSE function instances');
    const services: [string, ec2.InterfaceVpcEndpointAwsService][] = [['LogsEndpoint', ec2.InterfaceVpcEndpointAwsService.CLOUDWATCH_LOGS]];
    if (sse.tracing) services.push(['XRayEndpoint', ec2.InterfaceVpcEndpointAwsService.XRAY]);
    for (const [id, service] of services) {
      vpc.addInterfaceEndpoint(id, { service, subnets, securityGroups: [endpointGroup], privateDnsEnabled: true, open: false });
    }
  }
}

interface CheckedManagedInstances extends SseCapacityProps {
  readonly maxConcurrency: number;
  readonly memoryPerVcpu: number;
  readonly minEnvironments: number;
  readonly maxVcpus: number;
  readonly architecture: lambda.Architecture;
}

/** Every problem with the options and with the function in this mode, each naming the prop; empty when all is well. */
function validateManagedInstances(props: CheckedManagedInstances): string[] {
  const problems: string[] = [];
  const add = (name: string, problem: string | undefined): void => {
    if (problem) problems.push(`${name} ${problem}`);
  };
  const L = MANAGED_INSTANCES_LIMITS;

  add('maxConcurrency', checkIntegerInRange(props.maxConcurrency, L.maxConcurrency));
  add('memoryPerVcpu', checkIntegerInRange(props.memoryPerVcpu, L.memoryPerVcpu));
  add('minEnvironments', checkIntegerInRange(props.minEnvironments, L.environments));
  if (props.maxEnvironments !== undefined) add('maxEnvironments', checkIntegerInRange(props.maxEnvironments, L.environments));
  add('maxVcpus', checkIntegerInRange(props.maxVcpus, L.maxVcpus));
  if (props.cpuTarget !== undefined) add('cpuTarget', checkIntegerInRange(props.cpuTarget, L.cpuTarget));
  const environmentsValid = !checkIntegerInRange(props.minEnvironments, L.environments) && props.maxEnvironments !== undefined && !checkIntegerInRange(props.maxEnvironments, L.environments);
  if (environmentsValid && props.minEnvironments > props.maxEnvironments!) {
    problems.push(`minEnvironments (${props.minEnvironments}) must not be above maxEnvironments (${props.maxEnvironments}); lower minEnvironments or raise maxEnvironments`);
  }

  if (props.instanceTypes !== undefined) {
    if (props.instanceTypes.length === 0) problems.push('instanceTypes is empty: list at least one type (like c7g.large), or leave it out to let Lambda pick');
    props.instanceTypes.forEach((name, i) => {
      const problem = checkInstanceType(name);
      add(`instanceTypes[${i}]`, problem);
      if (!problem) {
        const typeArchitecture = new ec2.InstanceType(name).architecture;
        if (typeArchitecture !== props.architecture.name) {
          problems.push(`instanceTypes[${i}] ${name} is ${typeArchitecture} and the function is ${props.architecture.name}: a capacity provider runs one architecture, the function's; list ${props.architecture.name} types (Graviton types have a g, like c7g.large, for arm64) or change the function's architecture`);
        }
      }
    });
    const repeated = props.instanceTypes.filter((name, i) => props.instanceTypes!.indexOf(name) !== i);
    if (repeated.length > 0) problems.push(`instanceTypes lists ${repeated.join(', ')} more than once; list each type once`);
  }
  if (props.vpcSubnets !== undefined && props.vpc === undefined) {
    problems.push('vpcSubnets selects subnets of vpc, which is not given: give vpc too, or remove vpcSubnets (the new VPC\'s isolated subnets are used)');
  }

  const sse = props.sseFunction;
  const memoryProblem = checkIntegerInRange(sse.memorySize, L.memoryMb);
  if (memoryProblem) {
    problems.push(
      `the function's memorySize ${memoryProblem}: Lambda Managed Instances runs functions of at least 2 GB and 1 vCPU; ` +
        'raise sseFunction.memorySize (-c sse:memory) to 2048 or more, or leave it unset (2048 in this mode)',
    );
  } else if (!checkIntegerInRange(props.memoryPerVcpu, L.memoryPerVcpu) && sse.memorySize < props.memoryPerVcpu * 1024) {
    problems.push(
      `the function's memorySize (${sse.memorySize} MB) is less than one vCPU at memoryPerVcpu ${props.memoryPerVcpu} GiB (${props.memoryPerVcpu * 1024} MB): ` +
        'Lambda Managed Instances runs functions of at least 1 vCPU; raise the memory or lower memoryPerVcpu',
    );
  } else if (!checkIntegerInRange(props.memoryPerVcpu, L.memoryPerVcpu) && !checkIntegerInRange(props.minEnvironments, L.environments) && !checkIntegerInRange(props.maxVcpus, L.maxVcpus)) {
    const vcpus = Math.ceil((props.minEnvironments * sse.memorySize) / (props.memoryPerVcpu * 1024));
    if (vcpus > props.maxVcpus) {
      problems.push(
        `maxVcpus (${props.maxVcpus}) cannot hold minEnvironments (${props.minEnvironments}) execution environments of ${sse.memorySize} MB at ${props.memoryPerVcpu} GiB per vCPU (${vcpus} vCPUs): ` +
          'raise maxVcpus, or lower minEnvironments or the memory',
      );
    }
  }
  if (sse.reservedConcurrentExecutions !== undefined) {
    problems.push(
      'the function has reservedConcurrentExecutions (-c sse:reservedConcurrency), which AWS documents for Lambda\'s own fleet and not for Lambda Managed Instances: ' +
        'on a capacity provider, cap streams with maxEnvironments times maxConcurrency instead; remove the reservation',
    );
  }
  return problems;
}

/** For docs and the context keys: a range as a user reads it. */
export function describeManagedInstancesRange(key: keyof typeof MANAGED_INSTANCES_LIMITS): string {
  return describeRange(MANAGED_INSTANCES_LIMITS[key]);
}
