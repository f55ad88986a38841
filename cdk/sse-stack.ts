import { CfnOutput, Fn, Stack, type StackProps } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { SseAlb, type SseAlbOptions } from './sse-alb';
import { SseFunction, type SseFunctionProps } from './sse-function';
import { MANAGED_INSTANCES_DEFAULT_MEMORY_MB, SseCapacity, type SseManagedInstancesOptions } from './sse-managed-instances';
import { SseMonitoring, type SseMonitoringOptions } from './sse-monitoring';
import { SseRestApi, type SseRestApiOptions } from './sse-rest-api';
import { SseTable, type SseTableProps } from './sse-table';
import { checkStreamName } from './validation';

/** The stream the `PublishCommand` and `StreamCurlCommand` outputs use. */
export const DEMO_STREAM = 'demo';

/**
 * What the stream stack deploys, without the stack's own props: shared by
 * `SseStreamStackProps`, `SseStage` and the stages of `SsePipelineStack`.
 */
export interface SseStreamOptions {
  /**
   * The function, its URL and stream settings.
   *
   * @default - every SseFunction default: arm64, 128 MB, 300 s, AWS_IAM, no CORS
   */
  readonly sseFunction?: SseFunctionProps;
  /**
   * Adds an Application Load Balancer in front of the function: a buffered
   * path (one batch window of events per answer) for clients in a VPC, an own
   * certificate, or OIDC login. Give at least `allowedCidrs` (or
   * `allowedPeers`) and `certificateArn` (or `allowPlainHttp`).
   *
   * @default - no ALB: only the streaming Function URL
   */
  readonly alb?: SseAlbOptions;
  /**
   * Adds an API Gateway REST API in front of the function, streaming
   * (Lambda proxy integrations with response streaming): Cognito or API-key
   * callers, stage throttling, a WAF, a custom domain and access logs. The
   * Function URL stays as it is.
   *
   * @default - no REST API: only the streaming Function URL
   */
  readonly restApi?: SseRestApiOptions;
  /**
   * The table of durable streams: the function serves `/streams/{name}`
   * from it, and producers append to it. `false` leaves it out (the function
   * then serves no `/streams/{name}`). The function gets it as
   * `sseFunction.streamsTable`, so that prop must then be unset.
   *
   * @default - an SseTable with its defaults: on demand, point-in-time recovery, TTL, kept when the stack is deleted, 24 h retention
   */
  readonly streamsTable?: SseTableProps | false;
  /**
   * Alarms on the function, the fronts and the table, an optional SNS topic
   * they notify, and a CloudWatch dashboard (`SseMonitoring`). `false`
   * leaves all of it out.
   *
   * @default - every alarm that applies at its default threshold, no notification, and the dashboard
   */
  readonly monitoring?: SseMonitoringOptions | false;
  /**
   * Runs the function on Lambda Managed Instances (`SseCapacity`): a
   * capacity provider in a VPC without NAT, each execution environment
   * serving many streams at once. The Function URL, REST API and ALB work
   * unchanged. The function's memory then defaults to 2048 MB (the mode's
   * minimum; less is refused), and reserved concurrency is refused. `{}`
   * turns it on with every default; see docs/managed-instances.md.
   *
   * @default false (Lambda's own fleet, one stream per execution environment)
   */
  readonly managedInstances?: SseManagedInstancesOptions | false;
}

export interface SseStreamStackProps extends StackProps, SseStreamOptions {}

/**
 * Deploys the SSE function behind its streaming Function URL, with the table
 * of durable streams, and prints what a caller needs: the URL, the function
 * name, the region, signed curls, the table and a command that publishes.
 */
