#!/usr/bin/env node
// build.mjs: one JavaScript function -> one WebAssembly component.
//
//   node tools/build.mjs --toolchain DIR --world WORLD SRC OUT
//
// 1. Bundles SRC into one ES module with rolldown: `tarn-sdk` (and `tarn-sdk/...`) resolve to
//    this package's src/, the `tarn:*` and `wasi:*` imports stay imports, and src/component.js
//    (which installs the host's imports as the SDK's transport) runs first. An HTTP function
//    (WORLD http-handler) also exports src/incoming.js's `incomingHandler`.
// 2. componentize-js builds the component from the bundle against this package's wit/ (the
//    contract, at the wasi version the engine is built against) for WORLD.
// DIR is where `npm install @bytecodealliance/componentize-js rolldown` was run
// (scripts/build-guest.sh does that on first use).
import { mkdtempSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const sdk = resolve(dirname(fileURLToPath(import.meta.url)), '..');

function usage(message) {
  console.error(`build.mjs: ${message}\nusage: node tools/build.mjs --toolchain DIR --world WORLD SRC OUT`);
  process.exit(2);
}

/** The ES module entry of package `name` installed under `dir`. */
async function load(dir, name) {
  const root = join(dir, 'node_modules', name);
  let pkg;
  try {
    pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
  } catch {
    console.error(`build.mjs: ${name} is not installed in ${dir}; run scripts/build-guest.sh setup js`);
    process.exit(1);
  }
  const exp = pkg.exports;
  // `exports` is a path, a map of subpaths ('.': ...), or the conditions of '.' itself.
  const dot = typeof exp === 'string' || (exp && !Object.keys(exp).some((k) => k.startsWith('.'))) ? exp : exp?.['.'];
  const entry = typeof dot === 'string' ? dot : dot?.import ?? dot?.default ?? pkg.module ?? pkg.main;
  return import(pathToFileURL(join(root, entry)).href);
}

const args = process.argv.slice(2);
const opt = (name) => {
  const i = args.indexOf(name);
  if (i < 0 || i + 1 >= args.length) usage(`missing ${name}`);
  return args.splice(i, 2)[1];
};
const toolchain = opt('--toolchain');
const world = opt('--world');
if (args.length !== 2) usage('need SRC and OUT');
const [src, out] = args.map((a) => resolve(a));

const { rolldown } = await load(toolchain, 'rolldown');
const { componentize } = await load(toolchain, '@bytecodealliance/componentize-js');

const work = mkdtempSync(join(tmpdir(), 'tarn-js-'));
try {
  const entry = join(work, 'entry.js');
  // component.js first: the transport is in place before the function's top level runs.
  // For HTTP, src/incoming.js is the `wasi:http/incoming-handler` export (which turns the
  // engine's one-shot fetch event off, so an instance can serve many requests).
  writeFileSync(entry, [
    `import ${JSON.stringify(join(sdk, 'src', 'component.js'))};`,
    ...(world === 'http-handler'
      ? [`export { incomingHandler } from ${JSON.stringify(join(sdk, 'src', 'incoming.js'))};`]
      : []),
    `export * from ${JSON.stringify(src)};`,
  ].join('\n'));
  const bundle = await rolldown({
    input: entry,
    platform: 'neutral',
    external: (id) => /^(tarn|wasi):/.test(id),
    resolve: { alias: { 'tarn-sdk/component': join(sdk, 'src', 'component.js'), 'tarn-sdk': join(sdk, 'src', 'index.js') } },
    logLevel: 'warn',
  });
  const bundled = join(work, 'bundle.js');
  await bundle.write({ file: bundled, format: 'esm', codeSplitting: false });
  await bundle.close();
  const { component } = await componentize({
    sourcePath: bundled,
    witPath: join(sdk, 'wit'),
    worldName: world,
  });
  writeFileSync(out, component);
} finally {
  rmSync(work, { recursive: true, force: true });
}
