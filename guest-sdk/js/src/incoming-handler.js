// The `wasi:http/incoming-handler` export that serves the function's `httpHandler(app)`, over
// the `wasi:http/types` module it is given (src/incoming.js gives it the component's import;
// unit tests give it stand-ins under node).
//
// Each call hands the handler an `IncomingRequest` (src/request.js: a `Request` read lazily from
// the wasi request: nothing is read that the handler does not ask for) and writes its answer to
// the response outparam: status, headers as wasi fields, and the body in one
// `blocking-write-and-flush` (4096-byte chunks for a longer one). An answer the SDK's helpers
// made (src/response.js: `json`, `text`, errors) is written from its parts; any other `Response`
// through `arrayBuffer()`. A handler that answers at once is served without a promise. The
// handler's exceptions already become responses (the Router's); anything that still escapes
// answers 500, so the outparam is always set. Nothing is kept between calls: an instance serves
// any number of requests (`reuse = N`).

import { httpServer } from './http.js';
import { writeLog } from './host.js';
import { IncomingRequest } from './request.js';
import { headerRecord, partsOf } from './response.js';

/** The largest write `blocking-write-and-flush` takes. */
export const WRITE_CHUNK = 4096;

const encoder = new TextEncoder();
const CACHED_MAX = 64;
/** Header values as bytes, for the few the SDK's responses repeat (content types). */
const valueBytes = new Map();

function bytesOf(value) {
  let b = valueBytes.get(value);
  if (!b) {
    b = encoder.encode(value);
    if (valueBytes.size < CACHED_MAX) valueBytes.set(value, b);
  }
  return b;
}

/** The last short string body and its bytes (a function often answers the same text). */
let lastText = null;
let lastBytes = null;

function textBytes(body) {
  if (body === lastText) return lastBytes;
  const bytes = encoder.encode(body);
  if (body.length <= 1024) {
    lastText = body;
    lastBytes = bytes;
  }
  return bytes;
}

/**
 * The head of an SDK response with a content type alone, by type: `{ list: [['content-type',
 * bytes]], uses, template }`. From its second use on, the instance keeps a `Fields` of it (the
 * template) and each response gets a `clone()` of that: one call with nothing to convert,
 * where `from-list` converts the whole list (several times the cost). `heads` holds them, by
 * type, for one `wasi:http/types` module.
 */
function typeHead(heads, type) {
  let head = heads.get(type);
  if (!head) {
    const list = type === null ? [] : [['content-type', encoder.encode(type)]];
    head = { list, uses: 0, template: null };
    if (heads.size < CACHED_MAX) heads.set(type, head);
  }
  return head;
}

/** Whether `v` is a promise (or any thenable). */
function isThenable(v) {
  return Boolean(v) && typeof v.then === 'function';
}

/**
 * The head (`[name, bytes]` pairs) of an SDK response's header record: names in lower case,
 * values trimmed, names that differ only in case joined with `, ` (what the web's `Headers`
 * makes of it).
 */
function recordHead(headers) {
  const pairs = [];
  for (const key in headers) {
    const name = key.toLowerCase();
    const value = String(headers[key]).replace(/^[\t ]+|[\t ]+$/g, '');
    const same = pairs.find((p) => p[0] === name);
    if (same) same[1] = `${same[1]}, ${value}`;
    else pairs.push([name, value]);
  }
  return pairs.map(([name, value]) => [name, bytesOf(value)]);
}

/** The head (`[name, bytes]` pairs) of a web `Headers`. */
function headersHead(headers) {
  const pairs = [];
  for (const [name, value] of headers) pairs.push([name, bytesOf(value)]);
  return pairs;
}

/**
 * The `wasi:http/incoming-handler` export over `types` (the `wasi:http/types` module: `Fields`,
 * `IncomingBody`, `OutgoingBody`, `OutgoingResponse`, `ResponseOutparam`), serving the request
 * handler `server()` returns (by default the one `httpHandler` registered; it answers a
 * `Response` or a promise of one).
 */
