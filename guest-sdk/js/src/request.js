// The request a function's handler gets inside a component: a web `Request` (`instanceof
// Request`, `method`, `url`, `headers`, `text()`, `json()` ...) read lazily from the
// `wasi:http` incoming-request, so a request costs only what its handler reads. The URL is
// parsed once (and only if asked for), the headers become a `Headers` on first use, and the body
// is read from its stream on the first `text()`/`json()`/`arrayBuffer()`/`bytes()`, once (a
// second read rejects, as the web's does). Anything else a `Request` has (`formData()`, `body`,
// `clone()` ...) is served by a real `Request` made from these parts on first use.
//
// Also `pathnameOf(req)` and `urlOf(req)`, which the Router uses: from the raw path when it needs
// no URL parsing, for this request or any other `Request`. Every wasi call costs some
// microseconds, so each part (method, path, scheme and authority, headers, body) is asked for
// only when needed: routing an `any` route asks for the path alone.

/** How much one read of the request body asks for (a u64: a BigInt). */
const READ_CHUNK = 65536n;

const METHODS = {
  get: 'GET', head: 'HEAD', post: 'POST', put: 'PUT', delete: 'DELETE',
  connect: 'CONNECT', options: 'OPTIONS', trace: 'TRACE', patch: 'PATCH',
};

const IN = Symbol('incoming');
const STATE = Symbol('state');
const URL_OF = Symbol('tarn.url');
const PATHNAME_OF = Symbol('tarn.pathname');

const decoder = new TextDecoder();

/** A path whose URL pathname is itself: no characters URL parsing encodes, no dot segments. */
const PLAIN_PATH = /^\/[A-Za-z0-9\-._~!$&'()*+,;=:@%/]*$/;
const DOT_SEGMENT = /\/(\.|%2e)/i;
/** Plain paths seen before (a reused instance sees the same few paths again). */
const plainPaths = new Set();
const PLAIN_PATHS_MAX = 256;

/** Whether `e` is an input stream's `closed` error (the end of the body). */
function isClosed(e) {
  return Boolean(e && e.payload && e.payload.tag === 'closed');
}

/** The whole body of the wasi request `incoming` (empty when it has none). */
function readBody(incoming, IncomingBody) {
  const body = incoming.consume();
  const stream = body.stream();
  const chunks = [];
  let size = 0;
  for (;;) {
    let chunk;
    try {
      chunk = stream.blockingRead(READ_CHUNK);
    } catch (e) {
      if (isClosed(e)) break;
      throw e;
    }
    if (chunk.length) {
      chunks.push(chunk);
      size += chunk.length;
    }
  }
  stream[Symbol.dispose]?.();
  IncomingBody.finish(body)?.[Symbol.dispose]?.();
  if (chunks.length === 1) return chunks[0];
  const all = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) {
    all.set(c, at);
    at += c.length;
  }
  return all;
}

/**
 * A `Request` over the wasi:http incoming-request `incoming`; `IncomingBody` is the wasi type
 * (for `finish`). The handler (src/incoming-handler.js) calls `close()` once it has answered.
 */
export class IncomingRequest {
  constructor(incoming, IncomingBody) {
    this[IN] = incoming;
    this[STATE] = {
      IncomingBody, method: null, path: null, url: null, headers: null, used: false, real: null,
    };
  }

