import { type CfnElement, CfnOutput, Duration, type Environment, RemovalPolicy, Stack, type StackProps, Token, Validations } from 'aws-cdk-lib';
import * as codebuild from 'aws-cdk-lib/aws-codebuild';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { CodeBuildStep, CodePipeline, CodePipelineSource, ManualApprovalStep, type Step } from 'aws-cdk-lib/pipelines';
import type { Construct, IConstruct } from 'constructs';
import { skipCheckov } from './checkov';
import { SseStage, STAGE_STACK_BASE_NAME } from './sse-stage';
import type { SseStreamOptions } from './sse-stack';
import { checkStackName } from './validation';

/** The name `cdk deploy` knows the pipeline stack by in this repository's app. */
export const DEFAULT_PIPELINE_STACK_NAME = 'SsePipelineStack';
/** The branch the pipeline follows unless told otherwise. */
export const DEFAULT_PIPELINE_BRANCH = 'main';
/** The stage a pipeline deploys when given none. */
export const DEFAULT_PIPELINE_STAGE = 'dev';
/** The Rust toolchain this repository is tested with; the synth step installs exactly this one. */
export const DEFAULT_RUST_TOOLCHAIN = '1.95.0';
/** The target arm64 functions (the default architecture) are built for. */
export const RUST_TARGET_ARM64 = 'aarch64-unknown-linux-gnu';
/** The Node.js major version the CodeBuild steps run (`runtime-versions`); the project needs 20 or later. */
export const NODE_RUNTIME_VERSION = '20';
/** What the smoke test step runs, from a checkout of the repository, with the stage stack's outputs in the environment. */
export const SMOKE_TEST_COMMAND = 'node bin/smoke-test.mjs --url "$FUNCTION_URL" --region "$REGION"';
/**
 * What the synth step keeps between builds in CodeBuild's local cache:
 * the cargo registry and git checkouts, the rustup toolchains, the build
 * directory, the npm cache and pip's downloads. CodeBuild runs
 * as root, so `~` is /root.
 */
export const SYNTH_CACHE_PATHS: readonly string[] = [
  '/root/.cargo/registry/**/*',
  '/root/.cargo/git/**/*',
  '/root/.rustup/**/*',
  '/root/.npm/**/*',
  'target/**/*',
  // pip's downloads, not .venv: a venv holds its absolute path, and the
  // checkout's folder changes from build to build.
  '/root/.cache/pip/**/*',
];

/** One stage of the pipeline: a stream stack, deployed, then smoke-tested. */
export interface SsePipelineStageOptions {
  /**
   * The stage's name: the CodePipeline stage, the `SseStage` id and the
   * prefix of its stack's name. Starts with a letter, then letters, digits
   * and hyphens; unique in the pipeline (ignoring case: it is also part of
   * the smoke test role's IAM name).
   */
  readonly name: string;
  /**
   * Where the stage deploys. A stage in another account than the pipeline
   * needs that account bootstrapped with `cdk bootstrap --trust <pipeline
   * account>`, and the pipeline stack an `env.account`.
   *
   * @default - the pipeline's account and region
   */
  readonly env?: Environment;
  /**
   * Whether a manual approval (`ManualApprovalStep`) must let the stage's
   * deployment start.
   *
   * @default - true for every stage but the first
   */
  readonly approval?: boolean;
  /**
   * The CloudFormation name of the stage's stream stack.
   *
   * @default `${name}-SseStreamStack`
   */
  readonly stackName?: string;
  /**
   * What the stage's stream stack deploys, on top of the pipeline's
   * `streamProps`: each top-level prop given here (`sseFunction`, `alb`,
   * `restApi`, `streamsTable`, `monitoring`) replaces the pipeline's as a whole.
   *
   * @default - the pipeline's `streamProps`
   */
  readonly props?: SseStreamOptions;
}

