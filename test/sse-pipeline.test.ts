import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { type App, Duration, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { AwsSolutionsChecks } from 'cdk-nag';
import { buildSseApp } from '../cdk/sse-app';
import {
  type SsePipelineStackProps,
  SsePipelineStack,
  checkBranchName,
  checkConnectionArn,
  checkRepository,
  parseStageSpec,
  shellQuote,
  synthCommand,
} from '../cdk/sse-pipeline';
import { testApp } from './helpers';

const CONNECTION_ARN = 'arn:aws:codeconnections:eu-west-1:111122223333:connection/0a1b2c3d-4e5f-6a7b-8c9d-0e1f2a3b4c5d';
const PIPELINE_ENV = { account: '111122223333', region: 'eu-west-1' };
const BASE: SsePipelineStackProps = { connectionArn: CONNECTION_ARN, repository: 'example/lambda-sse' };

interface CfnAction {
  Name: string;
  RunOrder: number;
  ActionTypeId: { Category: string; Provider: string };
  Configuration: Record<string, unknown>;
}
interface CfnStage {
  Name: string;
  Actions: CfnAction[];
}

function build(props: Partial<SsePipelineStackProps> = {}, app: App = testApp()) {
  const stack = new SsePipelineStack(app, 'SsePipelineStack', { ...BASE, ...props });
  const template = Template.fromStack(stack);
  const pipeline = Object.values(template.findResources('AWS::CodePipeline::Pipeline'))[0];
  const stages: CfnStage[] = pipeline.Properties.Stages;
  const project = (construct: { node: { defaultChild?: unknown } }) => template.toJSON().Resources[stack.getLogicalId(construct.node.defaultChild as never)].Properties;
  return { app, stack, template, stages, project };
}

/** The message the constructor throws for these props. */
function propsError(props: Partial<SsePipelineStackProps>): string {
  try {
    build(props);
  } catch (error) {
    return (error as Error).message;
  }
  assert.fail('expected the props to be refused');
}

describe('SsePipelineStack: source and synth', () => {
  it('follows the branch of the repository through the connection, main by default', () => {
    const source = (stages: CfnStage[]) => stages[0].Actions[0];
    const { stages } = build();
    assert.equal(stages[0].Name, 'Source');
    assert.deepEqual(source(stages).ActionTypeId, { Category: 'Source', Owner: 'AWS', Provider: 'CodeStarSourceConnection', Version: '1' });
    assert.deepEqual(source(stages).Configuration, { ConnectionArn: CONNECTION_ARN, FullRepositoryId: 'example/lambda-sse', BranchName: 'main' });
    assert.equal(source(build({ branch: 'release/2026' }).stages).Configuration.BranchName, 'release/2026');
  });

  it('synthesizes on the standard Ubuntu image, unprivileged, with a local cache and an hour', () => {
    const { stack, project } = build();
    const synth = project(stack.pipeline.synthProject);
    assert.equal(synth.Environment.Image, 'aws/codebuild/standard:7.0');
    assert.equal(synth.Environment.PrivilegedMode, false);
    assert.equal(synth.Environment.ComputeType, 'BUILD_GENERAL1_MEDIUM');
    assert.deepEqual(synth.Cache, { Type: 'LOCAL', Modes: ['LOCAL_CUSTOM_CACHE'] });
    assert.equal(synth.TimeoutInMinutes, 60);
    const spec = JSON.parse(synth.Source.BuildSpec);
    assert.deepEqual(spec.cache.paths, ['/root/.cargo/registry/**/*', '/root/.cargo/git/**/*', '/root/.rustup/**/*', '/root/.npm/**/*', 'target/**/*', '/root/.cache/pip/**/*']);
    assert.equal(spec.env.shell, 'bash');
    assert.deepEqual(spec.phases.install['runtime-versions'], { nodejs: '20' });
    assert.equal(spec.artifacts['base-directory'], 'cdk.out');
  });

  it('installs the pinned toolchain, the arm64 target and the repository\'s tools, then tests before it synthesizes', () => {
    const { stack, project } = build({ rustToolchain: '1.94.1', synthComputeType: undefined, synthTimeout: Duration.minutes(90) });
    const synth = project(stack.pipeline.synthProject);
    const spec = JSON.parse(synth.Source.BuildSpec);
    const install: string[] = spec.phases.install.commands;
    assert.match(install[1], /^sh \/tmp\/rustup-init\.sh -y .*--default-toolchain 1\.94\.1 --component rustfmt,clippy$/);
    assert.ok(install.includes('rustup target add aarch64-unknown-linux-gnu'), install.join('\n'));
    const tools = install.indexOf('source scripts/ensure-tools.sh && ensure_python_tools && ensure_node_modules');
    assert.ok(tools > install.indexOf('rustup target add aarch64-unknown-linux-gnu'), install.join('\n'));
    // The browser tests' Chromium: playwright-core's (locked by npm ci), handed to them through SSE_CHROMIUM.
    assert.deepEqual(install.slice(tools + 1), [
      'npx --no-install playwright-core install chromium',
      'export SSE_CHROMIUM="$(node -p "require(\'playwright-core\').chromium.executablePath()")"',
    ]);
    // No version of cargo-lambda or zig here: scripts/ensure-tools.sh pins them.
    assert.doesNotMatch(install.join('\n'), /cargo-lambda|ziglang/);
    const build_: string[] = spec.phases.build.commands;
    assert.deepEqual(build_, ['npm test', 'rm -rf cdk.out', 'npx cdk synth']);
    assert.equal(synth.TimeoutInMinutes, 90);
  });

  it('passes the synth context to cdk synth, sorted and shell-quoted', () => {
    const { stack, project } = build({ synthContext: { 'sse:pipeline': 'true', 'sse:corsOrigins': 'https://a.example.com,https://b.example.com', 'sse:alarmEmail': "o'neil ops@example.com" } });
    const spec = JSON.parse(project(stack.pipeline.synthProject).Source.BuildSpec);
    assert.equal(
      spec.phases.build.commands[2],
      `npx cdk synth -c 'sse:alarmEmail=o'\\''neil ops@example.com' -c sse:corsOrigins=https://a.example.com,https://b.example.com -c sse:pipeline=true`,
    );
  });

  it('mutates itself after the synth, and writes every project\'s logs to one group with a retention', () => {
    const { stages, template } = build();
    assert.deepEqual(stages.map((s) => s.Name).slice(0, 4), ['Source', 'Build', 'UpdatePipeline', 'Assets']);
    assert.equal(stages[2].Actions[0].Name, 'SelfMutate');
    template.resourceCountIs('AWS::Logs::LogGroup', 1);
    template.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 30 });
    const projects = Object.values(template.findResources('AWS::CodeBuild::Project'));
    assert.ok(projects.length >= 4);
    for (const p of projects) {
      assert.equal(p.Properties.Environment.PrivilegedMode, false);
      assert.equal(p.Properties.LogsConfig.CloudWatchLogs.Status, 'ENABLED');
    }
  });

  it('encrypts the artifacts with a rotated KMS key by default, S3 managed keys when told', () => {
    const keyed = build().template;
    keyed.resourceCountIs('AWS::KMS::Key', 1);
    keyed.hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true });
    const unkeyed = build({ crossAccountKeys: false }).template;
    unkeyed.resourceCountIs('AWS::KMS::Key', 0);
    unkeyed.hasResourceProperties('AWS::S3::Bucket', { BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: Match.absent() } }] } });
  });
});

