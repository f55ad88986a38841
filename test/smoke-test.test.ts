// bin/smoke-test.mjs against a local server standing in for a deployed
// stack: it must pass a correct stream (also one cut into windows) and fail,
// saying why, on each way a stream can be wrong. The same script passing
// through the real function (the emulator, behind a SigV4 verifier) is
// tested in function/tests/emulator.rs.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { REPO_ROOT } from './helpers';

const SCRIPT = path.join(REPO_ROOT, 'bin', 'smoke-test.mjs');
const JOB = 'b5d0c8f2-5f4e-4a47-9a7e-0d4f1c2a3b4c';

/** One SSE event of a 3-step job: `progress` 1..3 or `complete`. */
function event(step: number | 'complete', options: { id?: string; type?: string; percentage?: number } = {}): string {
  const done = step === 'complete';
  const n = done ? 3 : step;
  const data = { jobId: JOB, step: n, totalSteps: 3, percentage: options.percentage ?? (done ? 100 : (n - 1) * 50), status: done ? 'Processing complete!' : `Processing step ${n} of 3...` };
  const id = options.id ?? `${JOB}/3:${step}`;
  return `${id === '' ? '' : `id: ${id}\n`}event: ${options.type ?? (done ? 'complete' : 'progress')}\ndata: ${JSON.stringify(data)}\n\n`;
}

/** The block that ends a window: it repeats the last event's id. */
function reconnect(lastEventId: string): string {
  return `id: ${lastEventId}\nevent: reconnect\nretry: 100\ndata: ${JSON.stringify({ lastEventId, reason: 'window', retryMs: 100 })}\n\n`;
}

const WHOLE = `retry: 1000\n\n${event(1)}${event(2)}${event(3)}${event('complete')}`;

/** What each stand-in answers at /<case>/events, given the Last-Event-ID it got. */
const STREAMS: Record<string, (lastEventId: string | undefined) => { status?: number; type?: string; body: string; keepOpen?: boolean } | 'hang'> = {
  good: () => ({ body: WHOLE }),
  // A window ends after step 2; the resume continues from the id.
  windowed: (last) => (last === `${JOB}/3:2` ? { body: event(3) + event('complete') } : { body: event(1) + event(2) + reconnect(`${JOB}/3:2`) }),
  'reconnect-wrong-id': () => ({ body: event(1) + event(2) + reconnect(`${JOB}/3:1`) }),
  'after-reconnect': () => ({ body: event(1) + reconnect(`${JOB}/3:1`) + event(2) }),
  'no-complete': (last) => (last ? { status: 204, body: '' } : { body: event(1) + event(2) + event(3) }),
  'repeated-step': () => ({ body: event(1) + event(2) + event(2, { id: 'again' }) + event(3) + event('complete') }),
  'lost-step': () => ({ body: event(1) + event(3) + event('complete') }),
  'repeated-id': () => ({ body: event(1) + event(2, { id: `${JOB}/3:1` }) + event(3) + event('complete') }),
  'no-id': () => ({ body: event(1, { id: '' }) + event(2) + event(3) + event('complete') }),
  // An event without an id field keeps the one before it (the SSE rules).
  'inherited-id': () => ({ body: event(1) + event(2, { id: '' }) + event(3) + event('complete') }),
  'after-complete': () => ({ body: WHOLE + event(3, { id: 'late' }) }),
  'complete-early': () => ({ body: event(1) + event('complete') }),
  'percentage-down': () => ({ body: event(1) + event(2, { percentage: 60 }) + event(3, { percentage: 40 }) + event('complete') }),
  'error-event': () => ({ body: `${event(1)}event: error\ndata: {"error":"source_failed","message":"the job store is down"}\n\n` }),
  'wrong-type': () => ({ type: 'text/plain', body: WHOLE }),
  forbidden: () => ({ status: 403, type: 'application/json', body: '{"Message":"Forbidden"}' }),
  'unterminated-complete': (last) => (last ? { status: 204, body: '' } : { body: event(1) + event(2) + event(3) + event('complete').trimEnd() }),
  hang: () => 'hang',
  // Correct, in the ways a stream may legally look: a BOM, CRLF line ends, comments (heartbeats).
  'heartbeats-bom-crlf': () => ({ body: `\uFEFF: hi\n\n${WHOLE.replace(/\n/g, '\r\n').replace(/event: complete/, ': heartbeat\r\n\r\nevent: complete')}` }),
  // A window that ended before the first event (no id to repeat), then a whole job.
  'reconnect-before-first': (() => {
    let calls = 0;
    return () => (calls++ === 0 ? { body: 'event: reconnect\ndata: {"lastEventId":null,"reason":"window","retryMs":100}\n\n' } : { body: WHOLE });
  })(),
  'busy-once': (() => {
    let calls = 0;
    return () => (calls++ === 0 ? { status: 429, type: 'application/json', body: '{"Message":"Too Many Requests"}' } : { body: WHOLE });
  })(),
  'always-busy': () => ({ status: 503, type: 'application/json', body: '{"Message":"Service Unavailable"}' }),
  'null-data': () => ({ body: `${event(1)}id: x\nevent: progress\ndata: null\n\n` }),
  'after-complete-open': () => ({ body: WHOLE + event(3, { id: 'late' }), keepOpen: true }),
};

