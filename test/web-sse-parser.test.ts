// web/sse-parser.js, the page's and the smoke test's SSE parser, against the
// WHATWG "event stream interpretation", including the edge cases where real
// clients disagree (id-only blocks, a CR split across chunks, an
// unterminated last event, an empty `data`).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createParser, type SseEvent } from '../web/sse-parser.js';

interface Parsed {
  events: SseEvent[];
  retries: number[];
  comments: string[];
  lastEventId: string;
}

/** Feed the chunks, end the stream, and collect what the parser reported. */
function parse(chunks: string | string[], lastEventId?: string): Parsed {
  const out: Parsed = { events: [], retries: [], comments: [], lastEventId: '' };
  const parser = createParser({
    onEvent: (event) => out.events.push(event),
    onRetry: (ms) => out.retries.push(ms),
    onComment: (text) => out.comments.push(text),
    ...(lastEventId === undefined ? {} : { lastEventId }),
  });
  for (const chunk of typeof chunks === 'string' ? [chunks] : chunks) parser.feed(chunk);
  parser.end();
  out.lastEventId = parser.lastEventId;
  return out;
}

const ev = (type: string, data: string, lastEventId: string): SseEvent => ({ type, data, lastEventId });

// Every rule at once, with all three line ends, so that splitting it anywhere
// exercises a line end, a BOM or a field name cut in two.
const SAMPLE = '\uFEFF: hello\r\nretry: 1500\nid: 1\revent: progress\r\ndata: {"step":1}\n\n'
  + 'data: two\r\ndata:  lines\r\n\r\n'
  + 'id: only\n\n'
  + 'event: done\rdata: ✓ é\r\r'
  + 'data: lost';
const SAMPLE_EVENTS = [ev('progress', '{"step":1}', '1'), ev('message', 'two\n lines', '1'), ev('done', '✓ é', 'only')];

