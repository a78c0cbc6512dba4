// The JS SDK's WIT is guest-sdk/wit at the engine's wasi version, and nothing else.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ENGINE_WASI_VERSION, expected, rewrite } from '../tools/sync-wit.mjs';
import { OPERATIONS } from '../src/index.js';

const js = join(dirname(fileURLToPath(import.meta.url)), '..');

test('wit/ is up to date with guest-sdk/wit', () => {
  for (const [rel, text] of expected()) {
    assert.equal(readFileSync(join(js, 'wit', rel), 'utf8'), text, `${rel}: run node tools/sync-wit.mjs`);
  }
});

test('versions move, newer @since become @unstable', () => {
  assert.equal(rewrite('package wasi:io@0.2.12;\nuse wasi:io/streams@0.2.12.{x};\n@since(version = 0.2.11)\n@since(version = 0.2.0)'),
    `package wasi:io@${ENGINE_WASI_VERSION};\nuse wasi:io/streams@${ENGINE_WASI_VERSION}.{x};\n@unstable(feature = wasi-0-2-11)\n@since(version = 0.2.0)`);
  const tarn = readFileSync(join(js, 'wit', 'tarn.wit'), 'utf8');
  assert.match(tarn, new RegExp(`export wasi:http/incoming-handler@${ENGINE_WASI_VERSION.replaceAll('.', '\\.')};`));
});

test('the SDK names every function of the tables interface', () => {
  const tarn = readFileSync(join(js, 'wit', 'tarn.wit'), 'utf8');
  const body = tarn.slice(tarn.indexOf('interface tables {'), tarn.indexOf('\n}', tarn.indexOf('interface tables {')));
  const funcs = [...body.matchAll(/^\s*([a-z-]+): func/gm)].map((m) => m[1].replace(/-([a-z])/g, (_, c) => c.toUpperCase()));
  assert.deepEqual(Object.values(OPERATIONS), funcs);
});