export interface SsePipelineStackProps extends StackProps {
  /**
   * The ARN of the CodeConnections (formerly CodeStar Connections)
   * connection to the repository's host: `arn:<partition>:codeconnections:<region>:<account>:connection/<id>`
   * or `arn:<partition>:codestar-connections:...`. Create it in the console
   * (Developer Tools, Settings, Connections) and finish its handshake there;
   * see README.md, "Deploy from a pipeline".
   */
  readonly connectionArn: string;
  /** The repository, as `owner/repo` (GitHub, GitLab, Bitbucket). */
  readonly repository: string;
  /**
   * The branch whose pushes start the pipeline: a git branch name
   * (letters, digits, `.`, `_`, `-` and `/`).
   *
   * @default 'main'
   */
  readonly branch?: string;
  /**
   * The stages, deployed in this order, each its own stream stack followed
   * by a smoke test. At least one.
   *
   * @default - one stage, `dev`
   */
  readonly stages?: SsePipelineStageOptions[];
  /**
   * What every stage's stream stack deploys (`SseStreamStack`'s props),
   * unless the stage gives its own `props`.
   *
   * @default - every SseStreamStack default
   */
  readonly streamProps?: SseStreamOptions;
  /**
   * The Rust toolchain the synth step installs with rustup: a version
   * (`1.95.0`) or a channel (`stable`), optionally dated.
   *
   * @default '1.95.0' (DEFAULT_RUST_TOOLCHAIN, the toolchain this repository is tested with)
   */
  readonly rustToolchain?: string;
  /**
   * Context the synth step passes to `npx cdk synth` as `-c key=value`, so
   * the app in the repository synthesizes this same pipeline again (which
   * self-mutation then deploys). Keys are letters, digits and `: . _ -`;
   * values are shell-quoted and may not hold control characters.
   * The app in this repository passes every `sse:*` key it was given.
   *
   * @default - none: `npx cdk synth` reads only cdk.json
   */
  readonly synthContext?: Record<string, string>;
  /**
   * The synth step's CodeBuild compute type. It runs the whole test suite
   * (Rust build, clippy, tests) before it synthesizes.
   *
   * @default codebuild.ComputeType.MEDIUM
   */
  readonly synthComputeType?: codebuild.ComputeType;
  /**
   * How long the synth step (test suite and synth) may run: whole minutes
   * from 5 to 480 (CodeBuild's limit).
   *
   * @default Duration.minutes(60)
   */
  readonly synthTimeout?: Duration;
  /**
   * Whether the artifacts (the source, the cloud assembly) are encrypted with
   * a customer managed KMS key, rotated yearly, which the CodeBuild projects
   * use too; a stage in another account needs it to read them. On by default
   * although it costs a key's monthly fee: switching it on later replaces
   * the artifact store, and without it the artifacts are encrypted with the
   * AWS managed key of S3 only (cdk-nag AwsSolutions-CB4, then acknowledged).
   *
   * @default true
   */
  readonly crossAccountKeys?: boolean;
  /**
   * The CodePipeline pipeline's name.
   *
   * @default - generated by CloudFormation
   */
  readonly pipelineName?: string;
  /**
   * How long CloudWatch keeps the logs of every CodeBuild project of the
   * pipeline (synth, self-mutation, asset publishing, smoke tests); they
   * share one log group.
   *
   * @default logs.RetentionDays.ONE_MONTH
   */
  readonly logRetention?: logs.RetentionDays;
}

/** A stage as the pipeline deploys it: its options with every default filled in. */
export interface SsePipelineStageInfo {
  readonly name: string;
  readonly stackName: string;
  readonly approval: boolean;
  readonly env?: Environment;
}

/**
 * A CDK Pipeline (`aws-cdk-lib/pipelines`) that deploys the stream stack:
 * source from a CodeConnections connection; a synth step on CodeBuild's
 * standard Ubuntu image that installs the pinned Rust toolchain and the
 * repository's pinned tools, runs `npm test` and synthesizes; self-mutation;
 * then each stage (`SseStage`), optionally behind a manual approval,
 * followed by a smoke test that streams from the deployed Function URL.
 * The pipeline is built in the constructor: give every stage in `stages`.
 */
export class SsePipelineStack extends Stack {
  /** The CDK Pipeline, already built (`pipeline.pipeline` is the CodePipeline). */
  public readonly pipeline: CodePipeline;
  /** The repository source. */
  public readonly source: CodePipelineSource;
  /** The synth step: install, `npm test`, `cdk synth`. */
  public readonly synthStep: CodeBuildStep;
  /** The stages, in deployment order. */
  public readonly stages: SseStage[];
  /** Each stage as deployed, defaults filled in, in order. */
  public readonly stageInfo: SsePipelineStageInfo[];
  /** Each stage's smoke test step, by stage name. */
  public readonly smokeTestSteps: Readonly<Record<string, CodeBuildStep>>;
  /** The role of each stage's smoke test step, by stage name. */
  public readonly smokeTestRoles: Readonly<Record<string, iam.Role>>;
  /** The log group every CodeBuild project of the pipeline writes to. */
  public readonly buildLogGroup: logs.LogGroup;
  /** Whether the artifact bucket has a customer managed KMS key. */
  public readonly crossAccountKeys: boolean;

