#!/usr/bin/env node
// @ts-check
/**
 * Smoke test of a deployed stack: GET /health, then stream a short progress
 * job from /events and check that it is correct SSE ending in `complete`.
 * The pipeline runs it after each stage deploys; run it by hand the same way.
 *
 *   node bin/smoke-test.mjs [options]
 *
 * Options (the first five are passed to bin/stream.sh, which signs with SigV4):
 *   --stack NAME           read FunctionUrl and Region from this stack's outputs
 *   --url URL              the Function URL (or REST API URL) to test
 *   --region REGION        the region to sign for
 *   --service NAME         lambda or execute-api (default: from the URL)
 *   --profile NAME         AWS CLI profile for credentials
 *   --steps N              steps of the job to stream (default 5)
 *   --interval-ms MS       milliseconds between steps (default 200)
 *   --timeout-seconds S    give up after this long in all (default 120)
 *   --max-reconnects N     reconnects allowed before `complete` (default 10)
 *   -h, --help             show this help
 *
 * Checks: /health answers 200 with {"status":"ok"}; /events answers 200 with
 * Content-Type text/event-stream; every event has an id never seen before;
 * `progress` steps arrive once each, in order, with a percentage that never
 * goes down; `complete` comes last, at 100 %, after every step, and the
 * response ends after it. A response that ends early (a window ending, with
 * or without its `reconnect` block, which must repeat the last event's id
 * and end the response) is resumed with Last-Event-ID as a browser would;
 * a 429 or 5xx is retried up to 3 times, 1, 2 and 3 s later. Exit 0 when
 * all hold, 1 with the reason when one does not, 2 on bad usage.
 *
 * Credentials are what bin/stream.sh uses: AWS_ACCESS_KEY_ID and
 * AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN), else the AWS CLI's (in
 * CodeBuild, the project role's). Needs Node 18+, bash, curl 7.76+.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createParser } from '../web/sse-parser.js';

const STREAM_SCRIPT = fileURLToPath(new URL('./stream.sh', import.meta.url));
const PASSED_TO_STREAM = ['--stack', '--url', '--region', '--service', '--profile'];
/** Times a 429 or 5xx answer to /events is retried, 1 s, 2 s, 3 s apart. */
const MAX_BUSY_RETRIES = 3;
/** The job's limits, as the function defines them (generated from its code). */
const JOB_LIMITS = (() => {
  const settings = JSON.parse(fs.readFileSync(fileURLToPath(new URL('../cdk/function-settings.json', import.meta.url)), 'utf8'));
  /** @param {string} name @returns {[number, number]} */
  const range = (name) => {
    const variable = settings.variables.find((/** @type {{ variable: string }} */ v) => v.variable === name);
    return [variable.min, variable.max];
  };
  return { steps: range('SSE_JOB_STEPS'), intervalMs: range('SSE_JOB_INTERVAL_MS') };
})();

/** A failed check: its message is the reason printed. */
class SmokeFailure extends Error {}

/** @param {string} message @returns {never} */
function usage(message) {
  process.stderr.write(`smoke-test: ${message} (see --help)\n`);
  process.exit(2);
}

/** @param {string} message @returns {never} */
function fail(message) {
  throw new SmokeFailure(message);
}

/**
 * @param {string[]} argv
 * @returns {{ streamArgs: string[], steps: number, intervalMs: number, timeoutMs: number, maxReconnects: number }}
 */
