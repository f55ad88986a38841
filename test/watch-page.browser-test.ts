// The page at `/` in a real browser: Debian's Chromium, driven headless by
// Playwright, against the function behind cargo-lambda's Function URL
// emulator (1 s windows) with a local DynamoDB (dynalite) for durable
// streams. Every server binds 127.0.0.1 and is stopped at the end.
//
// Needs what `npm test` installs first: cargo-lambda in .venv (on PATH),
// the npm packages, /usr/bin/chromium, and target/debug/sse-publish (built
// by `cargo test`). The finished page's screenshot is written to
// target/test-artifacts/watch-page.png; LAMBDA_SSE_WRITE_SCREENSHOT=1 also
// refreshes docs/watch-page.png, which the README shows.
import assert from 'node:assert/strict';
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as net from 'node:net';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type Browser, type Page, chromium } from 'playwright-core';
import { REPO_ROOT } from './helpers';

// Debian's, or another (SSE_CHROMIUM) where the build image has none.
const CHROMIUM = process.env.SSE_CHROMIUM || '/usr/bin/chromium';
const WINDOW_MS = 1000;
const ARTIFACTS = path.join(REPO_ROOT, 'target', 'test-artifacts');
const SSE_PUBLISH = path.join(REPO_ROOT, 'target', 'debug', 'sse-publish');

/** A port nothing listens on now. */
async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** A child in its own process group, so that stopping it stops what it started. */
class Running {
  readonly output: string[] = [];
  private readonly child: ChildProcess;