  constructor(scope: Construct, id: string, props: SsePipelineStackProps) {
    super(scope, id, {
      ...props,
      description: props.description ?? 'CDK Pipeline that tests, deploys and smoke-tests the lambda-sse stream stack',
    });

    const branch = props.branch ?? DEFAULT_PIPELINE_BRANCH;
    const rustToolchain = props.rustToolchain ?? DEFAULT_RUST_TOOLCHAIN;
    const synthTimeout = props.synthTimeout ?? Duration.minutes(60);
    const synthContext = props.synthContext ?? {};
    const stages = resolveStages(props.stages ?? [{ name: DEFAULT_PIPELINE_STAGE }]);
    const pipelineAccount = Token.isUnresolved(this.account) ? undefined : this.account;
    const pipelineRegion = Token.isUnresolved(this.region) ? undefined : this.region;

    const problems: string[] = [];
    const add = (name: string, problem: string | undefined): void => {
      if (problem) problems.push(`${name} ${problem}`);
    };
    add('connectionArn', checkConnectionArn(props.connectionArn));
    add('repository', checkRepository(props.repository));
    add('branch', checkBranchName(branch));
    add('rustToolchain', checkRustToolchain(rustToolchain));
    add('synthTimeout', checkSynthTimeout(synthTimeout));
    for (const [key, value] of Object.entries(synthContext)) add(`synthContext[${JSON.stringify(key)}]`, checkSynthContextEntry(key, value));
    problems.push(...checkStages(stages, { pipelineStackName: this.stackName, pipelineAccount, pipelineRegion }));
    this.crossAccountKeys = props.crossAccountKeys ?? true;
    const otherAccounts = stages.filter((stage) => stage.env?.account !== undefined && pipelineAccount !== undefined && stage.env.account !== pipelineAccount);
    if (otherAccounts.length > 0 && !this.crossAccountKeys) {
      problems.push(`crossAccountKeys is false, but stage(s) ${otherAccounts.map((s) => s.name).join(', ')} deploy to another account, which can only read the artifacts through a KMS key: remove crossAccountKeys, or set it to true`);
    }
    if (problems.length > 0) {
      throw new Error(`Invalid props for SsePipelineStack ${id}; change:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    }
    this.stageInfo = stages;

    // One log group with a retention for every project, instead of one per
    // project that CodeBuild would create and keep forever.
    this.buildLogGroup = new logs.LogGroup(this, 'BuildLogs', {
      retention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    skipCheckov(this.buildLogGroup, 'CKV_AWS_158', 'Build and smoke test output: test names, compiler messages, the stage\'s public Function URL; no secret is printed. CloudWatch Logs encrypts it at rest; a customer managed key would add a key policy to manage and a monthly charge.');

    this.source = CodePipelineSource.connection(props.repository, branch, { connectionArn: props.connectionArn });

    this.synthStep = new CodeBuildStep('Synth', {
      input: this.source,
      // No Docker: cargo-lambda-cdk builds locally when cargo-lambda is on
      // PATH (ensure_python_tools puts it there), so no privileged mode.
      buildEnvironment: {
        buildImage: codebuild.LinuxBuildImage.STANDARD_7_0,
        computeType: props.synthComputeType ?? codebuild.ComputeType.MEDIUM,
        privileged: false,
      },
      // The repository's own pins: the toolchain here, cargo-lambda and zig
      // in scripts/ensure-tools.sh (one source of truth), npm's lock file.
      // `npm test` drives Chromium for the page's tests. Ubuntu's chromium
      // package is a snap, which does not run in a build container, so the
      // build uses the Chromium that the locked playwright-core version
      // downloads, through SSE_CHROMIUM.
      installCommands: [
        `curl --proto '=https' --tlsv1.2 -sSf -o /tmp/rustup-init.sh https://sh.rustup.rs`,
        `sh /tmp/rustup-init.sh -y --no-modify-path --profile minimal --default-toolchain ${rustToolchain} --component rustfmt,clippy`,
        'export PATH="$HOME/.cargo/bin:$PATH"',
        `rustup target add ${RUST_TARGET_ARM64}`,
        'source scripts/ensure-tools.sh && ensure_python_tools && ensure_node_modules',
        // No --with-deps: the image already has Chrome's system libraries, and
        // apt-get update over the image's third-party repositories can fail.
        'npx --no-install playwright-core install chromium',
        `export SSE_CHROMIUM="$(node -p "require('playwright-core').chromium.executablePath()")"`,
      ],
      // The README's test command first: a red test stops the pipeline before anything deploys.
      commands: [
        'npm test',
        'rm -rf cdk.out',
        synthCommand(synthContext),
      ],
      primaryOutputDirectory: 'cdk.out',
      // Local cache: the build directory is gigabytes, which an S3 cache would
      // download and upload on every build; the local one costs nothing and
      // is reused while CodeBuild keeps the host warm.
      cache: codebuild.Cache.local(codebuild.LocalCacheMode.CUSTOM),
      partialBuildSpec: codebuild.BuildSpec.fromObject({
        env: { shell: 'bash' },
        phases: { install: { 'runtime-versions': { nodejs: NODE_RUNTIME_VERSION } } },
        cache: { paths: [...SYNTH_CACHE_PATHS] },
      }),
      timeout: synthTimeout,
    });

