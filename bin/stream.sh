#!/usr/bin/env bash
# Streams Server-Sent Events from the deployed Function URL (or the REST API),
# signed with SigV4.
#
#   bin/stream.sh [options] [PATH]
#
# PATH defaults to "events"; for example "events?steps=5&interval_ms=500" or "health".
# The query may be written in any order: it is sent sorted by name and encoded
# as SigV4 signs it, so the signature verifies with any curl from 7.76 on
# (curl before 8 signs the query as written, which AWS then refuses with 403).
#
# Options:
#   --stack NAME           read FunctionUrl and Region from this stack's outputs
#                          (default: SseStreamStack; needs the AWS CLI)
#   --url URL              the Function URL or REST API URL (skips the stack lookup when
#                          --region is given too)
#   --rest-api             stream through the stack's REST API (output RestApiUrl, deployed
#                          with -c sse:restApi=true and IAM authorization), signed for execute-api
#   --service NAME         the service to sign for: lambda or execute-api (default: execute-api
#                          for --rest-api or a https://<id>.execute-api.<region>.amazonaws.com
#                          URL, lambda otherwise)
#   --region REGION        the region to sign for
#   --profile NAME         AWS CLI profile for the lookup and for credentials
#   --last-event-id ID     resume after this event id (sends Last-Event-ID)
#   --dump-header FILE     write the response's status line and headers to FILE
#   -h, --help             show this help
#
# Credentials: AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN)
# from the environment; when those are not set, whatever the AWS CLI resolves
# (profiles, SSO, assumed roles) through `aws configure export-credentials`.
# Needs curl 7.76 or later (--aws-sigv4, --fail-with-body); with temporary
# credentials, one that signs the x-amz-security-token header (7.88 and 8.x
# do; 7.81 signs only host and x-amz-date).
set -euo pipefail

usage() { sed -n '2,/^set -euo/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'; }
die() { echo "stream.sh: $*" >&2; exit 2; }

stack="SseStreamStack" url="" region="" profile="" last_event_id="" path="events" rest_api="" service="" dump_header=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --stack) stack="${2:?--stack needs a value}"; shift 2 ;;
    --url) url="${2:?--url needs a value}"; shift 2 ;;
    --rest-api) rest_api=1; shift ;;
    --service) service="${2:?--service needs a value}"; shift 2 ;;
    --region) region="${2:?--region needs a value}"; shift 2 ;;
    --profile) profile="${2:?--profile needs a value}"; shift 2 ;;
    --last-event-id) last_event_id="${2:?--last-event-id needs a value}"; shift 2 ;;
    --dump-header) dump_header="${2:?--dump-header needs a value}"; shift 2 ;;
    -h | --help) usage; exit 0 ;;
    -*) die "unknown option $1 (see --help)" ;;
    *) path="${1#/}"; shift ;;
  esac
done

aws_cli() {
  command -v aws >/dev/null || die "the AWS CLI is needed for $1; install it, or pass --url and --region and set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY"
  shift
  aws ${profile:+--profile "$profile"} "$@"
}

stack_output() {
  local value
  value="$(aws_cli "reading the outputs of stack $stack" cloudformation describe-stacks --stack-name "$stack" \
    ${region:+--region "$region"} --query "Stacks[0].Outputs[?OutputKey=='$1'].OutputValue | [0]" --output text)" ||
    die "could not read output $1 of stack $stack (deployed? right region/profile?)"
  [[ -n "$value" && "$value" != "None" ]] || die "stack $stack has no output $1"
  printf '%s' "$value"
}

case "$service" in
  "" | lambda | execute-api) ;;
  *) die "--service must be lambda or execute-api, got $service" ;;
esac
if [[ -z "$url" ]]; then
  if [[ -n "$rest_api" ]]; then url="$(stack_output RestApiUrl)"; else url="$(stack_output FunctionUrl)"; fi
fi
if [[ -z "$region" ]]; then region="$(stack_output Region)"; fi
url="${url%/}/"

# A REST API (its execute-api URL, or --rest-api) is signed for execute-api, a Function URL for lambda.
execute_api_url='^https://[a-z0-9]+\.execute-api\.[a-z0-9-]+\.amazonaws\.com(\.cn)?/'
if [[ -z "$service" ]]; then
  if [[ -n "$rest_api" || "$url" =~ $execute_api_url ]]; then service="execute-api"; else service="lambda"; fi
