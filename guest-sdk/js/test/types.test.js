import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NumberValue, marshall, marshallItem, unmarshall, unmarshallItem, toJson } from '../src/index.js';

test('every type maps to DynamoDB JSON and back', () => {
  const item = {
    s: 'a', n: 3, f: 1.5, t: true, none: null, b: new Uint8Array([0, 1]), ss: new Set(['x', 'y']),
    ns: new Set([1, 2.5]), bs: new Set([new Uint8Array([97])]), l: [1, 'two', [null]], m: { k: { deep: false } },
    skipped: undefined,
  };
  const got = marshallItem(item);
  assert.deepEqual(got, {
    s: { S: 'a' }, n: { N: '3' }, f: { N: '1.5' }, t: { BOOL: true }, none: { NULL: true }, b: { B: 'AAE=' },
    ss: { SS: ['x', 'y'] }, ns: { NS: ['1', '2.5'] }, bs: { BS: ['YQ=='] },
    l: { L: [{ N: '1' }, { S: 'two' }, { L: [{ NULL: true }] }] }, m: { M: { k: { M: { deep: { BOOL: false } } } } },
  });
  const back = unmarshallItem(got);
  assert.deepEqual(back.b, new Uint8Array([0, 1]));
  assert.deepEqual(back.ns, new Set([1, 2.5]));
  assert.deepEqual(back.l, [1, 'two', [null]]);
  assert.equal(back.f, 1.5);
});

test('numbers a double cannot hold come back exact', () => {
  for (const n of ['12345678901234567890', '9007199254740993', '3.14159265358979323846', '1e400']) {
    const v = unmarshall({ N: n });
    assert.ok(v instanceof NumberValue, n);
    assert.equal(v.toString(), n);
    assert.deepEqual(marshall(v), { N: n });
  }
  for (const [n, want] of [['1', 1], ['-0.25', -0.25], ['1E+2', 100], ['0.1', 0.1], ['100', 100]]) {
    assert.equal(unmarshall({ N: n }), want);
  }
  assert.deepEqual(marshall(2n ** 70n), { N: '1180591620717411303424' });
  assert.equal(toJson({ a: new NumberValue('1.50'), b: 5n, c: new NumberValue('12345678901234567890'), s: new Set([1]) }),
    '{"a":1.5,"b":5,"c":"12345678901234567890","s":[1]}');
});

test('values DynamoDB cannot hold are refused', () => {
  for (const bad of [NaN, Infinity, new Set(), new Set([1, 'a']), undefined, () => 1, new Date(0), Symbol('x')]) {
    assert.throws(() => marshall(bad), TypeError);
  }
  assert.throws(() => marshallItem([1]), TypeError);
  assert.throws(() => unmarshall({ X: 1 }), TypeError);
  assert.throws(() => unmarshall({ S: 'a', N: '1' }), TypeError);
  assert.throws(() => new NumberValue('12abc'), TypeError);
});