    this.pipeline = new CodePipeline(this, 'Pipeline', {
      pipelineName: props.pipelineName,
      synth: this.synthStep,
      selfMutation: true,
      crossAccountKeys: this.crossAccountKeys,
      enableKeyRotation: this.crossAccountKeys,
      codeBuildDefaults: {
        buildEnvironment: { buildImage: codebuild.LinuxBuildImage.STANDARD_7_0, privileged: false },
        logging: { cloudWatch: { logGroup: this.buildLogGroup } },
      },
    });

    const smokeTestRoles: Record<string, iam.Role> = {};
    const smokeTests: CodeBuildStep[] = [];
    const smokeTestSteps: Record<string, CodeBuildStep> = {};
    this.stages = stages.map((info, index) => {
      const original = props.stages?.[index];
      const stage = new SseStage(this, info.name, {
        env: info.env,
        stackName: info.stackName,
        ...props.streamProps,
        ...original?.props,
      });
      const role = this.smokeTestRole(info, stage);
      smokeTestRoles[info.name] = role;

      const smokeTest = new CodeBuildStep('SmokeTest', {
        input: this.source,
        envFromCfnOutputs: { FUNCTION_URL: stage.stack.functionUrlOutput, REGION: stage.stack.regionOutput },
        commands: [SMOKE_TEST_COMMAND],
        role,
        // Amazon Linux 2023, for its curl 8: Ubuntu 22.04's curl 7.81
        // (standard:7.0) signs only host and x-amz-date, leaving the session
        // token header unsigned, and a build role's credentials carry one.
        buildEnvironment: { buildImage: codebuild.LinuxBuildImage.AMAZON_LINUX_2023_5, computeType: codebuild.ComputeType.SMALL, privileged: false },
        partialBuildSpec: codebuild.BuildSpec.fromObject({
          env: { shell: 'bash' },
          phases: { install: { 'runtime-versions': { nodejs: NODE_RUNTIME_VERSION } } },
        }),
        timeout: Duration.minutes(15),
      });
      const pre: Step[] = info.approval
        ? [new ManualApprovalStep('Approve', { comment: `Deploy ${info.stackName} (stage ${info.name})? The stages before it passed their smoke tests.` })]
        : [];
      this.pipeline.addStage(stage, { pre, post: [smokeTest] });
      smokeTests.push(smokeTest);
      smokeTestSteps[info.name] = smokeTest;
      return stage;
    });
    this.smokeTestRoles = smokeTestRoles;
    this.smokeTestSteps = smokeTestSteps;

    this.pipeline.buildPipeline();
    this.acknowledgeGeneratedFindings(smokeTests);
    this.skipGeneratedCheckovFindings();

