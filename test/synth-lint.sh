#!/usr/bin/env bash
# `cdk synth` through the real CLI, without AWS credentials, then cfn-lint and
# the IaC security scanner checkov on the templates. Needs cargo-lambda,
# cfn-lint and checkov on PATH (`source scripts/ensure-tools.sh && ensure_python_tools`).
#
# checkov must find nothing: each finding is fixed, or skipped in the
# resource's own template metadata (`Metadata.checkov.skip`, written by
# `skipCheckov` in cdk/checkov.ts) with a one-line reason next to the code
# that makes the choice.
#
# Why x86_64: the CLI bundles every stack on synth, and arm64 needs the
# aarch64 Rust std, which this machine cannot download. The host build is
# already warm from the bundling test, so each synth adds seconds. The
# templates differ from the arm64 default only in `Architectures`; the
# arm64 template itself is covered by the assertion tests.
#
# Twelve configurations are linted: the defaults (left in ./cdk.out for a
# look; they include the durable streams table, the alarms and the
# dashboard), every IAM option
# (resource-policy grants, CORS, reserved concurrency, every stream
# setting), every durable streams option (publisher roles in the table's
# resource policy, a table removed with the stack, retention and polling;
# alarms to an existing SNS topic, no dashboard), monitoring with an email
# topic, X-Ray tracing, an own namespace and every threshold, a
# public URL without the table, an internal plain-HTTP ALB in a new isolated
# VPC, an internet-facing HTTPS ALB with OIDC login (a dummy
# certificate ARN and secret name: synth resolves neither), the streaming
# REST API with its defaults (IAM, REGIONAL, stage `live`), the REST API
# with a Cognito authorizer and no API key (so the watch page's methods,
# without authorization, are served), and the REST
# API with a Cognito authorizer (dummy user pool ARN), an API key and usage
# plan, a custom domain (dummy certificate) and a web ACL (dummy ARN); the
# function on Lambda Managed Instances (`-c sse:managedInstances=true`: the
# capacity provider, its isolated VPC with DynamoDB, CloudWatch Logs and
# X-Ray endpoints, manual CPU scaling, an instance type list) behind the
# REST API and an internal ALB; and
# the CDK Pipeline (`-c sse:pipeline=true`, a dummy connection ARN) with
# stages dev and prod: the pipeline stack and each stage's stream stack in
# its nested assembly (assembly-*).
#
# Ignored cfn-lint rules, each with its reason:
#   W3005  CDK adds DependsOn from the function to its role and the role's
#          policy. The role is also referenced by GetAtt, which cfn-lint
#          calls redundant; the policy dependency is the one that matters
#          (the function must not start before it may write logs) and CDK
#          emits both together. The DependsOn is CDK's, not ours.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

for tool in cfn-lint checkov; do
  command -v "$tool" >/dev/null || { echo "$tool is not on PATH: run 'source scripts/ensure-tools.sh && ensure_python_tools'" >&2; exit 2; }
done

# No credentials may leak in: synth must work without an account.
unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN AWS_PROFILE \
  AWS_CONTAINER_CREDENTIALS_RELATIVE_URI AWS_CONTAINER_CREDENTIALS_FULL_URI CDK_DEFAULT_ACCOUNT CDK_DEFAULT_REGION
export AWS_EC2_METADATA_DISABLED=true AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null

variants_dir="$(mktemp -d)"
trap 'rm -rf "$variants_dir"' EXIT

synth() {
  local out="$1"; shift
  echo "==> cdk synth -c sse:architecture=x86_64 ${*:-(other keys at their defaults)} -o ${out#"$root"/}" >&2
  npx --no-install cdk synth --quiet --ci -o "$out" -c sse:architecture=x86_64 "$@"
}

synth "$root/cdk.out"
synth "$variants_dir/iam" \
  -c sse:principals=123456789012,arn:aws:iam::210987654321:role/reader \
  -c sse:corsOrigins=https://app.example.com -c sse:reservedConcurrency=20 \
  -c sse:memory=512 -c sse:timeout=900 -c sse:logRetentionDays=365 \
  -c sse:retryMs=1000 -c sse:jobSteps=100 -c sse:jobIntervalMs=100 \
  -c sse:windowMs=60000 -c sse:deadlineMarginMs=3000 -c sse:heartbeatMs=10000
synth "$variants_dir/durable" \
  -c sse:publisherRoleArns=arn:aws:iam::123456789012:role/producer,arn:aws:iam::210987654321:role/other-producer \
  -c sse:tableRemovalPolicy=destroy -c sse:retentionHours=168 -c sse:pollMinMs=20 -c sse:pollMaxMs=5000 -c sse:tailBufferKib=4096 \
  -c sse:alarmTopicArn=arn:aws:sns:us-east-1:123456789012:ops-alarms -c sse:dashboard=false
