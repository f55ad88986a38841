import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { SseStage } from '../cdk/sse-stage';
import { testApp } from './helpers';

describe('SseStage', () => {
  it('holds the stream stack, named after the stage by default', () => {
    const stage = new SseStage(testApp(), 'dev');
    assert.equal(stage.stack.stackName, 'dev-SseStreamStack');
    assert.equal(stage.node.findAll().filter((c) => Stack.isStack(c)).length, 1);
    const template = Template.fromStack(stage.stack);
    template.hasResourceProperties('AWS::Lambda::Url', { InvokeMode: 'RESPONSE_STREAM', AuthType: 'AWS_IAM' });
    assert.ok(template.toJSON().Outputs.FunctionUrl && template.toJSON().Outputs.Region);
  });

  it('passes the stack props and its own stackName and env through', () => {
    const stage = new SseStage(testApp(), 'prod', {
      stackName: 'SseProd',
      env: { account: '444455556666', region: 'us-east-1' },
      sseFunction: { memorySize: 512 },
      streamsTable: false,
      monitoring: false,
    });
    assert.equal(stage.stack.stackName, 'SseProd');
    assert.deepEqual([stage.stack.account, stage.stack.region], ['444455556666', 'us-east-1']);
    const template = Template.fromStack(stage.stack);
    template.hasResourceProperties('AWS::Lambda::Function', { MemorySize: 512 });
    template.resourceCountIs('AWS::DynamoDB::Table', 0);
    template.resourceCountIs('AWS::CloudWatch::Alarm', 0);
    assert.equal(stage.stack.functionUrlOutput.node.id, 'FunctionUrl');
    assert.equal(stage.stack.regionOutput.node.id, 'Region');
  });

  it('refuses a stack name CloudFormation would refuse', () => {
    assert.throws(() => new SseStage(testApp(), 'dev', { stackName: 'my_stack' }), /Invalid props for SseStage dev; change:\n {2}- stackName must start with a letter and hold only letters, digits and hyphens \(at most 128 characters\), got "my_stack"/);
  });

  it('refuses a stage name that makes the default stack name invalid, saying to give stackName', () => {
    assert.throws(() => new SseStage(testApp(), 'dev_1'), /the default stack name "dev_1-SseStreamStack" \(from the stage name\) must start with a letter .*: give stackName, or a stage name of letters, digits and hyphens/);
  });

  it('refuses props the stack refuses', () => {
    assert.throws(() => new SseStage(testApp(), 'dev', { sseFunction: { memorySize: 64 } }), /memorySize must be an integer from 128 to 10240/);
  });
});