function parseArgs(argv) {
  /** @type {string[]} */
  const streamArgs = [];
  const numbers = { '--steps': 5, '--interval-ms': 200, '--timeout-seconds': 120, '--max-reconnects': 10 };
  /** @type {Record<string, [number, number]>} */
  const ranges = { '--steps': JOB_LIMITS.steps, '--interval-ms': JOB_LIMITS.intervalMs, '--timeout-seconds': [1, 3600], '--max-reconnects': [0, 1000] };
  for (let i = 0; i < argv.length; i += 1) {
    const option = argv[i];
    if (option === '-h' || option === '--help') {
      const text = fs.readFileSync(fileURLToPath(import.meta.url), 'utf8');
      const doc = text.slice(text.indexOf('/**') + 3, text.indexOf('*/'));
      process.stdout.write(`${doc.split('\n').map((line) => line.replace(/^ \* ?/, '')).join('\n').trim()}\n`);
      process.exit(0);
    }
    const value = argv[i + 1];
    if (PASSED_TO_STREAM.includes(option)) {
      if (value === undefined) usage(`${option} needs a value`);
      streamArgs.push(option, value);
    } else if (option in numbers) {
      const key = /** @type {keyof typeof numbers} */ (option);
      const [min, max] = ranges[key];
      if (value === undefined || !/^\d+$/.test(value) || Number(value) < min || Number(value) > max) {
        usage(`${option} must be a whole number from ${min} to ${max}, got ${value ?? 'nothing'}`);
      }
      numbers[key] = Number(value);
    } else {
      usage(`unknown option ${option}`);
    }
    i += 1;
  }
  return {
    streamArgs,
    steps: numbers['--steps'],
    intervalMs: numbers['--interval-ms'],
    timeoutMs: numbers['--timeout-seconds'] * 1000,
    maxReconnects: numbers['--max-reconnects'],
  };
}

/**
 * One signed request through bin/stream.sh. `onText` gets the body as it
 * arrives (decoded as UTF-8); when it returns false, the request is stopped.
 *
 * @param {string[]} args bin/stream.sh's arguments
 * @param {number} deadline Date.now() after which the request is stopped
 * @param {(text: string) => boolean} onText
 * @returns {Promise<{ code: number | null, stderr: string, status: number, contentType: string, stopped: boolean }>}
 */
function request(args, deadline, onText) {
  const headerFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'sse-smoke-')), 'headers');
  return new Promise((resolve, reject) => {
    // In its own process group: curl runs in a pipeline under bash, so
    // stopping bash alone would leave curl holding the stream open.
    const child = spawn('bash', [STREAM_SCRIPT, '--dump-header', headerFile, ...args], { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    const decoder = new TextDecoder();
    let stderr = '';
    let timedOut = false;
    let stopped = false;
    const stop = () => {
      if (child.pid !== undefined && child.exitCode === null) process.kill(-child.pid, 'SIGTERM');
    };
    const timer = setTimeout(() => {
      timedOut = true;
      stop();
    }, Math.max(0, deadline - Date.now()));
    child.stdout.on('data', (chunk) => {
      if (!stopped && !onText(decoder.decode(chunk, { stream: true }))) {
        stopped = true;
        stop();
      }
    });
    child.stderr.on('data', (chunk) => { stderr += chunk; });
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      if (!stopped) onText(decoder.decode());
      const headers = fs.existsSync(headerFile) ? fs.readFileSync(headerFile, 'latin1') : '';
      fs.rmSync(path.dirname(headerFile), { recursive: true, force: true });
      if (timedOut && !stopped) {
        reject(new SmokeFailure(`GET /${args.at(-1)} did not finish within the time allowed (--timeout-seconds)`));
        return;
      }
      // The last header block is the final response's (curl also writes interim ones such as 100).
      const blocks = headers.split(/\r?\n\r?\n/).filter((block) => block.trim() !== '');
      const last = blocks.at(-1) ?? '';
      const status = Number(/^HTTP\/[\d.]+ (\d{3})/.exec(last)?.[1] ?? 0);
      const contentType = /^content-type:\s*(.*)$/im.exec(last)?.[1]?.trim() ?? '';
      resolve({ code, stderr: stderr.trim(), status, contentType, stopped });
    });
  });
}

/**
 * @param {string[]} streamArgs
 * @param {number} deadline
 * @returns {Promise<string>} the version the function reports
 */
