import { Stage, type StageProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { SseStreamStack, type SseStreamOptions } from './sse-stack';
import { checkStackName } from './validation';

/** The stream stack's name in a stage is `<stage name>-` followed by this, unless `stackName` is given. */
export const STAGE_STACK_BASE_NAME = 'SseStreamStack';

export interface SseStageProps extends StageProps, SseStreamOptions {
  /**
   * The CloudFormation name of the stage's stream stack. Each stage of a
   * pipeline deploys its own stack, so the default puts the stage's name in
   * front: stages `dev` and `prod` deploy `dev-SseStreamStack` and
   * `prod-SseStreamStack` (CDK's own naming for stacks in a stage).
   * A stack name: starts with a letter, then letters, digits and hyphens,
   * at most 128 characters.
   *
   * @default `${stageName}-SseStreamStack`
   */
  readonly stackName?: string;
}

/**
 * The stream stack (`SseStreamStack`) as a deployable unit for a pipeline:
 * add it to your own CDK Pipeline with `pipeline.addStage(new SseStage(...))`,
 * or let `SsePipelineStack` do it. Takes the same props as the stack, plus
 * the stage's own (`env`, `stageName`).
 */
export class SseStage extends Stage {
  /** The stream stack of this stage. */
  public readonly stack: SseStreamStack;

  constructor(scope: Construct, id: string, props: SseStageProps = {}) {
    super(scope, id, props);

    // The default name is known only once Stage has worked out stageName, and nothing is built before this check.
    const stackName = props.stackName ?? `${this.stageName}-${STAGE_STACK_BASE_NAME}`;
    const problem = checkStackName(stackName);
    if (problem) {
      const what = props.stackName === undefined
        ? `the default stack name ${JSON.stringify(stackName)} (from the stage name) ${problem}: give stackName, or a stage name of letters, digits and hyphens`
        : `stackName ${problem}`;
      throw new Error(`Invalid props for SseStage ${this.node.path}; change:\n  - ${what}`);
    }

    this.stack = new SseStreamStack(this, STAGE_STACK_BASE_NAME, {
      stackName,
      sseFunction: props.sseFunction,
      alb: props.alb,
      restApi: props.restApi,
      streamsTable: props.streamsTable,
      monitoring: props.monitoring,
      managedInstances: props.managedInstances,
    });
  }
}
