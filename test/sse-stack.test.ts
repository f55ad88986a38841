import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Template } from 'aws-cdk-lib/assertions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { SseStreamStack } from '../cdk/sse-stack';
import { testApp } from './helpers';

function outputsOf(stack: SseStreamStack): Record<string, { Value: unknown }> {
  return Template.fromStack(stack).toJSON().Outputs;
}

describe('SseStreamStack outputs', () => {
  const stack = new SseStreamStack(testApp(), 'Sse');
  const template = Template.fromStack(stack);
  const urlId = Object.keys(template.findResources('AWS::Lambda::Url'))[0];
  const functionId = Object.keys(template.findResources('AWS::Lambda::Function'))[0];
  const url = { 'Fn::GetAtt': [urlId, 'FunctionUrl'] };
  const outputs = outputsOf(stack);

  it('prints the URL, the function name and the region', () => {
    assert.deepEqual(outputs.FunctionUrl.Value, url);
    assert.deepEqual(outputs.FunctionName.Value, { Ref: functionId });
    assert.deepEqual(outputs.Region.Value, { Ref: 'AWS::Region' });
  });

  it('prints a signed curl command for /events', () => {
    assert.deepEqual(outputs.CurlCommand.Value, {
      'Fn::Join': ['', [
        'curl -N --aws-sigv4 "aws:amz:',
        { Ref: 'AWS::Region' },
        ':lambda" --user "$AWS_ACCESS_KEY_ID:$AWS_SECRET_ACCESS_KEY" -H "x-amz-security-token: $AWS_SESSION_TOKEN" ',
        url,
        'events',
      ]],
    });
  });

  it('prints an unsigned curl command when the URL is public', () => {
    const publicStack = new SseStreamStack(testApp(), 'Public', { sseFunction: { authType: lambda.FunctionUrlAuthType.NONE } });
    const value = JSON.stringify(outputsOf(publicStack).CurlCommand.Value);
    assert.match(value, /"curl -N "/);
    assert.doesNotMatch(value, /sigv4/);
  });

  it('uses the region of an environment-bound stack literally', () => {
    const bound = new SseStreamStack(testApp(), 'Bound', { env: { account: '123456789012', region: 'eu-west-1' } });
    const outputs = outputsOf(bound);
    assert.equal(outputs.Region.Value, 'eu-west-1');
    assert.match(JSON.stringify(outputs.CurlCommand.Value), /aws:amz:eu-west-1:lambda/);
  });
});
