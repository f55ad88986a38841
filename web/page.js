// @ts-check
/**
 * The page that watches a stream (index.html): a form to choose it, a
 * progress bar, the status, the reconnects and a log of the events.
 *
 * `start(base)` wires it up; the other exports are pure, for tests. The
 * page's state is in `document.body.dataset.state`: idle, connecting, open,
 * reconnecting, complete (a job's `complete` arrived), ended (the server
 * answered 204) or error (refused for good).
 */
import { SseClient, SseErrorEvent } from './sse-client.js';

/** The log keeps the newest events only, so a long stream cannot grow the page forever. */
const MAX_LOG_ITEMS = 300;

/**
 * What the form describes.
 * @typedef {{ kind: 'job', steps: string, intervalMs: string }
 *   | { kind: 'durable', name: string, fromNow: boolean }
 *   | { kind: 'path', path: string }} StreamChoice
 */

/**
 * The form's view of a shared `?stream=` value: a job or a durable stream
 * when the form can say it exactly, else the path as it is.
 * @param {string} stream a path and query from the function's root, such as `/events?steps=5`
 * @returns {StreamChoice}
 */
export function parseStreamParam(stream) {
  const url = new URL(stream, 'http://stream.invalid');
  const params = [...url.searchParams];
  const names = params.map(([name]) => name);
  const only = (/** @type {string[]} */ allowed) =>
    names.every((name) => allowed.includes(name)) && new Set(names).size === names.length;
  if (stream.startsWith('/') && url.pathname === '/events' && only(['steps', 'interval_ms'])
      && params.every(([, value]) => /^[0-9]*$/.test(value))) {
    return { kind: 'job', steps: url.searchParams.get('steps') ?? '', intervalMs: url.searchParams.get('interval_ms') ?? '' };
  }
  const name = /^\/streams\/([^/]+)$/.exec(url.pathname)?.[1];
  const from = url.searchParams.get('from');
  if (stream.startsWith('/streams/') && name !== undefined && only(['from']) && (from === null || from === 'now' || from === 'oldest')) {
    try {
      return { kind: 'durable', name: decodeURIComponent(name), fromNow: from === 'now' };
    } catch {
      // Not valid percent-encoding: keep the path as it is.
    }
  }
  return { kind: 'path', path: stream };
}

/**
 * The path and query to stream for a choice.
 * @param {StreamChoice} choice
 * @returns {string}
 */
export function streamPath(choice) {
  switch (choice.kind) {
    case 'job': {
      // Empty fields are left out: the server's defaults apply.
      const query = new URLSearchParams();
      if (choice.steps !== '') query.set('steps', choice.steps);
      if (choice.intervalMs !== '') query.set('interval_ms', choice.intervalMs);
      const text = query.toString();
      return text === '' ? '/events' : `/events?${text}`;
    }
    case 'durable':
      return `/streams/${encodeURIComponent(choice.name)}${choice.fromNow ? '?from=now' : ''}`;
    default:
      return choice.path;
  }
}

/**
 * The URL of a stream path below the page's base: `/events?steps=5` under
 * `/live/` is `/live/events?steps=5`. Only paths of this origin: the page
 * may send a token, and a shared link must not send it elsewhere.
 * @param {string} base the page's path, ending in `/`
 * @param {string} path starting with `/`
 * @param {string} origin the page's origin
 * @returns {URL}
 */
export function streamUrl(base, path, origin) {
  if (!path.startsWith('/')) throw new Error(`a stream path starts with /: ${JSON.stringify(path)}`);
  const url = new URL(base + path.slice(1), origin);
  if (url.origin !== origin) throw new Error(`not a path of this site: ${JSON.stringify(path)}`);
  return url;
}

/** @param {number} ms */
function formatDelay(ms) {
  return ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(1)} s`;
}

/**
 * @param {string} data
 * @returns {Record<string, unknown> | undefined}
 */
function jsonObject(data) {
  try {
    const value = JSON.parse(data);
    return value !== null && typeof value === 'object' && !Array.isArray(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

/**
 * @template {HTMLElement} T
 * @param {string} id
 * @param {{ new (): T }} type
 * @returns {T}
 */
function element(id, type) {
  const found = document.getElementById(id);
  if (!(found instanceof type)) throw new Error(`the page has no ${type.name} #${id}`);
  return found;
}

