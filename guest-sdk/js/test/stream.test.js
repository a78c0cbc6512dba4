import { test, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { StreamRecord, streamHandler, recordHandler, scheduleHandler, testing, log } from '../src/index.js';

beforeEach(() => testing.clearTablesHandler());

const BATCH = JSON.stringify([
  { eventID: '1', eventName: 'INSERT', dynamodb: { Keys: { id: { S: 'a' } }, NewImage: { id: { S: 'a' }, n: { N: '1' } }, SequenceNumber: '100' } },
  { eventID: '2', eventName: 'REMOVE', userIdentity: { type: 'Service', principalId: 'dynamodb.amazonaws.com' },
    dynamodb: { Keys: { id: { S: 'b' } }, OldImage: { id: { S: 'b' }, n: { N: '2' } }, SequenceNumber: '101' } },
  { eventID: '3', eventName: 'MODIFY', dynamodb: { Keys: { id: { S: 'a' } }, OldImage: { id: { S: 'a' } }, NewImage: { id: { S: 'a' }, n: { N: '5' } }, SequenceNumber: '102' } },
]);

test('records parse with plain-value images', () => {
  const rs = StreamRecord.parseBatch(BATCH);
  assert.deepEqual(rs.map((r) => r.eventName), ['INSERT', 'REMOVE', 'MODIFY']);
  assert.deepEqual(rs[0].newImage, { id: 'a', n: 1 });
  assert.equal(rs[0].oldImage, null);
  assert.ok(rs[1].byTtl && !rs[0].byTtl);
  assert.deepEqual(rs[1].keys, { id: 'b' });
  assert.throws(() => StreamRecord.parseBatch('[{}]'), TypeError);
});

test('a batch handler reports failed sequence numbers or fails the batch', async () => {
  testing.setTablesHandler(() => ({}));
  assert.deepEqual(await streamHandler(() => undefined).handle(BATCH), []);
  assert.deepEqual(await streamHandler((rs) => rs.filter((r) => r.eventName === 'REMOVE').map((r) => r.sequenceNumber)).handle(BATCH), ['101']);
  await assert.rejects(streamHandler(async () => { throw new RangeError('nope'); }).handle(BATCH), /RangeError: nope/);
  await assert.rejects(streamHandler(() => []).handle('{not json'), /SyntaxError/);
});

test('a record handler fails later records of the same item too', async () => {
  const host = testing.setTablesHandler(() => ({}));
  const seen = [];
  const exported = recordHandler(async (r) => {
    seen.push(r.sequenceNumber);
    if (r.sequenceNumber === '100') throw new Error('first record of a fails');
  });
  assert.deepEqual(await exported.handle(BATCH), ['100', '102']);
  assert.deepEqual(seen, ['100', '101']);
  assert.equal(host.logs[0][0], 'warn');
  assert.match(host.logs[0][1], /first record of a fails/);
});

test('a schedule handler fails its tick by throwing', async () => {
  testing.setTablesHandler(() => ({}));
  const ticks = [];
  const exported = scheduleHandler((at) => { ticks.push(at); if (at === 'bad') throw new Error('tick failed'); });
  await exported.handle('2026-01-01T00:00:00Z');
  await assert.rejects(exported.handle('bad'), /tick failed/);
  assert.deepEqual(ticks, ['2026-01-01T00:00:00Z', 'bad']);
});

test('log lines go to the host', () => {
  const host = testing.setTablesHandler(() => ({}));
  log.info('created', 't1', { n: 1n });
  log.error('plain');
  assert.deepEqual(host.logs, [['info', 'created t1 {"n":"1"}'], ['error', 'plain']]);
});
