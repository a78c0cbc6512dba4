// The `wasi:http/incoming-handler` export that serves the function's `httpHandler(app)`, over
// the `wasi:http/types` module it is given (src/incoming.js gives it the component's import;
// unit tests give it stand-ins under node).
//
// Each call builds a web `Request` (method, URL from scheme, authority and path, headers, the
// body read whole from the incoming body's stream), runs the handler, and writes its `Response`
// (status, headers, body) to the response outparam. The handler's exceptions already become
// responses (runHandler); anything that still escapes answers 500, so the outparam is always set.
// Nothing is kept between calls: an instance serves any number of requests (`reuse = N`).

import { httpServer } from './http.js';
import { writeLog } from './host.js';

/** The largest write `blocking-write-and-flush` takes. */
export const WRITE_CHUNK = 4096;
/** How much one read of the request body asks for (a u64: a BigInt). */
const READ_CHUNK = 65536n;

const METHODS = {
  get: 'GET', head: 'HEAD', post: 'POST', put: 'PUT', delete: 'DELETE',
  connect: 'CONNECT', options: 'OPTIONS', trace: 'TRACE', patch: 'PATCH',
};

function methodOf(incoming) {
  const m = incoming.method();
  return m.tag === 'other' ? m.val : METHODS[m.tag];
}

function urlOf(incoming) {
  const s = incoming.scheme();
  const scheme = !s ? 'http' : s.tag === 'other' ? s.val : s.tag.toLowerCase();
  return `${scheme}://${incoming.authority() ?? 'localhost'}${incoming.pathWithQuery() ?? '/'}`;
}

/** The request's headers (ones the web's `Headers` refuses are left out). */
function headersOf(incoming) {
  const fields = incoming.headers();
  const decoder = new TextDecoder();
  const headers = new Headers();
  for (const [name, value] of fields.entries()) {
    try {
      headers.append(name, decoder.decode(value));
    } catch {
      // A name or value the web's Headers does not take.
    }
  }
  fields[Symbol.dispose]?.();
  return headers;
}

/** Whether `e` is an input stream's `closed` error (the end of the body). */
function isClosed(e) {
  return Boolean(e && e.payload && e.payload.tag === 'closed');
}

/**
 * The `wasi:http/incoming-handler` export over `types` (the `wasi:http/types` module: `Fields`,
 * `IncomingBody`, `OutgoingBody`, `OutgoingResponse`, `ResponseOutparam`), serving the request
 * handler `server()` returns (by default the one `httpHandler` registered).
 */
export function incomingHandlerOver(types, server = httpServer) {
  const { Fields, IncomingBody, OutgoingBody, OutgoingResponse, ResponseOutparam } = types;

  /** The whole body of `incoming`, or null when it has none. */
  function readBody(incoming) {
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
    if (!size) return null;
    const all = new Uint8Array(size);
    let at = 0;
    for (const c of chunks) {
      all.set(c, at);
      at += c.length;
    }
    return all;
  }

  /** The outgoing head (headers wasi:http does not let a guest set are left out). */
  function headOf(status, headers) {
    const fields = new Fields();
    const encoder = new TextEncoder();
    for (const [name, value] of headers) {
      try {
        fields.append(name, encoder.encode(value));
      } catch {
        // A forbidden header (connection, transfer-encoding ...) or an invalid one.
      }
    }
    const out = new OutgoingResponse(fields);
    out.setStatusCode(status);
    return out;
  }

  /**
   * Sets the outparam to `status`, `headers` and `body` (bytes), then writes the body.
   * `state.set` tells whether the outparam was set, should this throw.
   */
  function respond(responseOut, state, status, headers, body) {
    const out = headOf(status, headers);
    const outBody = out.body();
    ResponseOutparam.set(responseOut, { tag: 'ok', val: out });
    state.set = true;
    if (body.length) {
      const stream = outBody.write();
      for (let at = 0; at < body.length; at += WRITE_CHUNK) {
        stream.blockingWriteAndFlush(body.subarray(at, at + WRITE_CHUNK));
      }
      stream[Symbol.dispose]?.();
    }
    OutgoingBody.finish(outBody, undefined);
  }

  return {
    async handle(incoming, responseOut) {
      const state = { set: false };
      try {
        const serve = server();
        if (!serve) throw new Error('the function called no httpHandler(app)');
        const method = methodOf(incoming);
        const init = { method, headers: headersOf(incoming) };
        const url = urlOf(incoming);
        const body = readBody(incoming);
        // Its body is finished: the request can go now (a reused instance keeps no handles).
        incoming[Symbol.dispose]?.();
        if (body && method !== 'GET' && method !== 'HEAD') init.body = body;
        const response = await serve(new Request(url, init));
        const bytes = new Uint8Array(await response.arrayBuffer());
        respond(responseOut, state, response.status, response.headers, bytes);
      } catch (e) {
        writeLog('error', `HTTP request failed: ${e && e.stack ? e.stack : e}`);
        if (!state.set) {
          const error = new TextEncoder().encode(JSON.stringify({ error: 'internal error' }));
          respond(responseOut, state, 500, [['content-type', 'application/json']], error);
        }
      }
    },
  };
}
