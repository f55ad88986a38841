import { RemovalPolicy, Token } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { skipCheckov } from './checkov';
import { DURABLE_LAYOUT, defaultsOf, environmentOf } from './function-settings';
import { checkIntegerInRange, checkRoleArn, checkTableName } from './validation';

/**
 * The table's layout, as the Rust code reads and writes it (generated into
 * `function-settings.json` from `function/src/durable/`): one item per
 * event, the stream's name as partition key and its position as sort key,
 * expired by DynamoDB's TTL.
 */
export const SSE_TABLE_SCHEMA = {
  /** Partition key (String): the stream's name. */
  partitionKey: DURABLE_LAYOUT.partitionKey,
  /** Sort key (Number): the event's position in its stream. */
  sortKey: DURABLE_LAYOUT.sortKey,
  /** TTL attribute (Number, epoch seconds), written by producers as publish time + retention. */
  timeToLiveAttribute: DURABLE_LAYOUT.timeToLiveAttribute,
} as const;

/**
 * The variable that names the table, for the function (which serves
 * `/streams/{name}` only when it is set) and for producers.
 */
export const TABLE_NAME_VARIABLE = DURABLE_LAYOUT.tableVariable;

/** What a producer calls: `Query` to find the stream's last event, a conditional `PutItem` to append. */
export const PUBLISH_ACTIONS: readonly string[] = ['dynamodb:PutItem', 'dynamodb:Query'];
/** What a reader (the function) calls: strongly consistent `Query`. */
export const SUBSCRIBE_ACTIONS: readonly string[] = ['dynamodb:Query'];

/** Every prop of the producers' settings; each must be a variable of scope `publish`. */
const PUBLISH_SETTING_KEYS = ['retentionHours'] as const;
/**
 * The producers' settings (`function/src/durable/publish.rs`): variable,
 * range and default, as the Rust code defines them.
 */
export const PUBLISH_ENVIRONMENT = environmentOf(PUBLISH_SETTING_KEYS, 'publish');
/** The producers' defaults. */
export const DEFAULT_PUBLISH_SETTINGS = defaultsOf(PUBLISH_ENVIRONMENT);

/** The removal policies a DynamoDB table supports (it has no snapshot on delete). */
const TABLE_REMOVAL_POLICIES: readonly RemovalPolicy[] = [RemovalPolicy.RETAIN, RemovalPolicy.DESTROY, RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE];

export interface SseTableProps {
  /**
   * Physical name of the table: 3 to 255 of A-Z a-z 0-9 _ . -. A fixed name
   * stops CloudFormation from replacing the table, and two stacks in one
   * account and region cannot share it.
   *
   * @default - a name CloudFormation generates from the stack and construct ids
   */
  readonly tableName?: string;
  /**
   * How long producers keep each event, in hours (`SSE_RETENTION_HOURS`):
   * each item's `expires` is its publish time plus this, and DynamoDB's TTL
   * deletes it some time after (usually within days). Producers read it, not
   * the table: give them this value (`publisherEnvironment`), as the stack's
   * `PublishCommand` output does. Integer from 1 to 8760.
   *
   * @default 24
   */
  readonly retentionHours?: number;
  /**
   * What happens to the table, and the events in it, when the stack is
   * deleted or the table replaced. `RETAIN`, `RETAIN_ON_UPDATE_OR_DELETE` or
   * `DESTROY` (DynamoDB has no snapshot on delete).
   *
   * @default RemovalPolicy.RETAIN (published events outlive the stack; delete the table by hand)
   */
  readonly removalPolicy?: RemovalPolicy;
  /**
   * IAM roles allowed to publish (`dynamodb:PutItem` and `dynamodb:Query`
   * on this table only), granted in the table's resource policy: no role is
   * modified, and roles of other accounts work too (they also need the same
   * two actions on the table ARN in their own IAM policy). Each role must
   * exist when the stack deploys.
   *
   * @default - none; identities of the deploying account may still publish if their IAM policies allow
   */
  readonly publisherRoleArns?: string[];
}

/**
 * The DynamoDB table of durable event streams: producers append events
 * (`Publisher`, `sse-publish`), the function reads them at
 * `/streams/{name}`. On-demand billing, point-in-time recovery, TTL on
 * `expires`, kept when the stack is deleted unless told otherwise.
 */
export class SseTable extends Construct {
  /** The DynamoDB table. */
  public readonly table: dynamodb.Table;
  /** Hours producers keep each event (`SSE_RETENTION_HOURS`). */
  public readonly retentionHours: number;
  /** The roles granted publish in the table's resource policy. */
  public readonly publisherRoleArns: readonly string[];

