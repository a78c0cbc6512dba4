#!/usr/bin/env node
// sync-wit.mjs: writes guest-sdk/js/wit/ from guest-sdk/wit/ (the one contract), with every
// `wasi:*@0.2.N` moved to the version the componentize-js engine (StarlingMonkey) is built
// against. The host accepts any semver-compatible wasi 0.2.x, so the contract is the same; only
// the version a JS component names differs. A `@since(version = 0.2.M)` newer than that version
// becomes `@unstable(...)`, as it was in the older WIT, so the packages stay valid.
//
//   node tools/sync-wit.mjs           write wit/
//   node tools/sync-wit.mjs --check   exit 1 when wit/ differs from what would be written
import { readFileSync, writeFileSync, mkdirSync, readdirSync, statSync, rmSync } from 'node:fs';
import { join, dirname, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The wasi 0.2.x version componentize-js 0.23's StarlingMonkey imports and exports. */
export const ENGINE_WASI_VERSION = '0.2.10';

const here = dirname(fileURLToPath(import.meta.url));
const source = join(here, '..', '..', 'wit');
const target = join(here, '..', 'wit');

function walk(dir) {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? walk(p) : [p];
  });
}

function patch(minor) {
  return Number(minor.split('.')[2]);
}

/** The WIT text `text` with its wasi 0.2.x versions moved to `version`. */
export function rewrite(text, version = ENGINE_WASI_VERSION) {
  const newest = patch(version);
  return text
    .replace(/@since\(version = (0\.2\.\d+)\)/g, (all, v) =>
      patch(v) > newest ? `@unstable(feature = wasi-${v.replaceAll('.', '-')})` : all)
    .replace(/(wasi:[a-z-]+(?:\/[a-z-]+)?)@0\.2\.\d+/g, `$1@${version}`)
    .replace(/^package (wasi:[a-z-]+)@0\.2\.\d+;/m, `package $1@${version};`);
}

/** Every file of the JS WIT: relative path -> text. */
export function expected() {
  const out = new Map();
  for (const file of walk(source)) {
    out.set(relative(source, file), rewrite(readFileSync(file, 'utf8')));
  }
  return out;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const want = expected();
  if (process.argv.includes('--check')) {
    const stale = [...want].filter(([rel, text]) => {
      try { return readFileSync(join(target, rel), 'utf8') !== text; } catch { return true; }
    });
    if (stale.length) {
      console.error(`guest-sdk/js/wit is out of date (${stale.map(([r]) => r).join(', ')}): run node tools/sync-wit.mjs`);
      process.exit(1);
    }
  } else {
    rmSync(target, { recursive: true, force: true });
    for (const [rel, text] of want) {
      mkdirSync(dirname(join(target, rel)), { recursive: true });
      writeFileSync(join(target, rel), text);
    }
    console.log(`wrote ${want.size} files to ${relative(process.cwd(), target) || '.'}`);
  }
}
