// `Update`: an update expression built action by action (`SET`, `REMOVE`, `ADD`, `DELETE`).
//
//   new Update().set('title', 'buy milk').add('version', 1).remove('draft')
//
// Attribute arguments are paths; each gets its own `#n` placeholder. For anything else pass a
// raw expression string with `names` and `values` to `Table.update`.

/** An update expression, built with chained calls. */
export class Update {
  constructor() {
    /** @type {Array<[string, string, any[]]>} */
    this.actions = [];
  }

  #push(action, template, path, ...values) {
    this.actions.push([action, template, [path, ...values]]);
    return this;
  }

  /** `SET path = value` */ set(path, value) { return this.#push('SET', '{p} = {v0}', path, value); }
  /** `SET path = if_not_exists(path, value)` */ setIfAbsent(path, value) { return this.#push('SET', '{p} = if_not_exists({p}, {v0})', path, value); }
  /** `SET path = path + by` (the attribute must exist; `add` creates it) */ increment(path, by = 1) { return this.#push('SET', '{p} = {p} + {v0}', path, by); }
  /** `SET path = list_append(if_not_exists(path, []), values)` */ append(path, values) { return this.#push('SET', '{p} = list_append(if_not_exists({p}, {v1}), {v0})', path, values, []); }
  /** `REMOVE path` */ remove(path) { return this.#push('REMOVE', '{p}', path); }
  /** `ADD path value`: adds to a number (from 0) or elements to a set */ add(path, value) { return this.#push('ADD', '{p} {v0}', path, value); }
  /** `DELETE path values`: removes elements (a Set) from a set */ delete(path, values) { return this.#push('DELETE', '{p} {v0}', path, values); }

  /** True when no action was added. */
  get isEmpty() {
    return this.actions.length === 0;
  }

  /** The expression text, with its placeholders added to `p`. */
  build(p) {
    const clauses = { SET: [], REMOVE: [], ADD: [], DELETE: [] };
    for (const [action, template, [path, ...values]] of this.actions) {
      const name = p.name(path);
      const phs = values.map((v) => p.value(v));
      clauses[action].push(template.replaceAll('{p}', name).replace(/\{v(\d)\}/g, (_, i) => phs[Number(i)]));
    }
    return Object.entries(clauses).filter(([, parts]) => parts.length).map(([a, parts]) => `${a} ${parts.join(', ')}`).join(' ');
  }
}