  /** The wasi request, while the call lasts. */
  #incoming() {
    const incoming = this[IN];
    if (!incoming) throw new TypeError('the request is over: read it while handling it');
    return incoming;
  }

  /** The method, upper case for the standard ones. */
  get method() {
    const s = this[STATE];
    if (s.method === null) {
      const m = this.#incoming().method();
      s.method = m.tag === 'other' ? m.val : METHODS[m.tag];
    }
    return s.method;
  }

  /** The path and query, as the client sent them (unparsed). */
  #path() {
    const s = this[STATE];
    if (s.path === null) s.path = this.#incoming().pathWithQuery() ?? '/';
    return s.path;
  }

  /** The parsed URL (once). */
  [URL_OF]() {
    const s = this[STATE];
    if (!s.url) {
      const incoming = this.#incoming();
      const sc = incoming.scheme();
      const scheme = !sc ? 'http' : sc.tag === 'other' ? sc.val : sc.tag.toLowerCase();
      s.url = new URL(`${scheme}://${incoming.authority() ?? 'localhost'}${this.#path()}`);
    }
    return s.url;
  }

  /** The URL's path, without parsing the URL when the raw path needs none. */
  [PATHNAME_OF]() {
    const s = this[STATE];
    if (s.url) return s.url.pathname;
    const path = this.#path();
    const q = path.indexOf('?');
    const p = q < 0 ? path : path.slice(0, q);
    if (plainPaths.has(p)) return p;
    if (PLAIN_PATH.test(p) && !DOT_SEGMENT.test(p)) {
      if (plainPaths.size < PLAIN_PATHS_MAX) plainPaths.add(p);
      return p;
    }
    return this[URL_OF]().pathname;
  }

  /** The URL, as a string. */
  get url() {
    return this[STATE].real ? this[STATE].real.url : this[URL_OF]().href;
  }

  /** The headers (ones the web's `Headers` refuses are left out). */
  get headers() {
    const s = this[STATE];
    if (s.real) return s.real.headers;
    if (!s.headers) {
      const fields = this.#incoming().headers();
      const headers = new Headers();
      for (const [name, value] of fields.entries()) {
        try {
          headers.append(name, decoder.decode(value));
        } catch {
          // A name or value the web's Headers does not take.
        }
      }
      fields[Symbol.dispose]?.();
      s.headers = headers;
    }
    return s.headers;
  }

  /** Whether the body was read. */
  get bodyUsed() {
    const s = this[STATE];
    return s.real ? s.real.bodyUsed : s.used;
  }

  /** The body's bytes, read from the wasi stream once; a TypeError on a second read. */
  #take() {
    const s = this[STATE];
    if (s.used) throw new TypeError('the request body was already read');
    s.used = true;
    const method = this.method;
    if (method === 'GET' || method === 'HEAD') return new Uint8Array(0);
    return readBody(this.#incoming(), s.IncomingBody);
  }

  /** The body as text (UTF-8). */
  async text() {
    if (this[STATE].real) return this[STATE].real.text();
    return decoder.decode(this.#take());
  }

  /** The body parsed as JSON. */
  async json() {
    if (this[STATE].real) return this[STATE].real.json();
    return JSON.parse(decoder.decode(this.#take()));
  }

  /** The body's bytes. */
  async bytes() {
    if (this[STATE].real) return new Uint8Array(await this[STATE].real.arrayBuffer());
    return this.#take();
  }

  /** The body as an ArrayBuffer. */
  async arrayBuffer() {
    if (this[STATE].real) return this[STATE].real.arrayBuffer();
    const b = this.#take();
    return b.byteOffset === 0 && b.byteLength === b.buffer.byteLength ? b.buffer : b.slice().buffer;
  }

  /** A real `Request` with these parts (made once; its body is this one's, unless read). */
  [Symbol.for('tarn.request')]() {
    const s = this[STATE];
    if (!s.real) {
      const method = this.method;
      const init = { method, headers: this.headers };
      if (!s.used && method !== 'GET' && method !== 'HEAD') {
        const body = this.#take();
        if (body.length) init.body = body;
        s.used = false;
      }
      s.real = new Request(this.url, init);
    }
    return s.real;
  }

  /** Ends the request: drops the wasi request (a reused instance keeps no handles). */
  close() {
    const incoming = this[IN];
    this[IN] = null;
    incoming?.[Symbol.dispose]?.();
  }
}

// IncomingRequest is a Request: instanceof holds, and what Request has that IncomingRequest
// does not define itself goes to the real Request (made then).
Object.setPrototypeOf(IncomingRequest.prototype, Request.prototype);
for (const name of Object.getOwnPropertyNames(Request.prototype)) {
  if (name === 'constructor' || Object.prototype.hasOwnProperty.call(IncomingRequest.prototype, name)) continue;
  const d = Object.getOwnPropertyDescriptor(Request.prototype, name);
  const real = (r) => r[Symbol.for('tarn.request')]();
  if (d.get) {
    Object.defineProperty(IncomingRequest.prototype, name, { get() { return real(this)[name]; }, configurable: true });
  } else if (typeof d.value === 'function') {
    Object.defineProperty(IncomingRequest.prototype, name, {
      value(...args) { return real(this)[name](...args); },
      writable: true,
      configurable: true,
    });
  }
}

/** The URL of `req` (any Request), parsed once for an IncomingRequest. */
export function urlOf(req) {
  return req instanceof IncomingRequest ? req[URL_OF]() : new URL(req.url);
}

/** The URL path of `req` (any Request), without URL parsing for an IncomingRequest's plain path. */
export function pathnameOf(req) {
  return req instanceof IncomingRequest ? req[PATHNAME_OF]() : new URL(req.url).pathname;
}
