import { test, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import {
  Attr, Key, Table, Transaction, Update, transactGet, testing, errorFor, call, not, encodeToken, decodeToken,
  AccessDeniedException, ConditionalCheckFailedException, InvalidTokenError, ProvisionedThroughputExceededException,
  TableError, ValidationException,
} from '../src/index.js';

beforeEach(() => testing.clearTablesHandler());
const answer = (a) => testing.setTablesHandler(typeof a === 'function' ? a : () => a);

test('get, put and delete send DynamoDB requests', () => {
  let host = answer({ Item: { id: { S: 'a' }, n: { N: '2' } } });
  const t = new Table('todos');
  assert.deepEqual(t.get({ id: 'a' }), { id: 'a', n: 2 });
  assert.deepEqual(host.calls.at(-1), ['GetItem', { TableName: 'todos', Key: { id: { S: 'a' } }, ConsistentRead: true }]);
  t.put({ id: 'a', n: 1 }, { condition: Attr('id').notExists() });
  assert.deepEqual(host.calls.at(-1), ['PutItem', {
    TableName: 'todos', Item: { id: { S: 'a' }, n: { N: '1' } },
    ConditionExpression: 'attribute_not_exists(#n0)', ExpressionAttributeNames: { '#n0': 'id' },
  }]);
  answer({});
  assert.equal(t.get({ id: 'b' }), null);
  host = answer({ Attributes: { id: { S: 'a' } } });
  assert.deepEqual(t.delete({ id: 'a' }, { condition: '#v = :v', names: { '#v': 'version' }, values: { ':v': 3 } }), { id: 'a' });
  assert.deepEqual(host.calls.at(-1)[1], {
    TableName: 'todos', Key: { id: { S: 'a' } }, ReturnValues: 'ALL_OLD', ConditionExpression: '#v = :v',
    ExpressionAttributeNames: { '#v': 'version' }, ExpressionAttributeValues: { ':v': { N: '3' } },
  });
});

test('conditions and updates build expressions with placeholders', () => {
  const host = answer({ Attributes: { id: { S: 'a' }, version: { N: '4' } } });
  const got = new Table('todos').update({ id: 'a' }, new Update().set('title', 'n').add('version', 1).remove('a.b[2]'),
    { condition: Attr('version').eq(3).and(not(Attr('done').eq(true))).or(Attr('tags').size().gt(2)) });
  assert.deepEqual(got, { id: 'a', version: 4 });
  const req = host.calls.at(-1)[1];
  assert.equal(req.UpdateExpression, 'SET #n0 = :v0 REMOVE #n2.#n3[2] ADD #n1 :v1');
  assert.equal(req.ConditionExpression, '((#n1 = :v2 AND (NOT #n4 = :v3)) OR size(#n5) > :v4)');
  assert.deepEqual(req.ExpressionAttributeNames, { '#n0': 'title', '#n1': 'version', '#n2': 'a', '#n3': 'b', '#n4': 'done', '#n5': 'tags' });
  assert.equal(req.ReturnValues, 'ALL_NEW');
  assert.throws(() => Attr('a').exists().and('x = y'), TypeError);
  assert.throws(() => new Table('t1').get({ id: 'a' }, { projection: ['a..b'] }), RangeError);
  const u = new Update().setIfAbsent('c', 1).append('log', ['x']).increment('n').delete('tags', new Set(['a']));
  assert.ok(!u.isEmpty && new Update().isEmpty);
});

test('query pages carry tokens the other SDKs read', () => {
  let host = answer({ Items: [{ pk: { S: 'a' }, sk: { N: '1' } }], Count: 1, ScannedCount: 3, LastEvaluatedKey: { pk: { S: 'a' }, sk: { N: '1' } } });
  const page = new Table('t1').query(Key('pk').eq('a').and(Key('sk').between(1, 9)),
    { filter: Attr('x').in(['p', 'q']), index: 'by-x', limit: 1, forward: false });
  assert.deepEqual(page.items, [{ pk: 'a', sk: 1 }]);
  assert.deepEqual([page.count, page.scannedCount], [1, 3]);
  const req = host.calls.at(-1)[1];
  assert.equal(req.KeyConditionExpression, '(#n1 = :v2 AND #n2 BETWEEN :v3 AND :v4)');
  assert.equal(req.FilterExpression, '#n0 IN (:v0, :v1)');
  assert.equal(req.ScanIndexForward, false);
  const token = page.nextToken;
  assert.match(token, /^[A-Za-z0-9_-]+$/);
  host = answer({ Items: [] });
  const last = new Table('t1').scan({ start: token, limit: 5 });
  assert.equal(last.nextToken, null);
  assert.deepEqual(host.calls.at(-1)[1], { TableName: 't1', Limit: 5, ExclusiveStartKey: { pk: { S: 'a' }, sk: { N: '1' } } });
  // The Rust and Python SDKs encode {"id":{"S":"a"}} the same way.
  assert.equal(encodeToken({ id: { S: 'a' } }), 'eyJpZCI6eyJTIjoiYSJ9fQ');
  assert.deepEqual(decodeToken('eyJpZCI6eyJTIjoiYSJ9fQ'), { id: { S: 'a' } });
  assert.throws(() => new Table('t1').scan({ start: '%%' }), InvalidTokenError);
  assert.throws(() => decodeToken(encodeToken({ id: 'x' })), ValidationException);
});

test('scanAll and queryAll follow pages', () => {
  const host = answer((op, req) => (req.ExclusiveStartKey
    ? { Items: [{ id: { S: 'b' } }] }
    : { Items: [{ id: { S: 'a' } }], LastEvaluatedKey: { id: { S: 'a' } } }));
  assert.deepEqual([...new Table('t1').scanAll()].map((i) => i.id), ['a', 'b']);
  assert.deepEqual([...new Table('t1').queryAll(Key('id').eq('a'))].map((i) => i.id), ['a', 'b']);
  assert.equal(host.calls.length, 4);
});

test('batches are chunked and unprocessed requests sent again', () => {
  const sizes = [];
  answer((op, req) => {
    const items = req.RequestItems.t1;
    sizes.push(items.length);
    return sizes.length === 1 ? { UnprocessedItems: { t1: items.slice(0, 1) } } : {};
  });
  new Table('t1').batchPut(Array.from({ length: 30 }, (_, i) => ({ id: String(i) })));
  assert.deepEqual(sizes, [25, 1, 5]);
  answer({ Responses: { t1: [{ id: { S: 'a' } }] } });
  assert.deepEqual(new Table('t1').batchGet([{ id: 'a' }, { id: 'b' }]), [{ id: 'a' }]);
  answer((op, req) => ({ UnprocessedItems: req.RequestItems }));
  assert.throws(() => new Table('t1').batchDelete([{ id: 'a' }]), ProvisionedThroughputExceededException);
});

test('errors are DynamoDB exceptions', () => {
  answer(() => { throw errorFor('AccessDeniedException', 'no grant'); });
  assert.throws(() => new Table('secret').get({ id: 'a' }), (e) => e instanceof AccessDeniedException
    && e.name === 'AccessDeniedException' && e.httpStatus === 403 && e.message === 'no grant');
  assert.ok(errorFor('com.amazonaws.dynamodb.v20120810#ConditionalCheckFailed', 'x') instanceof ConditionalCheckFailedException);
  const weird = errorFor('WeirdException', 'm');
  assert.ok(weird instanceof TableError && weird.name === 'WeirdException' && weird.httpStatus === 500);
  testing.clearTablesHandler();
  assert.throws(() => new Table('t1').get({ id: 'a' }), (e) => e.name === 'NoHost');
  assert.throws(() => call('DropEverything', {}), RangeError);
});

test('transactions', () => {
  const host = answer({ Responses: [{ Item: { id: { S: 'a' } } }, {}] });
  const t = new Table('accounts');
  new Transaction().put(t, { id: 'a' }).update(t, { id: 'b' }, new Update().add('n', 1), { condition: Attr('n').lt(5) })
    .delete(t, { id: 'c' }).check(t, { id: 'd' }, Attr('id').exists()).commit({ token: 'tok' });
  const req = host.calls.at(-1)[1];
  assert.deepEqual(req.TransactItems.map((a) => Object.keys(a)[0]), ['Put', 'Update', 'Delete', 'ConditionCheck']);
  assert.equal(req.TransactItems[1].Update.ConditionExpression, '#n0 < :v1');
  assert.equal(req.ClientRequestToken, 'tok');
  assert.deepEqual(transactGet([[t, { id: 'a' }], [t, { id: 'z' }]]), [{ id: 'a' }, null]);
});