    new CfnOutput(this, 'PipelineName', {
      description: 'The CodePipeline pipeline (aws codepipeline get-pipeline-state --name <name>)',
      value: this.pipeline.pipeline.pipelineName,
    });
  }

  /**
   * checkov's findings on what CDK Pipelines generates, each skipped with
   * its reason in the resource's metadata (test/synth-lint.sh fails on any other).
   */
  private skipGeneratedCheckovFindings(): void {
    const codePipeline = this.pipeline.pipeline;
    const buckets = [codePipeline.artifactBucket, ...Object.values(codePipeline.crossRegionSupport).map((support) => support.replicationBucket)];
    for (const bucket of buckets) {
      skipCheckov(bucket, 'CKV_AWS_18', 'Holds only the artifacts CodePipeline and CodeBuild write and read (source zips, cloud assemblies); their calls are in CloudTrail already, and access logs would need another bucket (and that one another).');
      skipCheckov(bucket, 'CKV_AWS_21', 'Each execution writes its artifacts under new keys and never overwrites one, so versions would only keep copies nobody reads; the source of truth is the repository.');
    }
    // The asset publishing roles CDK Pipelines shares between its asset projects.
    const assets = this.pipeline.node.tryFindChild('Assets');
    for (const id of ['FileRole', 'ImageRole']) {
      const policy = assets?.node.tryFindChild(id)?.node.tryFindChild('DefaultPolicy');
      if (policy) {
        skipCheckov(policy, 'CKV_AWS_111', 'CDK Pipelines\' asset publishing role starts and stops the builds of its asset projects (codebuild:StartBuild, StopBuild, BatchGetBuilds on *, as CDK Pipelines writes it); its writes elsewhere are scoped to its log groups, report groups and the bootstrap publishing role.');
      }
    }
  }

  /**
   * The smoke test's own role, with a fixed name so the stage's stack can
   * name it in the function's resource policy: a stage stack cannot refer
   * to a resource of the pipeline stack. It gets exactly the grant
   * `SseFunction.grantInvokeUrl` gives, and for a stage in another account
   * the same two actions in its own policy (both sides must allow it).
   */
  private smokeTestRole(info: SsePipelineStageInfo, stage: SseStage): iam.Role {
    const roleName = smokeTestRoleName(this.stackName, info.name);
    const role = new iam.Role(this, `SmokeTestRole-${info.name}`, {
      roleName,
      assumedBy: new iam.ServicePrincipal('codebuild.amazonaws.com'),
      description: `Runs the smoke test of pipeline stage ${info.name}: may call its Function URL and write the build's logs`,
    });
    const sseFunction = stage.stack.sseFunction;
    // Without IAM on the URL there is nothing to grant: anyone may call it.
    if (sseFunction.authType !== lambda.FunctionUrlAuthType.AWS_IAM) return role;

    const pipelineAccount = Token.isUnresolved(this.account) ? undefined : this.account;
    // With an env-agnostic pipeline every stage is in its account (checked
    // above), so the stage stack's own AWS::AccountId and AWS::Partition are
    // the pipeline's: pseudo parameters, not a reference across stages.
    const partition = Token.isUnresolved(this.partition) ? stage.stack.partition : this.partition;
    const roleArn = `arn:${partition}:iam::${pipelineAccount ?? stage.stack.account}:role/${roleName}`;
    sseFunction.grantInvokeUrl(new NamedRolePrincipal(roleArn, roleName));

    const stageAccount = info.env?.account;
    if (stageAccount !== undefined && stageAccount !== pipelineAccount) {
      const functions = `arn:${this.partition}:lambda:${info.env?.region ?? this.region}:${stageAccount}:function:*`;
      role.addToPolicy(new iam.PolicyStatement({
        sid: 'InvokeStageFunctionUrl',
        actions: ['lambda:InvokeFunctionUrl'],
        resources: [functions],
        conditions: { StringEquals: { 'lambda:FunctionUrlAuthType': 'AWS_IAM' } },
      }));
      role.addToPolicy(new iam.PolicyStatement({
        sid: 'InvokeStageFunctionViaUrl',
        actions: ['lambda:InvokeFunction'],
        resources: [functions],
        conditions: { Bool: { 'lambda:InvokedViaFunctionUrl': 'true' } },
      }));
      Validations.of(role).acknowledge({
        id: `AwsSolutions-IAM5[Resource::${functions}]`,
        reason: `The stage's function lives in account ${stageAccount} under a name CloudFormation generates there, which this stack cannot reference; the statement allows only calls through an IAM-authenticated Function URL, and the function's resource policy admits this role alone.`,
      });
    }
    return role;
  }

  /**
   * cdk-nag's findings on what CDK Pipelines generates, each acknowledged
   * with its reason, on the pipeline construct only: the stages are not
   * below it, so their findings still fail synth. Applied after
   * `buildPipeline()`, which creates what they are about.
   */
  private acknowledgeGeneratedFindings(smokeTests: readonly CodeBuildStep[]): void {
    // cdk-nag renders an unresolved pseudo parameter as <AWS::Name> in the finding's id.
    const part = (value: string, pseudo: string): string => (Token.isUnresolved(value) ? `<AWS::${pseudo}>` : value);
    const [partition, region, account] = [part(this.partition, 'Partition'), part(this.region, 'Region'), part(this.account, 'AccountId')];
    const logicalId = (construct: IConstruct): string => this.getLogicalId(construct.node.defaultChild as CfnElement);
    const projectWildcards = (project: IConstruct): string[] => [
      `AwsSolutions-IAM5[Resource::arn:${partition}:logs:${region}:${account}:log-group:/aws/codebuild/<${logicalId(project)}>:*]`,
      `AwsSolutions-IAM5[Resource::arn:${partition}:codebuild:${region}:${account}:report-group/<${logicalId(project)}>-*]`,
    ];
    const acknowledge = (scope: IConstruct, ids: readonly string[], reason: string): void => {
      for (const id of ids) Validations.of(scope).acknowledge({ id, reason });
    };
    const codePipeline = this.pipeline.pipeline;

    const artifactWildcards = (s3Actions: readonly string[]): string[] => [
      ...s3Actions.map((action) => `AwsSolutions-IAM5[Action::${action}]`),
      `AwsSolutions-IAM5[Resource::<${logicalId(codePipeline.artifactBucket)}.Arn>/*]`,
      ...(this.crossAccountKeys ? ['kms:GenerateDataKey*', 'kms:ReEncrypt*'].map((action) => `AwsSolutions-IAM5[Action::${action}]`) : []),
    ];
    const readActions = ['s3:GetBucket*', 's3:GetObject*', 's3:List*'];

    acknowledge(this.pipeline, artifactWildcards(['s3:Abort*', 's3:DeleteObject*', ...readActions]), 'CDK Pipelines grants its roles read and write on the objects of the pipeline\'s own artifact bucket (keys CodePipeline generates per execution), with CDK\'s S3 and KMS action groups, and nothing beyond that bucket and its key.');
    acknowledge(this.pipeline, [...projectWildcards(this.pipeline.synthProject), ...projectWildcards(this.pipeline.selfMutationProject)],
      'CodeBuild writes each build\'s logs to streams it names per build, in its project\'s log group, and grants every project its own report groups (named after the project).');
    acknowledge(this.pipeline, [
      `AwsSolutions-IAM5[Resource::arn:${partition}:logs:${region}:${account}:log-group:/aws/codebuild/*]`,
      `AwsSolutions-IAM5[Resource::arn:${partition}:codebuild:${region}:${account}:report-group/*]`,
    ], 'The asset publishing role is shared by the asset projects CDK Pipelines creates per asset, whose names it does not know when it writes the policy.');
    acknowledge(this.pipeline, [`AwsSolutions-IAM5[Resource::arn:*:iam::${account}:role/*]`, 'AwsSolutions-IAM5[Resource::*]'],
      'Self-mutation and asset publishing assume the CDK bootstrap roles (sts:AssumeRole only on roles tagged aws-cdk:bootstrap-role, names set by the bootstrap qualifier), and self-mutation lists stacks to diff them (cloudformation:DescribeStacks, s3:ListBucket have no narrower resource).');
    acknowledge(codePipeline.artifactBucket, ['AwsSolutions-S1'],
      'The artifact bucket holds only the source zips and cloud assemblies CodePipeline and CodeBuild write and read; their calls are in CloudTrail already, and access logs would need another bucket (and that one another).');
    // A stage in another region gets a support stack with a replication bucket for the artifacts.
    for (const { replicationBucket } of Object.values(codePipeline.crossRegionSupport)) {
      acknowledge(replicationBucket, ['AwsSolutions-S1'],
        'The replication bucket holds only copies of the pipeline\'s artifacts for a stage in its region, written and read by CodePipeline; their calls are in CloudTrail already, and access logs would need another bucket there.');
      acknowledge(this.pipeline, [`AwsSolutions-IAM5[Resource::arn:${partition}:s3:::${this.resolve(replicationBucket.bucketName)}/*]`],
        'CodePipeline reads and writes the artifact objects (keys it generates per execution) of its replication bucket for a stage in another region.');
    }
    if (!this.crossAccountKeys) {
      acknowledge(this.pipeline, ['AwsSolutions-CB4'],
        'crossAccountKeys was set to false: the artifacts hold no secret and are encrypted with S3 managed keys, without a customer managed key\'s monthly fee.');
    }
    // The smoke test roles are this stack's own: the wildcards CodeBuild itself needs, named exactly.
    smokeTests.forEach((step, i) => {
      const role = this.smokeTestRoles[this.stageInfo[i].name];
      acknowledge(role, projectWildcards(step.project),
        'CodeBuild writes the smoke test\'s logs to streams it names per build, in its project\'s log group, and grants the project its own report groups (the smoke test writes none).');
      acknowledge(role, artifactWildcards(readActions),
        'The smoke test reads its input, the source artifact (the repository\'s scripts), from the pipeline\'s artifact bucket, under keys CodePipeline generates per execution; CDK grants read with its S3 and KMS action groups.');
    });
  }
}

