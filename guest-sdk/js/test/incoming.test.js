// The `wasi:http/incoming-handler` export (src/incoming-handler.js) over stand-ins for the
// `wasi:http/types` resources: the Request it builds, the response it writes, and that one
// export serves request after request (an instance with `reuse`).
import { test, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { Router, HttpError, json, readJson, testing, text } from '../src/index.js';
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
    clone() {
      seen.clones = (seen.clones ?? 0) + 1;
      const f = new Fields();
      f.list = [...this.list];
      return f;
    }
    static fromList(list) {
      seen.fromList = (seen.fromList ?? 0) + 1;
      const f = new Fields();
      for (const [name, value] of list) f.append(name, value);
      return f;
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

/**
 * A stand-in incoming-request: `body` arrives in chunks of 3 bytes; `calls` counts the calls of
 * each of its methods.
 */
function incoming(method, path, { body = '', headers = {}, scheme = { tag: 'HTTP' } } = {}) {
  const bytes = enc(body);
  let at = 0;
  const calls = {};
  const counted = (name, f) => (...args) => {
    calls[name] = (calls[name] ?? 0) + 1;
    return f(...args);
  };
  const request = {
    calls,
    dropped: false,
    [Symbol.dispose]() { request.dropped = true; },
    method: counted('method', () => (['get', 'post', 'put', 'head', 'delete', 'patch'].includes(method) ? { tag: method } : { tag: 'other', val: method })),
    scheme: counted('scheme', () => scheme),
    authority: counted('authority', () => 'fn.example:8080'),
    pathWithQuery: counted('pathWithQuery', () => path),
    headers: counted('headers', () => ({ entries: () => Object.entries(headers).map(([k, v]) => [k, enc(v)]), [Symbol.dispose]() {} })),
    consume: counted('consume', () => ({
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
    })),
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

test('reads only what the handler asks for: a route for any method costs the path alone', async () => {
  const { types, seen } = wasiTypes();
  const router = new Router().any('/*', () => 'hi');
  const handler = incomingHandlerOver(types, () => (req) => router.dispatch(req));
  const req = incoming('post', '/a/b?x=1', { body: 'unread', headers: { 'x-a': '1' } });
  assert.equal(handler.handle(req, 'o'), undefined, 'a handler that answers at once is served without a promise');
  assert.deepEqual(req.calls, { pathWithQuery: 1 });
  assert.equal(req.dropped, true);
  assert.equal(seen.finished[0], 'hi');
  assert.equal(seen.set[0].headers['content-type'], 'text/plain; charset=utf-8');
  assert.equal(seen.incomingFinished, 0, 'an unread body is not read');
  // The same content type again: from the second response on, a clone of a kept Fields.
  for (const out of ['p', 'q']) handler.handle(incoming('get', '/x'), out);
  assert.equal(seen.fromList, 2);
  assert.equal(seen.clones, 2);
  assert.deepEqual(seen.set.map((s) => s.headers), Array(3).fill({ 'content-type': 'text/plain; charset=utf-8' }));
  assert.deepEqual(seen.finished, ['hi', 'hi', 'hi']);
});

test('the lazy request: headers, URL and query, each read once, and instanceof Request', async () => {
  const { types, seen } = wasiTypes();
  let got;
  const router = new Router().get('/q/:id', (req, ctx) => {
    got = {
      isRequest: req instanceof Request,
      method: req.method,
      url: req.url,
      sameUrl: ctx.url === ctx.url,
      q: ctx.query.getAll('q'),
      id: ctx.params.id,
      type: req.headers.get('content-type'),
      again: req.headers.get('x-n'),
    };
    return { ok: true };
  });
  const handler = incomingHandlerOver(types, () => (req) => router.dispatch(req));
  const req = incoming('get', '/q/a%2Fb?q=1&q=2', { headers: { 'content-type': 'text/csv', 'x-n': '7' }, scheme: { tag: 'HTTPS' } });
  await handler.handle(req, 'o');
  assert.deepEqual(got, {
    isRequest: true, method: 'GET', url: 'https://fn.example:8080/q/a%2Fb?q=1&q=2', sameUrl: true,
    q: ['1', '2'], id: 'a/b', type: 'text/csv', again: '7',
  });
  assert.deepEqual(req.calls, { pathWithQuery: 1, method: 1, scheme: 1, authority: 1, headers: 1 });
  assert.equal(seen.set[0].status, 200);
});

test('the body is read from its stream once: a second read rejects, as a Request does', async () => {
  const { types, seen } = wasiTypes();
  const results = [];
  const router = new Router().post('/b', async (req) => {
    results.push(req.bodyUsed);
    results.push(await req.json());
    results.push(req.bodyUsed);
    await assert.rejects(req.text(), TypeError);
    return 'done';
  });
  const handler = incomingHandlerOver(types, () => (req) => router.dispatch(req));
  const req = incoming('post', '/b', { body: '{"a":[1,2,3]}' });
  await handler.handle(req, 'o');
  assert.deepEqual(results, [false, { a: [1, 2, 3] }, true]);
  assert.equal(req.calls.consume, 1);
  assert.equal(seen.incomingFinished, 1);
  assert.equal(seen.finished[0], 'done');
});

test('what the lazy request does not serve itself goes to a real Request (blob, clone)', async () => {
  const { types, seen } = wasiTypes();
  const router = new Router().put('/r', async (req) => {
    const copy = req.clone();
    return `${await (await req.blob()).text()}|${await copy.text()}|${copy.headers.get('x-k')}`;
  });
  const handler = incomingHandlerOver(types, () => (req) => router.dispatch(req));
  await handler.handle(incoming('put', '/r', { body: 'payload', headers: { 'x-k': 'v' } }), 'o');
  assert.equal(seen.finished[0], 'payload|payload|v');
});

test('a handler returning a web Response is written as it is (status, headers, body)', async () => {
  const { types, seen } = wasiTypes();
  const router = new Router()
    .get('/plain', () => new Response(new Uint8Array([104, 105]), { status: 201, headers: { 'x-one': '1', 'content-type': 'application/octet-stream' } }))
    .get('/async', async () => new Response('later', { status: 202 }));
  const handler = incomingHandlerOver(types, () => (req) => router.dispatch(req));
  await handler.handle(incoming('get', '/plain'), 'a');
  await handler.handle(incoming('get', '/async'), 'b');
  assert.deepEqual(seen.set.map((s) => s.status), [201, 202]);
  assert.equal(seen.set[0].headers['x-one'], '1');
  assert.equal(seen.set[0].headers['content-type'], 'application/octet-stream');
  assert.deepEqual(seen.finished, ['hi', 'later']);
});

test("the SDK's responses are Responses, written from their parts; extra headers win over the type", async () => {
  const { types, seen } = wasiTypes();
  const r = json({ a: 1 }, 201, { 'x-b': '2' });
  assert.ok(r instanceof Response);
  assert.equal(r.status, 201);
  assert.equal(r.ok, true);
  assert.equal(r.headers.get('content-type'), 'application/json');
  assert.deepEqual(await r.json(), { a: 1 });
  assert.throws(() => json({}, 99), RangeError);
  assert.throws(() => text('body', 204), TypeError);
  assert.throws(() => text('x', 200, { 'bad name': 'v' }), TypeError);
  const router = new Router()
    .get('/html', () => text('<p>', 200, { 'Content-Type': 'text/html', 'x-c': ' 3 ' }))
    .get('/none', () => null)
    .post('/only-post', () => 'x');
  const handler = incomingHandlerOver(types, () => (req) => router.dispatch(req));
  await handler.handle(incoming('get', '/html'), 'a');
  await handler.handle(incoming('get', '/none'), 'b');
  await handler.handle(incoming('get', '/only-post'), 'c');
  assert.deepEqual(seen.set[0].headers, { 'content-type': 'text/plain; charset=utf-8, text/html', 'x-c': '3' });
  assert.deepEqual(seen.set.map((s) => s.status), [200, 204, 405]);
  assert.equal(seen.set[2].headers.allow, 'POST');
  assert.deepEqual(seen.finished, ['<p>', '', JSON.stringify({ error: 'method GET not allowed' })]);
});

test('a path URL parsing would change is routed as the URL reads it (dot segments)', async () => {
  const { types, seen } = wasiTypes();
  const router = new Router().get('/a/:x', (req, { params }) => params.x);
  const handler = incomingHandlerOver(types, () => (req) => router.dispatch(req));
  await handler.handle(incoming('get', '/b/../a/%7Ez'), 'o');
  await handler.handle(incoming('get', '/a/sp ace'), 'p');
  assert.deepEqual(seen.finished, ['~z', 'sp ace']);
});
