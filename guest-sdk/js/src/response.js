// The responses the SDK's own helpers make (`json`, `text`, errors, 204): a web `Response` to the
// function's code (`instanceof Response`, `status`, `headers`, `text()` ... all work), that the
// component's incoming handler writes straight to wasi:http from what it was made of (status, a
// content type and any other headers, a string body), without building a web `Response` and `Headers` and reading
// the body back through `arrayBuffer()` on every request.
//
// The real `Response` is made only when the function's code asks for something beyond `status`
// (its `headers`, its body, `clone()` ...); from then on the real one answers, and the handler
// writes it as any other `Response`.

/** The parts of an SDK-made response, for the writer (src/incoming-handler.js). */
export const PARTS = Symbol('tarn.responseParts');
const REAL = Symbol('tarn.realResponse');

/** Statuses whose response has no body (as the web's `Response` checks them). */
const NULL_BODY = new Set([101, 103, 204, 205, 304]);
/** An HTTP token (a header name). */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/**
 * A `Response` over `body` (a string, or null), `status`, a `content-type` (or null) and any
 * other `headers` (a record of strings: they win over the content type, as in
 * `{ 'content-type': type, ...headers }`), checked as the web's `Response` checks them
 * (RangeError for a status outside 200-599, TypeError for a body on a null-body status or an
 * invalid header).
 */
export class SdkResponse {
  /**
   * @param {string | null} body @param {number} status @param {string | null} type
   * @param {Record<string, string> | null} [headers]
   */
  constructor(body, status, type, headers = null) {
    if (status !== 200) {
      if (!Number.isInteger(status) || status < 200 || status > 599) {
        throw new RangeError(`a response status must be 200-599, not ${status}`);
      }
      if (body != null && NULL_BODY.has(status)) throw new TypeError(`a ${status} response cannot have a body`);
    }
    let extra = null;
    for (const name in headers) {
      const value = String(headers[name]);
      if (!TOKEN.test(name) || /[\0\r\n]/.test(value)) throw new TypeError(`invalid header: ${name}`);
      extra = headers;
    }
    // The writer's fast path is a response with its content type alone (headers: null).
    this[PARTS] = { body, status, type, headers: extra };
    this[REAL] = null;
  }

  /** The status code. */
  get status() {
    return this[REAL] ? this[REAL].status : this[PARTS].status;
  }

  /** Whether the status is 2xx. */
  get ok() {
    const s = this.status;
    return s >= 200 && s < 300;
  }
}

/** All the headers of `parts`, as a record. */
export function headerRecord(parts) {
  const record = parts.type === null ? {} : { 'content-type': parts.type };
  return parts.headers ? { ...record, ...parts.headers } : record;
}

/** The web `Response` `r` stands for (made on first use, then the one that answers). */
function real(r) {
  if (!r[REAL]) {
    const parts = r[PARTS];
    r[REAL] = new Response(parts.body, { status: parts.status, headers: headerRecord(parts) });
    r[PARTS] = null;
  }
  return r[REAL];
}

/** `r` as a web `Response` proper (the real one behind an SDK response). */
export function webResponse(r) {
  return r instanceof SdkResponse ? real(r) : r;
}

/**
 * The parts of `r` to write when it is an SDK response whose real `Response` was never made
 * (`{ body, status, type, headers }`), else null (write it as a web `Response`).
 */
export function partsOf(r) {
  return r instanceof SdkResponse ? r[PARTS] : null;
}

// SdkResponse is a Response: instanceof holds, and everything Response has that SdkResponse does
// not define itself goes to the real Response (made then).
Object.setPrototypeOf(SdkResponse.prototype, Response.prototype);
for (const name of Object.getOwnPropertyNames(Response.prototype)) {
  if (name === 'constructor' || Object.prototype.hasOwnProperty.call(SdkResponse.prototype, name)) continue;
  const d = Object.getOwnPropertyDescriptor(Response.prototype, name);
  if (d.get) {
    Object.defineProperty(SdkResponse.prototype, name, {
      get() { return real(this)[name]; },
      configurable: true,
    });
  } else if (typeof d.value === 'function') {
    Object.defineProperty(SdkResponse.prototype, name, {
      value(...args) { return real(this)[name](...args); },
      writable: true,
      configurable: true,
    });
  }
}