/**
 * A role by ARN that introduces itself by name: the ARN may hold the stage
 * stack's own AWS::AccountId and AWS::Partition, and grants name the
 * permissions they create after the principal, which must then be plain text.
 */
class NamedRolePrincipal extends iam.ArnPrincipal {
  constructor(arn: string, private readonly roleName: string) {
    super(arn);
  }

  public override toString(): string {
    return `Role(${this.roleName})`;
  }
}

/** The stages with every default filled in, in order. */
function resolveStages(stages: readonly SsePipelineStageOptions[]): SsePipelineStageInfo[] {
  return stages.map((stage, index) => ({
    name: stage.name,
    stackName: stage.stackName ?? `${stage.name}-${STAGE_STACK_BASE_NAME}`,
    approval: stage.approval ?? index > 0,
    env: stage.env,
  }));
}

interface StageCheckContext {
  readonly pipelineStackName: string;
  readonly pipelineAccount?: string;
  readonly pipelineRegion?: string;
}

/** Every problem with the stages, each naming the stage and what to change. */
export function checkStages(stages: readonly SsePipelineStageInfo[], context: StageCheckContext): string[] {
  const problems: string[] = [];
  if (stages.length === 0) problems.push('stages is empty: give at least one stage (the default is one stage, dev)');
  const seen = new Map<string, string>();
  const stackNames = new Map<string, string>();
  stages.forEach((stage, i) => {
    const where = `stages[${i}]`;
    const nameProblem = checkPipelineStageName(stage.name);
    if (nameProblem) {
      problems.push(`${where}.name ${nameProblem}`);
      return;
    }
    const earlier = seen.get(stage.name.toLowerCase());
    if (earlier !== undefined) problems.push(`${where}.name ${JSON.stringify(stage.name)} repeats stage ${JSON.stringify(earlier)} (names are compared ignoring case, as IAM compares role names): give each stage its own name`);
    seen.set(stage.name.toLowerCase(), stage.name);

    const stackProblem = checkStackName(stage.stackName);
    if (stackProblem) problems.push(`${where}.stackName ${stackProblem}`);
    const sameStack = stackNames.get(stage.stackName);
    if (sameStack !== undefined) problems.push(`${where}.stackName ${JSON.stringify(stage.stackName)} is also stage ${sameStack}'s stack name: give each stage its own stack`);
    stackNames.set(stage.stackName, stage.name);

    problems.push(...checkRoleNameFits(context.pipelineStackName, stage.name).map((p) => `${where}.name ${p}`));

    const account = stage.env?.account;
    const region = stage.env?.region;
    if (account !== undefined) {
      const accountProblem = checkAccountId(account);
      if (accountProblem) problems.push(`${where}.env.account ${accountProblem}`);
      else if (context.pipelineAccount === undefined) {
        problems.push(
          `${where}.env.account ${account}: stage ${stage.name} names an account, but the pipeline stack has no env.account, so its smoke test role's ARN is unknown: ` +
            'give the pipeline stack an env.account (with -c sse:pipeline=true, run cdk with credentials for the pipeline account), or remove the stage\'s account',
        );
      }
    }
    if (region !== undefined) {
      const regionProblem = checkRegion(region);
      if (regionProblem) problems.push(`${where}.env.region ${regionProblem}`);
      else if (context.pipelineRegion === undefined) {
        problems.push(`${where}.env.region ${region}: stage ${stage.name} names a region, but the pipeline stack has no env.region: give the pipeline stack an env (account and region), or remove the stage's region`);
      }
    }
  });
  return problems;
}