describe('web/sse-parser.js', () => {
  it('parses a stream with every kind of line end, a BOM, a comment and a retry', () => {
    const out = parse(SAMPLE);
    assert.deepEqual(out.events, SAMPLE_EVENTS);
    assert.deepEqual(out.retries, [1500]);
    assert.deepEqual(out.comments, ['hello']);
    assert.equal(out.lastEventId, 'only');
  });

  it('gives the same events whatever the chunks: split at every position, in two and in three', () => {
    const whole = parse(SAMPLE);
    for (let i = 0; i <= SAMPLE.length; i += 1) {
      assert.deepEqual(parse([SAMPLE.slice(0, i), SAMPLE.slice(i)]), whole, `split at ${i}`);
      for (let j = i; j <= SAMPLE.length; j += 1) {
        assert.deepEqual(parse([SAMPLE.slice(0, i), SAMPLE.slice(i, j), SAMPLE.slice(j)]), whole, `split at ${i} and ${j}`);
      }
    }
    assert.deepEqual(parse([...SAMPLE]), whole, 'one character at a time');
  });

  it('ends a line at CRLF, LF and CR alike, and CR then LF is one line end', () => {
    for (const eol of ['\n', '\r', '\r\n']) {
      assert.deepEqual(parse(`data: a${eol}data: b${eol}${eol}`).events, [ev('message', 'a\nb', '')], JSON.stringify(eol));
    }
    // Were CR LF two line ends here, the blank line would dispatch "a" alone.
    assert.deepEqual(parse('data: a\r\ndata: b\r\n\r\n').events, [ev('message', 'a\nb', '')]);
    // CR CR is a line end and a blank line.
    assert.deepEqual(parse('data: a\r\rdata: b\n\n').events, [ev('message', 'a', ''), ev('message', 'b', '')]);
  });

  it('joins a CR at the end of one chunk and an LF at the start of the next into one line end', () => {
    assert.deepEqual(parse(['data: a\r', '\ndata: b\r', '\n\r', '\n']).events, [ev('message', 'a\nb', '')]);
    // The CR still ends its line when the next chunk starts with something else.
    assert.deepEqual(parse(['data: a\r', 'data: b\r', '\r']).events, [ev('message', 'a\nb', '')]);
    // An empty chunk between them changes nothing.
    assert.deepEqual(parse(['data: a\r', '', '\n', '\n']).events, [ev('message', 'a', '')]);
  });

  it('strips one BOM at the start of the stream only', () => {
    assert.deepEqual(parse('\uFEFFdata: x\n\n').events, [ev('message', 'x', '')]);
    assert.deepEqual(parse(['\uFEFF', 'data: x\n\n']).events, [ev('message', 'x', '')], 'the BOM alone in the first chunk');
    // A second BOM makes the first line's field "\uFEFFdata", which is unknown.
    assert.deepEqual(parse('\uFEFF\uFEFFdata: x\n\n').events, []);
    // A BOM later is part of the text.
    assert.deepEqual(parse(['data: x\n', '\uFEFFdata: y\n\n']).events, [ev('message', 'x', '')]);
    assert.deepEqual(parse('data: \uFEFFx\n\n').events, [ev('message', '\uFEFFx', '')]);
  });

  it('removes one leading space from a value, and takes a value without one', () => {
    assert.deepEqual(parse('data:x\n\n').events, [ev('message', 'x', '')]);
    assert.deepEqual(parse('data:  x \n\n').events, [ev('message', ' x ', '')]);
    assert.deepEqual(parse('data:a:b: c\n\n').events, [ev('message', 'a:b: c', '')], 'only the first colon separates');
    assert.deepEqual(parse('event:tick\ndata\n\n').events, [ev('tick', '', '')]);
  });

  it('takes `data` and `data:` as empty lines, joined with LF', () => {
    assert.deepEqual(parse('data:\n\n').events, [ev('message', '', '')], 'one empty data line is an event with empty data');
    assert.deepEqual(parse('data\ndata\n\n').events, [ev('message', '\n', '')]);
    assert.deepEqual(parse('data: a\ndata:\ndata: b\n\n').events, [ev('message', 'a\n\nb', '')]);
    assert.deepEqual(parse('data: a\ndata\n\n').events, [ev('message', 'a\n', '')], 'only the last LF is removed');
  });

  it('dispatches nothing for a block without data, and nothing for blank lines alone', () => {
    assert.deepEqual(parse('event: x\n\n\n\nretry: 5\n\n').events, []);
  });

  it('resets the event type after each dispatch, also when nothing was dispatched, but keeps the id', () => {
    assert.deepEqual(parse('event: a\nid: 7\ndata: 1\n\ndata: 2\n\n').events, [ev('a', '1', '7'), ev('message', '2', '7')]);
    assert.deepEqual(parse('event: a\n\ndata: 2\n\n').events, [ev('message', '2', '')]);
    assert.deepEqual(parse('event:\ndata: x\n\n').events, [ev('message', 'x', '')], 'an empty type is message');
  });

  it('commits the last event ID at every blank line, so an id-only block moves it', () => {
    const out = parse('id: 1\ndata: a\n\nid: 2\n\ndata: b\n\n');
    assert.deepEqual(out.events, [ev('message', 'a', '1'), ev('message', 'b', '2')]);
    assert.equal(parse('id: start\n\n').lastEventId, 'start');
    // Not before the blank line: the getter reports the committed ID.
    const parser = createParser({});
    parser.feed('id: x\n');
    assert.equal(parser.lastEventId, '');
    parser.feed('\n');
    assert.equal(parser.lastEventId, 'x');
  });

  it('resets the ID with an empty `id`, and ignores an id containing NUL', () => {
    assert.deepEqual(parse('id: 1\ndata: a\n\nid\ndata: b\n\nid: 3\n\nid:\ndata: c\n\n').events,
      [ev('message', 'a', '1'), ev('message', 'b', ''), ev('message', 'c', '')]);
    assert.deepEqual(parse('id: 1\ndata: a\n\nid: 2\0x\ndata: b\n\n').events, [ev('message', 'a', '1'), ev('message', 'b', '1')]);
    assert.equal(parse('id: ok\n\nid: \0\n\n').lastEventId, 'ok');
  });

  it('starts from the ID it is given, which events without an id keep', () => {
    assert.deepEqual(parse('data: a\n\n', 'job/5:2').events, [ev('message', 'a', 'job/5:2')]);
    assert.equal(parse('', 'job/5:2').lastEventId, 'job/5:2');
  });

  it('accepts `retry` of ASCII digits only', () => {
    assert.deepEqual(parse('retry: 100\nretry:0\nretry: 007\n\n').retries, [100, 0, 7]);
    for (const bad of ['retry: 1.5', 'retry: -1', 'retry: +1', 'retry: 1e3', 'retry: 10 ', 'retry:  10', 'retry:', 'retry', 'retry: ١٢', 'retry: 0x10']) {
      assert.deepEqual(parse(`${bad}\n\n`).retries, [], bad);
    }
    // A retry-only block dispatches nothing but still counts.
    assert.deepEqual(parse('retry: 250\n\n'), { events: [], retries: [250], comments: [], lastEventId: '' });
  });

  it('discards an unterminated last event, and its id, at the end of the stream', () => {
    assert.deepEqual(parse('data: a\n\ndata: b\n').events, [ev('message', 'a', '')]);
    assert.deepEqual(parse('data: a\n\ndata: b').events, [ev('message', 'a', '')]);
    assert.equal(parse('id: 1\ndata: a\n\nid: 2\ndata: b\n').lastEventId, '1');
  });

  it('is ready for a new stream after end(): buffers and the unterminated id cleared, BOM allowed again, ID kept', () => {
    const events: SseEvent[] = [];
    const parser = createParser({ onEvent: (event) => events.push(event) });
    parser.feed('id: 1\ndata: a\n\nevent: x\nid: 2\ndata: half\r');
    parser.end();
    parser.feed('\n\uFEFF');
    parser.end();
    parser.feed('\uFEFFdata: b\n\n');
    assert.deepEqual(events, [ev('message', 'a', '1'), ev('message', 'b', '1')]);
  });

  it('matches field names case-sensitively and ignores unknown fields', () => {
    assert.deepEqual(parse('Data: a\nDATA: b\nEvent: x\nID: 1\nRetry: 5\ndata: c\n\n'), {
      events: [ev('message', 'c', '')], retries: [], comments: [], lastEventId: '',
    });
    assert.deepEqual(parse('foo: bar\n data: x\ndata : y\n\n').events, [], 'a field name is everything before the colon');
  });

  it('reports comments without the colon and one space, and never as data', () => {
    const out = parse(':\n: keep-alive\n:  two\n:data: x\n\n');
    assert.deepEqual(out.comments, ['', 'keep-alive', ' two', 'data: x']);
    assert.deepEqual(out.events, []);
  });

  it('keeps the callbacks optional', () => {
    const parser = createParser();
    parser.feed(': c\nretry: 5\nid: 1\ndata: x\n\n');
    assert.equal(parser.lastEventId, '1');
  });
});
