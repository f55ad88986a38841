// @ts-check
/**
 * An EventSource that does not give up, built on `fetch`.
 *
 * A browser's EventSource cannot send an Authorization header (a Cognito
 * token for the REST API), and it stops for good on any answer but 200,
 * such as the 429 a capped function gives a reconnect at a window's end.
 * This client behaves like EventSource otherwise (same readyState values,
 * `onmessage`, named events as MessageEvents, Last-Event-ID on reconnect,
 * the server's `retry`), and adds:
 *
 * - extra headers, an object or a function called at every connection (so a
 *   token can be refreshed);
 * - 429, 5xx and failed connections are retried with capped exponential
 *   backoff and full jitter, honouring Retry-After;
 * - 204 closes it with a `finished` event; other 4xx and a wrong content
 *   type close it with an `error` event carrying the JSON body's code and
 *   message;
 * - a `reconnecting` event before every reconnect, saying when and why.
 *
 * Its own events are named `reconnecting` and `finished`, not `reconnect`
 * and `end`, because servers send those names: the function ends every
 * window with `event: reconnect`, and `sse-publish --lines --final` ends a
 * stream with `event: end`. Its own `error` is an {@link SseErrorEvent};
 * a server's `event: error` arrives as a MessageEvent, as with EventSource.
 */
import { createParser } from './sse-parser.js';

const CONNECTING = 0;
const OPEN = 1;
const CLOSED = 2;
/** The longest delay setTimeout takes; a longer `retry` would fire at once. */
const MAX_TIMER_MS = 2 ** 31 - 1;
/** Read at most this much of an error answer's body. */
const MAX_ERROR_BODY = 16 * 1024;

/**
 * @typedef {Record<string, string> | [string, string][] | Headers} HeaderList
 * @typedef {HeaderList | (() => HeaderList | Promise<HeaderList>)} HeadersOption
 */

/**
 * @typedef {object} SseClientOptions
 * @property {HeadersOption} [headers] sent with every request; a function is called before each connection
 * @property {typeof globalThis.fetch} [fetch] the fetch to use (tests, or a wrapper that signs requests)
 * @property {string} [lastEventId] resume after this id from the first request on
 * @property {number} [initialRetryMs] the wait before reconnecting after a stream ends, until the server sends `retry` (EventSource's default is about 3 s)
 * @property {number} [backoffBaseMs] the first failed connection's wait before jitter; it doubles with each failure
 * @property {number} [maxRetryMs] the longest wait after a failed connection, Retry-After included
 * @property {() => number} [random] a number in [0, 1) for the jitter
 * @property {(event: MessageEvent) => void} [onEvent] called with every event from the server, whatever its type, before it is dispatched
 */

/**
 * The client's own error: the connection was refused for good (closed), or
 * the client could not build its request.
 */
export class SseErrorEvent extends Event {
  /**
   * @param {{ status: number, code: string, message: string }} detail
   */
  constructor({ status, code, message }) {
    super('error');
    /** HTTP status, or 0 when there was no answer. */
    this.status = status;
    /** The JSON body's `error` (or `Message`), else a code of the client's own. */
    this.code = code;
    /** What went wrong, for people. */
    this.message = message;
  }
}

/** Before each reconnect: which attempt, after how long, and why. */
export class SseReconnectingEvent extends Event {
  /**
   * @param {{ attempt: number, delay: number, reason: 'end' | 'error' | 'status', status: number, code: string, message: string }} detail
   */
  constructor({ attempt, delay, reason, status, code, message }) {
    super('reconnecting');
    /** 1 for the first reconnect since the stream was last open. */
    this.attempt = attempt;
    /** Milliseconds until the request is sent. */
    this.delay = delay;
    /** `end`: the stream ended normally; `error`: the connection failed; `status`: a 429 or 5xx answer. */
    this.reason = reason;
    /** The answer's status for `status`, else 0. */
    this.status = status;
    /** The answer's JSON `error`, or the client's own code (`network_error`, `stream_ended`...). */
    this.code = code;
    /** What happened, for people. */
    this.message = message;
  }
}

/** The server answered 204: there is nothing more, and the client is closed. */
export class SseFinishedEvent extends Event {
  /** @param {{ status: number }} detail */
  constructor({ status }) {
    super('finished');
    this.status = status;
  }
}

/**
 * The wait before reconnect attempt `attempt` (1, 2, ...) after failures:
 * "full jitter", a random time up to `baseMs` doubled per attempt, capped.
 * @param {number} attempt
 * @param {{ baseMs: number, maxMs: number, random?: () => number }} options
 * @returns {number} whole milliseconds, 0 to `maxMs`
 */