/** The smoke test role's IAM name for a stage: fixed, so the stage stack can name it. */
export function smokeTestRoleName(pipelineStackName: string, stageName: string): string {
  return `${pipelineStackName}-smoke-${stageName}`;
}

/** IAM role names are at most 64 characters. */
export function checkRoleNameFits(pipelineStackName: string, stageName: string): string[] {
  const name = smokeTestRoleName(pipelineStackName, stageName);
  if (name.length <= 64) return [];
  return [
    `${JSON.stringify(stageName)} makes the smoke test role's name ${JSON.stringify(name)} ${name.length} characters long, and IAM allows 64: ` +
      `shorten the stage name (to at most ${Math.max(0, 64 - smokeTestRoleName(pipelineStackName, '').length)} characters) or the pipeline stack's name`,
  ];
}

/** A CodeConnections or CodeStar Connections connection ARN. */
export function checkConnectionArn(arn: string): string | undefined {
  return /^arn:aws(-[a-z]+)*:(codestar-connections|codeconnections):[a-z]{2}(-[a-z]+)+-\d:\d{12}:connection\/[A-Za-z0-9-]+$/.test(arn)
    ? undefined
    : `must be a CodeConnections connection ARN (arn:aws:codeconnections:<region>:<account>:connection/<id>, or codestar-connections), got ${JSON.stringify(arn)}; create the connection in the console (Developer Tools, Settings, Connections)`;
}

