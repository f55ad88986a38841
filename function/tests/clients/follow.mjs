// A standard, reconnecting EventSource client (npm `eventsource`, which
// follows the WHATWG spec) for the end-to-end tests: it follows one stream,
// reconnecting with Last-Event-ID as a browser would, until the server says
// 204. Prints one JSON line per connection opened and per event received,
// then `{"type":"closed"}`. Usage: node follow.mjs <url> <time limit ms>
import { EventSource } from 'eventsource';

const [url, limitMs = '60000'] = process.argv.slice(2);
const print = (line) => process.stdout.write(`${JSON.stringify(line)}\n`);

const source = new EventSource(url);
source.addEventListener('open', () => print({ type: 'open' }));
for (const type of ['message', 'progress', 'complete', 'reconnect']) {
  source.addEventListener(type, (event) => print({ type, id: event.lastEventId, data: event.data }));
}
source.addEventListener('error', (event) => {
  // An `error` event with data is the stream's own, in-band; without data it
  // is the client's (a failed connection, or a 204 that ends the stream).
  if (event.data !== undefined) print({ type: 'error', id: event.lastEventId, data: event.data });
  if (source.readyState === EventSource.CLOSED) {
    print({ type: 'closed', code: event.code ?? null });
    process.exit(0);
  }
});

setTimeout(() => {
  print({ type: 'timeout' });
  process.exit(2);
}, Number(limitMs)).unref();
