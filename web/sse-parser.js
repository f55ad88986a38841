// @ts-check
/**
 * A parser for `text/event-stream`, after the WHATWG HTML standard's "event
 * stream interpretation" (html.spec.whatwg.org, "Server-sent events").
 *
 * Hand-written rather than taken from npm (`eventsource-parser`): the
 * function serves this file to browsers exactly as it is, with no build
 * step, and a package would need bundling or a CDN. The same file runs
 * unchanged in Node (bin/smoke-test.mjs) and in browsers.
 *
 * It takes decoded text (decode the bytes with a streaming TextDecoder, so
 * a character split across network chunks stays whole) and reports what it
 * finds through callbacks; it does no I/O and keeps no timers.
 */

/**
 * An event as the standard dispatches it.
 * @typedef {object} SseEvent
 * @property {string} type the `event` field, or `message` when there was none
 * @property {string} data the `data` lines joined with LF
 * @property {string} lastEventId the last event ID once this event was dispatched
 */

/**
 * @typedef {object} ParserOptions
 * @property {(event: SseEvent) => void} [onEvent] each dispatched event
 * @property {(ms: number) => void} [onRetry] each valid `retry` field, in milliseconds
 * @property {(text: string) => void} [onComment] each comment line, without its colon and one leading space
 * @property {string} [lastEventId] the last event ID so far: a reconnecting client's, which events without `id` keep
 */

/**
 * @typedef {object} Parser
 * @property {(text: string) => void} feed parse the next chunk of text, of any size
 * @property {() => void} end the stream ended: discard an unterminated event and get ready for a new stream
 * @property {string} lastEventId the last event ID string: set at every blank line, also by blocks without data
 */

const LF = '\n';
const CR = '\r';
const BOM = '\uFEFF';
const DIGITS = /^[0-9]+$/;

/**
 * @param {ParserOptions} [options]
 * @returns {Parser}
 */
export function createParser({ onEvent, onRetry, onComment, lastEventId = '' } = {}) {
  // The standard's buffers. The id buffer is not reset by a dispatch, and a
  // new stream starts from the last ID (as browsers' EventSource does), so
  // that events without an `id` after a reconnect keep it.
  let committedId = lastEventId;
  let idBuffer = lastEventId;
  let typeBuffer = '';
  let dataBuffer = '';
  // Line assembly across chunks.
  let partial = '';
  let started = false; // has any text been seen yet (a BOM counts only first)
  let afterCR = false; // the last chunk ended in CR: an LF starting the next one ends nothing

  /** @param {string} line */
  function processLine(line) {
    if (line === '') {
      dispatch();
      return;
    }
    if (line[0] === ':') {
      if (onComment) onComment(withoutLeadingSpace(line.slice(1)));
      return;
    }
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    const value = colon === -1 ? '' : withoutLeadingSpace(line.slice(colon + 1));
    switch (field) {
      case 'event':
        typeBuffer = value;
        break;
      case 'data':
        dataBuffer += value + LF;
        break;
      case 'id':
        if (!value.includes('\0')) idBuffer = value;
        break;
      case 'retry':
        if (DIGITS.test(value) && onRetry) onRetry(Number.parseInt(value, 10));
        break;
      default:
        // Unknown fields (and field names in another case) are ignored.
        break;
    }
  }

  function dispatch() {
    // The ID is committed at every blank line, before the empty-data check:
    // an id-only block moves the position a reconnect resumes from.
    committedId = idBuffer;
    if (dataBuffer === '') {
      typeBuffer = '';
      return;
    }
    const event = { type: typeBuffer || 'message', data: dataBuffer.slice(0, -1), lastEventId: committedId };
    typeBuffer = '';
    dataBuffer = '';
    if (onEvent) onEvent(event);
  }

  /** @param {string} text */
  function feed(text) {
    if (text === '') return;
    let start = 0;
    if (!started) {
      started = true;
      if (text[0] === BOM) start = 1;
    }
    if (afterCR) {
      afterCR = false;
      if (text[start] === LF) start += 1;
    }
    for (let i = start; i < text.length; i += 1) {
      const c = text[i];
      if (c !== LF && c !== CR) continue;
      const line = partial + text.slice(start, i);
      partial = '';
      start = i + 1;
      if (c === CR) {
        if (start === text.length) afterCR = true;
        else if (text[start] === LF) start += 1;
      }
      i = start - 1;
      processLine(line);
    }
    partial += text.slice(start);
  }

  function end() {
    // An unterminated event is discarded, as browsers do; so is its id.
    partial = '';
    typeBuffer = '';
    dataBuffer = '';
    idBuffer = committedId;
    started = false;
    afterCR = false;
  }

  return {
    feed,
    end,
    get lastEventId() {
      return committedId;
    },
  };
}

/** @param {string} value */
function withoutLeadingSpace(value) {
  return value[0] === ' ' ? value.slice(1) : value;
}
