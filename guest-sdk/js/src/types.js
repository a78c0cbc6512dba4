// Items as plain JavaScript values, mapped to and from DynamoDB JSON.
//
// | JavaScript | DynamoDB |
// |---|---|
// | `null` | `NULL` (an `undefined` map member is left out) |
// | `boolean` | `BOOL` |
// | `number` (finite), `bigint`, `NumberValue` | `N` |
// | `string` | `S` |
// | `Uint8Array` (or any ArrayBuffer view) | `B` |
// | `Set` of strings / numbers / binary | `SS` / `NS` / `BS` |
// | `Array` | `L` |
// | plain object, `Map` with string keys | `M` |
//
// Numbers back from a table: an `N` that a double holds exactly (`String(Number(n))` gives the
// same number back) is a `number`; any other (more than 15-17 significant digits, integers past
// 2^53) is a `NumberValue`, which keeps DynamoDB's exact digits as a string. Write a
// `NumberValue` or a `bigint` to store such numbers exactly.

/** An exact DynamoDB number, kept as its decimal text. */
export class NumberValue {
  /** @param {string | number | bigint} value */
  constructor(value) {
    const text = String(value).trim();
    if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(text)) throw new TypeError(`not a number: ${value}`);
    /** The number's decimal text, as stored. */
    this.value = text;
  }

  toString() {
    return this.value;
  }

  /** The nearest double (may round: that is why this class exists). */
  valueOf() {
    return Number(this.value);
  }

  /** JSON: a number when a double holds it exactly, else its text. */
  toJSON() {
    return exactNumber(this.value) ?? this.value;
  }
}

/** `text` as a number when a double holds it exactly, else undefined. */
function exactNumber(text) {
  const n = Number(text);
  if (!Number.isFinite(n)) return undefined;
  if (Number.isInteger(n)) return Number.isSafeInteger(n) && BigInt(n) === toBigIntOrNull(text) ? n : undefined;
  return sameDecimal(String(n), text) ? n : undefined;
}

function toBigIntOrNull(text) {
  try {
    return /^[+-]?\d+$/.test(text) ? BigInt(text) : BigInt(Number(text));
  } catch {
    return null;
  }
}

/** True when two decimal texts are the same number (digits and exponent compared, not rounded). */
function sameDecimal(a, b) {
  return canonical(a) === canonical(b);
}

/** A decimal text as `sign digits e exponent` with no leading or trailing zeros. */
function canonical(text) {
  const m = /^([+-]?)(\d*)\.?(\d*)(?:[eE]([+-]?\d+))?$/.exec(text);
  if (!m) return text;
  const [, sign, int, frac, exp] = m;
  let digits = (int + frac).replace(/^0+/, '');
  let e = Number(exp ?? 0) - frac.length;
  if (!digits) return '0';
  const trailing = digits.length - digits.replace(/0+$/, '').length;
  digits = digits.slice(0, digits.length - trailing);
  e += trailing;
  return `${sign === '-' ? '-' : ''}${digits}e${e}`;
}

/** A binary value as base64 text. @param {ArrayBufferView} bytes */
export function toBase64(bytes) {
  const u8 = new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let s = '';
  for (let i = 0; i < u8.length; i += 0x8000) s += String.fromCharCode(...u8.subarray(i, i + 0x8000));
  return btoa(s);
}

/** Base64 text as bytes. @param {string} text */
export function fromBase64(text) {
  const s = atob(text);
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}

const isBinary = (v) => ArrayBuffer.isView(v);
const isNumber = (v) => typeof v === 'number' || typeof v === 'bigint' || v instanceof NumberValue;

function numberText(v) {
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) throw new TypeError(`${v} cannot be stored (DynamoDB numbers are finite)`);
    return String(v);
  }
  return String(v);
}

function isPlainObject(v) {
  if (v === null || typeof v !== 'object') return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

/**
 * One JavaScript value as a DynamoDB attribute value (`"a"` -> `{S: "a"}`).
 * @param {any} value
 * @returns {object}
 */
export function marshall(value) {
  if (value === null) return { NULL: true };
  if (typeof value === 'boolean') return { BOOL: value };
  if (isNumber(value)) return { N: numberText(value) };
  if (typeof value === 'string') return { S: value };
  if (isBinary(value)) return { B: toBase64(value) };
  if (value instanceof Set) {
    const members = [...value];
    if (members.length === 0) throw new TypeError('an empty Set cannot be stored (DynamoDB sets are never empty)');
    if (members.every((m) => typeof m === 'string')) return { SS: members };
    if (members.every(isNumber)) return { NS: members.map(numberText) };
    if (members.every(isBinary)) return { BS: members.map(toBase64) };
    throw new TypeError('a Set must hold only strings, only numbers or only binary values');
  }
  if (Array.isArray(value)) return { L: value.map((v) => marshall(v === undefined ? null : v)) };
  if (value instanceof Map) return { M: marshallItem(Object.fromEntries(value)) };
  if (isPlainObject(value)) return { M: marshallItem(value) };
  throw new TypeError(`unsupported value for a DynamoDB attribute: ${value === undefined ? 'undefined' : Object.prototype.toString.call(value)}`);
}

/**
 * An object of plain values as a DynamoDB item (`{id: "a"}` -> `{id: {S: "a"}}`); members set
 * to `undefined` are left out.
 * @param {Record<string, any>} item
 * @returns {Record<string, object>}
 */
export function marshallItem(item) {
  if (item instanceof Map) item = Object.fromEntries(item);
  if (!isPlainObject(item)) throw new TypeError('an item (or key) must be a plain object');
  const out = {};
  for (const [k, v] of Object.entries(item)) {
    if (v !== undefined) out[k] = marshall(v);
  }
  return out;
}

/** A DynamoDB number as a `number` when exact, else a `NumberValue`. @param {string} text */
export function numberFrom(text) {
  return exactNumber(text) ?? new NumberValue(text);
}

/**
 * One DynamoDB attribute value as a JavaScript value.
 * @param {object} value
 * @returns {any}
 */
export function unmarshall(value) {
  const keys = value && typeof value === 'object' ? Object.keys(value) : [];
  if (keys.length !== 1) throw new TypeError(`not a DynamoDB attribute value: ${JSON.stringify(value)}`);
  const tag = keys[0];
  const inner = value[tag];
  switch (tag) {
    case 'NULL': return null;
    case 'BOOL': return Boolean(inner);
    case 'N': return numberFrom(inner);
    case 'S': return inner;
    case 'B': return fromBase64(inner);
    case 'SS': return new Set(inner);
    case 'NS': return new Set(inner.map(numberFrom));
    case 'BS': return new Set(inner.map(fromBase64));
    case 'L': return inner.map(unmarshall);
    case 'M': return unmarshallItem(inner);
    default: throw new TypeError(`unknown DynamoDB type ${tag}`);
  }
}

/**
 * A DynamoDB item as an object of plain values.
 * @param {Record<string, object>} item
 * @returns {Record<string, any>}
 */
export function unmarshallItem(item) {
  const out = {};
  for (const [k, v] of Object.entries(item)) out[k] = unmarshall(v);
  return out;
}

/**
 * JSON text of `value`, items included: a `bigint` or `NumberValue` becomes a number when a
 * double holds it exactly (else its text), a `Set` an array, binary base64 text.
 * @param {any} value
 * @returns {string}
 */
export function toJson(value) {
  return JSON.stringify(value, (key, v) => {
    if (typeof v === 'bigint') return exactNumber(String(v)) ?? String(v);
    if (v instanceof Set) return [...v];
    if (ArrayBuffer.isView(v)) return toBase64(v);
    return v;
  });
}
