import { test, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { Router, HttpError, httpHandler, json, readJson, testing, errorFor } from '../src/index.js';

beforeEach(() => testing.clearTablesHandler());

function router() {
  return new Router()
    .get('/todos', () => 'list')
    .post('/todos', async (req) => json(await readJson(req), 201))
    .get('/todos/:id', (req, { params, query }) => ({ id: params.id, q: Object.fromEntries(query) }))
    .put('/todos/:id', () => { throw new HttpError(409, 'version mismatch'); })
    .get('/static/*', (req, { params }) => `file ${params['*']}`)
    .any('/health', (req) => req.method)
    .delete('/todos/:id', () => null)
    .get('/boom', () => { throw new Error('bug'); })
    .get('/denied', () => { throw errorFor('AccessDeniedException', 'no grant'); });
}

async function call(method, path, body) {
  const r = await router().handle(testing.request(method, path, body));
  return [r.status, await r.text(), r];
}

test('routes, params and wildcards', async () => {
  assert.deepEqual((await call('GET', '/todos')).slice(0, 2), [200, 'list']);
  assert.deepEqual((await call('GET', '/todos/')).slice(0, 2), [200, 'list']);
  assert.equal((await call('HEAD', '/todos'))[0], 200);
  const [s, b] = await call('GET', '/todos/a%20b?x=1&y=hello+world&flag');
  assert.equal(s, 200);
  assert.deepEqual(JSON.parse(b), { id: 'a b', q: { x: '1', y: 'hello world', flag: '' } });
  assert.deepEqual((await call('GET', '/static/css/site.css')).slice(0, 2), [200, 'file css/site.css']);
  assert.deepEqual((await call('GET', '/static')).slice(0, 2), [200, 'file ']);
  assert.deepEqual((await call('PATCH', '/health')).slice(0, 2), [200, 'PATCH']);
  assert.deepEqual((await call('DELETE', '/todos/1')).slice(0, 2), [204, '']);
  assert.deepEqual((await call('POST', '/todos', { a: 1 })).slice(0, 2), [201, '{"a":1}']);
});

test('errors become responses', async () => {
  assert.deepEqual((await call('PUT', '/todos/1')).slice(0, 2), [409, '{"error":"version mismatch"}']);
  assert.equal((await call('POST', '/todos', '{'))[0], 400);
  assert.equal((await call('GET', '/nope'))[0], 404);
  assert.equal((await call('GET', '/todos/1/extra'))[0], 404);
  const [s, , r] = await call('POST', '/todos/1');
  assert.equal(s, 405);
  assert.equal(r.headers.get('allow'), 'GET, PUT, DELETE');
  const [ds, db] = await call('GET', '/denied');
  assert.equal(ds, 403);
  assert.match(db, /AccessDeniedException/);
  const host = testing.setTablesHandler(() => ({}));
  assert.deepEqual((await call('GET', '/boom')).slice(0, 2), [500, '{"error":"internal error"}']);
  assert.equal(host.logs.at(-1)[0], 'error');
  assert.match(host.logs.at(-1)[1], /Error: bug/);
});

test('httpHandler serves a router or a plain function', async () => {
  const serve = httpHandler((req, { query }) => ({ hi: query.get('who') }));
  const r = await serve(testing.request('GET', '/x?who=ada'));
  assert.deepEqual([r.status, await r.json()], [200, { hi: 'ada' }]);
  const viaRouter = httpHandler(router());
  assert.equal((await viaRouter(testing.request('GET', '/todos'))).status, 200);
});
