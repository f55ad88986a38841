import { CfnResource, Stack } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';

/**
 * Records in a resource's template metadata that the IaC scanner checkov is
 * to skip `id` on it, with the reason, as checkov reads it
 * (`Metadata.checkov.skip`). Used only where a finding is a deliberate
 * choice; `test/synth-lint.sh` fails on every other finding.
 */
export function skipCheckov(construct: IConstruct, id: string, reason: string): void {
  const resource = construct instanceof CfnResource ? construct : construct.node.defaultChild;
  if (!(resource instanceof CfnResource)) {
    throw new Error(`${construct.node.path} has no CloudFormation resource to record checkov's ${id} on`);
  }
  const metadata = (resource.getMetadata('checkov') as { skip?: { id: string; comment: string }[] } | undefined) ?? {};
  const skip = (metadata.skip ?? []).filter((entry) => entry.id !== id);
  resource.addMetadata('checkov', { ...metadata, skip: [...skip, { id, comment: reason }] });
}

/**
 * The Lambda function CDK adds to a stack to empty a new VPC's default
 * security group (feature flag `@aws-cdk/aws-ec2:restrictDefaultSecurityGroup`),
 * if there is one: it runs once, at deploy time, from CloudFormation.
 */
export function restrictDefaultSecurityGroupHandler(scope: IConstruct): CfnResource | undefined {
  const provider = Stack.of(scope).node.tryFindChild('Custom::VpcRestrictDefaultSGCustomResourceProvider');
  const handler = provider?.node.tryFindChild('Handler');
  return handler instanceof CfnResource ? handler : undefined;
}

/**
 * Skips, with their reasons, checkov's function checks on CDK's handler that
 * empties a new VPC's default security group (see
 * {@link restrictDefaultSecurityGroupHandler}), if the stack has one.
 */
export function skipCheckovOnDefaultSecurityGroupHandler(scope: IConstruct): void {
  const handler = restrictDefaultSecurityGroupHandler(scope);
  if (!handler) return;
  // CDK's own function, run once by CloudFormation at deploy time to empty the VPC's default security group.
  skipCheckov(handler, 'CKV_AWS_115', 'CDK\'s deploy-time custom resource handler, invoked once by CloudFormation; no concurrency to cap.');
  skipCheckov(handler, 'CKV_AWS_116', 'CDK\'s deploy-time custom resource handler, invoked synchronously by CloudFormation; no asynchronous invocations to dead-letter.');
  skipCheckov(handler, 'CKV_AWS_117', 'CDK\'s deploy-time custom resource handler; it calls the EC2 API only and needs no VPC.');
}
