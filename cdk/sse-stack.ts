import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { SseAlb, type SseAlbOptions } from './sse-alb';
import { SseFunction, type SseFunctionProps } from './sse-function';

export interface SseStreamStackProps extends StackProps {
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
}

/**
 * Deploys the SSE function behind its streaming Function URL and prints what
 * a caller needs: the URL, the function name, the region and a signed curl.
 */
export class SseStreamStack extends Stack {
  public readonly sseFunction: SseFunction;
  /** The ALB, when `alb` was given. */
  public readonly alb?: SseAlb;

  constructor(scope: Construct, id: string, props: SseStreamStackProps = {}) {
    super(scope, id, {
      ...props,
      description: props.description ?? 'Server-Sent Events streamed from a Rust Lambda function through a RESPONSE_STREAM Function URL',
    });

    this.sseFunction = new SseFunction(this, 'SseFunction', props.sseFunction);

    new CfnOutput(this, 'FunctionUrl', {
      description: 'Function URL; GET <url>events streams, GET <url>health answers 200',
      value: this.sseFunction.url,
    });
    new CfnOutput(this, 'FunctionName', {
      description: 'Lambda function name (logs, metrics, aws lambda commands)',
      value: this.sseFunction.function.functionName,
    });
    new CfnOutput(this, 'Region', {
      description: 'Region to sign requests for (curl --aws-sigv4 "aws:amz:<region>:lambda")',
      value: this.region,
    });
    new CfnOutput(this, 'CurlCommand', {
      description: 'Streams /events; uses AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN from the environment',
      value: this.sseFunction.curlCommand('events'),
    });

    if (props.alb) {
      this.alb = new SseAlb(this, 'Alb', { ...props.alb, sseFunction: this.sseFunction });
      new CfnOutput(this, 'AlbUrl', {
        description: 'ALB URL (buffered: one batch window of events per answer); GET <url>/events, GET <url>/health. With a certificate, point your domain at this name',
        value: this.alb.url,
      });
    }
  }
}
