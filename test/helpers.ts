import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import { Annotations, Template } from 'aws-cdk-lib/assertions';
import { SseFunction, type SseFunctionProps } from '../cdk/sse-function';

export const REPO_ROOT = path.join(__dirname, '..');

/** The feature flags from cdk.json, so tests synthesize what `cdk synth` would. */
export const CDK_JSON_CONTEXT: Record<string, unknown> = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'cdk.json'), 'utf8')).context;

// Every app of a test process writes below one temporary directory, removed when the process ends.
const OUTDIR_ROOT = fs.mkdtempSync(path.join(os.tmpdir(), 'sse-cdk-test-'));
process.on('exit', () => fs.rmSync(OUTDIR_ROOT, { recursive: true, force: true }));

/** A fresh, empty directory for one app's cloud assembly. */
export function testOutdir(): string {
  return fs.mkdtempSync(path.join(OUTDIR_ROOT, 'app-'));
}

/** An app as the CLI would create it, but without bundling (no cargo build). */
export function testApp(context: Record<string, unknown> = {}): App {
  return new App({ context: { ...CDK_JSON_CONTEXT, 'aws:cdk:bundling-stacks': [], ...context }, outdir: testOutdir() });
}

export interface Built {
  readonly stack: Stack;
  readonly sse: SseFunction;
  readonly template: Template;
  readonly annotations: Annotations;
}

/** One SseFunction in its own stack, synthesized. */
export function buildFunction(props?: SseFunctionProps): Built {
  const stack = new Stack(testApp(), 'Test');
  const sse = new SseFunction(stack, 'Sse', props);
  return { stack, sse, template: Template.fromStack(stack), annotations: Annotations.fromStack(stack) };
}

/** The only resource of a type, with its properties. */
export function onlyResource(template: Template, type: string): { Properties: Record<string, unknown>; [key: string]: unknown } {
  const found = Object.values(template.findResources(type));
  if (found.length !== 1) throw new Error(`expected one ${type}, found ${found.length}`);
  return found[0] as { Properties: Record<string, unknown> };
}

/** A well-formed ACM certificate ARN for ALB tests (nothing is looked up). */
export const CERTIFICATE_ARN = 'arn:aws:acm:eu-west-1:123456789012:certificate/0a1b2c3d-4e5f-6a7b-8c9d-0e1f2a3b4c5d';

/** A well-formed Cognito user pool ARN for REST API tests (nothing is looked up). */
export const USER_POOL_ARN = 'arn:aws:cognito-idp:eu-west-1:123456789012:userpool/eu-west-1_AbCdEf123';

/** A well-formed regional WAFv2 web ACL ARN for REST API tests. */
export const WEB_ACL_ARN = 'arn:aws:wafv2:eu-west-1:123456789012:regional/webacl/sse/0a1b2c3d-4e5f-6a7b-8c9d-0e1f2a3b4c5d';

/** An OIDC provider for ALB tests, as construct props. */
export const OIDC = {
  issuer: 'https://login.example.com',
  authorizationEndpoint: 'https://login.example.com/oauth2/authorize',
  tokenEndpoint: 'https://login.example.com/oauth2/token',
  userInfoEndpoint: 'https://login.example.com/oauth2/userinfo',
  clientId: 'sse-alb',
  clientSecretName: 'sse/alb-oidc-client-secret',
};

/** The same provider as `-c` context keys. */
export const OIDC_CONTEXT: Record<string, string> = {
  'sse:albOidcIssuer': OIDC.issuer,
  'sse:albOidcAuthorizationEndpoint': OIDC.authorizationEndpoint,
  'sse:albOidcTokenEndpoint': OIDC.tokenEndpoint,
  'sse:albOidcUserInfoEndpoint': OIDC.userInfoEndpoint,
  'sse:albOidcClientId': OIDC.clientId,
  'sse:albOidcClientSecretName': OIDC.clientSecretName,
};

/** Credentials the SigV4 verifier accepts: long-term keys, and temporary ones with a session token. */
export const VERIFIER_KEY = 'AKIDEXAMPLE';
export const VERIFIER_TEMPORARY_KEY = 'ASIAEXAMPLE';
export const VERIFIER_SECRET = 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY';
export const VERIFIER_TOKEN = 'IQoJb3JpZ2luX2VjE//session+token=';

export interface Verifier {
  /** `http://127.0.0.1:<port>/` */
  readonly url: string;
  /** What it printed: one line per request, `verified` or `refused: <why>`. */
  output(): string;
  stop(): void;
}

/**
 * `test/sigv4_verifier.py` (botocore's SigV4) on 127.0.0.1 in front of
 * `upstream`, for `service` (`lambda` unless told) in `region`: answers 403
 * to any request whose signature AWS would refuse. Needs botocore in .venv (`npm test`
 * installs it).
 */
export async function startVerifier(upstream: string, region: string, service = 'lambda'): Promise<Verifier> {
  const python = path.join(REPO_ROOT, '.venv', 'bin', 'python');
  if (!fs.existsSync(python)) throw new Error(`${python} is missing: run npm test (or source scripts/ensure-tools.sh && ensure_python_tools) to install botocore`);
  const child = spawn(python, [
    path.join(REPO_ROOT, 'test', 'sigv4_verifier.py'),
    '--upstream', upstream, '--region', region, '--service', service,
    '--credentials', `${VERIFIER_KEY}:${VERIFIER_SECRET}`,
    '--credentials', `${VERIFIER_TEMPORARY_KEY}:${VERIFIER_SECRET}:${VERIFIER_TOKEN}`,
  ], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (chunk) => (output += chunk));
  child.stderr.on('data', (chunk) => (output += chunk));
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the verifier did not start:\n${output}`)), 30_000);
    child.stdout.on('data', () => {
      const found = /listening on (\d+)/.exec(output);
      if (found) {
        clearTimeout(timer);
        resolve(Number(found[1]));
      }
    });
    child.on('exit', (code) => reject(new Error(`the verifier exited (${code}):\n${output}`)));
  });
  return { url: `http://127.0.0.1:${port}/`, output: () => output, stop: () => child.kill() };
}
