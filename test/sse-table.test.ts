import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Aws, RemovalPolicy, Stack, Token } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as kms from 'aws-cdk-lib/aws-kms';
import { Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import { SseTable, grantSubscribeTo, type SseTableProps } from '../cdk/sse-table';
import { onlyResource, testApp } from './helpers';

const TABLE = 'AWS::DynamoDB::Table';

/** One SseTable in its own stack; `extra` may add grants before synthesis. */
function buildTable(props?: SseTableProps, extra?: (stack: Stack, table: SseTable) => void): { stack: Stack; table: SseTable; template: Template; tableId: string } {
  const stack = new Stack(testApp(), 'Test');
  const table = new SseTable(stack, 'Streams', props);
  extra?.(stack, table);
  const template = Template.fromStack(stack);
  const [tableId] = Object.keys(template.findResources(TABLE));
  return { stack, table, template, tableId };
}

/** The error SseTable throws for these props. */
function propsError(props: SseTableProps): string {
  try {
    new SseTable(new Stack(testApp(), 'Test'), 'Streams', props);
  } catch (error) {
    return (error as Error).message;
  }
  assert.fail('expected the props to be rejected');
}

describe('SseTable defaults', () => {
  const { table, template } = buildTable();
  const resource = onlyResource(template, TABLE);

  it('has the layout the Rust code reads and writes: stream (S) + seq (N)', () => {
    assert.deepEqual(resource.Properties.KeySchema, [
      { AttributeName: 'stream', KeyType: 'HASH' },
      { AttributeName: 'seq', KeyType: 'RANGE' },
    ]);
    assert.deepEqual(resource.Properties.AttributeDefinitions, [
      { AttributeName: 'stream', AttributeType: 'S' },
      { AttributeName: 'seq', AttributeType: 'N' },
    ]);
  });

  it('bills on demand, with point-in-time recovery and TTL on expires', () => {
    assert.equal(resource.Properties.BillingMode, 'PAY_PER_REQUEST');
    assert.equal(resource.Properties.ProvisionedThroughput, undefined);
    assert.deepEqual(resource.Properties.PointInTimeRecoverySpecification, { PointInTimeRecoveryEnabled: true });
    assert.deepEqual(resource.Properties.TimeToLiveSpecification, { AttributeName: 'expires', Enabled: true });
  });

  it('is kept when the stack is deleted or the table replaced', () => {
    assert.equal(resource.DeletionPolicy, 'Retain');
    assert.equal(resource.UpdateReplacePolicy, 'Retain');
  });

  it('lets CloudFormation name it, uses the AWS owned key, and has no resource policy', () => {
    assert.equal(resource.Properties.TableName, undefined);
    assert.equal(resource.Properties.SSESpecification, undefined);
    assert.equal(resource.Properties.ResourcePolicy, undefined);
    template.resourceCountIs('AWS::IAM::Policy', 0);
  });

  it('keeps events 24 hours, and tells producers so', () => {
    assert.equal(table.retentionHours, 24);
    assert.deepEqual(Object.keys(table.publisherEnvironment), ['SSE_TABLE_NAME', 'SSE_RETENTION_HOURS']);
    assert.equal(table.publisherEnvironment.SSE_RETENTION_HOURS, '24');
    assert.ok(Token.isUnresolved(table.publisherEnvironment.SSE_TABLE_NAME));
    assert.deepEqual(table.publisherRoleArns, []);
  });

  it('records why checkov\'s customer-managed-key check does not apply', () => {
    const skips = (resource.Metadata as { checkov: { skip: { id: string; comment: string }[] } }).checkov.skip;
    assert.deepEqual(skips.map((s) => s.id), ['CKV_AWS_119']);
    assert.match(skips[0].comment, /AWS owned key.*not secrets/);
  });
});

describe('SseTable props', () => {
  it('takes a table name', () => {
    const { template, table, stack, tableId } = buildTable({ tableName: 'sse-streams.prod_1' });
    template.hasResourceProperties(TABLE, { TableName: 'sse-streams.prod_1' });
    assert.deepEqual(stack.resolve(table.publisherEnvironment.SSE_TABLE_NAME), { Ref: tableId });
  });

  it('takes a retention, for producers only: nothing in the table changes', () => {
    const { table, template } = buildTable({ retentionHours: 8760 });
    assert.equal(table.retentionHours, 8760);
    assert.equal(table.publisherEnvironment.SSE_RETENTION_HOURS, '8760');
    assert.deepEqual(onlyResource(template, TABLE).Properties, onlyResource(buildTable().template, TABLE).Properties);
  });

  it('is deleted with the stack on RemovalPolicy.DESTROY', () => {
    const resource = onlyResource(buildTable({ removalPolicy: RemovalPolicy.DESTROY }).template, TABLE);
    assert.equal(resource.DeletionPolicy, 'Delete');
    assert.equal(resource.UpdateReplacePolicy, 'Delete');
  });

  it('takes RETAIN_ON_UPDATE_OR_DELETE', () => {
    const resource = onlyResource(buildTable({ removalPolicy: RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE }).template, TABLE);
    assert.equal(resource.DeletionPolicy, 'RetainExceptOnCreate');
  });

  it('grants publisher roles, of any account, PutItem and Query in its resource policy, modifying no role', () => {
    const roles = ['arn:aws:iam::123456789012:role/producer', 'arn:aws:iam::210987654321:role/path/other-producer'];
    const { template, table } = buildTable({ publisherRoleArns: roles });
    assert.deepEqual(onlyResource(template, TABLE).Properties.ResourcePolicy, {
      PolicyDocument: {
        Version: '2012-10-17',
        Statement: [
          { Sid: 'Publishers', Effect: 'Allow', Principal: { AWS: roles }, Action: ['dynamodb:PutItem', 'dynamodb:Query'], Resource: '*' },
        ],
      },
    });
    template.resourceCountIs('AWS::IAM::Policy', 0);
    assert.deepEqual(table.publisherRoleArns, roles);
  });
});

describe('SseTable grants', () => {
  const grantedStatements = (grant: (table: SseTable, role: iam.IGrantable) => void): { statements: unknown; tableId: string; template: Template } => {
    const { template, tableId } = buildTable({}, (stack, table) => grant(table, new iam.Role(stack, 'Producer', { assumedBy: new iam.AccountRootPrincipal() })));
    const policy = onlyResource(template, 'AWS::IAM::Policy');
    assert.deepEqual(policy.Properties.Roles, [{ Ref: Object.keys(template.findResources('AWS::IAM::Role'))[0] }]);
    return { statements: (policy.Properties.PolicyDocument as { Statement: unknown }).Statement, tableId, template };
  };

  it('grantPublish gives a role of this account exactly PutItem and Query on this table', () => {
    const { statements, tableId, template } = grantedStatements((table, role) => table.grantPublish(role));
    assert.deepEqual(statements, [{ Action: ['dynamodb:PutItem', 'dynamodb:Query'], Effect: 'Allow', Resource: { 'Fn::GetAtt': [tableId, 'Arn'] } }]);
    assert.equal(onlyResource(template, TABLE).Properties.ResourcePolicy, undefined);
  });

  it('grantSubscribe gives a role of this account exactly Query on this table', () => {
    const { statements, tableId } = grantedStatements((table, role) => table.grantSubscribe(role));
    assert.deepEqual(statements, [{ Action: 'dynamodb:Query', Effect: 'Allow', Resource: { 'Fn::GetAtt': [tableId, 'Arn'] } }]);
  });

  it('grantPublish to a principal of another account goes into the resource policy', () => {
    const arn = 'arn:aws:iam::210987654321:role/producer';
    const { template } = buildTable({}, (_stack, table) => table.grantPublish(new iam.ArnPrincipal(arn)));
    template.hasResourceProperties(TABLE, {
      ResourcePolicy: { PolicyDocument: { Statement: [{ Effect: 'Allow', Principal: { AWS: arn }, Action: ['dynamodb:PutItem', 'dynamodb:Query'], Resource: '*' }] } },
    });
    template.resourceCountIs('AWS::IAM::Policy', 0);
  });
});

describe('SseTable rejects invalid props before building', () => {
  const cases: [string, SseTableProps, RegExp][] = [
    ['no retention', { retentionHours: 0 }, /retentionHours must be an integer from 1 to 8760 \(hours\), got 0/],
    ['over a year of retention', { retentionHours: 8761 }, /retentionHours must be an integer from 1 to 8760 \(hours\), got 8761/],
    ['a fractional retention', { retentionHours: 1.5 }, /retentionHours must be an integer from 1 to 8760 \(hours\), got 1\.5/],
    ['a table name too short', { tableName: 'ab' }, /tableName must be 3 to 255 of A-Z a-z 0-9 _ \. - \(DynamoDB's rule for table names\), got "ab"/],
    ['a table name with a space', { tableName: 'my table' }, /tableName must be 3 to 255 of .*, got "my table"/],
    ['a snapshot on delete', { removalPolicy: RemovalPolicy.SNAPSHOT }, /removalPolicy must be RemovalPolicy\.RETAIN, RETAIN_ON_UPDATE_OR_DELETE or DESTROY \(a DynamoDB table has no snapshot on delete\), got snapshot/],
    ['a user as publisher', { publisherRoleArns: ['arn:aws:iam::123456789012:user/alice'] }, /publisherRoleArns\[0\] must be an IAM role ARN \(arn:aws:iam::123456789012:role\/name\), got "arn:aws:iam::123456789012:user\/alice"/],
    ['an account id as publisher', { publisherRoleArns: ['arn:aws:iam::123456789012:role/ok', '123456789012'] }, /publisherRoleArns\[1\] must be an IAM role ARN/],
    ['a repeated publisher', { publisherRoleArns: ['arn:aws:iam::123456789012:role/p', 'arn:aws:iam::123456789012:role/p'] }, /publisherRoleArns lists arn:aws:iam::123456789012:role\/p more than once; list each role once/],
  ];
  for (const [name, props, message] of cases) {
    it(name, () => assert.match(propsError(props), message));
  }

  it('accepts a table name and publisher roles that are tokens', () => {
    const stack = new Stack(testApp(), 'Test');
    // Resolved only at deploy: a pseudo parameter, another construct's role.
    const tableName = `${Aws.STACK_NAME}-streams`;
    const role = new iam.Role(stack, 'Producer', { assumedBy: new iam.ServicePrincipal('ecs-tasks.amazonaws.com') });
    assert.ok(Token.isUnresolved(tableName) && Token.isUnresolved(role.roleArn));
    assert.doesNotThrow(() => new SseTable(stack, 'Streams', { tableName, publisherRoleArns: [role.roleArn] }));
  });

  it('grants decrypt on an imported table with a customer managed key', () => {
    const stack = new Stack(testApp(), 'Test');
    const key = new kms.Key(stack, 'Key');
    const table = dynamodb.Table.fromTableAttributes(stack, 'Imported', { tableName: 'elsewhere', encryptionKey: key });
    const role = new iam.Role(stack, 'Reader', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
    grantSubscribeTo(table, role);
    const actions = JSON.stringify(Template.fromStack(stack).findResources('AWS::IAM::Policy'));
    assert.match(actions, /kms:Decrypt/);
    assert.match(actions, /dynamodb:Query/);
  });

  it('lists every problem at once, naming the construct', () => {
    assert.match(propsError({ retentionHours: 0, tableName: 'x' }), /^Invalid props for SseTable at Test\/Streams; change:\n {2}- retentionHours .*\n {2}- tableName /);
  });
});

