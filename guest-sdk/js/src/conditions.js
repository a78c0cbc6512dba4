// Condition and key-condition helpers, in the spirit of boto3's `Key` and `Attr`:
//
//   Key('customer').eq('ada').and(Key('order').between(1, 9))       // a Query's key condition
//   Attr('version').eq(3).and(not(Attr('done').eq(true)))            // a write's condition
//   Attr('id').notExists().or(Attr('tags').contains('urgent'))
//
// Attribute names are paths (`'address.city'`, `'items[0].price'`), each name with its own `#n`
// placeholder, so reserved words are fine. A string is accepted wherever a condition is, as a
// raw expression; its placeholders then come from the call's `names` and `values` options.

import { marshall } from './types.js';

const PATH_PART = /^([^.[\]]+)((?:\[\d+\])*)$/;

/** The `#name` and `:value` placeholders of one request, shared by its expressions. */
export class Placeholders {
  constructor() {
    /** @type {Record<string, string>} */
    this.names = {};
    /** @type {Record<string, object>} */
    this.values = {};
    this.byName = new Map();
    this.count = 0;
  }

  /** The placeholder form of a path (`a.b[0]` -> `#n0.#n1[0]`). @param {string} path */
  name(path) {
    return path.split('.').map((segment) => {
      const m = PATH_PART.exec(segment);
      if (!m) throw new RangeError(`invalid attribute path ${JSON.stringify(path)}`);
      const [, attr, indexes] = m;
      let ph = this.byName.get(attr);
      if (!ph) {
        ph = `#n${this.byName.size}`;
        this.byName.set(attr, ph);
        this.names[ph] = attr;
      }
      return ph + indexes;
    }).join('.');
  }

  /** A new `:v` placeholder bound to `value`. */
  value(value) {
    const ph = `:v${this.count++}`;
    this.values[ph] = marshall(value);
    return ph;
  }

  /** Adds placeholders written by hand (`{'#v': 'version'}`, `{':v': 3}`). */
  addRaw(names = {}, values = {}) {
    for (const [k, v] of Object.entries(names)) {
      if (!k.startsWith('#')) throw new RangeError(`name placeholder ${k} must start with '#'`);
      this.names[k] = v;
    }
    for (const [k, v] of Object.entries(values)) {
      if (!k.startsWith(':')) throw new RangeError(`value placeholder ${k} must start with ':'`);
      this.values[k] = marshall(v);
    }
  }

  /** Sets ExpressionAttributeNames/Values on `request` when there are any. */
  apply(request) {
    if (Object.keys(this.names).length) request.ExpressionAttributeNames = { ...this.names };
    if (Object.keys(this.values).length) request.ExpressionAttributeValues = { ...this.values };
    return request;
  }
}

/** A condition: combine with `.and()`, `.or()`, `.not()` (or `not(c)`). */
export class Condition {
  /** @param {(p: Placeholders) => string} build */
  constructor(build) {
    this.build = build;
  }

  /** `(this AND other)` @param {Condition} other */
  and(other) {
    check(other);
    return new Condition((p) => `(${this.build(p)} AND ${other.build(p)})`);
  }

  /** `(this OR other)` @param {Condition} other */
  or(other) {
    check(other);
    return new Condition((p) => `(${this.build(p)} OR ${other.build(p)})`);
  }

  /** `(NOT this)` */
  not() {
    return new Condition((p) => `(NOT ${this.build(p)})`);
  }
}

function check(other) {
  if (!(other instanceof Condition)) throw new TypeError('a condition combines only with another condition');
}

/** `(NOT c)` @param {Condition} c */
export const not = (c) => c.not();

const compare = (op, operand, value) => new Condition((p) => `${operand(p)} ${op} ${p.value(value)}`);
const func = (name, path, ...values) => new Condition((p) => `${name}(${[p.name(path), ...values.map((v) => p.value(v))].join(', ')})`);

class Comparable {
  constructor(operand) {
    this.operand = operand;
  }
  /** `= value` */ eq(value) { return compare('=', this.operand, value); }
  /** `< value` */ lt(value) { return compare('<', this.operand, value); }
  /** `<= value` */ lte(value) { return compare('<=', this.operand, value); }
  /** `> value` */ gt(value) { return compare('>', this.operand, value); }
  /** `>= value` */ gte(value) { return compare('>=', this.operand, value); }
  /** `BETWEEN low AND high` (both included) */
  between(low, high) {
    return new Condition((p) => `${this.operand(p)} BETWEEN ${p.value(low)} AND ${p.value(high)}`);
  }
}

/** A key attribute in a Query's key condition. */
export class KeyAttr extends Comparable {
  /** @param {string} name */
  constructor(name) {
    super((p) => p.name(name));
    this.path = name;
  }
  /** `begins_with(name, prefix)` */
  beginsWith(prefix) {
    return func('begins_with', this.path, prefix);
  }
}

/** Any attribute in a condition or filter. */
export class AttrPath extends KeyAttr {
  /** `<> value` */ ne(value) { return compare('<>', this.operand, value); }
  /** `IN (v1, v2...)` */
  in(values) {
    if (!values.length) throw new RangeError('in() needs at least one value');
    return new Condition((p) => `${this.operand(p)} IN (${values.map((v) => p.value(v)).join(', ')})`);
  }
  /** `attribute_exists(name)` */ exists() { return func('attribute_exists', this.path); }
  /** `attribute_not_exists(name)` */ notExists() { return func('attribute_not_exists', this.path); }
  /** `contains(name, value)`: a substring, or a member of a set or list */ contains(value) { return func('contains', this.path, value); }
  /** `attribute_type(name, type)` */ type(typeName) { return func('attribute_type', this.path, typeName); }
  /** `size(name)`, to compare: `Attr('tags').size().gt(2)` */
  size() {
    const path = this.path;
    const s = new Comparable((p) => `size(${p.name(path)})`);
    s.ne = (value) => compare('<>', s.operand, value);
    return s;
  }
}

/** `Key('pk')`: a key attribute for a Query's key condition. @param {string} name */
export const Key = (name) => new KeyAttr(name);
/** `Attr('a.b')`: any attribute for conditions and filters. @param {string} name */
export const Attr = (name) => new AttrPath(name);

/**
 * The expression text of `condition` (a Condition, or a raw expression string).
 * @param {Condition | string} condition
 * @param {Placeholders} p
 */
export function buildExpression(condition, p) {
  if (typeof condition === 'string') return condition;
  if (condition instanceof Condition) return condition.build(p);
  throw new TypeError('a condition is a Condition or an expression string');
}
