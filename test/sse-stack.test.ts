import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
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

/** `{ "Fn::Join": ["", parts] }` with each token replaced as `values` says (by its JSON). */
function filledIn(value: unknown, values: [unknown, string][]): string {
  const parts = (value as { 'Fn::Join': [string, unknown[]] })['Fn::Join'][1];
  return parts
    .map((part) => {
      if (typeof part === 'string') return part;
      const found = values.find(([token]) => JSON.stringify(token) === JSON.stringify(part));
      return found ? found[1] : assert.fail(`unexpected part ${JSON.stringify(part)}`);
    })
    .join('');
}

describe('SseStreamStack durable streams', () => {
  const stack = new SseStreamStack(testApp(), 'Sse');
  const template = Template.fromStack(stack);
  const [tableId] = Object.keys(template.findResources('AWS::DynamoDB::Table'));
  const outputs = outputsOf(stack);
  const region = { Ref: 'AWS::Region' };

  it('adds one SseTable by default, kept on delete, and gives it to the function', () => {
    template.resourceCountIs('AWS::DynamoDB::Table', 1);
    template.hasResource('AWS::DynamoDB::Table', { DeletionPolicy: 'Retain', Properties: { BillingMode: 'PAY_PER_REQUEST' } });
    assert.ok(stack.streamsTable);
    assert.equal(stack.sseFunction.streamsTable, stack.streamsTable.table);
    template.hasResourceProperties('AWS::Lambda::Function', { Environment: { Variables: Match.objectLike({ SSE_TABLE_NAME: { Ref: tableId }, SSE_POLL_MIN_MS: '50', SSE_POLL_MAX_MS: '1000' }) } });
  });

  it('prints the table name', () => {
    assert.deepEqual(outputs.TableName.Value, { Ref: tableId });
  });

  it('prints a publish command that a shell runs with the table, region and retention in the environment', () => {
    const command = filledIn(outputs.PublishCommand.Value, [[region, 'eu-west-1'], [{ Ref: tableId }, 'SseStreamStack-StreamsTable-ABC123']]);
    assert.equal(command, "AWS_REGION=eu-west-1 SSE_TABLE_NAME=SseStreamStack-StreamsTable-ABC123 SSE_RETENTION_HOURS=24 cargo run --release -q --bin sse-publish -- --stream demo 'hello'");
    // What the shell hands cargo: a stand-in cargo on PATH prints its environment and arguments.
    const bin = fs.mkdtempSync(path.join(os.tmpdir(), 'sse-fake-cargo-'));
    try {
      fs.writeFileSync(path.join(bin, 'cargo'), '#!/bin/sh\necho "$AWS_REGION|$SSE_TABLE_NAME|$SSE_RETENTION_HOURS"\nfor arg in "$@"; do echo "$arg"; done\n', { mode: 0o755 });
      for (const shell of ['bash', 'sh']) {
        // PATH is set in the script: bash may read a .bashrc that puts the real cargo first.
        const output: string = execFileSync(shell, ['-c', `PATH='${bin}':"$PATH"; ${command}`], { env: { PATH: process.env.PATH ?? '' }, encoding: 'utf8' });
        assert.deepEqual(output.split('\n'), ['eu-west-1|SseStreamStack-StreamsTable-ABC123|24', 'run', '--release', '-q', '--bin', 'sse-publish', '--', '--stream', 'demo', 'hello', ''], shell);
      }
    } finally {
      fs.rmSync(bin, { recursive: true, force: true });
    }
  });

  it('prints a curl command for /streams/demo made as the /events one is', () => {
    const events = (outputs.CurlCommand.Value as { 'Fn::Join': [string, unknown[]] })['Fn::Join'][1];
    const streams = (outputs.StreamCurlCommand.Value as { 'Fn::Join': [string, unknown[]] })['Fn::Join'][1];
    assert.deepEqual(streams, [...events.slice(0, -1), 'streams/demo']);
    assert.equal(events.at(-1), 'events');
  });

  it('builds the table from its props, with the retention in the publish command', () => {
    const custom = new SseStreamStack(testApp(), 'Custom', {
      streamsTable: { retentionHours: 168, removalPolicy: RemovalPolicy.DESTROY, publisherRoleArns: ['arn:aws:iam::210987654321:role/producer'] },
      sseFunction: { durable: { pollMinMs: 20, pollMaxMs: 2000, tailBufferKib: 256 } },
    });
    const customTemplate = Template.fromStack(custom);
    customTemplate.hasResource('AWS::DynamoDB::Table', {
      DeletionPolicy: 'Delete',
      Properties: { ResourcePolicy: { PolicyDocument: { Statement: [Match.objectLike({ Principal: { AWS: 'arn:aws:iam::210987654321:role/producer' } })] } } },
    });
    customTemplate.hasResourceProperties('AWS::Lambda::Function', { Environment: { Variables: Match.objectLike({ SSE_POLL_MIN_MS: '20', SSE_POLL_MAX_MS: '2000', SSE_TAIL_BUFFER_KIB: '256' }) } });
    assert.match(JSON.stringify(outputsOf(custom).PublishCommand.Value), / SSE_RETENTION_HOURS=168 cargo run /);
  });

  it('leaves the table, its outputs and the durable variables out on streamsTable: false', () => {
    const without = new SseStreamStack(testApp(), 'Without', { streamsTable: false });
    const withoutTemplate = Template.fromStack(without);
    withoutTemplate.resourceCountIs('AWS::DynamoDB::Table', 0);
    assert.equal(without.streamsTable, undefined);
    assert.deepEqual(Object.keys(outputsOf(without)).sort(), ['CurlCommand', 'DashboardUrl', 'FunctionName', 'FunctionUrl', 'Region']);
    assert.doesNotMatch(JSON.stringify(withoutTemplate.toJSON()), /SSE_TABLE_NAME|SSE_POLL|dynamodb/);
    assert.throws(() => without.publishCommand('demo', 'hello'), /Without has no table of durable streams \(streamsTable is false\): there is nothing to publish to/);
  });

  it('uses a table given to the function when streamsTable is false', () => {
    const own = new SseStreamStack(testApp(), 'Own', { streamsTable: false, sseFunction: { streamsTable: dynamodb.Table.fromTableName(new Stack(testApp(), 'Other'), 'T', 'shared-streams') } });
    assert.match(JSON.stringify(Template.fromStack(own).toJSON()), /"SSE_TABLE_NAME":"shared-streams"/);
  });

  it('refuses a table given to the function while it adds its own', () => {
    assert.throws(
      () => new SseStreamStack(testApp(), 'Both', { sseFunction: { streamsTable: dynamodb.Table.fromTableName(new Stack(testApp(), 'Other'), 'T', 'shared-streams') } }),
      /sseFunction\.streamsTable is given while the stack adds its own table: set streamsTable to false to use yours, or remove sseFunction\.streamsTable/,
    );
  });

  it('refuses a publish command it cannot quote', () => {
    assert.throws(() => stack.publishCommand('my stream', "it's"), /stream must be 1 to 128 of A-Z a-z 0-9 - _ \. \(a durable stream's name\), got "my stream"\n {2}- data "it's" holds a single quote/);
  });
});