async function checkHealth(streamArgs, deadline) {
  let body = '';
  const answer = await request([...streamArgs, 'health'], deadline, (text) => {
    body += text;
    return true;
  });
  if (answer.code !== 0) fail(`GET /health failed (status ${answer.status || 'none'}): ${answer.stderr} ${body}`.trim());
  /** @type {unknown} */
  let health;
  try {
    health = JSON.parse(body);
  } catch {
    fail(`GET /health answered ${JSON.stringify(body.slice(0, 200))}, not JSON`);
  }
  if (typeof health !== 'object' || health === null || /** @type {Record<string, unknown>} */ (health).status !== 'ok') {
    fail(`GET /health answered ${body.slice(0, 200)}, not {"status":"ok",...}`);
  }
  return String(/** @type {Record<string, unknown>} */ (health).version ?? 'unknown');
}

/**
 * Follows one job to `complete`, resuming after each response that ends
 * early, and checks every event on the way.
 *
 * @param {{ streamArgs: string[], steps: number, intervalMs: number, maxReconnects: number }} options
 * @param {number} deadline
 * @returns {Promise<{ events: number, reconnects: number }>}
 */
async function checkStream({ streamArgs, steps, intervalMs, maxReconnects }, deadline) {
  const query = `events?steps=${steps}&interval_ms=${intervalMs}`;
  const seenIds = new Set();
  let jobId = '';
  let nextStep = 1;
  let percentage = 0;
  let complete = false;
  let events = 0;
  /** @type {string | undefined} */
  let resumeFrom;

  /** The id of the last event seen, and whether this response's `reconnect` block came. */
  let lastId = '';
  let reconnectBlock = false;

  /** @param {{ type: string, data: string, lastEventId: string }} event */
  const check = (event) => {
    events += 1;
    const where = `event ${events} (${event.type}, id ${JSON.stringify(event.lastEventId)})`;
    if (complete) fail(`${where} came after complete; the response must end there`);
    if (reconnectBlock) fail(`${where} came after the reconnect block; the response must end there`);
    if (event.type === 'error') fail(`the function sent an error event: ${event.data}`);
    // The end of a window: it repeats the last event's id and says so.
    if (event.type === 'reconnect') {
      events -= 1;
      reconnectBlock = true;
      /** @type {unknown} */
      let block;
      try {
        block = JSON.parse(event.data);
      } catch {
        fail(`${where}: the reconnect block's data is not JSON: ${event.data.slice(0, 200)}`);
      }
      const { lastEventId } = /** @type {Record<string, unknown>} */ (block ?? {});
      // Before any event (a window that ended first) there is no id to repeat: null.
      const named = lastEventId === null ? '' : lastEventId;
      if (event.lastEventId !== lastId || named !== lastId) {
        fail(`${where}: the reconnect block must repeat the last event's id ${JSON.stringify(lastId)}: ${event.data}`);
      }
      return;
    }
    if (event.type !== 'progress' && event.type !== 'complete') fail(`${where}: unexpected event type`);
    if (event.lastEventId === '') fail(`${where} has no id, so a client could not resume after it`);
    if (seenIds.has(event.lastEventId)) fail(`${where} repeats an id already received`);
    seenIds.add(event.lastEventId);
    lastId = event.lastEventId;
    /** @type {unknown} */
    let parsed;
    try {
      parsed = JSON.parse(event.data);
    } catch {
      fail(`${where}: data is not JSON: ${event.data.slice(0, 200)}`);
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      fail(`${where}: data is not a JSON object: ${event.data.slice(0, 200)}`);
    }
    const data = /** @type {Record<string, unknown>} */ (parsed);
    if (jobId === '') jobId = String(data.jobId);
    if (data.jobId !== jobId) fail(`${where} belongs to job ${String(data.jobId)}, not ${jobId}`);
    if (data.totalSteps !== steps) fail(`${where} says totalSteps ${String(data.totalSteps)}, asked for ${steps}`);
    const pct = Number(data.percentage);
    if (!(pct >= percentage && pct <= 100)) fail(`${where}: percentage ${String(data.percentage)} after ${percentage}`);
    percentage = pct;
    if (event.type === 'progress') {
      if (data.step !== nextStep) fail(`${where} is step ${String(data.step)}, expected step ${nextStep}: a step was lost or repeated`);
      nextStep += 1;
    } else {
      if (nextStep !== steps + 1) fail(`${where}: complete after step ${nextStep - 1} of ${steps}`);
      if (pct !== 100) fail(`${where}: complete at ${pct} %, not 100 %`);
      complete = true;
    }
  };

  let busy = 0;
  for (let attempt = 0; attempt <= maxReconnects; attempt += 1) {
    const parser = createParser({ onEvent: check, lastEventId: resumeFrom });
    reconnectBlock = false;
    /** @type {SmokeFailure | undefined} */
    let failure;
    let body = '';
    const args = [...streamArgs, ...(resumeFrom ? ['--last-event-id', resumeFrom] : []), query];
    const answer = await request(args, deadline, (text) => {
      body = (body + text).slice(-500);
      try {
        parser.feed(text);
        return true;
      } catch (error) {
        // A failed check inside the parser's callback: stop reading, report it below.
        if (!(error instanceof SmokeFailure)) throw error;
        failure = error;
        return false;
      }
    });
    // A function at its concurrency cap (429) or a passing fault (5xx): a
    // browser's client backs off and retries, and so does this, a few times.
    if ((answer.status === 429 || answer.status >= 500) && busy < MAX_BUSY_RETRIES) {
      busy += 1;
      process.stdout.write(`smoke-test: /${query} answered ${answer.status}; retrying in ${busy} s\n`);
      await new Promise((resolve) => setTimeout(resolve, busy * 1000));
      attempt -= 1;
      continue;
    }
    // Stopped at a failed check: the answer's status, if it was not 200, says more.
    if (failure && (answer.status === 0 || answer.status === 200)) throw failure;
    if (answer.code !== 0) fail(`GET /${query} failed (status ${answer.status || 'none'}): ${answer.stderr} ${body}`.trim());
    if (answer.status === 204) fail(`GET /${query} answered 204 (nothing more) before complete`);
    if (answer.status !== 200) fail(`GET /${query} answered status ${answer.status}, not 200`);
    if (!answer.contentType.toLowerCase().startsWith('text/event-stream')) {
      fail(`GET /${query} answered Content-Type ${JSON.stringify(answer.contentType)}, not text/event-stream`);
    }
    if (failure) throw failure;
    parser.end();
    if (complete) return { events, reconnects: attempt };
    // A window that ended before the first event: nothing to resume, start again.
    if (!parser.lastEventId && events === 0) continue;
    if (!parser.lastEventId) fail(`the response to /${query} ended before complete without an id to resume from`);
    resumeFrom = parser.lastEventId;
  }
  fail(`no complete after ${maxReconnects} reconnects (last step ${nextStep - 1} of ${steps})`);
}

async function main() {
  const options = parseArgs(process.argv.slice(2));
  const started = Date.now();
  const deadline = started + options.timeoutMs;
  try {
    const version = await checkHealth(options.streamArgs, deadline);
    process.stdout.write(`smoke-test: /health ok (version ${version})\n`);
    const { events, reconnects } = await checkStream(options, deadline);
    const seconds = ((Date.now() - started) / 1000).toFixed(1);
    process.stdout.write(`smoke-test: passed: ${events} events, ${options.steps} steps once each and in order, then complete (${reconnects} reconnects, ${seconds} s)\n`);
  } catch (error) {
    if (!(error instanceof SmokeFailure)) throw error;
    process.stderr.write(`smoke-test: FAILED: ${error.message}\n`);
    process.exitCode = 1;
  }
}

await main();
