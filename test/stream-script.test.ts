// bin/stream.sh against a local HTTP server standing in for the Function URL,
// with a fake `aws` on PATH standing in for the AWS CLI (no account needed).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { REPO_ROOT } from './helpers';

const SCRIPT = path.join(REPO_ROOT, 'bin', 'stream.sh');
const BODY = 'retry: 5000\n\nid: 1\nevent: progress\ndata: {"step":1}\n\n';

interface Seen { readonly url: string; readonly headers: http.IncomingHttpHeaders }

describe('bin/stream.sh', () => {
  const seen: Seen[] = [];
  let server: http.Server;
  let baseUrl = '';
  let fakeBin = '';
  let awsLog = '';

  before(async () => {
    server = http.createServer((req, res) => {
      seen.push({ url: req.url ?? '', headers: req.headers });
      if (req.url?.startsWith('/forbidden')) {
        res.writeHead(403, { 'content-type': 'application/json' }).end('{"Message":"Forbidden"}');
        return;
      }
      res.writeHead(200, { 'content-type': 'text/event-stream' }).end(BODY);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;

    // A fake AWS CLI: answers the two stack outputs and the credentials, logs every call.
    fakeBin = fs.mkdtempSync(path.join(os.tmpdir(), 'sse-fake-aws-'));
    awsLog = path.join(fakeBin, 'calls.log');
    fs.writeFileSync(path.join(fakeBin, 'aws'), `#!/usr/bin/env bash
echo "$*" >> "${awsLog}"
case "$*" in
  *describe-stacks*RestApiUrl*) echo "${baseUrl}live/" ;;
  *describe-stacks*FunctionUrl*) echo "${baseUrl}" ;;
  *describe-stacks*Region*) echo "eu-west-1" ;;
  *"configure export-credentials --format env-no-export"*)
    echo "AWS_ACCESS_KEY_ID=AKIDFROMCLI"
    echo "AWS_SECRET_ACCESS_KEY=secret/from+cli"
    echo "AWS_SESSION_TOKEN=token=="
    echo "AWS_CREDENTIAL_EXPIRATION=2030-01-01T00:00:00Z" ;;
  *) exit 99 ;;
esac
`, { mode: 0o755 });
  });

  after(() => {
    server.close();
    fs.rmSync(fakeBin, { recursive: true, force: true });
  });

  /** Runs the script without AWS_* variables from this process, plus `env`. */
  function run(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
    const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('AWS_')));
    return new Promise((resolve) => {
      execFile('bash', [SCRIPT, ...args], { env: { ...clean, PATH: `${fakeBin}:${process.env.PATH}`, ...env } }, (error, stdout, stderr) => {
        resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr });
      });
    });
  }

  function awsCalls(): string[] {
    return fs.existsSync(awsLog) ? fs.readFileSync(awsLog, 'utf8').trim().split('\n') : [];
  }

  it('reads URL and region from the stack, credentials from the AWS CLI, and streams signed', async () => {
    fs.rmSync(awsLog, { force: true });
    seen.length = 0;
    const result = await run(['--stack', 'SseDev', 'events?steps=2&interval_ms=10']);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout, BODY);

    const [request] = seen;
    assert.equal(request.url, '/events?interval_ms=10&steps=2', 'the query is sent sorted, as SigV4 signs it');
    assert.match(String(request.headers.authorization), /^AWS4-HMAC-SHA256 Credential=AKIDFROMCLI\/\d{8}\/eu-west-1\/lambda\/aws4_request, SignedHeaders=[^,]*x-amz-date[^,]*, Signature=[0-9a-f]{64}$/);
    assert.equal(request.headers['x-amz-security-token'], 'token==');
    assert.equal(request.headers.accept, 'text/event-stream');

    const calls = awsCalls();
    assert.equal(calls.length, 3);
    assert.ok(calls.every((c) => c.includes('--stack-name SseDev') || c.startsWith('configure export-credentials')), calls.join('\n'));
  });

  it('uses --url, --region and credentials from the environment without the AWS CLI', async () => {
    fs.rmSync(awsLog, { force: true });
    seen.length = 0;
    const result = await run(['--url', baseUrl.replace(/\/$/, ''), '--region', 'us-east-1', '--last-event-id', '7'], {
      AWS_ACCESS_KEY_ID: 'AKIDFROMENV',
      AWS_SECRET_ACCESS_KEY: 'envsecret',
    });
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(awsCalls(), []);
    const [request] = seen;
    assert.equal(request.url, '/events');
    assert.match(String(request.headers.authorization), /Credential=AKIDFROMENV\/\d{8}\/us-east-1\/lambda\/aws4_request/);
    assert.equal(request.headers['x-amz-security-token'], undefined);
    assert.equal(request.headers['last-event-id'], '7');
  });

  it('writes the status line and headers to the --dump-header file', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sse-headers-'));
    try {
      const file = path.join(dir, 'headers');
      const result = await run(['--url', baseUrl, '--region', 'eu-west-1', '--dump-header', file], { AWS_ACCESS_KEY_ID: 'A', AWS_SECRET_ACCESS_KEY: 'B' });
      assert.equal(result.code, 0, result.stderr);
      assert.equal(result.stdout, BODY, 'the body alone goes to stdout');
      const headers = fs.readFileSync(file, 'latin1');
      assert.match(headers, /^HTTP\/1\.1 200 OK\r\n/);
      assert.match(headers, /^content-type: text\/event-stream\r$/m);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('fails with the response body when the URL refuses the caller', async () => {
    const result = await run(['--url', baseUrl, '--region', 'eu-west-1', 'forbidden'], { AWS_ACCESS_KEY_ID: 'A', AWS_SECRET_ACCESS_KEY: 'B' });
    assert.equal(result.code, 22);
    assert.equal(result.stdout, '{"Message":"Forbidden"}');
    assert.match(result.stderr, /403/);
  });

  it('streams through the REST API on --rest-api: reads RestApiUrl and signs for execute-api', async () => {
    fs.rmSync(awsLog, { force: true });
    seen.length = 0;
    const result = await run(['--rest-api', 'streams/demo'], { AWS_ACCESS_KEY_ID: 'AKIDFROMENV', AWS_SECRET_ACCESS_KEY: 'envsecret' });
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout, BODY);
    const [request] = seen;
    assert.equal(request.url, '/live/streams/demo');
    assert.match(String(request.headers.authorization), /Credential=AKIDFROMENV\/\d{8}\/eu-west-1\/execute-api\/aws4_request/);
    assert.ok(awsCalls().some((c) => c.includes("OutputKey=='RestApiUrl'")), awsCalls().join('\n'));
    assert.ok(!awsCalls().some((c) => c.includes('FunctionUrl')));
  });

  it('signs for the service given with --service', async () => {
    seen.length = 0;
    const result = await run(['--url', baseUrl, '--region', 'eu-west-1', '--service', 'execute-api'], { AWS_ACCESS_KEY_ID: 'A', AWS_SECRET_ACCESS_KEY: 'B' });
    assert.equal(result.code, 0, result.stderr);
    assert.match(String(seen[0].headers.authorization), /\/eu-west-1\/execute-api\/aws4_request/);
    const refused = await run(['--url', baseUrl, '--region', 'eu-west-1', '--service', 's3'], { AWS_ACCESS_KEY_ID: 'A', AWS_SECRET_ACCESS_KEY: 'B' });
    assert.equal(refused.code, 2);
    assert.match(refused.stderr, /--service must be lambda or execute-api, got s3/);
  });

  it('signs an execute-api URL for execute-api and a Function URL for lambda, by the URL alone', async () => {
    // A stand-in curl that prints how it was called: the real hosts are not reachable from a test.
    const fakeCurl = fs.mkdtempSync(path.join(os.tmpdir(), 'sse-fake-curl-'));
    try {
      fs.writeFileSync(path.join(fakeCurl, 'curl'), '#!/usr/bin/env bash\nif [[ "$1" == --help ]]; then echo "--fail-with-body"; exit 0; fi\nprintf "%s\\n" "$@"\n', { mode: 0o755 });
      const call = async (url: string): Promise<string> => {
        const result = await run(['--url', url, '--region', 'eu-west-1'], { AWS_ACCESS_KEY_ID: 'A', AWS_SECRET_ACCESS_KEY: 'B', PATH: `${fakeCurl}:${fakeBin}:${process.env.PATH}` });
        assert.equal(result.code, 0, result.stderr);
        return result.stdout;
      };
      const restApi = await call('https://a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com/live');
      assert.ok(restApi.includes('aws:amz:eu-west-1:execute-api\n'), restApi);
      assert.ok(restApi.includes('https://a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com/live/events\n'), restApi);
      const functionUrl = await call('https://abcdefghijklmnopqrstuvwxyz012345.lambda-url.eu-west-1.on.aws/');
      assert.ok(functionUrl.includes('aws:amz:eu-west-1:lambda\n'), functionUrl);
      const customDomain = await call('https://sse.example.com/');
      assert.ok(customDomain.includes('aws:amz:eu-west-1:lambda\n'), 'a custom domain needs --service execute-api');
    } finally {
      fs.rmSync(fakeCurl, { recursive: true, force: true });
    }
  });

  it('rejects an unknown option with a pointer to --help', async () => {
    const result = await run(['--regoin', 'x']);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /unknown option --regoin \(see --help\)/);
  });
});