export class SseStreamStack extends Stack {
  public readonly sseFunction: SseFunction;
  /** The ALB, when `alb` was given. */
  public readonly alb?: SseAlb;
  /** The REST API, when `restApi` was given. */
  public readonly restApi?: SseRestApi;
  /** The table of durable streams, unless `streamsTable` was false. */
  public readonly streamsTable?: SseTable;
  /** The alarms and dashboard, unless `monitoring` was false. */
  public readonly monitoring?: SseMonitoring;
  /** The capacity provider and its VPC, when `managedInstances` was given. */
  public readonly capacity?: SseCapacity;
  /** The `FunctionUrl` output (ends in `/`); a pipeline step reads it through `envFromCfnOutputs`. */
  public readonly functionUrlOutput: CfnOutput;
  /** The `Region` output: the region to sign requests for. */
  public readonly regionOutput: CfnOutput;

  constructor(scope: Construct, id: string, props: SseStreamStackProps = {}) {
    super(scope, id, {
      ...props,
      description: props.description ?? 'Server-Sent Events streamed from a Rust Lambda function through a RESPONSE_STREAM Function URL',
    });

    if (props.streamsTable !== false) {
      if (props.sseFunction?.streamsTable) {
        throw new Error(
          `Invalid props for SseStreamStack ${id}; change:\n  - sseFunction.streamsTable is given while the stack adds its own table: ` +
            'set streamsTable to false to use yours, or remove sseFunction.streamsTable',
        );
      }
      this.streamsTable = new SseTable(this, 'StreamsTable', props.streamsTable);
    }
    const managedInstances = props.managedInstances ?? false;
    this.sseFunction = new SseFunction(this, 'SseFunction', {
      ...props.sseFunction,
      memorySize: props.sseFunction?.memorySize ?? (managedInstances ? MANAGED_INSTANCES_DEFAULT_MEMORY_MB : undefined),
      streamsTable: this.streamsTable ?? props.sseFunction?.streamsTable,
    });
    if (managedInstances) {
      this.capacity = new SseCapacity(this, 'Capacity', { ...managedInstances, sseFunction: this.sseFunction });
    }

    this.functionUrlOutput = new CfnOutput(this, 'FunctionUrl', {
      description: `Function URL; GET <url>events streams${this.sseFunction.streamsTable ? ', GET <url>streams/<name> follows a durable stream' : ''}, GET <url>health answers 200`,
      value: this.sseFunction.url,
    });
    new CfnOutput(this, 'FunctionName', {
      description: 'Lambda function name (logs, metrics, aws lambda commands)',
      value: this.sseFunction.function.functionName,
    });
    this.regionOutput = new CfnOutput(this, 'Region', {
      description: 'Region to sign requests for (curl --aws-sigv4 "aws:amz:<region>:lambda")',
      value: this.region,
    });
    new CfnOutput(this, 'CurlCommand', {
      description: 'Streams /events; uses AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN from the environment',
      value: this.sseFunction.curlCommand('events'),
    });

    if (this.streamsTable) {
      new CfnOutput(this, 'TableName', {
        description: 'DynamoDB table of the durable streams (SSE_TABLE_NAME for producers)',
        value: this.streamsTable.tableName,
      });
      new CfnOutput(this, 'PublishCommand', {
        description: `Publishes one event to the stream ${DEMO_STREAM} from a checkout of this repository; uses your AWS credentials, which need dynamodb:PutItem and dynamodb:Query on the table`,
        value: this.publishCommand(DEMO_STREAM, 'hello'),
      });
      new CfnOutput(this, 'StreamCurlCommand', {
        description: `Follows the durable stream ${DEMO_STREAM} (/streams/${DEMO_STREAM}); uses AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN from the environment`,
        value: this.sseFunction.curlCommand(`streams/${DEMO_STREAM}`),
      });
    }

    if (props.alb) {
      this.alb = new SseAlb(this, 'Alb', { ...props.alb, sseFunction: this.sseFunction });
      new CfnOutput(this, 'AlbUrl', {
        description: 'ALB URL (buffered: one batch window of events per answer); GET <url>/events, GET <url>/health. With a certificate, point your domain at this name',
        value: this.alb.url,
      });
    }

    if (props.restApi) {
      this.restApi = new SseRestApi(this, 'RestApi', { ...props.restApi, sseFunction: this.sseFunction });
      const paths = this.restApi.paths.map((p) => `GET <url>${p.replace('{name}', '<name>')}`).join(', ');
      new CfnOutput(this, 'RestApiUrl', {
        description: `REST API URL on its stage (streamed through API Gateway); ${paths}`,
        value: this.restApi.url,
      });
      new CfnOutput(this, 'RestApiCurlCommand', {
        description: {
          iam: 'Streams /events through the REST API, signed for execute-api; uses AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN from the environment',
          cognito: 'Streams /events through the REST API; set SSE_TOKEN to a token of the user pool (an access token with the scopes, else an ID token)',
          none: 'Streams /events through the REST API (no authorization)',
        }[this.restApi.authorization] + (this.restApi.apiKey ? '; set SSE_API_KEY to the key\'s value (aws apigateway get-api-key --include-value --api-key <RestApiKeyId>)' : ''),
        value: this.restApi.curlCommand('events'),
      });
      if (this.restApi.apiKey) {
        new CfnOutput(this, 'RestApiKeyId', {
          description: 'Id of the REST API\'s key; its value: aws apigateway get-api-key --include-value --api-key <id> --query value --output text',
          value: this.restApi.apiKey.keyId,
        });
      }
      if (this.restApi.domain) {
        new CfnOutput(this, 'RestApiDomainUrl', {
          description: 'The REST API on its custom domain (the stage is mapped at the root); point the domain\'s DNS at RestApiDomainTarget',
          value: this.restApi.domainUrl!,
        });
        new CfnOutput(this, 'RestApiDomainTarget', {
          description: 'DNS name to point the custom domain at (CNAME, or a Route 53 alias)',
          value: this.restApi.domain.domainNameAliasDomainName,
        });
      }
    }

    if (props.monitoring !== false) {
      this.monitoring = new SseMonitoring(this, 'Monitoring', {
        ...props.monitoring,
        sseFunction: this.sseFunction,
        restApi: this.restApi,
        alb: this.alb,
        streamsTable: this.streamsTable,
      });
      if (this.monitoring.dashboard) {
        new CfnOutput(this, 'DashboardUrl', {
          description: 'The CloudWatch dashboard of the streams (see README.md, "Operating it")',
          value: Fn.join('', ['https://console.aws.amazon.com/cloudwatch/home?region=', this.region, '#dashboards:name=', this.monitoring.dashboard.dashboardName]),
        });
      }
    }
  }