export function incomingHandlerOver(types, server = httpServer) {
  const { Fields, IncomingBody, OutgoingBody, OutgoingResponse, ResponseOutparam } = types;
  const heads = new Map();

  /**
   * The outgoing head (headers wasi:http does not let a guest set are left out) of `head`: a
   * list of `[name, bytes]`, or a cached type head (see typeHead). Each wasi call costs some
   * microseconds: the headers go in one `from-list` (one `append` each only when the list holds
   * one the host refuses) or one `clone()`, and a 200 (the default status) is not set.
   */
  function headOf(status, head) {
    const out = new OutgoingResponse(Array.isArray(head) ? fieldsOf(head) : cachedFields(head));
    if (status !== 200) out.setStatusCode(status);
    return out;
  }

  /** A `Fields` of a cached type head: a clone of its template from its second use on. */
  function cachedFields(head) {
    if (head.template) return head.template.clone();
    head.uses += 1;
    if (head.uses === 1 || !Fields.prototype.clone) return fieldsOf(head.list);
    head.template = fieldsOf(head.list);
    return head.template.clone();
  }

  /** A `Fields` of `list` (`[name, bytes]` pairs), leaving out what the host refuses. */
  function fieldsOf(list) {
    let fields = null;
    if (Fields.fromList) {
      try {
        fields = Fields.fromList(list);
      } catch {
        // A forbidden header (connection, transfer-encoding ...) or an invalid one: one by one.
      }
    }
    if (!fields) {
      fields = new Fields();
      for (const [name, value] of list) {
        try {
          fields.append(name, value);
        } catch {
          // Left out.
        }
      }
    }
    return fields;
  }

  /**
   * Sets the outparam to `status`, `head` (`[name, bytes]` pairs or a cached type head, as
   * headOf takes) and `body` (a string or bytes), then writes the body. `state.set` tells
   * whether the outparam was set, should this throw.
   */
  function respond(responseOut, state, status, head, body) {
    const out = headOf(status, head);
    const outBody = out.body();
    ResponseOutparam.set(responseOut, { tag: 'ok', val: out });
    state.set = true;
    const bytes = typeof body === 'string' ? textBytes(body) : body;
    if (bytes.length) {
      const stream = outBody.write();
      if (bytes.length <= WRITE_CHUNK) {
        stream.blockingWriteAndFlush(bytes);
      } else {
        for (let at = 0; at < bytes.length; at += WRITE_CHUNK) {
          stream.blockingWriteAndFlush(bytes.subarray(at, at + WRITE_CHUNK));
        }
      }
      stream[Symbol.dispose]?.();
    }
    OutgoingBody.finish(outBody, undefined);
  }

  /** Writes `response`; a promise when its body must be read first (a web `Response`). */
  function write(responseOut, state, response) {
    const parts = partsOf(response);
    if (parts) {
      const head = parts.headers ? recordHead(headerRecord(parts)) : typeHead(heads, parts.type);
      respond(responseOut, state, parts.status, head, parts.body ?? '');
      return undefined;
    }
    if (!(response instanceof Response)) throw new TypeError('the handler answered no Response');
    return response.arrayBuffer().then((buf) => {
      respond(responseOut, state, response.status, headersHead(response.headers), new Uint8Array(buf));
    });
  }

  /** Answers 500 (unless the outparam is set already) for `e`, which escaped the handler. */
  function fail(responseOut, state, e) {
    writeLog('error', `HTTP request failed: ${e && e.stack ? e.stack : e}`);
    if (!state.set) {
      respond(responseOut, state, 500, typeHead(heads, 'application/json'), JSON.stringify({ error: 'internal error' }));
    }
  }

  return {
    handle(incoming, responseOut) {
      const state = { set: false };
      const req = new IncomingRequest(incoming, IncomingBody);
      let pending;
      try {
        const serve = server();
        if (!serve) throw new Error('the function called no httpHandler(app)');
        const result = serve(req);
        pending = isThenable(result)
          ? result.then((response) => write(responseOut, state, response))
          : write(responseOut, state, result);
      } catch (e) {
        fail(responseOut, state, e);
      }
      if (!pending) {
        req.close();
        return undefined;
      }
      return pending.then(
        () => req.close(),
        (e) => {
          fail(responseOut, state, e);
          req.close();
        },
      );
    },
  };
}