  constructor(command: string, args: string[], env: NodeJS.ProcessEnv = {}) {
    this.child = spawn(command, args, { cwd: REPO_ROOT, env: { ...process.env, ...env }, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    for (const stream of [this.child.stdout, this.child.stderr]) {
      stream?.on('data', (chunk: Buffer) => this.output.push(...chunk.toString().split('\n').filter(Boolean)));
    }
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  stop(): void {
    if (this.child.pid !== undefined && this.running) process.kill(-this.child.pid, 'SIGTERM');
  }

  tail(lines = 40): string {
    return this.output.slice(-lines).join('\n');
  }
}

async function waitFor(what: string, check: () => Promise<boolean> | boolean, limitMs: number, describeFailure = () => ''): Promise<void> {
  const deadline = Date.now() + limitMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${limitMs} ms\n${describeFailure()}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function answers(url: string): Promise<boolean> {
  try {
    return (await fetch(url)).ok;
  } catch {
    return false;
  }
}

/**
 * A front door on 127.0.0.1 that passes everything through to the emulator,
 * except that it answers the first request carrying `Last-Event-ID` (a
 * reconnect) with 429, as a function at its concurrency cap does.
 */
function throttlingFront(upstream: string): { server: http.Server; refused: string[]; passed: string[] } {
  const refused: string[] = [];
  const passed: string[] = [];
  const server = http.createServer((req, res) => {
    if (req.headers['last-event-id'] !== undefined && refused.length === 0) {
      refused.push(req.url ?? '');
      res.writeHead(429, { 'content-type': 'application/json' }).end('{"Message":"Too Many Requests"}');
      return;
    }
    passed.push(req.url ?? '');
    const target = new URL(upstream + (req.url ?? '/'));
    const headers = { ...req.headers, host: target.host };
    const forward = http.request(target, { method: req.method, headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    forward.on('error', () => res.destroy());
    req.pipe(forward);
  });
  return { server, refused, passed };
}

interface LogItem { type: string; id: string; text: string }

async function logItems(page: Page): Promise<LogItem[]> {
  return page.$$eval('#log li', (items) => items.map((li) => ({ type: li.getAttribute('data-type') ?? '', id: li.getAttribute('data-id') ?? '', text: li.textContent ?? '' })));
}

async function state(page: Page): Promise<string> {
  return page.evaluate(() => document.body.dataset.state ?? '');
}

describe('the page that watches a stream, in Chromium', { timeout: 15 * 60_000 }, () => {
  let dynamo: Running;
  let emulator: Running;
  let browser: Browser;
  let base = '';
  let publishEnv: NodeJS.ProcessEnv = {};

  before(async () => {
    const dynamoPort = await freePort();
    dynamo = new Running(path.join(REPO_ROOT, 'node_modules', '.bin', 'dynalite'), ['--host', '127.0.0.1', '--port', String(dynamoPort)]);
    publishEnv = {
      SSE_TABLE_NAME: 'sse-browser',
      AWS_ENDPOINT_URL_DYNAMODB: `http://127.0.0.1:${dynamoPort}`,
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'local',
      AWS_SECRET_ACCESS_KEY: 'local',
    };
    await waitFor('the table is created', () => publish(['--create-table']).then(() => true, () => false), 30_000, () => dynamo.tail());

    const port = await freePort();
    const envArgs = Object.entries({ ...publishEnv, SSE_WINDOW_MS: String(WINDOW_MS) }).flatMap(([k, v]) => ['--env-var', `${k}=${v}`]);
    emulator = new Running('cargo', ['lambda', 'watch', '--ignore-changes', '--disable-cors', '--invoke-address', '127.0.0.1', '--invoke-port', String(port), ...envArgs], { RUST_LOG: 'info' });
    base = `http://127.0.0.1:${port}/lambda-url/sse-function`;
    await waitFor('the emulator answers /health', () => answers(`${base}/health`), 600_000, () => emulator.tail());

    browser = await chromium.launch({
      executablePath: CHROMIUM,
      // Without these, Chromium keeps calling out to Google's services, which
      // a closed network refuses; none of them matters to the page.
      args: ['--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    fs.mkdirSync(ARTIFACTS, { recursive: true });
  });

  after(async () => {
    await browser?.close();
    emulator?.stop();
    dynamo?.stop();
  });

  function publish(args: string[], input?: string): Promise<string> {
    return new Promise((resolve, reject) => {
      const child = execFile(SSE_PUBLISH, args, { env: { ...process.env, ...publishEnv } }, (error, stdout, stderr) => {
        if (error) reject(new Error(`sse-publish ${args.join(' ')}: ${stderr}`));
        else resolve(stdout.trim());
      });
      child.stdin?.end(input);
    });
  }

  async function open(url: string, viewport = { width: 1000, height: 800 }): Promise<Page> {
    const page = await browser.newPage({ viewport });
    const problems: string[] = [];
    page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
    page.on('console', (message) => { if (message.type() === 'error') problems.push(`console: ${message.text()}`); });
    (page as Page & { problems: string[] }).problems = problems;
    await page.goto(url);
    return page;
  }

  function watchUrl(pageBase: string, stream: string): string {
    return `${pageBase}/?stream=${encodeURIComponent(stream)}`;
  }

  async function waitForState(page: Page, wanted: string[], limitMs: number): Promise<void> {
    await waitFor(`the page reaches ${wanted.join(' or ')}`, async () => wanted.includes(await state(page)), limitMs, () => `state ${page.isClosed() ? '(closed)' : ''}`);
  }

  it('shows a short job to 100 % and complete, accessibly, and a phone can read it', async () => {
    const page = await open(watchUrl(base, '/events?steps=5&interval_ms=100'), { width: 390, height: 844 });
    await waitForState(page, ['complete'], 30_000);

    const progress = page.locator('#progress');
    const bar = await progress.evaluate((el) => ({
      tag: el.tagName,
      value: (el as HTMLProgressElement).value ?? Number(el.getAttribute('aria-valuenow')),
      max: (el as HTMLProgressElement).max ?? Number(el.getAttribute('aria-valuemax')),
      role: el.getAttribute('role'),
      label: (el as HTMLProgressElement).labels?.length ?? 0,
      ariaLabel: el.getAttribute('aria-label') ?? el.getAttribute('aria-labelledby') ?? '',
    }));
    assert.ok(bar.tag === 'PROGRESS' || bar.role === 'progressbar', JSON.stringify(bar));
    assert.equal(bar.value, bar.max, 'the bar is full');
    assert.equal(bar.max, 100);
    assert.ok(bar.label > 0 || bar.ariaLabel !== '', 'the bar has a label');
    assert.match(await page.locator('#status').innerText(), /complete/i);

    const log = await logItems(page);
    assert.deepEqual(log.map((item) => item.type), ['progress', 'progress', 'progress', 'progress', 'progress', 'complete']);
    assert.ok(log.every((item) => item.id !== '' && item.text.includes(item.id)), 'each event shows its id');

    // Every control has a label, and nothing is wider than the phone's screen.
    const unlabelled = await page.$$eval('input, select, textarea', (controls) =>
      controls.filter((c) => (c as HTMLInputElement).labels?.length === 0 && !c.getAttribute('aria-label')).map((c) => c.id));
    assert.deepEqual(unlabelled, []);
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 0, `the page is ${overflow} px wider than a phone`);
    assert.deepEqual((page as Page & { problems: string[] }).problems, []);
    await page.close();
  });

  it('follows a job across at least 3 windows, every step shown once, and shares the link', async () => {
    // From the form, not a link: the page must put the stream in its own URL.
    const page = await open(`${base}/`);
    await page.selectOption('#stream-kind', { index: 0 });
    await page.fill('#steps', '8');
    await page.fill('#interval-ms', '400');
    await page.click('#watch');
    await waitForState(page, ['complete'], 60_000);

    const log = await logItems(page);
    const steps = log.filter((item) => item.type === 'progress').map((item) => JSON.parse(item.text.slice(item.text.indexOf('{'))).step);
    assert.deepEqual(steps, [1, 2, 3, 4, 5, 6, 7, 8], 'each step once, in order');
    assert.equal(log.at(-1)?.type, 'complete');
    assert.equal(new Set(log.map((item) => item.id)).size, log.length, 'no event shown twice');
    const reconnects = Number((await page.locator('#reconnects').innerText()).match(/\d+/)?.[0]);
    assert.ok(reconnects >= 2, `3.2 s of events in 1 s windows needs at least 2 reconnects, the page shows ${reconnects}`);

    const shared = new URL(page.url());
    assert.equal(shared.searchParams.get('stream'), '/events?steps=8&interval_ms=400');
    await page.screenshot({ path: path.join(ARTIFACTS, 'watch-page.png'), fullPage: true });
    if (process.env.LAMBDA_SSE_WRITE_SCREENSHOT === '1') {
      fs.copyFileSync(path.join(ARTIFACTS, 'watch-page.png'), path.join(REPO_ROOT, 'docs', 'watch-page.png'));
    }
    assert.deepEqual((page as Page & { problems: string[] }).problems, []);
    await page.close();
  });

  it('retries a reconnect answered 429 and still completes', async () => {
    const front = throttlingFront(`${base}`);
    await new Promise<void>((resolve) => front.server.listen(0, '127.0.0.1', resolve));
    const frontBase = `http://127.0.0.1:${(front.server.address() as net.AddressInfo).port}`;
    try {
      const page = await open(watchUrl(frontBase, '/events?steps=4&interval_ms=400'));
      await waitForState(page, ['complete'], 60_000);
      assert.equal(front.refused.length, 1, 'one reconnect was refused');
      const log = await logItems(page);
      assert.deepEqual(log.map((item) => item.type), ['progress', 'progress', 'progress', 'progress', 'complete']);
      const resumed = front.passed.filter((url) => url.startsWith('/events')).length;
      assert.ok(resumed >= 2, `the refused reconnect was retried: ${front.passed.join(', ')}`);
      await page.close();
    } finally {
      front.server.closeAllConnections();
      front.server.close();
    }
  });

  it('shows each event of a durable stream as sse-publish publishes it, then the end', async () => {
    const stream = `browser-${process.pid}`;
    const page = await open(watchUrl(base, `/streams/${stream}`));
    await waitForState(page, ['open'], 30_000);

    const ids: string[] = [];
    for (const [i, text] of ['first', 'second', 'third'].entries()) {
      ids.push(await publish(['--stream', stream, '--event', 'note', text]));
      await waitFor(`event ${i + 1} is shown`, async () => (await logItems(page)).length === i + 1, 10_000);
      const shown = (await logItems(page))[i];
      assert.equal(shown.type, 'note');
      assert.equal(shown.id, ids[i]);
      assert.ok(shown.text.includes(text), shown.text);
    }
    ids.push(await publish(['--stream', stream, '--event', 'done', '--final', 'bye']));
    await waitForState(page, ['ended'], 15_000);
    const log = await logItems(page);
    assert.deepEqual(log.map((item) => item.id), ids, 'each once, in order');
    assert.equal(log.at(-1)?.type, 'done');
    assert.deepEqual((page as Page & { problems: string[] }).problems, []);
    await page.close();
  });
});