synth "$variants_dir/monitoring" \
  -c sse:tracing=true -c sse:metricsNamespace=Sse/Prod -c sse:alarmEmail=ops@example.com \
  -c sse:reservedConcurrency=20 -c sse:alarmErrors=3 -c sse:alarmThrottles=2 -c sse:alarmSourceFailureRate=10 \
  -c sse:alarmDurationNearTimeout=95 -c sse:alarmConcurrencyNearCap=90 -c sse:alarmDynamoThrottles=off
synth "$variants_dir/public" -c sse:authType=NONE -c sse:reservedConcurrency=5 -c sse:durableStreams=false
synth "$variants_dir/alb-internal" \
  -c sse:alb=true -c sse:albAllowedCidrs=10.0.0.0/8 -c sse:albAllowPlainHttp=true
synth "$variants_dir/alb-oidc" \
  -c sse:alb=true -c sse:albInternetFacing=true -c sse:albAllowedCidrs=0.0.0.0/0 \
  -c sse:albCertificateArn=arn:aws:acm:us-east-1:123456789012:certificate/0a1b2c3d-4e5f-6a7b-8c9d-0e1f2a3b4c5d \
  -c sse:albOidcIssuer=https://login.example.com \
  -c sse:albOidcAuthorizationEndpoint=https://login.example.com/oauth2/authorize \
  -c sse:albOidcTokenEndpoint=https://login.example.com/oauth2/token \
  -c sse:albOidcUserInfoEndpoint=https://login.example.com/oauth2/userinfo \
  -c sse:albOidcClientId=sse-alb -c sse:albOidcClientSecretName=sse/alb-oidc-client-secret \
  -c sse:batchWindowMs=10000 -c sse:albIdleTimeout=30
synth "$variants_dir/rest-api" -c sse:restApi=true
synth "$variants_dir/rest-api-page" \
  -c sse:restApi=true -c sse:restApiAuth=cognito \
  -c sse:restApiUserPoolArn=arn:aws:cognito-idp:us-east-1:123456789012:userpool/us-east-1_AbCdEf123
synth "$variants_dir/rest-api-cognito" \
  -c sse:restApi=true -c sse:restApiAuth=cognito \
  -c sse:restApiUserPoolArn=arn:aws:cognito-idp:us-east-1:123456789012:userpool/us-east-1_AbCdEf123 \
  -c sse:restApiScopes=https://sse.example.com/read -c sse:restApiApiKey=true \
  -c sse:restApiThrottleRate=20 -c sse:restApiThrottleBurst=40 \
  -c sse:restApiDomainName=sse.example.com \
  -c sse:restApiCertificateArn=arn:aws:acm:us-east-1:123456789012:certificate/0a1b2c3d-4e5f-6a7b-8c9d-0e1f2a3b4c5d \
  -c sse:restApiWebAclArn=arn:aws:wafv2:us-east-1:123456789012:regional/webacl/sse/0a1b2c3d-4e5f-6a7b-8c9d-0e1f2a3b4c5d
synth "$variants_dir/managed-instances" \
  -c sse:managedInstances=true -c sse:tracing=true -c sse:restApi=true \
  -c sse:alb=true -c sse:albAllowedCidrs=10.0.0.0/8 -c sse:albAllowPlainHttp=true \
  -c sse:managedInstancesCpuTarget=60 -c sse:managedInstancesInstanceTypes=c7i.large,m7i.large \
  -c sse:managedInstancesMaxEnvironments=10
synth "$variants_dir/pipeline" \
  -c sse:pipeline=true \
  -c sse:pipelineConnectionArn=arn:aws:codeconnections:eu-west-1:111122223333:connection/0a1b2c3d-4e5f-6a7b-8c9d-0e1f2a3b4c5d \
  -c sse:pipelineRepository=example/lambda-sse -c sse:pipelineStages=dev,prod

# The pipeline's stages are nested assemblies, one folder each.
templates=("$root"/cdk.out/*.template.json "$variants_dir"/*/*.template.json "$variants_dir"/*/assembly-*/*.template.json)

echo "==> cfn-lint $(cfn-lint --version | cut -d' ' -f2)" >&2
cfn-lint --ignore-checks W3005 -- "${templates[@]}"
echo "cfn-lint: no errors or warnings" >&2

echo "==> checkov $(checkov --version)" >&2
# Offline: no policy download, no platform, no version check.
BC_SKIP_MAPPING=TRUE CHECKOV_RUN_SCA_PACKAGE_SCAN_V2=false checkov --quiet --compact --skip-download \
  --framework cloudformation -f "${templates[@]}"
echo "checkov: no findings" >&2
