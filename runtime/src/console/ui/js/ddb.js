// DynamoDB JSON in the browser: the item editor's two formats (DynamoDB JSON, with a type on
// every value, and plain JSON), the conversions between them, and how values are shown.
//
// Numbers stay exact: plain JSON is parsed with the text of each number kept (JSON.parse's
// reviver gets it as `context.source` in current browsers), so 12345678901234567890.10 becomes
// {"N": "12345678901234567890.10"}, never a rounded double. Validation of what is sent is tarn's
// (DynamoDB's rules and messages); this module only converts.

export const TYPES = ['S', 'N', 'B', 'BOOL', 'NULL', 'M', 'L', 'SS', 'NS', 'BS'];

/** A JSON number as written. */
export class Num {
  constructor(text) { this.text = text; }
}

/** Parses JSON keeping every number's text (as a Num). Throws SyntaxError with the browser's message. */
export function parseExact(text) {
  return JSON.parse(text, function (key, value, context) {
    if (typeof value === 'number') {
      return new Num(context && typeof context.source === 'string' ? context.source : String(value));
    }
    return value;
  });
}

function isPlainObject(v) {
  return v !== null && typeof v === 'object' && !Array.isArray(v) && !(v instanceof Num);
}

/** Whether `v` is one DynamoDB attribute value ({"S": "x"}, {"M": {...}}...). */
export function isAttributeValue(v) {
  if (!isPlainObject(v)) return false;
  const keys = Object.keys(v);
  if (keys.length !== 1 || !TYPES.includes(keys[0])) return false;
  const x = v[keys[0]];
  switch (keys[0]) {
    case 'M': return isPlainObject(x) && Object.values(x).every(isAttributeValue);
    case 'L': return Array.isArray(x) && x.every(isAttributeValue);
    case 'SS': case 'NS': case 'BS': return Array.isArray(x);
    case 'BOOL': case 'NULL': return typeof x === 'boolean';
    default: return typeof x === 'string' || x instanceof Num;
  }
}

/** Whether a parsed value looks like an item in DynamoDB JSON (every attribute typed). */
export function looksLikeDynamoItem(v) {
  return isPlainObject(v) && Object.keys(v).length > 0 && Object.values(v).every(isAttributeValue);
}

/** A plain JSON value (from parseExact) as a DynamoDB attribute value. */
export function fromPlain(v) {
  if (v === null) return { NULL: true };
  if (v instanceof Num) return { N: v.text };
  if (typeof v === 'string') return { S: v };
  if (typeof v === 'boolean') return { BOOL: v };
  if (Array.isArray(v)) return { L: v.map(fromPlain) };
  const m = {};
  for (const [k, x] of Object.entries(v)) m[k] = fromPlain(x);
  return { M: m };
}

/** A plain JSON object (from parseExact) as a DynamoDB item. Throws if it is not an object. */
export function itemFromPlain(v) {
  if (!isPlainObject(v)) throw new TypeError('An item is a JSON object: { "attribute": value, ... }');
  const item = {};
  for (const [k, x] of Object.entries(v)) item[k] = fromPlain(x);
  return item;
}

/** Replaces Num with raw JSON numbers, so JSON.stringify writes them as they were typed. */
export function rawNumbers(v) {
  if (v instanceof Num) return JSON.rawJSON ? JSON.rawJSON(v.text) : Number(v.text);
  if (Array.isArray(v)) return v.map(rawNumbers);
  if (isPlainObject(v)) {
    const o = {};
    for (const [k, x] of Object.entries(v)) o[k] = rawNumbers(x);
    return o;
  }
  return v;
}

/** The type of an attribute value: "S", "N", "M"... */
export function typeOf(av) {
  return av && typeof av === 'object' ? Object.keys(av)[0] : '?';
}

/** Whether an item holds sets or binary (which plain JSON cannot show with their types). */
export function needsTypes(av) {
  const t = typeOf(av);
  if (t === 'B' || t === 'SS' || t === 'NS' || t === 'BS') return true;
  if (t === 'M') return Object.values(av.M).some(needsTypes);
  if (t === 'L') return av.L.some(needsTypes);
  return false;
}

