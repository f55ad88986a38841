// web/sse-client.js, the page's fetch-based EventSource, against a real
// node:http server on 127.0.0.1: reconnects with Last-Event-ID, the server's
// `retry`, backoff on 429 and 5xx, the answers that stop it for good, extra
// headers, and close(). Delays are shortened through the client's options;
// timing is asserted as ordering and lower bounds only. Every assert.ok has
// a message: without one, Node reads the call's source to make one, which
// can hang on code transformed by tsx.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import {
  backoffDelay,
  retryAfterMs,
  SseClient,
  type SseClientOptions,
  SseErrorEvent,
  SseFinishedEvent,
  SseReconnectingEvent,
} from '../web/sse-client.js';

type Handler = (req: http.IncomingMessage, res: http.ServerResponse, n: number) => void;

interface Seen {
  headers: http.IncomingHttpHeaders;
  at: number;
}

const SSE = { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' };
/** Short delays, so that reconnects take milliseconds. */
const FAST: SseClientOptions = { initialRetryMs: 10, backoffBaseMs: 10, maxRetryMs: 100 };

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The next `type` event of the client, or a failure after `ms`. */
async function next<T extends Event>(client: SseClient, type: string, ms = 3000): Promise<T> {
  const [event] = await once(client, type, { signal: AbortSignal.timeout(ms) });
  return event as T;
}

async function until(what: string, check: () => boolean, ms = 3000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${ms} ms`);
    await sleep(5);
  }
}

/** Every reconnecting event of a client, as plain objects. */
function reconnects(client: SseClient) {
  const seen: { attempt: number; delay: number; reason: string; status: number; code: string; message: string }[] = [];
  client.addEventListener('reconnecting', (event) => {
    const { attempt, delay, reason, status, code, message } = event as SseReconnectingEvent;
    seen.push({ attempt, delay, reason, status, code, message });
  });
  return seen;
}

describe('web/sse-client.js', () => {
  const routes = new Map<string, Handler>();
  const seen = new Map<string, Seen[]>();
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown) => unhandled.push(reason);
  let server: http.Server;
  let origin = '';

  /** Serve `handler` at a fresh path; returns its URL and the requests it got. */
  function route(name: string, handler: Handler): { url: string; requests: Seen[] } {
    const path = `/${name}`;
    const requests: Seen[] = [];
    routes.set(path, handler);
    seen.set(path, requests);
    return { url: `${origin}${path}`, requests };
  }

  before(async () => {
    process.on('unhandledRejection', onUnhandled);
    server = http.createServer((req, res) => {
      const path = new URL(req.url ?? '/', 'http://x').pathname;
      const handler = routes.get(path);
      const requests = seen.get(path);
      if (!handler || !requests) {
        res.writeHead(500).end();
        return;
      }
      requests.push({ headers: req.headers, at: performance.now() });
      handler(req, res, requests.length - 1);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  after(() => {
    process.off('unhandledRejection', onUnhandled);
    server.closeAllConnections();
    server.close();
  });

  it('opens and dispatches events as EventSource does, asking for an event stream without caching', async () => {
    const { url, requests } = route('basic', (_req, res) => {
      res.writeHead(200, SSE).write(': hi\n\ndata: hello\n\nevent: progress\nid: 1\ndata: {"a":1}\n\n');
    });
    const inits: RequestInit[] = [];
    const client = new SseClient(url, { ...FAST, fetch: (input, init) => { inits.push(init ?? {}); return fetch(input, init); } });
    assert.equal(client.readyState, SseClient.CONNECTING);
    assert.deepEqual([SseClient.CONNECTING, SseClient.OPEN, SseClient.CLOSED], [0, 1, 2]);
    assert.deepEqual([client.CONNECTING, client.OPEN, client.CLOSED], [0, 1, 2]);
    assert.equal(client.url, url);
    const order: string[] = [];
    client.onopen = () => order.push(`open ${client.readyState}`);
    client.onmessage = (event) => order.push(`message ${event.data} [${event.lastEventId}] ${event.origin}`);
    client.addEventListener('progress', (event) => {
      const { data, lastEventId } = event as MessageEvent;
      order.push(`progress ${data} [${lastEventId}] ${client.lastEventId}`);
    });
    try {
      await next(client, 'progress');
      assert.deepEqual(order, ['open 1', `message hello [] ${origin}`, 'progress {"a":1} [1] 1']);
      assert.equal(requests[0].headers.accept, 'text/event-stream');
      assert.equal(requests[0].headers['last-event-id'], undefined, 'no id yet, no header');
      assert.equal(inits[0].cache, 'no-store');
      assert.ok(inits[0].signal instanceof AbortSignal, 'an abort signal, for close()');
    } finally {
      client.close();
    }
  });

  it('passes every event, whatever its type, to onEvent before listeners see it', async () => {
    const { url } = route('on-event', (_req, res) => {
      res.writeHead(200, SSE).write('event: note\ndata: a\n\ndata: b\n\nevent: error\ndata: {"error":"events_expired"}\n\n');
    });
    const order: string[] = [];
    const client = new SseClient(url, { ...FAST, onEvent: (event) => order.push(`onEvent ${event.type} ${event.data}`) });
    client.addEventListener('note', () => order.push('note'));
    client.onerror = (event) => order.push(`onerror ${event instanceof MessageEvent ? event.data : 'client'}`);
    try {
      await until('the error event', () => order.length === 5);
      assert.deepEqual(order, ['onEvent note a', 'note', 'onEvent message b', 'onEvent error {"error":"events_expired"}', 'onerror {"error":"events_expired"}']);
      assert.equal(client.readyState, SseClient.OPEN, 'a server\'s error event does not close the client');
    } finally {
      client.close();
    }
  });

  it('reconnects after a normal end, sending the last id as Last-Event-ID', async () => {
    const { url, requests } = route('resume', (_req, res, n) => {
      if (n === 0) res.writeHead(200, SSE).end('retry: 10\nid: a/1\ndata: x\n\nid: a/2\ndata: y\n\n');
      else res.writeHead(204).end();
    });
    const client = new SseClient(url, FAST);
    const log = reconnects(client);
    try {
      await next(client, 'finished');
      assert.equal(requests.length, 2);
      assert.equal(requests[0].headers['last-event-id'], undefined);
      assert.equal(requests[1].headers['last-event-id'], 'a/2');
      assert.deepEqual(log, [{ attempt: 1, delay: 10, reason: 'end', status: 0, code: 'stream_ended', message: 'the stream ended' }]);
    } finally {
      client.close();
    }
  });

  it('waits the server\'s `retry` before reconnecting, and keeps it for later connections', async () => {
    const ended: number[] = [];
    const { url, requests } = route('retry', (_req, res, n) => {
      if (n === 0) res.writeHead(200, SSE).end('retry: 300\ndata: x\n\n', () => ended.push(performance.now()));
      else if (n === 1) res.writeHead(200, SSE).end('data: y\n\n', () => ended.push(performance.now()));
      else res.writeHead(204).end();
    });
    const client = new SseClient(url, FAST);
    const log = reconnects(client);
    try {
      await next(client, 'finished', 5000);
      assert.deepEqual(log.map((r) => r.delay), [300, 300], 'the server\'s retry, not initialRetryMs (10)');
      assert.ok(requests[1].at - ended[0] >= 250, `reconnected ${requests[1].at - ended[0]} ms after the end`);
      assert.ok(requests[2].at - ended[1] >= 250, `reconnected ${requests[2].at - ended[1]} ms after the end`);
    } finally {
      client.close();
    }
  });

  it('remembers an id-only block, while open and for the reconnect', async () => {
    let finish = () => {};
    const { url, requests } = route('id-only', (_req, res, n) => {
      if (n === 0) {
        res.writeHead(200, SSE).write('retry: 10\nid: start\n\n');
        finish = () => res.end();
      } else {
        res.writeHead(204).end();
      }
    });
    const client = new SseClient(url, FAST);
    const messages: string[] = [];
    client.onmessage = (event) => messages.push(event.data);
    try {
      await until('the id-only block is read', () => client.lastEventId === 'start');
      finish();
      await next(client, 'finished');
      assert.equal(requests[1].headers['last-event-id'], 'start');
      assert.deepEqual(messages, [], 'an id-only block is no event');
    } finally {
      client.close();
    }
  });

  it('starts from the lastEventId it is given, and keeps it for events without an id', async () => {
    const { url, requests } = route('given-id', (_req, res, n) => {
      if (n === 0) res.writeHead(200, SSE).end('data: x\n\n');
      else res.writeHead(204).end();
    });
    const client = new SseClient(url, { ...FAST, lastEventId: 'job/5:3' });
    let id = '';
    client.onmessage = (event) => { id = event.lastEventId; };
    try {
      await next(client, 'finished');
      assert.equal(requests[0].headers['last-event-id'], 'job/5:3');
      assert.equal(requests[1].headers['last-event-id'], 'job/5:3');
      assert.equal(id, 'job/5:3');
    } finally {
      client.close();
    }
  });

  it('retries a 429 and continues the stream, resuming after the same id', async () => {
    const { url, requests } = route('throttled', (_req, res, n) => {
      if (n === 0) res.writeHead(429, { 'content-type': 'application/json' }).end('{"Message":"Too Many Requests"}');
      else if (n === 1) res.writeHead(200, SSE).end('id: 2\ndata: ok\n\n');
      else res.writeHead(204).end();
    });
    const client = new SseClient(url, { ...FAST, lastEventId: '1', random: () => 0.5 });
    const log = reconnects(client);
    const messages: string[] = [];
    client.onmessage = (event) => messages.push(event.data);
    try {
      await next(client, 'finished');
      assert.deepEqual(messages, ['ok']);
      assert.deepEqual(requests.map((r) => r.headers['last-event-id']), ['1', '1', '2']);
      assert.deepEqual(log, [
        { attempt: 1, delay: 5, reason: 'status', status: 429, code: 'http_429', message: 'Too Many Requests' },
        { attempt: 1, delay: 10, reason: 'end', status: 0, code: 'stream_ended', message: 'the stream ended' },
      ]);
    } finally {
      client.close();
    }
  });

  it('retries 5xx with a growing backoff, surfacing each answer, and resets it once open', async () => {
    const { url, requests } = route('unavailable', (_req, res, n) => {
      if (n === 0) res.writeHead(503, { 'content-type': 'application/json' }).end('{"error":"busy","message":"try later"}');
      else if (n === 1) res.writeHead(502, { 'content-type': 'text/plain' }).end('Bad Gateway');
      else if (n === 2) res.writeHead(200, SSE).end('retry: 15\ndata: up\n\n');
      else if (n === 3) res.writeHead(500).end();
      else res.writeHead(204).end();
    });
    const client = new SseClient(url, { initialRetryMs: 10, backoffBaseMs: 40, maxRetryMs: 1000, random: () => 0.5 });
    const log = reconnects(client);
    try {
      await next(client, 'finished');
      assert.equal(requests.length, 5);
      assert.deepEqual(log, [
        { attempt: 1, delay: 20, reason: 'status', status: 503, code: 'busy', message: 'try later' },
        { attempt: 2, delay: 40, reason: 'status', status: 502, code: 'http_502', message: 'HTTP 502 Bad Gateway: Bad Gateway' },
        { attempt: 1, delay: 15, reason: 'end', status: 0, code: 'stream_ended', message: 'the stream ended' },
        { attempt: 2, delay: 40, reason: 'status', status: 500, code: 'http_500', message: 'HTTP 500 Internal Server Error' },
      ]);
    } finally {
      client.close();
    }
  });

  it('honours Retry-After, capped at maxRetryMs, instead of the backoff', async () => {
    const { url } = route('retry-after', (_req, res, n) => {
      if (n === 0) res.writeHead(429, { 'retry-after': '0' }).end();
      else if (n === 1) res.writeHead(503, { 'retry-after': '120' }).end();
      else res.writeHead(204).end();
    });
    const client = new SseClient(url, { ...FAST, maxRetryMs: 60, random: () => 0.99 });
    const log = reconnects(client);
    try {
      await next(client, 'finished');
      assert.deepEqual(log.map((r) => [r.status, r.delay]), [[429, 0], [503, 60]]);
    } finally {
      client.close();
    }
  });

  it('retries a failed connection and a stream that breaks off, resuming after the last id', async () => {
    const { url, requests } = route('broken', (req, res, n) => {
      if (n === 0) {
        req.socket.destroy(); // no answer at all
      } else if (n === 1) {
        res.writeHead(200, SSE).write('retry: 20\nid: 5\ndata: x\n\n');
        setTimeout(() => res.destroy(), 30); // the body ends without its last chunk
      } else {
        res.writeHead(204).end();
      }
    });
    const client = new SseClient(url, { ...FAST, random: () => 0.5 });
    const log = reconnects(client);
    try {
      await next(client, 'finished');
      assert.deepEqual(log.map((r) => [r.reason, r.code, r.attempt, r.delay]), [['error', 'network_error', 1, 5], ['error', 'stream_failed', 1, 20]]);
      assert.deepEqual(requests.map((r) => r.headers['last-event-id']), [undefined, undefined, '5']);
    } finally {
      client.close();
    }
  });

  it('stops for good on 204, with a finished event', async () => {
    const { url, requests } = route('no-content', (_req, res) => res.writeHead(204).end());
    const client = new SseClient(url, FAST);
    const events: string[] = [];
    for (const type of ['open', 'error', 'reconnecting']) client.addEventListener(type, () => events.push(type));
    try {
      const finished = await next<SseFinishedEvent>(client, 'finished');
      assert.ok(finished instanceof SseFinishedEvent, 'an SseFinishedEvent');
      assert.equal(finished.status, 204);
      assert.equal(client.readyState, SseClient.CLOSED);
      await sleep(100);
      assert.equal(requests.length, 1, 'no reconnect');
      assert.deepEqual(events, []);
    } finally {
      client.close();
    }
  });

  it('stops for good on other 4xx, with an error event carrying the JSON body\'s code and message', async () => {
    const cases: [number, Record<string, string>, string, string, string][] = [
      [400, { 'content-type': 'application/json' }, '{"error":"invalid_parameter","message":"steps must be 1 to 1000"}', 'invalid_parameter', 'steps must be 1 to 1000'],
      [410, { 'content-type': 'application/json' }, '{"error":"expired_last_event_id","message":"gone"}', 'expired_last_event_id', 'gone'],
      [403, { 'content-type': 'application/json' }, '{"Message":"Forbidden"}', 'http_403', 'Forbidden'],
      [401, { 'content-type': 'application/json' }, '{"message":"Unauthorized"}', 'http_401', 'Unauthorized'],
      [404, { 'content-type': 'text/plain' }, 'no such path', 'http_404', 'HTTP 404 Not Found: no such path'],
    ];
    for (const [status, headers, body, code, message] of cases) {
      const { url, requests } = route(`refused-${status}`, (_req, res) => res.writeHead(status, headers).end(body));
      const client = new SseClient(url, FAST);
      const reconnecting = reconnects(client);
      try {
        const error = await next<SseErrorEvent>(client, 'error');
        assert.ok(error instanceof SseErrorEvent, `${status}: an SseErrorEvent`);
        assert.deepEqual({ status: error.status, code: error.code, message: error.message }, { status, code, message });
        assert.equal(client.readyState, SseClient.CLOSED);
        await sleep(50);
        assert.equal(requests.length, 1, `${status}: no reconnect`);
        assert.deepEqual(reconnecting, []);
      } finally {
        client.close();
      }
    }
  });

  it('stops for good on a 200 that is not an event stream, and accepts one with parameters', async () => {
    const wrong = route('wrong-type', (_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end('{}'));
    const client = new SseClient(wrong.url, FAST);
    try {
      const error = await next<SseErrorEvent>(client, 'error');
      assert.equal(error.status, 200);
      assert.equal(error.code, 'invalid_content_type');
      assert.match(error.message, /application\/json/);
      assert.equal(client.readyState, SseClient.CLOSED);
      await sleep(50);
      assert.equal(wrong.requests.length, 1);
    } finally {
      client.close();
    }

    const right = route('type-with-charset', (_req, res) => res.writeHead(200, { 'content-type': 'Text/Event-Stream; charset=UTF-8' }).write('data: ok\n\n'));
    const other = new SseClient(right.url, FAST);
    try {
      assert.equal((await next<MessageEvent>(other, 'message')).data, 'ok');
    } finally {
      other.close();
    }
  });

  it('sends extra headers, calling a header function at every connection, and keeps Accept its own', async () => {
    const { url, requests } = route('headers', (_req, res, n) => {
      if (n < 2) res.writeHead(200, SSE).end('retry: 5\ndata: x\n\n');
      else res.writeHead(204).end();
    });
    let calls = 0;
    const client = new SseClient(url, {
      ...FAST,
      headers: async () => {
        calls += 1;
        return { Authorization: `token-${calls}`, Accept: 'application/json', 'X-Extra': 'yes' };
      },
    });
    try {
      await next(client, 'finished');
      assert.deepEqual(requests.map((r) => r.headers.authorization), ['token-1', 'token-2', 'token-3']);
      assert.deepEqual(requests.map((r) => [r.headers.accept, r.headers['x-extra']]), Array(3).fill(['text/event-stream', 'yes']));
    } finally {
      client.close();
    }

    const plain = route('headers-object', (_req, res) => res.writeHead(204).end());
    const other = new SseClient(plain.url, { ...FAST, headers: { Authorization: 'eyJraWQ' } });
    try {
      await next(other, 'finished');
      assert.equal(plain.requests[0].headers.authorization, 'eyJraWQ');
    } finally {
      other.close();
    }
  });

  it('retries a header function that fails, and stops on a header that can never be sent', async () => {
    const { url, requests } = route('header-failure', (_req, res) => res.writeHead(204).end());
    let calls = 0;
    const client = new SseClient(url, {
      ...FAST,
      headers: () => {
        calls += 1;
        if (calls === 1) throw new Error('token service unreachable');
        return { Authorization: 'fresh' };
      },
    });
    const log = reconnects(client);
    try {
      await next(client, 'finished');
      assert.deepEqual(log.map((r) => [r.reason, r.code, r.message]), [['error', 'headers_failed', 'token service unreachable']]);
      assert.equal(requests[0].headers.authorization, 'fresh');
    } finally {
      client.close();
    }

    const bad = new SseClient(url, { ...FAST, headers: { Authorization: 'a\nb' } });
    try {
      const error = await next<SseErrorEvent>(bad, 'error');
      assert.equal(error.code, 'invalid_headers');
      assert.equal(bad.readyState, SseClient.CLOSED);
    } finally {
      bad.close();
    }
  });

  it('close() mid-stream aborts the request, and nothing more is dispatched or requested', async () => {
    let hungUp: Promise<unknown> = Promise.resolve();
    const { url, requests } = route('close', (_req, res) => {
      hungUp = once(res, 'close');
      res.writeHead(200, SSE).write('retry: 10\ndata: one\n\ndata: two\n\n');
    });
    const passed: string[] = [];
    const client = new SseClient(url, { ...FAST, onEvent: (event) => passed.push(event.data) });
    const events: string[] = [];
    const log = reconnects(client);
    client.onmessage = (event) => {
      events.push(event.data);
      client.close();
    };
    try {
      await until('the first event', () => events.length > 0);
      assert.equal(client.readyState, SseClient.CLOSED);
      await Promise.race([hungUp, sleep(2000).then(() => assert.fail('the server never saw the hang-up'))]);
      await sleep(100);
      assert.deepEqual(events, ['one'], 'the event after close() in the same chunk is not dispatched');
      assert.deepEqual(passed, ['one'], 'nor passed to onEvent');
      assert.equal(requests.length, 1);
      assert.deepEqual(log, []);
    } finally {
      client.close();
    }
  });

  it('close() while waiting to reconnect cancels the reconnect', async () => {
    const { url, requests } = route('close-waiting', (_req, res) => res.writeHead(200, SSE).end('retry: 50\ndata: x\n\n'));
    const client = new SseClient(url, FAST);
    client.onreconnecting = () => client.close();
    try {
      await next(client, 'reconnecting');
      await sleep(150);
      assert.equal(requests.length, 1);
      assert.equal(client.readyState, SseClient.CLOSED);
    } finally {
      client.close();
    }
  });

  it('decodes UTF-8 split across network chunks, strips one BOM, and sends a Unicode id back as UTF-8', async () => {
    const body = Buffer.from('\uFEFFid: é✓\ndata: 1 € 2\n\n');
    const cut = body.indexOf(Buffer.from('€')) + 1; // inside the euro sign's three bytes
    const { url, requests } = route('utf8', (_req, res, n) => {
      if (n === 0) {
        res.writeHead(200, SSE);
        res.write(body.subarray(0, cut));
        setTimeout(() => res.end(Buffer.concat([body.subarray(cut), Buffer.from('retry: 5\n\n')])), 20);
      } else {
        res.writeHead(204).end();
      }
    });
    const client = new SseClient(url, FAST);
    const messages: [string, string][] = [];
    client.onmessage = (event) => messages.push([event.data, event.lastEventId]);
    try {
      await next(client, 'finished');
      assert.deepEqual(messages, [['1 € 2', 'é✓']]);
      const raw = String(requests[1].headers['last-event-id']);
      assert.equal(Buffer.from(raw, 'latin1').toString('utf8'), 'é✓');
    } finally {
      client.close();
    }

    // One BOM is stripped, not two: a second one is part of the first line's field name.
    const boms = route('two-boms', (_req, res) => res.writeHead(200, SSE).write('\uFEFF\uFEFFdata: lost\n\ndata: kept\n\n'));
    const other = new SseClient(boms.url, FAST);
    try {
      assert.equal((await next<MessageEvent>(other, 'message')).data, 'kept');
    } finally {
      other.close();
    }
  });

  it('refuses a relative URL without a page to resolve it against', () => {
    assert.throws(() => new SseClient('/events'), TypeError);
  });

  it('computes a capped, fully jittered backoff', () => {
    const at = (random: number, attempts: number[], baseMs = 100, maxMs = 1000) =>
      attempts.map((attempt) => backoffDelay(attempt, { baseMs, maxMs, random: () => random }));
    assert.deepEqual(at(0.5, [1, 2, 3, 4, 5, 6, 7]), [50, 100, 200, 400, 500, 500, 500], 'doubling, then capped');
    assert.deepEqual(at(0, [1, 5, 20]), [0, 0, 0], 'full jitter reaches 0');
    assert.deepEqual(at(0.999999, [1, 2, 4, 5, 100]), [99, 199, 799, 999, 999], 'never reaches the ceiling');
    assert.deepEqual(at(0.5, [1e9, Number.MAX_SAFE_INTEGER]), [500, 500], 'a huge attempt stays finite');
    assert.deepEqual(at(0.5, [0, -3]), [50, 50], 'attempts below 1 count as the first');
    assert.equal(backoffDelay(3, { baseMs: 100, maxMs: 30000 }) < 400, true, 'Math.random by default');
  });

  it('reads Retry-After as seconds or an HTTP date', () => {
    const now = Date.parse('Wed, 21 Oct 2015 07:28:00 GMT');
    assert.equal(retryAfterMs('3', now), 3000);
    assert.equal(retryAfterMs(' 0 ', now), 0);
    assert.equal(retryAfterMs('Wed, 21 Oct 2015 07:28:10 GMT', now), 10000);
    assert.equal(retryAfterMs('Wed, 21 Oct 2015 07:27:00 GMT', now), 0, 'a date past is now');
    for (const bad of [null, '', 'soon', '1.5', '-1', '+3']) assert.equal(retryAfterMs(bad, now), undefined, String(bad));
  });

  it('left no promise rejection unhandled', async () => {
    await sleep(50);
    assert.deepEqual(unhandled, []);
  });
});
