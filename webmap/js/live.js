// Live events from GET /events/stream (server-sent events read through fetch, so the bearer token
// can be sent). On a dropped connection it reconnects with Last-Event-ID and the server replays what
// was missed; ids seen twice (allowed by the server's replay rule) are delivered once.
import { authHeaders } from './api.js';
import { accessTokenExpiring, refreshSession } from './session.js';

const SEEN_LIMIT = 2000;

function parseBlock(block) {
  const message = { id: null, event: 'message', data: '' };
  block.split('\n').forEach((line) => {
    if (!line || line.startsWith(':')) return;
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
    if (field === 'id') message.id = value;
    else if (field === 'event') message.event = value;
    else if (field === 'data') message.data += (message.data ? '\n' : '') + value;
    else if (field === 'retry' && /^\d+$/.test(value)) message.retry = Number(value);
  });
  return message;
}

const sleep = (ms) => new Promise((resolve) => { setTimeout(resolve, ms); });

// onEvent({id, kind, case_id, member_id, grid_code, data}); onStatus('on' | 'off' | 'unavailable');
// onResync() when a connection comes back before any event id was known (nothing to resume from:
// the page reloads its data instead)
export function followEvents({ onEvent, onStatus = () => {}, onResync = () => {} }) {
  const seen = new Set();
  let lastId = null;
  let retryMs = 2000;
  let stopped = false;
  let controller = null;
  let connections = 0;
  // an open stream would fail noisily when the network goes: close it quietly and wait for 'online'
  window.addEventListener('offline', () => { if (controller) controller.abort(); });

  function deliver(message) {
    if (message.retry) retryMs = message.retry;
    if (!message.data) {
      // the server's 'connected' message carries the stream's cursor: resume from it even when no
      // event arrived before the connection dropped (as EventSource does with a data-less id)
      if (message.id !== null) lastId = message.id;
      return;
    }
    if (message.id !== null) {
      if (seen.has(message.id)) return;
      seen.add(message.id);
      if (seen.size > SEEN_LIMIT) seen.delete(seen.values().next().value);
      lastId = message.id;
    }
    let payload;
    try { payload = JSON.parse(message.data); } catch { return; }
    onEvent({ kind: message.event, ...payload });
  }

  async function readStream(response) {
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buffer += value.replace(/\r\n?/g, '\n');
      let end = buffer.indexOf('\n\n');
      while (end >= 0) {
        deliver(parseBlock(buffer.slice(0, end)));
        buffer = buffer.slice(end + 2);
        end = buffer.indexOf('\n\n');
      }
    }
  }

  async function run() {
    while (!stopped) {
      if (!navigator.onLine) { onStatus('off'); await sleep(retryMs); continue; }
      controller = new AbortController();
      if (accessTokenExpiring()) await refreshSession();
      const headers = authHeaders({ Accept: 'text/event-stream' });
      if (lastId !== null) headers['Last-Event-ID'] = lastId;
      try {
        const response = await fetch('/events/stream', { headers, signal: controller.signal, cache: 'no-store' });
        if (response.status === 401 && (await refreshSession())) continue; // access token renewed
        if (!response.ok) {
          onStatus('unavailable');
          return; // 401/403/404: retrying will not help
        }
        onStatus('on');
        connections += 1;
        if (connections > 1 && lastId === null) onResync();
        await readStream(response);
      } catch (error) {
        if (stopped) return;
      }
      onStatus('off');
      await sleep(retryMs);
    }
  }

  run();
  return {
    stop() { stopped = true; if (controller) controller.abort(); },
    get lastEventId() { return lastId; },
    // drop the connection now (as a network failure would); the loop reconnects and resumes
    reconnect() { if (controller) controller.abort(); },
  };
}
