// Talking to tarn: the console's JSON API under /console/api/ (same origin, session cookie),
// with the session's CSRF token on every request that changes something. DynamoDB operations go
// through `ddb(operation, body)`, which tarn runs with the same handlers as its DynamoDB port,
// in the region chosen with `setRegion` (see `regional`).

let csrf = '';

// The region the console works in: tables are regional, and every request carries `?region=`
// once one is chosen (the server's own region until then). Kept per browser tab.
let region = sessionStorage.getItem('tarn-region') || '';

function regional(path) {
  if (!region) return path;
  return `${path}${path.includes('?') ? '&' : '?'}region=${encodeURIComponent(region)}`;
}

/** Switches the console to `r` (a region name) for this tab. */
export function setRegion(r) {
  region = r;
  sessionStorage.setItem('tarn-region', r);
}

/** An error answered by tarn: DynamoDB's exception name and message, as DynamoDB words them. */
export class ApiError extends Error {
  constructor(kind, message, status) {
    super(message);
    this.kind = kind;
    this.status = status;
  }
  toString() { return `${this.kind}: ${this.message}`; }
}

function toLogin() {
  window.location.assign('/console/login');
}

async function answer(r) {
  const text = await r.text();
  let body = {};
  try { body = text ? JSON.parse(text) : {}; } catch (_) { body = { message: text }; }
  if (r.status === 401) {
    toLogin();
    throw new ApiError('Unauthorized', 'Signed out', 401);
  }
  if (!r.ok) {
    const type = String(body.__type || 'Error');
    const kind = type.includes('#') ? type.slice(type.indexOf('#') + 1) : type;
    throw new ApiError(kind, body.message || body.Message || r.statusText, r.status);
  }
  return body;
}

/** GET a console API path (relative to /console/api/). */
export async function get(path) {
  const r = await fetch(`api/${regional(path)}`, { credentials: 'same-origin', headers: { accept: 'application/json' } });
  return answer(r);
}

/** POST a JSON body (`bodyText` already serialized, or an object) to a console API path. */
export async function post(path, body) {
  const r = await fetch(`api/${regional(path)}`, {
    method: 'POST',
    credentials: 'same-origin',
    headers: { 'content-type': 'application/json', 'x-tarn-csrf': csrf, accept: 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body ?? {}),
  });
  return answer(r);
}

/** Runs a DynamoDB operation ("PutItem", "Scan"...) and returns DynamoDB's answer. */
export function ddb(operation, body) {
  return post(`dynamodb/${operation}`, body);
}

/** Loads the session (and its CSRF token); sends the browser to the login page if there is none. */
export async function session() {
  const s = await get('session');
  csrf = s.csrf;
  return s;
}

/** Ends the session. */
export async function logout() {
  try { await post('logout', {}); } finally { toLogin(); }
}

/**
 * Follows a stream of NDJSON lines (the log tail) until `signal` aborts; calls `onLine` with each
 * parsed line. Resolves when the server ends the stream.
 */
export async function follow(path, onLine, signal) {
  const r = await fetch(`api/${path}`, { credentials: 'same-origin', signal });
  if (!r.ok) await answer(r);
  const reader = r.body.getReader();
  const decoder = new TextDecoder();
  let buf = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buf += decoder.decode(value, { stream: true });
    let nl;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      if (line.trim()) {
        try { onLine(JSON.parse(line)); } catch (_) { /* a partial line cannot happen; skip junk */ }
      }
    }
  }
}