  constructor(scope: Construct, id: string, props: SseTableProps = {}) {
    super(scope, id);

    const retentionHours = props.retentionHours ?? DEFAULT_PUBLISH_SETTINGS.retentionHours;
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    const publisherRoleArns = props.publisherRoleArns ?? [];

    const problems: string[] = [];
    const add = (name: string, problem: string | undefined): void => {
      if (problem) problems.push(`${name} ${problem}`);
    };
    add('retentionHours', checkIntegerInRange(retentionHours, PUBLISH_ENVIRONMENT.retentionHours.range));
    if (props.tableName !== undefined && !Token.isUnresolved(props.tableName)) add('tableName', checkTableName(props.tableName));
    if (!TABLE_REMOVAL_POLICIES.includes(removalPolicy)) {
      problems.push(`removalPolicy must be RemovalPolicy.RETAIN, RETAIN_ON_UPDATE_OR_DELETE or DESTROY (a DynamoDB table has no snapshot on delete), got ${removalPolicy}`);
    }
    // A token (another construct's role ARN) is checked by CloudFormation at deploy.
    publisherRoleArns.forEach((arn, i) => add(`publisherRoleArns[${i}]`, Token.isUnresolved(arn) ? undefined : checkRoleArn(arn)));
    const repeated = publisherRoleArns.filter((arn, i) => publisherRoleArns.indexOf(arn) !== i);
    if (repeated.length > 0) problems.push(`publisherRoleArns lists ${repeated.join(', ')} more than once; list each role once`);
    if (problems.length > 0) {
      throw new Error(`Invalid props for SseTable at ${this.node.path}; change:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    }

    this.retentionHours = retentionHours;
    this.publisherRoleArns = publisherRoleArns;

    this.table = new dynamodb.Table(this, 'Table', {
      tableName: props.tableName,
      partitionKey: { name: SSE_TABLE_SCHEMA.partitionKey, type: dynamodb.AttributeType.STRING },
      sortKey: { name: SSE_TABLE_SCHEMA.sortKey, type: dynamodb.AttributeType.NUMBER },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      timeToLiveAttribute: SSE_TABLE_SCHEMA.timeToLiveAttribute,
      removalPolicy,
    });

    if (publisherRoleArns.length > 0) {
      // `*` in a table's own resource policy is this table (and its indexes:
      // it has none); naming its ARN here would be a circular reference.
      this.table.addToResourcePolicy(new iam.PolicyStatement({
        sid: 'Publishers',
        principals: publisherRoleArns.map((arn) => new iam.ArnPrincipal(arn)),
        actions: [...PUBLISH_ACTIONS],
        resources: ['*'],
      }));
    }

    skipCheckov(this.table, 'CKV_AWS_119',
      'DynamoDB encrypts the table at rest with an AWS owned key. It holds what producers publish for clients of the stream to read, not secrets; ' +
        'a customer managed key would add a key policy to manage, a monthly charge and KMS request charges, and every publisher, in other accounts too, would need a grant on it.');
  }

  /** The table's name. */
  public get tableName(): string {
    return this.table.tableName;
  }

  /**
   * The environment a producer (`Publisher::from_env`, `sse-publish`) needs
   * besides the AWS SDK's own (region, credentials): `SSE_TABLE_NAME` and
   * `SSE_RETENTION_HOURS`.
   */
  public get publisherEnvironment(): Record<string, string> {
    return { [TABLE_NAME_VARIABLE]: this.tableName, [PUBLISH_ENVIRONMENT.retentionHours.variable]: String(this.retentionHours) };
  }

  /**
   * Lets `grantee` append events: `dynamodb:PutItem` and `dynamodb:Query`
   * on this table, nothing else. A principal of this account gets an
   * identity policy; any other gets a statement in the table's resource
   * policy.
   */
  public grantPublish(grantee: iam.IGrantable): iam.Grant {
    return this.grant(grantee, PUBLISH_ACTIONS);
  }

  /** Lets `grantee` read streams: `dynamodb:Query` on this table, nothing else. */
  public grantSubscribe(grantee: iam.IGrantable): iam.Grant {
    return this.grant(grantee, SUBSCRIBE_ACTIONS);
  }

  private grant(grantee: iam.IGrantable, actions: readonly string[]): iam.Grant {
    return iam.Grant.addToPrincipalOrResource({
      grantee,
      actions: [...actions],
      resourceArns: [this.table.tableArn],
      // In the table's own resource policy `*` is this table (see above).
      resourceSelfArns: ['*'],
      resource: this.table,
    });
  }
}

/**
 * Lets `grantee` read streams of any table (one made elsewhere, or imported):
 * `dynamodb:Query` on its ARN, in `grantee`'s own policy.
 */
export function grantSubscribeTo(table: dynamodb.ITable, grantee: iam.IGrantable): iam.Grant {
  // A table encrypted with a customer managed key is unreadable without it.
  table.encryptionKey?.grantDecrypt(grantee);
  return iam.Grant.addToPrincipal({ grantee, actions: [...SUBSCRIBE_ACTIONS], resourceArns: [table.tableArn] });
}
