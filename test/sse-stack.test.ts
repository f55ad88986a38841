import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { Template } from 'aws-cdk-lib/assertions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { SseStreamStack } from '../cdk/sse-stack';
import { VERIFIER_KEY, VERIFIER_SECRET, VERIFIER_TEMPORARY_KEY, VERIFIER_TOKEN, startVerifier, testApp } from './helpers';

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

  it('prints a curl command for /events that verifies with and without a session token, in bash and sh', async () => {
    const upstream = http.createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/event-stream' }).end('data: signed\n\n'));
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
    const verifier = await startVerifier(`http://127.0.0.1:${(upstream.address() as AddressInfo).port}/`, 'eu-west-1');
    try {
      // The command as the output prints it once deployed: region and URL filled in.
      const parts = (outputs.CurlCommand.Value as { 'Fn::Join': [string, unknown[]] })['Fn::Join'][1];
      const command = parts
        .map((part) => (typeof part === 'string' ? part : JSON.stringify(part) === JSON.stringify(url) ? verifier.url : (part as { Ref: string }).Ref === 'AWS::Region' ? 'eu-west-1' : assert.fail(`unexpected part ${JSON.stringify(part)}`)))
        .join('');
      assert.match(command, /^curl -N --aws-sigv4 "aws:amz:eu-west-1:lambda" /);
      for (const shell of ['bash', 'sh']) {
        for (const [key, token] of [[VERIFIER_KEY, undefined], [VERIFIER_TEMPORARY_KEY, VERIFIER_TOKEN]] as const) {
          const env = { PATH: process.env.PATH ?? '', AWS_ACCESS_KEY_ID: key, AWS_SECRET_ACCESS_KEY: VERIFIER_SECRET, ...(token ? { AWS_SESSION_TOKEN: token } : {}) };
          // Asynchronously: the upstream server answers from this process's event loop.
          const result = await promisify(execFile)(shell, ['-c', `${command} --fail-with-body --silent --show-error`], { env, encoding: 'utf8' }).catch(
            (error: { stderr?: string; stdout?: string }) => assert.fail(`${shell}, ${token ? 'session token' : 'long-term keys'}: ${error.stderr}${error.stdout}\n${verifier.output()}`),
          );
          assert.equal(result.stdout, 'data: signed\n\n');
        }
      }
    } finally {
      verifier.stop();
      upstream.close();
    }
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