describe('SsePipelineStack: checkov', () => {
  it('skips, with reasons, only what CDK Pipelines generates and cannot be changed here', () => {
    const { template } = build();
    const skipped = (type: string) => Object.values(template.findResources(type)).flatMap((r) => ((r.Metadata?.checkov?.skip ?? []) as { id: string; comment: string }[]).map((s) => s.id)).sort();
    assert.deepEqual(skipped('AWS::S3::Bucket'), ['CKV_AWS_18', 'CKV_AWS_21']);
    assert.deepEqual(skipped('AWS::IAM::Policy'), ['CKV_AWS_111']);
    assert.deepEqual(skipped('AWS::Logs::LogGroup'), ['CKV_AWS_158']);
  });
});

describe('SsePipelineStack: stages', () => {
  it('deploys one stage, dev, by default, without approval, as dev-SseStreamStack', () => {
    const { stages, stack } = build();
    assert.deepEqual(stages.map((s) => s.Name), ['Source', 'Build', 'UpdatePipeline', 'Assets', 'dev']);
    assert.deepEqual(stages[4].Actions.map((a) => a.Name), ['SseStreamStack.Prepare', 'SseStreamStack.Deploy', 'SmokeTest']);
    assert.equal(stack.stages[0].stack.stackName, 'dev-SseStreamStack');
  });

  it('deploys the stages in order, each its own stack, every one after the first behind an approval', () => {
    const { stages, stack } = build({ stages: [{ name: 'dev' }, { name: 'staging' }, { name: 'prod', stackName: 'SseProd' }] });
    assert.deepEqual(stages.slice(4).map((s) => s.Name), ['dev', 'staging', 'prod']);
    assert.deepEqual(stack.stages.map((s) => s.stack.stackName), ['dev-SseStreamStack', 'staging-SseStreamStack', 'SseProd']);
    for (const stage of stages.slice(5)) {
      const [approve, ...rest] = [...stage.Actions].sort((a, b) => a.RunOrder - b.RunOrder);
      assert.equal(approve.ActionTypeId.Category, 'Approval');
      assert.ok(rest.every((a) => a.RunOrder > approve.RunOrder), `${stage.Name}: the approval must come first`);
    }
    assert.ok(stages[4].Actions.every((a) => a.ActionTypeId.Category !== 'Approval'));
    assert.equal(stages[6].Actions.find((a) => a.Name.endsWith('.Deploy'))?.Configuration.StackName, 'SseProd');
  });

  it('takes approvals per stage', () => {
    const { stages } = build({ stages: [{ name: 'dev', approval: true }, { name: 'prod', approval: false }] });
    assert.deepEqual(stages.slice(4).map((s) => s.Actions.some((a) => a.ActionTypeId.Category === 'Approval')), [true, false]);
  });

  it('configures every stage\'s stream stack from streamProps, and a stage\'s own props replace them', () => {
    const { stack } = build({
      stages: [{ name: 'dev' }, { name: 'prod', props: { sseFunction: { memorySize: 512 } } }],
      streamProps: { sseFunction: { memorySize: 256 }, streamsTable: false },
    });
    const [dev, prod] = stack.stages.map((s) => Template.fromStack(s.stack));
    dev.hasResourceProperties('AWS::Lambda::Function', { MemorySize: 256 });
    dev.resourceCountIs('AWS::DynamoDB::Table', 0);
    prod.hasResourceProperties('AWS::Lambda::Function', { MemorySize: 512 });
    prod.resourceCountIs('AWS::DynamoDB::Table', 0);
  });
});