/**
 * Wire up the page.
 * @param {string} base the page's path, ending in `/`: streams are below it
 */
export function start(base) {
  const form = element('form', HTMLFormElement);
  const kind = element('stream-kind', HTMLSelectElement);
  const steps = element('steps', HTMLInputElement);
  const intervalMs = element('interval-ms', HTMLInputElement);
  const streamName = element('stream-name', HTMLInputElement);
  const fromNow = element('from-now', HTMLInputElement);
  const pathInput = element('stream-path', HTMLInputElement);
  const token = element('token', HTMLInputElement);
  const watchButton = element('watch', HTMLButtonElement);
  const progress = element('progress', HTMLProgressElement);
  const percent = element('percent', HTMLElement);
  const status = element('status', HTMLElement);
  const reconnects = element('reconnects', HTMLElement);
  const lastId = element('last-id', HTMLElement);
  const log = element('log', HTMLOListElement);
  /** @type {Record<string, HTMLFieldSetElement>} */
  const groups = {
    job: element('job-fields', HTMLFieldSetElement),
    durable: element('durable-fields', HTMLFieldSetElement),
    path: element('path-fields', HTMLFieldSetElement),
  };

  /** @type {SseClient | undefined} */
  let client;
  let reconnectCount = 0;

  /** @param {string} state */
  const setState = (state) => {
    document.body.dataset.state = state;
  };
  /** @param {string} text */
  const say = (text) => {
    status.textContent = text;
  };
  /** @param {number} value */
  const setProgress = (value) => {
    const clamped = Math.min(100, Math.max(0, value));
    progress.value = clamped;
    const label = `${Math.round(clamped)} %`;
    progress.textContent = label;
    percent.textContent = label;
  };
  /** @param {boolean} watching */
  const setWatching = (watching) => {
    watchButton.textContent = watching ? 'Stop' : 'Watch';
    // Stopping must work whatever the fields hold meanwhile.
    watchButton.formNoValidate = watching;
  };
  const stop = () => {
    client?.close();
    client = undefined;
    setWatching(false);
  };

  const showKind = () => {
    for (const [name, group] of Object.entries(groups)) {
      // A disabled fieldset's fields are neither validated nor focusable.
      group.disabled = name !== kind.value;
      group.hidden = name !== kind.value;
    }
  };

  /** @returns {StreamChoice} */
  const formChoice = () => {
    switch (kind.value) {
      case 'durable':
        return { kind: 'durable', name: streamName.value, fromNow: fromNow.checked };
      case 'path':
        return { kind: 'path', path: pathInput.value };
      default:
        return { kind: 'job', steps: steps.value, intervalMs: intervalMs.value };
    }
  };

  /** @param {StreamChoice} choice */
  const fillForm = (choice) => {
    kind.value = choice.kind;
    if (choice.kind === 'job') {
      steps.value = choice.steps;
      intervalMs.value = choice.intervalMs;
    } else if (choice.kind === 'durable') {
      streamName.value = choice.name;
      fromNow.checked = choice.fromNow;
    } else {
      pathInput.value = choice.path;
    }
    showKind();
  };

  /**
   * @param {string} id
   * @param {string} type
   * @param {string} data
   */
  const addLogItem = (type, id, data) => {
    const atBottom = log.scrollHeight - log.scrollTop - log.clientHeight < 40;
    const item = document.createElement('li');
    item.dataset.type = type;
    item.dataset.id = id;
    const typeText = document.createElement('span');
    typeText.className = 'type';
    typeText.textContent = type;
    const idText = document.createElement('span');
    idText.className = 'id';
    idText.textContent = id === '' ? '(no id)' : id;
    const dataText = document.createElement('span');
    dataText.className = 'data';
    dataText.textContent = data;
    // The data comes last, so the item's text ends with it.
    item.append(typeText, ' ', idText, ' ', dataText);
    log.append(item);
    while (log.childElementCount > MAX_LOG_ITEMS) log.firstElementChild?.remove();
    if (atBottom) log.scrollTop = log.scrollHeight;
  };

  /**
   * @param {string} path
   */
  const watch = (path) => {
    stop();
    log.replaceChildren();
    reconnectCount = 0;
    reconnects.textContent = '0';
    lastId.textContent = 'none';
    setProgress(0);
    /** @type {URL} */
    let url;
    try {
      url = streamUrl(base, path, location.origin);
    } catch (error) {
      setState('error');
      say(String(error instanceof Error ? error.message : error));
      return;
    }
    // The progress job's `complete` is its last event: the page stops there.
    const isJob = /^\/events(\?|$)/.test(path);
    setState('connecting');
    say(`Connecting to ${path}…`);
    setWatching(true);

    const current = new SseClient(url, {
      // Read at every connection, so a token pasted while watching is used from the next reconnect on.
      headers: () => {
        /** @type {Record<string, string>} */
        const headers = {};
        const value = token.value.trim();
        if (value !== '') headers.Authorization = value;
        return headers;
      },
      onEvent: (event) => show(current, event, isJob),
    });
    client = current;
    current.onopen = () => {
      setState('open');
      say(current.lastEventId === '' ? 'Connected.' : `Connected, resuming after ${current.lastEventId}.`);
    };
    current.onreconnecting = (event) => {
      reconnectCount += 1;
      reconnects.textContent = String(reconnectCount);
      if (current.lastEventId !== '') lastId.textContent = current.lastEventId;
      setState('reconnecting');
      const when = `reconnecting in ${formatDelay(event.delay)} (attempt ${event.attempt})`;
      if (event.reason === 'end') say(`The response ended; ${when}.`);
      else if (event.reason === 'status') say(`HTTP ${event.status} ${event.code}: ${event.message}; ${when}.`);
      else say(`Connection failed (${event.message}); ${when}.`);
    };
    current.onfinished = () => {
      stop();
      setState('ended');
      say('The stream has ended: the server has nothing more (204).');
    };
    current.onerror = (event) => {
      // A server's `event: error` is a MessageEvent, shown by `show`; this is the client giving up.
      if (!(event instanceof SseErrorEvent)) return;
      stop();
      setState('error');
      say(event.status === 0 ? `Error: ${event.message}` : `Error: HTTP ${event.status} ${event.code}: ${event.message}`);
    };
  };

  /**
   * One event from the server, whatever its type.
   * @param {SseClient} source
   * @param {MessageEvent} event
   * @param {boolean} isJob
   */
  const show = (source, event, isJob) => {
    if (source !== client) return;
    const { type, data, lastEventId } = event;
    const body = jsonObject(data);
    if (lastEventId !== '') lastId.textContent = lastEventId;
    // The block that ends every window: not an event of the stream, and the
    // reconnect it announces is counted and shown when it happens.
    if (type === 'reconnect' && typeof body?.retryMs === 'number' && typeof body?.reason === 'string') return;

    addLogItem(type, lastEventId, data);
    const value = body?.percentage ?? body?.percent;
    if (typeof value === 'number' && Number.isFinite(value)) setProgress(value);
    if (type === 'error') {
      const code = typeof body?.error === 'string' ? body.error : 'error';
      const message = typeof body?.message === 'string' ? body.message : data;
      say(`The server sent an error: ${code}: ${message}`);
    } else if (type === 'complete') {
      setProgress(100);
      say(`Complete${typeof body?.status === 'string' ? `: ${body.status}` : '.'}`);
      if (isJob) {
        // The job is over; a reconnect would only get a 204.
        stop();
        setState('complete');
      }
    } else if (typeof body?.status === 'string') {
      say(body.status);
    } else {
      say(`Received ${type}${lastEventId === '' ? '' : ` (${lastEventId})`}.`);
    }
  };

  kind.addEventListener('change', showKind);
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    if (client) {
      stop();
      setState('idle');
      say('Stopped.');
      return;
    }
    const path = streamPath(formChoice());
    // The address now names the stream, so it can be shared; never the token.
    history.replaceState(null, '', `${location.pathname}?${new URLSearchParams({ stream: path })}`);
    watch(path);
  });

  showKind();
  // Disabled in the HTML until now: a click before this script ran would
  // submit the form natively, which the page's policy (form-action 'none') blocks.
  watchButton.disabled = false;
  const shared = new URLSearchParams(location.search).get('stream');
  if (shared !== null && shared !== '') {
    fillForm(parseStreamParam(shared));
    watch(shared);
  }
}