/** `owner/repo`, as CodeConnections names a repository. */
export function checkRepository(repository: string): string | undefined {
  return /^[A-Za-z0-9][A-Za-z0-9_.-]*\/[A-Za-z0-9_.-]+$/.test(repository) && !/\/\.\.?$/.test(repository)
    ? undefined
    : `must be owner/repo (like example/lambda-sse: letters, digits, . _ -), got ${JSON.stringify(repository)}`;
}

/** A git branch name, roughly as `git check-ref-format --branch` has it, in a shell-safe alphabet. */
export function checkBranchName(branch: string): string | undefined {
  const ok = /^[A-Za-z0-9._/-]{1,255}$/.test(branch) &&
    !/^[-/.]|\/$|\.$|\.lock$|\.\.|\/\/|\/\./.test(branch);
  return ok
    ? undefined
    : `must be a git branch name (letters, digits, . _ - /; not starting with - / or ., not ending with / . or .lock, no .. or //), got ${JSON.stringify(branch)}`;
}

/** A stage name: a construct id, a CodePipeline stage and the prefix of a stack name. */
export function checkPipelineStageName(name: string): string | undefined {
  return /^[A-Za-z][A-Za-z0-9-]{0,63}$/.test(name)
    ? undefined
    : `must start with a letter and hold only letters, digits and hyphens (at most 64 characters), got ${JSON.stringify(name)}`;
}

export function checkAccountId(account: string): string | undefined {
  return /^\d{12}$/.test(account) ? undefined : `must be a 12-digit AWS account id, got ${JSON.stringify(account)}`;
}

export function checkRegion(region: string): string | undefined {
  return /^[a-z]{2}(-[a-z]+)+-\d$/.test(region) ? undefined : `must be an AWS region like eu-west-1, got ${JSON.stringify(region)}`;
}

/** A rustup toolchain name: a version or a channel, optionally dated; it goes into a shell command as it is. */
export function checkRustToolchain(toolchain: string): string | undefined {
  return /^(\d+\.\d+(\.\d+)?|stable|beta|nightly)(-\d{4}-\d{2}-\d{2})?$/.test(toolchain)
    ? undefined
    : `must be a rustup toolchain like 1.95.0, stable or nightly-2026-01-01, got ${JSON.stringify(toolchain)}`;
}

function checkSynthTimeout(timeout: Duration): string | undefined {
  if (timeout.isUnresolved()) return 'must be a concrete Duration, not a token';
  const minutes = timeout.toMinutes({ integral: false });
  return Number.isInteger(minutes) && minutes >= 5 && minutes <= 480
    ? undefined
    : `must be whole minutes from 5 to 480 (CodeBuild's limit), got ${timeout.toHumanString()}`;
}

/** One `-c key=value` of the synth command. */
export function checkSynthContextEntry(key: string, value: string): string | undefined {
  if (!/^[A-Za-z0-9:._-]+$/.test(key)) return 'is not a context key: use letters, digits and : . _ -';
  if (typeof value !== 'string') return `must be a string, got ${JSON.stringify(value)}`;
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(value)) return `holds a control character, which a one-line shell command cannot carry: ${JSON.stringify(value)}`;
  return undefined;
}

/** A word for a POSIX shell: as it is when it is plainly safe, single-quoted otherwise. */
export function shellQuote(word: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

/** `npx cdk synth` with the context as `-c key=value` arguments, sorted by key so the command is stable. */
export function synthCommand(context: Readonly<Record<string, string>>): string {
  const args = Object.keys(context).sort().map((key) => ` -c ${shellQuote(`${key}=${context[key]}`)}`);
  return `npx cdk synth${args.join('')}`;
}

/**
 * One stage of `-c sse:pipelineStages`: `name`, or `name@account/region`
 * for a stage in another account or region.
 */
export function parseStageSpec(spec: string): { stage?: { name: string; env?: { account: string; region: string } }; problem?: string } {
  const match = /^([^@]*)(?:@([^/]*)\/(.*))?$/.exec(spec);
  const usage = 'name or name@account/region, like prod@111122223333/eu-west-1';
  if (!match || (spec.includes('@') && match[2] === undefined)) return { problem: `${JSON.stringify(spec)} must be ${usage}` };
  const [, name, account, region] = match;
  const problems = [
    checkPipelineStageName(name) && `the stage name ${checkPipelineStageName(name)}`,
    account !== undefined && checkAccountId(account) && `the account ${checkAccountId(account)}`,
    region !== undefined && checkRegion(region) && `the region ${checkRegion(region)}`,
  ].filter((p): p is string => typeof p === 'string');
  if (problems.length > 0) return { problem: `${JSON.stringify(spec)} (${usage}): ${problems.join('; ')}` };
  return { stage: account === undefined ? { name } : { name, env: { account, region: region! } } };
}