describe('SsePipelineStack: the smoke test', () => {
  it('runs the repository\'s script after each deploy, with the stage stack\'s URL and region', () => {
    const { stack, stages, project } = build({ stages: [{ name: 'dev' }, { name: 'prod' }] });
    for (const [i, name] of ['dev', 'prod'].entries()) {
      const stage = stages[4 + i];
      const actions = [...stage.Actions].sort((a, b) => a.RunOrder - b.RunOrder);
      const smoke = actions.at(-1)!;
      assert.equal(smoke.Name, 'SmokeTest');
      assert.ok(smoke.RunOrder > actions.find((a) => a.Name === 'SseStreamStack.Deploy')!.RunOrder);
      // Its input is the source, so bin/smoke-test.mjs is there.
      assert.deepEqual((smoke as unknown as { InputArtifacts: { Name: string }[] }).InputArtifacts, [{ Name: 'example_lambda_sse_Source' }]);
      const namespace = stage.Actions.find((a) => a.Name === 'SseStreamStack.Deploy') as unknown as { Namespace: string };
      assert.deepEqual(JSON.parse(smoke.Configuration.EnvironmentVariables as string), [
        { name: 'FUNCTION_URL', type: 'PLAINTEXT', value: `#{${namespace.Namespace}.FunctionUrl}` },
        { name: 'REGION', type: 'PLAINTEXT', value: `#{${namespace.Namespace}.Region}` },
      ]);
      const p = project(stack.smokeTestSteps[name].project);
      // Amazon Linux 2023 (curl 8 signs the session token header; Ubuntu 22.04's 7.81 does not).
      assert.equal(p.Environment.Image, 'aws/codebuild/amazonlinux-x86_64-standard:5.0');
      assert.equal(p.Environment.PrivilegedMode, false);
      const spec = JSON.parse(p.Source.BuildSpec);
      assert.deepEqual(spec.phases.build.commands, ['node bin/smoke-test.mjs --url "$FUNCTION_URL" --region "$REGION"']);
      assert.equal(spec.env.shell, 'bash');
      assert.deepEqual(p.ServiceRole, { 'Fn::GetAtt': [stack.getLogicalId(stack.smokeTestRoles[name].node.defaultChild as never), 'Arn'] });
    }
  });

  it('reads the FunctionUrl and Region outputs, whose logical ids did not change', () => {
    const { stack } = build();
    const outputs = Template.fromStack(stack.stages[0].stack).toJSON().Outputs;
    assert.ok(outputs.FunctionUrl && outputs.Region);
    assert.equal(stack.stages[0].stack.functionUrlOutput.node.id, 'FunctionUrl');
    assert.equal(stack.stages[0].stack.regionOutput.node.id, 'Region');
  });

  it('gives each smoke test its own named role, and the stage\'s function admits exactly that role (env-agnostic: the stage\'s own account)', () => {
    const { stack, template } = build({ stages: [{ name: 'dev' }, { name: 'prod' }] });
    for (const name of ['dev', 'prod']) {
      template.hasResourceProperties('AWS::IAM::Role', {
        RoleName: `SsePipelineStack-smoke-${name}`,
        AssumeRolePolicyDocument: { Statement: [Match.objectLike({ Principal: { Service: 'codebuild.amazonaws.com' } })] },
      });
    }
    // Same account: the resource policy is enough; the role's own policy names no Lambda action.
    assert.doesNotMatch(JSON.stringify(template.findResources('AWS::IAM::Policy')), /lambda:/);
    const roleArn = { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':iam::', { Ref: 'AWS::AccountId' }, ':role/SsePipelineStack-smoke-dev']] };
    const dev = Template.fromStack(stack.stages[0].stack);
    dev.resourceCountIs('AWS::Lambda::Permission', 2);
    dev.hasResourceProperties('AWS::Lambda::Permission', { Action: 'lambda:InvokeFunctionUrl', FunctionUrlAuthType: 'AWS_IAM', Principal: roleArn });
    dev.hasResourceProperties('AWS::Lambda::Permission', { Action: 'lambda:InvokeFunction', InvokedViaFunctionUrl: true, Principal: roleArn });
  });

  it('names the pipeline account in the role ARN when it is known', () => {
    const { stack } = build({ env: PIPELINE_ENV });
    Template.fromStack(stack.stages[0].stack).hasResourceProperties('AWS::Lambda::Permission', {
      Action: 'lambda:InvokeFunctionUrl',
      Principal: 'arn:aws:iam::111122223333:role/SsePipelineStack-smoke-dev',
    });
  });

  it('also allows a stage in another account in the role\'s own policy, for that account\'s functions through their URLs only', () => {
    const { stack, template } = build({ env: PIPELINE_ENV, stages: [{ name: 'dev' }, { name: 'prod', env: { account: '444455556666', region: 'us-east-1' } }] });
    const prodRole = stack.getLogicalId(stack.smokeTestRoles.prod.node.defaultChild as never);
    const devRole = stack.getLogicalId(stack.smokeTestRoles.dev.node.defaultChild as never);
    const policies = Object.values(template.findResources('AWS::IAM::Policy'));
    const statementsOf = (role: string) => policies.filter((p) => JSON.stringify(p.Properties.Roles) === JSON.stringify([{ Ref: role }])).flatMap((p) => p.Properties.PolicyDocument.Statement);
    const lambdaStatements = statementsOf(prodRole).filter((s) => JSON.stringify(s.Action).includes('lambda:'));
    assert.deepEqual(lambdaStatements, [
      { Sid: 'InvokeStageFunctionUrl', Effect: 'Allow', Action: 'lambda:InvokeFunctionUrl', Resource: 'arn:aws:lambda:us-east-1:444455556666:function:*', Condition: { StringEquals: { 'lambda:FunctionUrlAuthType': 'AWS_IAM' } } },
      { Sid: 'InvokeStageFunctionViaUrl', Effect: 'Allow', Action: 'lambda:InvokeFunction', Resource: 'arn:aws:lambda:us-east-1:444455556666:function:*', Condition: { Bool: { 'lambda:InvokedViaFunctionUrl': 'true' } } },
    ]);
    assert.equal(statementsOf(devRole).filter((s) => JSON.stringify(s.Action).includes('lambda:')).length, 0);
    Template.fromStack(stack.stages[1].stack).hasResourceProperties('AWS::Lambda::Permission', {
      Action: 'lambda:InvokeFunctionUrl',
      Principal: 'arn:aws:iam::111122223333:role/SsePipelineStack-smoke-prod',
    });
  });

  it('grants nothing for a stage whose URL is public (authType NONE)', () => {
    const { stack, template } = build({ streamProps: { sseFunction: { authType: lambda.FunctionUrlAuthType.NONE, reservedConcurrentExecutions: 5 } } });
    const permissions = Template.fromStack(stack.stages[0].stack).findResources('AWS::Lambda::Permission');
    assert.doesNotMatch(JSON.stringify(permissions), /smoke/);
    assert.doesNotMatch(JSON.stringify(template.findResources('AWS::IAM::Policy')), /lambda:/);
  });
});