fi

if [[ -z "${AWS_ACCESS_KEY_ID:-}" || -z "${AWS_SECRET_ACCESS_KEY:-}" ]]; then
  creds="$(aws_cli "credentials (none in the environment)" configure export-credentials --format env-no-export)" ||
    die "no credentials: set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or configure the AWS CLI (aws configure / aws sso login)"
  # Parsed line by line rather than eval'd: only these three variables are taken.
  while IFS= read -r line; do
    case "${line%%=*}" in
      AWS_ACCESS_KEY_ID) AWS_ACCESS_KEY_ID="${line#*=}" ;;
      AWS_SECRET_ACCESS_KEY) AWS_SECRET_ACCESS_KEY="${line#*=}" ;;
      AWS_SESSION_TOKEN) AWS_SESSION_TOKEN="${line#*=}" ;;
    esac
  done <<<"$creds"
  [[ -n "${AWS_ACCESS_KEY_ID:-}" && -n "${AWS_SECRET_ACCESS_KEY:-}" ]] || die "the AWS CLI returned no credentials"
fi

curl --help all 2>/dev/null | grep -q -- '--fail-with-body' || die "curl $(curl --version | head -n1 | cut -d' ' -f2) is too old to sign requests; curl 7.76 or later is needed"

# One query name or value as written -> as SigV4's canonical query has it,
# in $encoded: unreserved characters as they are, everything else %XX
# (uppercase hex), a %XX that stands for an unreserved character decoded, and
# + (a space in a form-encoded query, as the function reads it) as %20.
# Byte by byte (LC_ALL=C), so UTF-8 text becomes one %XX per byte.
sigv4_encode() {
  local LC_ALL=C in="$1" out="" c hex ch i=0
  while ((i < ${#in})); do
    c="${in:i:1}"
    case "$c" in
      [A-Za-z0-9._~-]) out+="$c" ;;
      +) out+="%20" ;;
      %)
        hex="${in:i+1:2}"
        [[ "$hex" =~ ^[0-9A-Fa-f]{2}$ ]] || die "the query has a % not followed by two hex digits: ${in}"
        printf -v ch "\\x$hex"
        case "$ch" in
          [A-Za-z0-9._~-]) out+="$ch" ;;
          *) printf -v hex '%%%02X' "0x$hex"; out+="$hex" ;;
        esac
        i=$((i + 2))
        ;;
      *) printf -v hex '%02X' "'$c"; out+="%$hex" ;;
    esac
    i=$((i + 1))
  done
  encoded="$out"
}

# The query in $1, in $query: every name=value pair encoded as above, sorted
# by name, then value, in byte order, as SigV4 sorts them.
canonical_query() {
  local pair name value
  local -a pieces=() pairs=()
  IFS='&' read -r -a pieces <<<"$1"
  for pair in "${pieces[@]}"; do
    [[ -n "$pair" ]] || continue
    name="${pair%%=*}" value=""
    [[ "$pair" == *=* ]] && value="${pair#*=}"
    sigv4_encode "$name"; name="$encoded"
    sigv4_encode "$value"; value="$encoded"
    pairs+=("$name=$value")
  done
  query=""
  ((${#pairs[@]} > 0)) || return 0
  query="$(printf '%s\n' "${pairs[@]}" | LC_ALL=C sort -t '=' -k1,1 -k2,2 | paste -sd '&' -)"
}

if [[ "$path" == *\?* ]]; then
  canonical_query "${path#*\?}"
  path="${path%%\?*}${query:+?$query}"
fi

# Secrets go to curl through its config on stdin, not on the command line where `ps` would show them.
{
  printf 'user = "%s:%s"\n' "$AWS_ACCESS_KEY_ID" "$AWS_SECRET_ACCESS_KEY"
  if [[ -n "${AWS_SESSION_TOKEN:-}" ]]; then printf 'header = "x-amz-security-token: %s"\n' "$AWS_SESSION_TOKEN"; fi
} | exec curl --no-buffer --silent --show-error --fail-with-body \
  --aws-sigv4 "aws:amz:${region}:${service}" \
  --config - \
  -H 'Accept: text/event-stream' \
  ${last_event_id:+-H "Last-Event-ID: ${last_event_id}"} \
  ${dump_header:+--dump-header "$dump_header"} \
  "${url}${path}"