describe('bin/smoke-test.mjs', () => {
  const seen: { url: string; lastEventId?: string; authorization?: string }[] = [];
  let server: http.Server;
  let baseUrl = '';

  before(async () => {
    server = http.createServer((req, res) => {
      const [, name, rest] = /^\/([^/]+)\/(.*)$/.exec(req.url ?? '') ?? [];
      const lastEventId = req.headers['last-event-id'] as string | undefined;
      seen.push({ url: req.url ?? '', lastEventId, authorization: req.headers.authorization });
      if (rest === 'health') {
        const body = name === 'unhealthy' ? '{"status":"starting"}' : '{"status":"ok","version":"9.9.9"}';
        res.writeHead(200, { 'content-type': 'application/json' }).end(body);
        return;
      }
      const answer = STREAMS[name]?.(lastEventId);
      if (!rest?.startsWith('events?') || !answer) {
        res.writeHead(404).end();
        return;
      }
      if (answer === 'hang') {
        res.writeHead(200, { 'content-type': 'text/event-stream' }).write(event(1));
        return;
      }
      res.writeHead(answer.status ?? 200, { 'content-type': answer.type ?? 'text/event-stream' });
      if (answer.keepOpen) {
        // Heartbeats and never an end: a test must not wait for it.
        res.write(answer.body);
        const beat = setInterval(() => res.write(': heartbeat\n\n'), 100);
        res.on('close', () => clearInterval(beat));
      } else {
        res.end(answer.body);
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  after(() => {
    server.closeAllConnections();
    server.close();
  });

  function run(name: string, ...extra: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('AWS_')));
    const args = [SCRIPT, '--url', `${baseUrl}/${name}/`, '--region', 'eu-west-1', '--steps', '3', '--interval-ms', '10', ...extra];
    return new Promise((resolve) => {
      execFile('node', args, { env: { ...env, AWS_ACCESS_KEY_ID: 'AKIDSMOKE', AWS_SECRET_ACCESS_KEY: 'secret' } }, (error, stdout, stderr) => {
        resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr });
      });
    });
  }

  it('passes a correct stream: health, every step once and in order, then complete', async () => {
    seen.length = 0;
    const result = await run('good');
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /\/health ok \(version 9\.9\.9\)/);
    assert.match(result.stdout, /passed: 4 events, 3 steps once each and in order, then complete \(0 reconnects/);
    assert.deepEqual(seen.map((s) => s.url), ['/good/health', '/good/events?interval_ms=10&steps=3']);
    assert.ok(seen.every((s) => s.authorization?.startsWith('AWS4-HMAC-SHA256 Credential=AKIDSMOKE/')), 'every request is signed');
  });

  it('resumes a stream cut into windows with Last-Event-ID, as a browser would', async () => {
    seen.length = 0;
    const result = await run('windowed');
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /passed: 4 events, .*\(1 reconnects/);
    assert.deepEqual(seen.map((s) => s.lastEventId), [undefined, undefined, `${JOB}/3:2`]);
  });

  for (const name of ['heartbeats-bom-crlf', 'reconnect-before-first']) {
    it(`passes a correct stream: ${name}`, async () => {
      const result = await run(name);
      assert.equal(result.code, 0, result.stderr);
      assert.match(result.stdout, /passed: 4 events, 3 steps once each and in order, then complete/);
    });
  }

  it('retries a 429 as a browser would, and gives up after 3 answers of 5xx', async () => {
    const busy = await run('busy-once');
    assert.equal(busy.code, 0, busy.stderr);
    assert.match(busy.stdout, /answered 429; retrying in 1 s/);
    const down = await run('always-busy');
    assert.equal(down.code, 1, down.stdout);
    assert.match(down.stdout, /retrying in 3 s/);
    assert.match(down.stderr, /failed \(status 503\)/);
  });

  it('fails at once on a wrong event in a stream that stays open', async () => {
    const started = Date.now();
    const result = await run('after-complete-open', '--timeout-seconds', '60');
    assert.equal(result.code, 1, result.stderr);
    assert.match(result.stderr, /came after complete; the response must end there/);
    assert.ok(Date.now() - started < 20_000, 'it did not wait for its timeout');
  });

  const failures: [string, RegExp][] = [
    ['unhealthy', /GET \/health answered \{"status":"starting"\}, not \{"status":"ok",\.\.\.\}/],
    ['no-complete', /answered 204 \(nothing more\) before complete/],
    ['repeated-step', /is step 2, expected step 3: a step was lost or repeated/],
    ['lost-step', /is step 3, expected step 2/],
    ['repeated-id', /repeats an id already received/],
    ['no-id', /event 1 \(progress, id ""\) has no id, so a client could not resume after it/],
    ['inherited-id', /event 2 \(progress, id "[^"]+\/3:1"\) repeats an id already received/],
    ['after-complete', /came after complete; the response must end there/],
    ['null-data', /event 2 \(progress, id "x"\): data is not a JSON object: null/],
    ['reconnect-wrong-id', /the reconnect block must repeat the last event's id "[^"]+\/3:2"/],
    ['after-reconnect', /event 2 \(progress, id "[^"]+\/3:2"\) came after the reconnect block/],
    ['complete-early', /complete after step 1 of 3/],
    ['percentage-down', /percentage 40 after 60/],
    ['error-event', /the function sent an error event: \{"error":"source_failed"/],
    ['wrong-type', /answered Content-Type "text\/plain", not text\/event-stream/],
    ['forbidden', /failed \(status 403\).*\{"Message":"Forbidden"\}/],
    // An event the response never finished is not an event (as in browsers):
    // without it the job has no complete, and the reconnect gets 204 here.
    ['unterminated-complete', /answered 204 \(nothing more\) before complete/],
  ];
  for (const [name, reason] of failures) {
    it(`fails on ${name}, saying why`, async () => {
      const result = await run(name, '--max-reconnects', '1');
      assert.equal(result.code, 1, `${result.stdout}\n${result.stderr}`);
      assert.match(result.stderr, /^smoke-test: FAILED: /m);
      assert.match(result.stderr, reason);
    });
  }

  it('fails a stream that stops sending, at --timeout-seconds', async () => {
    const started = Date.now();
    const result = await run('hang', '--timeout-seconds', '2');
    assert.equal(result.code, 1, result.stderr);
    assert.match(result.stderr, /GET \/events\?steps=3&interval_ms=10 did not finish within the time allowed/);
    assert.ok(Date.now() - started < 20_000, 'stopped at its timeout');
  });

  it('refuses bad options with exit code 2', async () => {
    const unknown = await run('good', '--stepz', '3');
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /unknown option --stepz \(see --help\)/);
    const range = await run('good', '--steps', '0');
    assert.equal(range.code, 2);
    assert.match(range.stderr, /--steps must be a whole number from 1 to 1000, got 0/);
    // The job's own limits (cdk/function-settings.json): it refuses faster jobs.
    const fast = await run('good', '--interval-ms', '9');
    assert.equal(fast.code, 2);
    assert.match(fast.stderr, /--interval-ms must be a whole number from 10 to 60000, got 9/);
  });

  it('prints its help', async () => {
    const help = await run('good', '--help');
    assert.equal(help.code, 0);
    assert.match(help.stdout, /^Smoke test of a deployed stack/);
    assert.match(help.stdout, /--max-reconnects N/);
  });
});