describe('SsePipelineStack with cdk-nag AwsSolutionsChecks', () => {
  const report = (app: App) => JSON.parse(fs.readFileSync(path.join(app.outdir, 'validation-report.json'), 'utf8'));
  /** The stack in an app checked by cdk-nag, not yet synthesized (a Template would synthesize it first, unchecked). */
  const checked = (props: Partial<SsePipelineStackProps> = {}) => {
    const app = testApp();
    const stack = new SsePipelineStack(app, 'SsePipelineStack', { ...BASE, ...props });
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
    return { app, stack };
  };
  const variants: [string, Partial<SsePipelineStackProps>][] = [
    ['env-agnostic, two stages', { stages: [{ name: 'dev' }, { name: 'prod' }] }],
    ['a stage in another account and region', { env: PIPELINE_ENV, stages: [{ name: 'dev' }, { name: 'prod', env: { account: '444455556666', region: 'us-east-1' } }] }],
    ['without KMS keys', { crossAccountKeys: false }],
  ];
  for (const [name, props] of variants) {
    it(`synthesizes ${name} with no unacknowledged finding`, () => {
      const { app } = checked(props);
      // The same setup fails on an unacknowledged finding (below), so an empty report means none.
      app.synth();
      assert.deepEqual(report(app).pluginReports.flatMap((p: { violations: unknown[] }) => p.violations), []);
    });
  }

  it('still fails on a finding in a stage stack: the acknowledgements stop at the pipeline', () => {
    const { app, stack } = checked();
    stack.stages[0].stack.sseFunction.role.addToPolicy(new iam.PolicyStatement({ actions: ['s3:GetObject'], resources: ['*'] }));
    assert.throws(() => app.synth(), /Validation failed/);
    assert.deepEqual(report(app).pluginReports.flatMap((p: { violations: { ruleName: string }[] }) => p.violations.map((v) => v.ruleName)), ['AwsSolutions-IAM5[Resource::*]']);
  });

  it('still fails on a wildcard added to a smoke test role', () => {
    const { app, stack } = checked();
    stack.smokeTestRoles.dev.addToPolicy(new iam.PolicyStatement({ actions: ['lambda:InvokeFunctionUrl'], resources: ['*'] }));
    assert.throws(() => app.synth(), /Validation failed/);
    assert.deepEqual(report(app).pluginReports.flatMap((p: { violations: { ruleName: string }[] }) => p.violations.map((v) => v.ruleName)), ['AwsSolutions-IAM5[Resource::*]']);
  });
});