  /**
   * A shell command that publishes `data` to `stream` with the CLI of this
   * repository (`sse-publish`), configured for the stack's table, region and
   * retention; credentials come from the AWS SDK's standard chain (the
   * environment first). Run it from a checkout of this repository. `stream`
   * is a stream name (1 to 128 of A-Z a-z 0-9 - _ .); `data` is
   * single-quoted, so it may hold anything but a single quote.
   */
  public publishCommand(stream: string, data: string): string {
    if (!this.streamsTable) {
      throw new Error(`${this.node.path} has no table of durable streams (streamsTable is false): there is nothing to publish to`);
    }
    const problems = [checkStreamName(stream) && `stream ${checkStreamName(stream)}`, data.includes("'") && `data ${JSON.stringify(data)} holds a single quote, which the command cannot quote; leave it out`];
    if (problems.some(Boolean)) throw new Error(`Invalid arguments for publishCommand; change:\n${problems.filter(Boolean).map((p) => `  - ${p}`).join('\n')}`);
    const environment = Object.entries(this.streamsTable.publisherEnvironment).flatMap(([name, value]) => [` ${name}=`, value]);
    return Fn.join('', ['AWS_REGION=', this.region, ...environment, ` cargo run --release -q --bin sse-publish -- --stream ${stream} '${data}'`]);
  }
}
