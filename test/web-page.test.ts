// The pure parts of web/page.js: how a shared `?stream=` value fills the
// form, how the form names a stream, and where a stream path points. The
// page itself runs in a real browser in watch-page.browser-test.ts.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseStreamParam, type StreamChoice, streamPath, streamUrl } from '../web/page.js';

describe('web/page.js', () => {
  it('names the stream of a form choice, leaving empty job fields to the server', () => {
    assert.equal(streamPath({ kind: 'job', steps: '8', intervalMs: '400' }), '/events?steps=8&interval_ms=400');
    assert.equal(streamPath({ kind: 'job', steps: '', intervalMs: '' }), '/events');
    assert.equal(streamPath({ kind: 'job', steps: '', intervalMs: '50' }), '/events?interval_ms=50');
    assert.equal(streamPath({ kind: 'durable', name: 'job-42', fromNow: false }), '/streams/job-42');
    assert.equal(streamPath({ kind: 'durable', name: 'a b/c', fromNow: true }), '/streams/a%20b%2Fc?from=now');
    assert.equal(streamPath({ kind: 'path', path: '/countdown?from=3' }), '/countdown?from=3');
  });

  it('fills the form from a shared stream, and keeps what the form cannot say as a path', () => {
    const cases: [string, StreamChoice][] = [
      ['/events?steps=5&interval_ms=200', { kind: 'job', steps: '5', intervalMs: '200' }],
      ['/events?interval_ms=200&steps=5', { kind: 'job', steps: '5', intervalMs: '200' }],
      ['/events', { kind: 'job', steps: '', intervalMs: '' }],
      ['/streams/demo', { kind: 'durable', name: 'demo', fromNow: false }],
      ['/streams/demo?from=now', { kind: 'durable', name: 'demo', fromNow: true }],
      ['/streams/demo?from=oldest', { kind: 'durable', name: 'demo', fromNow: false }],
      ['/streams/a%20b', { kind: 'durable', name: 'a b', fromNow: false }],
      // The form has no field for these: watched as they are.
      ['/events?steps=5&lastEventId=x', { kind: 'path', path: '/events?steps=5&lastEventId=x' }],
      ['/events?steps=abc', { kind: 'path', path: '/events?steps=abc' }],
      ['/events?steps=1&steps=2', { kind: 'path', path: '/events?steps=1&steps=2' }],
      ['/events/', { kind: 'path', path: '/events/' }],
      ['/streams/demo?from=later', { kind: 'path', path: '/streams/demo?from=later' }],
      ['/streams/demo?lastEventId=1', { kind: 'path', path: '/streams/demo?lastEventId=1' }],
      ['/streams/a/b', { kind: 'path', path: '/streams/a/b' }],
      ['/streams/%E0%A4%A', { kind: 'path', path: '/streams/%E0%A4%A' }],
      ['/countdown?from=3', { kind: 'path', path: '/countdown?from=3' }],
      ['events?steps=5', { kind: 'path', path: 'events?steps=5' }],
    ];
    for (const [stream, choice] of cases) assert.deepEqual(parseStreamParam(stream), choice, stream);
  });

  it('gives back the same choice for the stream it names', () => {
    const choices: StreamChoice[] = [
      { kind: 'job', steps: '8', intervalMs: '400' },
      { kind: 'job', steps: '', intervalMs: '' },
      { kind: 'durable', name: 'job-42.v2_x', fromNow: true },
      { kind: 'durable', name: 'a b', fromNow: false },
      { kind: 'path', path: '/countdown?from=3' },
    ];
    for (const choice of choices) assert.deepEqual(parseStreamParam(streamPath(choice)), choice, JSON.stringify(choice));
  });

  it('resolves a stream path below the page\'s base, whatever prefix the page is served under', () => {
    const origin = 'http://127.0.0.1:9000';
    assert.equal(streamUrl('/lambda-url/sse-function/', '/events?steps=5', origin).href, `${origin}/lambda-url/sse-function/events?steps=5`);
    assert.equal(streamUrl('/live/', '/streams/demo?from=now', origin).href, `${origin}/live/streams/demo?from=now`);
    assert.equal(streamUrl('/', '/events', origin).href, `${origin}/events`);
  });

  it('refuses a stream path that is not one, or that would leave the page\'s origin', () => {
    const origin = 'https://abc.execute-api.eu-west-1.amazonaws.com';
    assert.throws(() => streamUrl('/', 'events', origin), /starts with \//);
    assert.throws(() => streamUrl('/', 'https://evil.example/events', origin), /starts with \//);
    assert.throws(() => streamUrl('/', '//evil.example/events', origin), /not a path of this site/);
    assert.throws(() => streamUrl('/', '/\\evil.example/events', origin), /not a path of this site/);
    // Below a prefix the same text is only an odd path of this site.
    assert.equal(streamUrl('/live/', '//evil.example/x', origin).origin, origin);
  });
});