describe('SsePipelineStack refuses', () => {
  const cases: [string, Partial<SsePipelineStackProps>, RegExp][] = [
    ['a connection ARN of another service', { connectionArn: 'arn:aws:codecommit:eu-west-1:111122223333:repo' }, /connectionArn must be a CodeConnections connection ARN \(arn:aws:codeconnections:<region>:<account>:connection\/<id>, or codestar-connections\), got "arn:aws:codecommit/],
    ['a repository without an owner', { repository: 'lambda-sse' }, /repository must be owner\/repo \(like example\/lambda-sse/],
    ['a branch with a space', { branch: 'my branch' }, /branch must be a git branch name .*got "my branch"/],
    ['a branch with ..', { branch: 'a..b' }, /branch must be a git branch name/],
    ['a toolchain that is not one', { rustToolchain: '1.95; rm -rf /' }, /rustToolchain must be a rustup toolchain like 1\.95\.0, stable or nightly-2026-01-01/],
    ['a synth timeout over 8 hours', { synthTimeout: Duration.hours(9) }, /synthTimeout must be whole minutes from 5 to 480 \(CodeBuild's limit\), got 9 hours/],
    ['a synth context key with a space', { synthContext: { 'sse:a b': 'x' } }, /synthContext\["sse:a b"\] is not a context key/],
    ['a synth context value with a newline', { synthContext: { 'sse:memory': '256\nrm -rf /' } }, /synthContext\["sse:memory"\] holds a control character/],
    ['no stage', { stages: [] }, /stages is empty: give at least one stage/],
    ['a stage name with an underscore', { stages: [{ name: 'dev_1' }] }, /stages\[0\]\.name must start with a letter and hold only letters, digits and hyphens \(at most 64 characters\), got "dev_1"/],
    ['two stages with one name (ignoring case)', { stages: [{ name: 'dev' }, { name: 'Dev' }] }, /stages\[1\]\.name "Dev" repeats stage "dev" \(names are compared ignoring case, as IAM compares role names\)/],
    ['a bad stack name', { stages: [{ name: 'dev', stackName: '1stack' }] }, /stages\[0\]\.stackName must start with a letter/],
    ['two stages with one stack name', { stages: [{ name: 'dev', stackName: 'Sse' }, { name: 'prod', stackName: 'Sse' }] }, /stages\[1\]\.stackName "Sse" is also stage dev's stack name/],
    ['a stage name that makes the role name too long', { stages: [{ name: 'a'.repeat(42) }] }, /stages\[0\]\.name "a{42}" makes the smoke test role's name "SsePipelineStack-smoke-a{42}" 65 characters long, and IAM allows 64: shorten the stage name \(to at most 41 characters\)/],
    ['a stage in an account when the pipeline has none', { stages: [{ name: 'prod', env: { account: '444455556666', region: 'eu-west-1' } }] }, /stages\[0\]\.env\.account 444455556666: stage prod names an account, but the pipeline stack has no env\.account.*give the pipeline stack an env\.account/],
    ['a stage in a region when the pipeline has none', { stages: [{ name: 'prod', env: { region: 'us-east-1' } }] }, /stages\[0\]\.env\.region us-east-1: .*give the pipeline stack an env/],
    ['a stage account that is not one', { env: PIPELINE_ENV, stages: [{ name: 'prod', env: { account: '4444', region: 'eu-west-1' } }] }, /stages\[0\]\.env\.account must be a 12-digit AWS account id, got "4444"/],
    ['a stage region that is not one', { env: PIPELINE_ENV, stages: [{ name: 'prod', env: { account: '444455556666', region: 'Ireland' } }] }, /stages\[0\]\.env\.region must be an AWS region like eu-west-1, got "Ireland"/],
    ['no KMS keys with a stage in another account', { env: PIPELINE_ENV, crossAccountKeys: false, stages: [{ name: 'prod', env: { account: '444455556666', region: 'eu-west-1' } }] }, /crossAccountKeys is false, but stage\(s\) prod deploy to another account, which can only read the artifacts through a KMS key/],
  ];
  for (const [name, props, expected] of cases) {
    it(name, () => assert.match(propsError(props), expected));
  }

  it('every problem in one message, before building anything', () => {
    const app = testApp();
    assert.throws(() => new SsePipelineStack(app, 'SsePipelineStack', { connectionArn: 'x', repository: 'y', branch: '-b' }), (error: Error) => error.message.split('\n').length === 4);
    assert.equal(app.node.findAll().filter((c) => c.node.id === 'Pipeline').length, 0);
  });
});

describe('the pipeline helpers', () => {
  it('accept what CodeConnections, git and the stage list allow', () => {
    assert.equal(checkConnectionArn('arn:aws:codestar-connections:us-east-1:222222222222:connection/7d2469ff-514a-4e4f-9003-5ca4a43cdc41'), undefined);
    assert.equal(checkConnectionArn('arn:aws-us-gov:codeconnections:us-gov-west-1:222222222222:connection/7d2469ff'), undefined);
    assert.equal(checkRepository('my-org/my.repo_1'), undefined);
    assert.equal(checkBranchName('feature/sse-pipeline'), undefined);
    assert.deepEqual(parseStageSpec('dev'), { stage: { name: 'dev' } });
    assert.deepEqual(parseStageSpec('prod@444455556666/us-east-1'), { stage: { name: 'prod', env: { account: '444455556666', region: 'us-east-1' } } });
  });

  it('refuse what they must', () => {
    assert.ok(checkBranchName('main.lock'));
    assert.ok(checkBranchName('/main'));
    assert.ok(checkBranchName("ma'in"));
    assert.ok(checkRepository('owner/..'));
    assert.match(parseStageSpec('prod@444455556666').problem!, /must be name or name@account\/region/);
    assert.match(parseStageSpec('prod@4444/eu-west-1').problem!, /the account must be a 12-digit AWS account id/);
  });

  it('quote for the shell only what needs it', () => {
    assert.equal(shellQuote('sse:memory=256'), 'sse:memory=256');
    assert.equal(shellQuote('sse:metricsNamespace=Sse Prod'), `'sse:metricsNamespace=Sse Prod'`);
    assert.equal(shellQuote('$(id)'), `'$(id)'`);
    assert.equal(synthCommand({}), 'npx cdk synth');
  });
});

describe('the app with -c sse:pipeline=true', () => {
  const context = {
    'sse:pipeline': 'true',
    'sse:pipelineConnectionArn': CONNECTION_ARN,
    'sse:pipelineRepository': 'example/lambda-sse',
    'sse:pipelineStages': 'dev,prod',
    'sse:memory': '256',
    'sse:stackName': 'Sse',
  };

  it('builds the pipeline stack, its stages configured by the other keys, and synthesizes again with the same keys', () => {
    const stack = buildSseApp(testApp(context));
    assert.ok(stack instanceof SsePipelineStack);
    assert.equal(stack.stackName, 'SsePipelineStack');
    assert.deepEqual(stack.stages.map((s) => s.stack.stackName), ['dev-Sse', 'prod-Sse']);
    assert.deepEqual(stack.stageInfo.map((s) => s.approval), [false, true]);
    Template.fromStack(stack.stages[1].stack).hasResourceProperties('AWS::Lambda::Function', { MemorySize: 256 });
    const spec = JSON.parse(Template.fromStack(stack).toJSON().Resources[stack.getLogicalId(stack.pipeline.synthProject.node.defaultChild as never)].Properties.Source.BuildSpec);
    assert.equal(
      spec.phases.build.commands[2],
      `npx cdk synth -c sse:memory=256 -c sse:pipeline=true -c sse:pipelineConnectionArn=${CONNECTION_ARN} -c sse:pipelineRepository=example/lambda-sse -c sse:pipelineStages=dev,prod -c sse:stackName=Sse`,
    );
  });

  it('passes sse:pipelineApprovals=false and a branch', () => {
    const stack = buildSseApp(testApp({ ...context, 'sse:pipelineApprovals': 'false', 'sse:pipelineBranch': 'release' }));
    assert.ok(stack instanceof SsePipelineStack);
    assert.deepEqual(stack.stageInfo.map((s) => s.approval), [false, false]);
    const source = Object.values(Template.fromStack(stack).findResources('AWS::CodePipeline::Pipeline'))[0].Properties.Stages[0].Actions[0];
    assert.equal(source.Configuration.BranchName, 'release');
  });

  it('synthesizes without credentials with no unacknowledged finding, stage stacks included', () => {
    const app = testApp(context);
    buildSseApp(app);
    const assembly = app.synth();
    const report = JSON.parse(fs.readFileSync(path.join(assembly.directory, 'validation-report.json'), 'utf8'));
    assert.deepEqual(report.pluginReports.flatMap((p: { violations: unknown[] }) => p.violations), []);
    assert.deepEqual(assembly.nestedAssemblies.map((a) => a.nestedAssembly.stacks.map((s) => s.stackName)).flat(), ['dev-Sse', 'prod-Sse']);
  });
});