export function backoffDelay(attempt, { baseMs, maxMs, random = Math.random }) {
  // The exponent is bounded so that a long outage cannot overflow to Infinity.
  const ceiling = Math.min(maxMs, baseMs * 2 ** Math.min(Math.max(attempt, 1) - 1, 52));
  return Math.floor(random() * ceiling);
}

/**
 * The wait a `Retry-After` header asks for: delay-seconds or an HTTP date.
 * @param {string | null} value
 * @param {number} [now] epoch ms, for dates
 * @returns {number | undefined} milliseconds, or undefined when absent or unreadable
 */
export function retryAfterMs(value, now = Date.now()) {
  if (value === null) return undefined;
  const text = value.trim();
  if (/^[0-9]+$/.test(text)) return Number(text) * 1000;
  // An HTTP date names its day and month; Date.parse alone reads "1.5" as a date in 2001.
  if (!/[a-z]/i.test(text)) return undefined;
  const date = Date.parse(text);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/**
 * A header value must be a ByteString; ids may be any Unicode, so send their
 * UTF-8 bytes, one char per byte, as a browser's EventSource does.
 * @param {string} text
 */
function utf8Bytes(text) {
  if (/^[\x00-\x7f]*$/.test(text)) return text;
  return String.fromCharCode(...new TextEncoder().encode(text));
}

/** @param {string | null} contentType */
function isEventStream(contentType) {
  return (contentType ?? '').split(';')[0].trim().toLowerCase() === 'text/event-stream';
}

/** @param {unknown} error */
function describe(error) {
  return error instanceof Error ? error.message || error.name : String(error);
}

/**
 * The code and message of an error answer: the JSON `{error, message}` of
 * this function, or `{message}` / `{Message}` of API Gateway and Lambda.
 * @param {Response} response
 * @param {AbortSignal} signal
 * @returns {Promise<{ code: string, message: string }>}
 */
async function readErrorBody(response, signal) {
  const fallback = { code: `http_${response.status}`, message: `HTTP ${response.status}${response.statusText ? ` ${response.statusText}` : ''}` };
  let text = '';
  try {
    text = await readLimited(response, MAX_ERROR_BODY, signal);
  } catch {
    return fallback;
  }
  try {
    const body = JSON.parse(text);
    if (body !== null && typeof body === 'object') {
      const code = typeof body.error === 'string' ? body.error : fallback.code;
      const message = [body.message, body.Message].find((m) => typeof m === 'string') ?? fallback.message;
      return { code, message };
    }
  } catch {
    // Not JSON: show the start of the text.
  }
  const trimmed = text.trim().slice(0, 200);
  return { code: fallback.code, message: trimmed === '' ? fallback.message : `${fallback.message}: ${trimmed}` };
}

/**
 * @param {Response} response
 * @param {number} limit characters
 * @param {AbortSignal} signal
 */
async function readLimited(response, limit, signal) {
  if (response.body === null) return '';
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let text = '';
  try {
    while (text.length < limit && !signal.aborted) {
      const { done, value } = await reader.read();
      if (done) return text + decoder.decode();
      text += decoder.decode(value, { stream: true });
    }
  } finally {
    reader.cancel().catch(() => {});
  }
  return text.slice(0, limit);
}

/** @param {Response} response */
function discardBody(response) {
  response.body?.cancel().catch(() => {});
}

export class SseClient extends EventTarget {
  static CONNECTING = CONNECTING;
  static OPEN = OPEN;
  static CLOSED = CLOSED;

  /** @type {0 | 1 | 2} */
  #readyState = CONNECTING;
  #lastEventId = '';
  /** The current reconnection time: the server's last `retry`, else the initial one. */
  #retryMs;
  /** Reconnects since the stream was last open. */
  #attempt = 0;
  /** @type {AbortController | undefined} */
  #controller;
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  #timer;
  /** @type {Map<string, EventListener>} */
  #handlers = new Map();
  #headers;
  #fetch;
  #backoffBaseMs;
  #maxRetryMs;
  #random;
  #onEvent;

  /**
   * @param {string | URL} url resolved against the page's address in a browser
   * @param {SseClientOptions} [options]
   */
  constructor(url, {
    headers = {},
    fetch = globalThis.fetch,
    lastEventId = '',
    initialRetryMs = 3000,
    backoffBaseMs = 1000,
    maxRetryMs = 30000,
    random = Math.random,
    onEvent,
  } = {}) {
    super();
    /** The absolute URL, as EventSource's `url`. */
    this.url = new URL(url, globalThis.location?.href).href;
    this.#headers = headers;
    this.#fetch = fetch;
    this.#lastEventId = lastEventId;
    this.#retryMs = initialRetryMs;
    this.#backoffBaseMs = backoffBaseMs;
    this.#maxRetryMs = maxRetryMs;
    this.#random = random;
    this.#onEvent = onEvent;
    // Like EventSource, connect once the caller has had a chance to add listeners.
    queueMicrotask(() => {
      if (this.#readyState !== CLOSED) this.#connect();
    });
  }

  get CONNECTING() { return CONNECTING; }
  get OPEN() { return OPEN; }
  get CLOSED() { return CLOSED; }

  /** CONNECTING (0), also while waiting to reconnect; OPEN (1); CLOSED (2), for good. */
  get readyState() {
    return this.#readyState;
  }

  /** The id a reconnect resumes after: the last one the stream set, also by an id-only block. */
  get lastEventId() {
    return this.#lastEventId;
  }

  /** Stop for good: abort the request or cancel the pending reconnect. No event follows. */
  close() {
    this.#readyState = CLOSED;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#controller?.abort();
    this.#controller = undefined;
  }

  /** @returns {((event: Event) => void) | null} */
  get onopen() { return this.#getHandler('open'); }
  set onopen(handler) { this.#setHandler('open', handler); }
  /** @returns {((event: MessageEvent) => void) | null} */
  get onmessage() { return /** @type {any} */ (this.#getHandler('message')); }
  set onmessage(handler) { this.#setHandler('message', /** @type {any} */ (handler)); }
  /** @returns {((event: SseErrorEvent | MessageEvent) => void) | null} */
  get onerror() { return /** @type {any} */ (this.#getHandler('error')); }
  set onerror(handler) { this.#setHandler('error', /** @type {any} */ (handler)); }
  /** @returns {((event: SseReconnectingEvent) => void) | null} */
  get onreconnecting() { return /** @type {any} */ (this.#getHandler('reconnecting')); }
  set onreconnecting(handler) { this.#setHandler('reconnecting', /** @type {any} */ (handler)); }
  /** @returns {((event: SseFinishedEvent) => void) | null} */
  get onfinished() { return /** @type {any} */ (this.#getHandler('finished')); }
  set onfinished(handler) { this.#setHandler('finished', /** @type {any} */ (handler)); }

  /** @param {string} type */
  #getHandler(type) {
    return /** @type {((event: Event) => void) | undefined} */ (this.#handlers.get(type)) ?? null;
  }

  /**
   * @param {string} type
   * @param {((event: Event) => void) | null} handler
   */
  #setHandler(type, handler) {
    const previous = this.#handlers.get(type);
    if (previous) this.removeEventListener(type, previous);
    this.#handlers.delete(type);
    if (typeof handler === 'function') {
      this.#handlers.set(type, handler);
      this.addEventListener(type, handler);
    }
  }

  #connect() {
    const controller = new AbortController();
    this.#controller = controller;
    this.#readyState = CONNECTING;
    // #run handles its own failures; this is the last guard, so that no
    // rejection is ever left unhandled.
    this.#run(controller.signal).catch((error) => {
      if (!controller.signal.aborted) this.#fail(0, 'client_error', describe(error));
    });
  }

  /** @param {AbortSignal} signal */
  async #run(signal) {
    /** @type {HeaderList | undefined} */
    let extra;
    try {
      extra = typeof this.#headers === 'function' ? await this.#headers() : this.#headers;
    } catch (error) {
      // A header function may fail for a while (a token refresh over the
      // network): retry it like a failed connection.
      if (!signal.aborted) this.#retryAfterFailure('error', 0, 'headers_failed', describe(error));
      return;
    }
    if (signal.aborted) return;
    /** @type {Headers} */
    let headers;
    try {
      headers = new Headers(extra);
      headers.set('Accept', 'text/event-stream');
      if (this.#lastEventId !== '') headers.set('Last-Event-ID', utf8Bytes(this.#lastEventId));
    } catch (error) {
      // A header that is not valid never will be.
      this.#fail(0, 'invalid_headers', describe(error));
      return;
    }

    /** @type {Response} */
    let response;
    try {
      const fetchFn = this.#fetch; // called unbound: a browser's fetch refuses another `this`
      response = await fetchFn(this.url, { headers, cache: 'no-store', signal });
    } catch (error) {
      if (!signal.aborted) this.#retryAfterFailure('error', 0, 'network_error', describe(error));
      return;
    }
    if (signal.aborted) {
      discardBody(response);
      return;
    }

    const { status } = response;
    if (status === 200 && isEventStream(response.headers.get('content-type'))) {
      await this.#stream(response, signal);
    } else if (status === 204) {
      discardBody(response);
      this.#readyState = CLOSED;
      this.dispatchEvent(new SseFinishedEvent({ status }));
    } else if (status === 429 || (status >= 500 && status <= 599)) {
      const wait = retryAfterMs(response.headers.get('retry-after'));
      const { code, message } = await readErrorBody(response, signal);
      if (!signal.aborted) this.#retryAfterFailure('status', status, code, message, wait);
    } else if (status === 200) {
      discardBody(response);
      const type = response.headers.get('content-type') ?? 'none';
      this.#fail(status, 'invalid_content_type', `expected text/event-stream, got ${type}`);
    } else {
      const { code, message } = await readErrorBody(response, signal);
      if (!signal.aborted) this.#fail(status, code, message);
    }
  }

  /**
   * @param {Response} response
   * @param {AbortSignal} signal
   */
  async #stream(response, signal) {
    this.#readyState = OPEN;
    this.#attempt = 0;
    this.dispatchEvent(new Event('open'));
    if (signal.aborted) {
      discardBody(response);
      return;
    }
    const origin = new URL(response.url || this.url).origin;
    const parser = createParser({
      lastEventId: this.#lastEventId,
      onRetry: (ms) => {
        this.#retryMs = ms;
      },
      onEvent: ({ type, data, lastEventId }) => {
        if (signal.aborted) return; // closed by an earlier event's listener
        this.#lastEventId = lastEventId;
        const event = new MessageEvent(type, { data, lastEventId, origin });
        if (this.#onEvent) {
          try {
            this.#onEvent(event);
          } catch (error) {
            // Report it as a throwing listener is reported, without breaking the stream.
            queueMicrotask(() => {
              throw error;
            });
          }
        }
        if (!signal.aborted) this.dispatchEvent(event);
      },
    });
    // ignoreBOM: keep a BOM for the parser, which strips exactly one, as the standard says.
    const decoder = new TextDecoder('utf-8', { ignoreBOM: true });
    /** @type {{ reason: 'end' | 'error', code: string, message: string }} */
    let ended = { reason: 'end', code: 'stream_ended', message: 'the stream ended' };
    const reader = response.body?.getReader();
    try {
      if (reader) {
        for (;;) {
          const { done, value } = await reader.read();
          if (done) break;
          parser.feed(decoder.decode(value, { stream: true }));
          // An id-only block dispatches nothing but still moves the position.
          if (!signal.aborted) this.#lastEventId = parser.lastEventId;
        }
        parser.feed(decoder.decode());
      }
    } catch (error) {
      ended = { reason: 'error', code: 'stream_failed', message: describe(error) };
      reader?.cancel().catch(() => {});
    }
    parser.end();
    if (signal.aborted) return;
    this.#lastEventId = parser.lastEventId;
    // The stream worked: come back after the server's reconnection time, as
    // EventSource does, whether it ended cleanly or broke off.
    this.#scheduleReconnect(ended.reason, this.#retryMs, 0, ended.code, ended.message);
  }

  /**
   * @param {'error' | 'status'} reason
   * @param {number} status
   * @param {string} code
   * @param {string} message
   * @param {number} [retryAfter] what the server asked for, in ms
   */
  #retryAfterFailure(reason, status, code, message, retryAfter) {
    const attempt = this.#attempt + 1;
    const delay = retryAfter === undefined
      ? backoffDelay(attempt, { baseMs: this.#backoffBaseMs, maxMs: this.#maxRetryMs, random: this.#random })
      : Math.min(retryAfter, this.#maxRetryMs);
    this.#scheduleReconnect(reason, delay, status, code, message);
  }

  /**
   * @param {'end' | 'error' | 'status'} reason
   * @param {number} delay
   * @param {number} status
   * @param {string} code
   * @param {string} message
   */
  #scheduleReconnect(reason, delay, status, code, message) {
    if (this.#readyState === CLOSED) return;
    this.#attempt += 1;
    this.#readyState = CONNECTING;
    this.#controller = undefined;
    const wait = Math.min(Math.max(0, delay), MAX_TIMER_MS);
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      if (this.#readyState !== CLOSED) this.#connect();
    }, wait);
    // After the timer is set, so that a listener's close() cancels it.
    this.dispatchEvent(new SseReconnectingEvent({ attempt: this.#attempt, delay: wait, reason, status, code, message }));
  }

  /**
   * Closed for good, with the reason.
   * @param {number} status
   * @param {string} code
   * @param {string} message
   */
  #fail(status, code, message) {
    if (this.#readyState === CLOSED) return;
    this.close();
    this.dispatchEvent(new SseErrorEvent({ status, code, message }));
  }
}