export function itemNeedsTypes(item) {
  return Object.values(item || {}).some(needsTypes);
}

// Writing JSON text by hand so numbers keep their digits.
const q = (s) => JSON.stringify(s);

function writePlain(av, indent, depth) {
  const pad = ' '.repeat(indent * (depth + 1));
  const end = ' '.repeat(indent * depth);
  const t = typeOf(av);
  const x = av[t];
  switch (t) {
    case 'S': case 'B': return q(x);
    case 'N': return String(x);
    case 'BOOL': return x ? 'true' : 'false';
    case 'NULL': return 'null';
    case 'SS': case 'BS': return `[${x.map(q).join(', ')}]`;
    case 'NS': return `[${x.map(String).join(', ')}]`;
    case 'L':
      if (!x.length) return '[]';
      return `[\n${x.map((v) => pad + writePlain(v, indent, depth + 1)).join(',\n')}\n${end}]`;
    case 'M': {
      const ks = Object.keys(x);
      if (!ks.length) return '{}';
      return `{\n${ks.map((k) => `${pad}${q(k)}: ${writePlain(x[k], indent, depth + 1)}`).join(',\n')}\n${end}}`;
    }
    default: return 'null';
  }
}

/** `item` with the attributes named in `first` (its key) first, the others in their order. */
export function keysFirst(item, first = []) {
  const out = {};
  for (const k of first) if (k in item) out[k] = item[k];
  for (const k of Object.keys(item)) if (!(k in out)) out[k] = item[k];
  return out;
}

/** An item as plain JSON text (sets become lists, binary base64 strings), `first` attributes first. */
export function itemToPlainText(item, first = []) {
  return writePlain({ M: keysFirst(item, first) }, 2, 0);
}

/** An item as DynamoDB JSON text, one attribute per line at the top, `first` attributes first. */
export function itemToDynamoText(item, first = []) {
  item = keysFirst(item, first);
  const ks = Object.keys(item);
  if (!ks.length) return '{}';
  return `{\n${ks.map((k) => `  ${q(k)}: ${JSON.stringify(item[k])}`).join(',\n')}\n}`;
}

/**
 * Reads the editor's text in `format` ("json" or "dynamodb") as an item in DynamoDB JSON, ready
 * to send. Throws SyntaxError (not JSON) or TypeError (not an object).
 */
export function readItem(text, format) {
  const parsed = parseExact(text);
  if (format === 'dynamodb') {
    if (!isPlainObject(parsed)) throw new TypeError('An item in DynamoDB JSON is an object: { "attribute": { "S": "value" }, ... }');
    return rawNumbers(parsed);
  }
  return itemFromPlain(parsed);
}

/** A short text for a value in a table cell. */
export function preview(av, max = 80) {
  const t = typeOf(av);
  const x = av[t];
  let s;
  switch (t) {
    case 'S': s = x; break;
    case 'N': s = x; break;
    case 'B': s = `${x}`; break;
    case 'BOOL': s = x ? 'true' : 'false'; break;
    case 'NULL': s = 'null'; break;
    case 'SS': case 'NS': case 'BS': s = x.join(', '); break;
    case 'M': s = writePlain(av, 0, 0).replace(/\n/g, ' '); break;
    case 'L': s = writePlain(av, 0, 0).replace(/\n/g, ' '); break;
    default: s = JSON.stringify(av);
  }
  s = String(s);
  return s.length > max ? `${s.slice(0, max - 1)}…` : s;
}

/** The key of `item` under `keySchema` ([{AttributeName, KeyType}]). */
export function keyOf(item, keySchema) {
  const key = {};
  for (const k of keySchema) if (item[k.AttributeName]) key[k.AttributeName] = item[k.AttributeName];
  return key;
}

/** A value typed in a form field as an attribute value of scalar type `type` (S, N, B, BOOL, NULL). */
export function scalar(type, text) {
  switch (type) {
    case 'N': return { N: text.trim() };
    case 'B': return { B: text.trim() };
    case 'BOOL': return { BOOL: text.trim() === 'true' };
    case 'NULL': return { NULL: true };
    default: return { S: text };
  }
}
