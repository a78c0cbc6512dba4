// The `wasi:http/incoming-handler` export (src/incoming-handler.js) over stand-ins for the
// `wasi:http/types` resources: the Request it builds, the response it writes, and that one
// export serves request after request (an instance with `reuse`).
import { test, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { Router, HttpError, readJson, testing } from '../src/index.js';
import { incomingHandlerOver, WRITE_CHUNK } from '../src/incoming-handler.js';

const enc = (s) => new TextEncoder().encode(s);
const dec = (b) => new TextDecoder().decode(b);

beforeEach(() => testing.clearTablesHandler());

/** Stand-ins for the wasi:http/types resources, recording what the handler does with them. */
function wasiTypes() {
  const seen = { set: [], finished: [], writes: [], incomingFinished: 0 };
  class Fields {
    constructor() { this.list = []; }
    append(name, value) {
      if (name === 'connection') throw Object.assign(new Error('forbidden'), { payload: { tag: 'forbidden' } });
      this.list.push([name, dec(value)]);
    }
  }
  class OutgoingBody {
    constructor() { this.bytes = []; this.written = false; }
    write() {
      assert.equal(this.written, false, 'write() is called once');
      this.written = true;
      return {
        blockingWriteAndFlush: (chunk) => {
          assert.ok(chunk.length <= WRITE_CHUNK, `a write of ${chunk.length} bytes`);
          seen.writes.push(chunk.length);
          this.bytes.push(...chunk);
        },
        [Symbol.dispose]() {},
      };
    }
    static finish(body, trailers) {
      assert.equal(trailers, undefined);
      seen.finished.push(dec(new Uint8Array(body.bytes)));
    }
  }
  class OutgoingResponse {
    constructor(fields) { this.fields = fields; this.status = 200; this.outBody = new OutgoingBody(); }
    setStatusCode(s) { this.status = s; }
    body() { return this.outBody; }
  }
  const ResponseOutparam = {
    set(out, result) {
      assert.equal(result.tag, 'ok');
      seen.set.push({ out, status: result.val.status, headers: Object.fromEntries(result.val.fields.list) });
    },
  };
  const IncomingBody = { finish() { seen.incomingFinished += 1; return { [Symbol.dispose]() {} }; } };
  return { types: { Fields, IncomingBody, OutgoingBody, OutgoingResponse, ResponseOutparam }, seen };
}

/** A stand-in incoming-request: `body` arrives in chunks of 3 bytes. */
function incoming(method, path, { body = '', headers = {}, scheme = { tag: 'HTTP' } } = {}) {
  const bytes = enc(body);
  let at = 0;
  const request = {
    dropped: false,
    [Symbol.dispose]() { request.dropped = true; },
    method: () => (['get', 'post', 'put', 'head', 'delete', 'patch'].includes(method) ? { tag: method } : { tag: 'other', val: method }),
    scheme: () => scheme,
    authority: () => 'fn.example:8080',
    pathWithQuery: () => path,
    headers: () => ({ entries: () => Object.entries(headers).map(([k, v]) => [k, enc(v)]), [Symbol.dispose]() {} }),
    consume: () => ({
      stream: () => ({
        blockingRead(n) {
          assert.equal(typeof n, 'bigint', 'a u64 length is a BigInt');
          if (at >= bytes.length) throw { payload: { tag: 'closed' } };
          const chunk = bytes.subarray(at, at + 3);
          at += 3;
          return chunk;
        },
        [Symbol.dispose]() {},
      }),
    }),
  };
  return request;
}

function app() {
  return new Router()
    .post('/echo/:id', async (req, { params, query }) => ({
      id: params.id,
      q: query.get('q'),
      url: req.url,
      type: req.headers.get('content-type'),
      body: await readJson(req),
    }))
    .get('/big', () => new Response('x'.repeat(10000), { headers: { 'x-kind': 'big', connection: 'close' } }))
    .get('/teapot', () => { throw new HttpError(418, 'short and stout'); })
    .any('/method', (req) => req.method);
}

test('builds the Request from the wasi request and writes the Response to the outparam', async () => {
  const { types, seen } = wasiTypes();
  const router = app();
  const handler = incomingHandlerOver(types, () => (req) => router.handle(req));
  const out = Symbol('outparam');
  const req = incoming('post', '/echo/a%20b?q=1', {
    body: '{"hello":"world"}',
    headers: { 'content-type': 'application/json' },
  });
  await handler.handle(req, out);
  assert.equal(req.dropped, true, 'the request is dropped once its body is read');
  assert.equal(seen.set.length, 1);
  assert.equal(seen.set[0].out, out);
  assert.equal(seen.set[0].status, 200);
  assert.equal(seen.set[0].headers['content-type'], 'application/json');
  assert.deepEqual(JSON.parse(seen.finished[0]), {
    id: 'a b', q: '1', url: 'http://fn.example:8080/echo/a%20b?q=1', type: 'application/json', body: { hello: 'world' },
  });
  assert.equal(seen.incomingFinished, 1);
});

test('writes a big body in chunks and leaves out headers the host forbids', async () => {
  const { types, seen } = wasiTypes();
  const router = app();
  const handler = incomingHandlerOver(types, () => (req) => router.handle(req));
  await handler.handle(incoming('get', '/big'), 'out');
  assert.equal(seen.finished[0], 'x'.repeat(10000));
  assert.deepEqual(seen.writes, [4096, 4096, 1808]);
  assert.equal(seen.set[0].headers['x-kind'], 'big');
  assert.equal(seen.set[0].headers.connection, undefined);
});

test('one export serves request after request (reuse), each with its own answer', async () => {
  const { types, seen } = wasiTypes();
  const router = app();
  const handler = incomingHandlerOver(types, () => (req) => router.handle(req));
  for (const m of ['get', 'put', 'PROPFIND', 'delete']) await handler.handle(incoming(m, '/method'), m);
  assert.deepEqual(seen.set.map((s) => [s.out, s.status]), [['get', 200], ['put', 200], ['PROPFIND', 200], ['delete', 200]]);
  assert.deepEqual(seen.finished, ['GET', 'PUT', 'PROPFIND', 'DELETE']);
  await handler.handle(incoming('get', '/teapot'), 'tea');
  assert.equal(seen.set.at(-1).status, 418);
  await handler.handle(incoming('get', '/nowhere', { scheme: { tag: 'HTTPS' } }), 'none');
  assert.equal(seen.set.at(-1).status, 404);
});

test('always sets the outparam: 500 when the function registered no handler or the handler breaks', async () => {
  const { types, seen } = wasiTypes();
  const host = testing.setTablesHandler(() => ({}));
  await incomingHandlerOver(types, () => null).handle(incoming('get', '/'), 'a');
  await incomingHandlerOver(types, () => () => ({ notAResponse: true })).handle(incoming('get', '/'), 'b');
  assert.deepEqual(seen.set.map((s) => [s.out, s.status]), [['a', 500], ['b', 500]]);
  assert.deepEqual(JSON.parse(seen.finished[1]), { error: 'internal error' });
  assert.equal(host.logs.length, 2);
  assert.match(host.logs[0][1], /no httpHandler/);
});
