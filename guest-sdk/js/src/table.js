// `Table`: DynamoDB's item operations on one table, with items as plain JavaScript values
// (types.js), conditions from conditions.js, updates from update.js; `Page` (one page of a Query
// or Scan, with an opaque paging token) and `Transaction` (all-or-nothing writes).
//
//   const todos = new Table('todos');
//   todos.put({ id: 't1', title: 'milk', version: 1 }, { condition: Attr('id').notExists() });
//   todos.get({ id: 't1' });                                  // -> object, or null
//   todos.update({ id: 't1' }, new Update().set('done', true).add('version', 1),
//                { condition: Attr('version').eq(1) });        // -> the item after the update
//   const page = todos.query(Key('list').eq('home'), { limit: 20, start: token });
//   page.items, page.nextToken
//
// Calls are synchronous (the host answers before the call returns); `await` on them works too.

import { Placeholders, buildExpression } from './conditions.js';
import { InvalidTokenError, ProvisionedThroughputExceededException } from './errors.js';
import { call } from './host.js';
import { marshallItem, unmarshallItem, toBase64, fromBase64 } from './types.js';

/** BatchWriteItem takes at most this many requests, BatchGetItem this many keys. */
export const BATCH_WRITE_MAX = 25;
export const BATCH_GET_MAX = 100;
/** How many times batch calls resend unprocessed requests before giving up. */
export const BATCH_RETRIES = 8;

/**
 * A LastEvaluatedKey (DynamoDB JSON) as a token safe in a URL: URL-safe base64 of its JSON,
 * without padding (as the Rust and Python SDKs make them).
 * @param {object} key
 */
export function encodeToken(key) {
  return toBase64(new TextEncoder().encode(JSON.stringify(key))).replaceAll('+', '-').replaceAll('/', '_').replace(/=+$/, '');
}

/** The key a token made by `encodeToken` holds; InvalidTokenError for anything else. @param {string} token */
export function decodeToken(token) {
  let key;
  try {
    if (!/^[A-Za-z0-9_-]*$/.test(token)) throw new Error('bad alphabet');
    const b64 = token.replaceAll('-', '+').replaceAll('_', '/') + '='.repeat((4 - (token.length % 4)) % 4);
    key = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(fromBase64(b64)));
  } catch {
    throw new InvalidTokenError();
  }
  const ok = key && typeof key === 'object' && !Array.isArray(key)
    && Object.values(key).every((v) => v && typeof v === 'object' && Object.keys(v).length === 1);
  if (!ok) throw new InvalidTokenError();
  return key;
}

/** One page of a Query or Scan. */
export class Page {
  constructor(response) {
    /** The items, as plain values. */
    this.items = (response.Items ?? []).map(unmarshallItem);
    /** How many items matched (`Count`). */
    this.count = response.Count ?? 0;
    /** How many items were read before the filter (`ScannedCount`). */
    this.scannedCount = response.ScannedCount ?? 0;
    const last = response.LastEvaluatedKey;
    this.rawLastKey = last && Object.keys(last).length ? last : null;
    /** Where the next page starts (plain values), null on the last page. */
    this.lastKey = this.rawLastKey ? unmarshallItem(this.rawLastKey) : null;
  }

  /** An opaque token for the next page (pass it as `start`), null on the last page. */
  get nextToken() {
    return this.rawLastKey ? encodeToken(this.rawLastKey) : null;
  }
}

function withExpressions(request, p, { names, values } = {}, expressions = {}) {
  p.addRaw(names, values);
  for (const [member, cond] of Object.entries(expressions)) {
    if (cond != null) request[member] = buildExpression(cond, p);
  }
  return p.apply(request);
}

/** One table, by name (the function's manifest must grant it). Opening it is free. */
export class Table {
  /** @param {string} name */
  constructor(name) {
    this.name = name;
  }

  /**
   * GetItem: the item with `key`, or null. Strongly consistent unless `consistent: false`.
   * @param {object} key
   * @param {{consistent?: boolean, projection?: string[]}} [options]
   */
  get(key, { consistent = true, projection } = {}) {
    const req = { TableName: this.name, Key: marshallItem(key), ConsistentRead: consistent };
    const p = new Placeholders();
    if (projection) req.ProjectionExpression = projection.map((a) => p.name(a)).join(', ');
    const { Item } = call('GetItem', p.apply(req));
    return Item ? unmarshallItem(Item) : null;
  }

  /**
   * PutItem: writes `item`, replacing any item with its key, when `condition` holds (else
   * ConditionalCheckFailedException). With `returnOld`, returns the item it replaced.
   * @param {object} item
   * @param {{condition?: any, names?: object, values?: object, returnOld?: boolean}} [options]
   */
  put(item, { condition, names, values, returnOld = false } = {}) {
    const req = { TableName: this.name, Item: marshallItem(item) };
    if (returnOld) req.ReturnValues = 'ALL_OLD';
    withExpressions(req, new Placeholders(), { names, values }, { ConditionExpression: condition });
    const { Attributes } = call('PutItem', req);
    return Attributes ? unmarshallItem(Attributes) : null;
  }

  /**
   * DeleteItem: deletes the item with `key` when `condition` holds; returns the deleted item,
   * null if there was none.
   * @param {object} key
   * @param {{condition?: any, names?: object, values?: object}} [options]
   */
  delete(key, { condition, names, values } = {}) {
    const req = { TableName: this.name, Key: marshallItem(key), ReturnValues: 'ALL_OLD' };
    withExpressions(req, new Placeholders(), { names, values }, { ConditionExpression: condition });
    const { Attributes } = call('DeleteItem', req);
    return Attributes ? unmarshallItem(Attributes) : null;
  }

  /**
   * UpdateItem on the item with `key`; returns the item as `returns` says (`ALL_NEW`, the
   * default, `ALL_OLD`, `UPDATED_NEW`, `UPDATED_OLD`, or `NONE`: null).
   * @param {object} key
   * @param {import('./update.js').Update | string} update
   * @param {{condition?: any, names?: object, values?: object, returns?: string}} [options]
   */
  update(key, update, { condition, names, values, returns = 'ALL_NEW' } = {}) {
    const req = { TableName: this.name, Key: marshallItem(key), ReturnValues: returns };
    const p = new Placeholders();
    p.addRaw(names, values);
    req.UpdateExpression = typeof update === 'string' ? update : update.build(p);
    withExpressions(req, p, {}, { ConditionExpression: condition });
    const { Attributes } = call('UpdateItem', req);
    return Attributes ? unmarshallItem(Attributes) : null;
  }

  #readRequest({ filter, index, limit, start, consistent, projection }) {
    const req = { TableName: this.name };
    if (index != null) req.IndexName = index;
    if (limit != null) req.Limit = limit;
    if (consistent) req.ConsistentRead = true;
    if (typeof start === 'string') req.ExclusiveStartKey = decodeToken(start);
    else if (start != null) req.ExclusiveStartKey = marshallItem(start);
    const p = new Placeholders();
    if (projection) req.ProjectionExpression = projection.map((a) => p.name(a)).join(', ');
    if (filter != null) req.FilterExpression = buildExpression(filter, p);
    return [req, p];
  }

  /**
   * Query: one page of the items whose key matches `keyCondition` (`Key('pk').eq(v)`), in
   * sort-key order (`forward: false` for descending). `start` is a page's `nextToken` (or its
   * `lastKey`).
   * @param {any} keyCondition
   * @param {{filter?: any, index?: string, limit?: number, forward?: boolean, start?: string|object,
   *   consistent?: boolean, projection?: string[], names?: object, values?: object}} [options]
   * @returns {Page}
   */
  query(keyCondition, options = {}) {
    const [req, p] = this.#readRequest(options);
    req.KeyConditionExpression = buildExpression(keyCondition, p);
    if (options.forward === false) req.ScanIndexForward = false;
    p.addRaw(options.names, options.values);
    return new Page(call('Query', p.apply(req)));
  }

  /**
   * Scan: one page of the table's (or index's) items, filtered; `segment` of `totalSegments`
   * for a parallel scan.
   * @param {{filter?: any, index?: string, limit?: number, start?: string|object, segment?: number,
   *   totalSegments?: number, consistent?: boolean, projection?: string[], names?: object, values?: object}} [options]
   * @returns {Page}
   */
  scan(options = {}) {
    const [req, p] = this.#readRequest(options);
    if (options.segment != null || options.totalSegments != null) {
      req.Segment = options.segment;
      req.TotalSegments = options.totalSegments;
    }
    p.addRaw(options.names, options.values);
    return new Page(call('Scan', p.apply(req)));
  }

  /** Every item `query` would return, page after page. */
  *queryAll(keyCondition, options = {}) {
    let start = options.start;
    for (;;) {
      const page = this.query(keyCondition, { ...options, start });
      yield* page.items;
      if (!page.rawLastKey) return;
      start = page.lastKey;
    }
  }

  /** Every item `scan` would return, page after page. */
  *scanAll(options = {}) {
    let start = options.start;
    for (;;) {
      const page = this.scan({ ...options, start });
      yield* page.items;
      if (!page.rawLastKey) return;
      start = page.lastKey;
    }
  }

  /**
   * BatchGetItem: the items with these keys that exist, in no particular order (sent 100 at a
   * time, unprocessed keys sent again).
   * @param {object[]} keys
   */
  batchGet(keys, { consistent = true } = {}) {
    const all = keys.map(marshallItem);
    const out = [];
    for (let i = 0; i < all.length; i += BATCH_GET_MAX) {
      let pending = { [this.name]: { Keys: all.slice(i, i + BATCH_GET_MAX), ConsistentRead: consistent } };
      for (let attempt = 0; ; attempt++) {
        const resp = call('BatchGetItem', { RequestItems: pending });
        out.push(...(resp.Responses?.[this.name] ?? []).map(unmarshallItem));
        pending = resp.UnprocessedKeys;
        if (!pending || !Object.keys(pending).length) break;
        if (attempt === BATCH_RETRIES) throw new ProvisionedThroughputExceededException('keys left unprocessed');
      }
    }
    return out;
  }

  /** BatchWriteItem puts: writes every item (25 at a time). Not atomic: see Transaction. */
  batchPut(items) {
    this.#batchWrite(items.map((i) => ({ PutRequest: { Item: marshallItem(i) } })));
  }

  /** BatchWriteItem deletes: deletes the items with these keys. */
  batchDelete(keys) {
    this.#batchWrite(keys.map((k) => ({ DeleteRequest: { Key: marshallItem(k) } })));
  }

  #batchWrite(requests) {
    for (let i = 0; i < requests.length; i += BATCH_WRITE_MAX) {
      let pending = { [this.name]: requests.slice(i, i + BATCH_WRITE_MAX) };
      for (let attempt = 0; ; attempt++) {
        pending = call('BatchWriteItem', { RequestItems: pending }).UnprocessedItems;
        if (!pending || !Object.keys(pending).length) break;
        if (attempt === BATCH_RETRIES) throw new ProvisionedThroughputExceededException('items left unprocessed');
      }
    }
  }
}

/**
 * All-or-nothing writes across tables (TransactWriteItems, 100 actions at most). A failed
 * condition cancels all of it: TransactionCanceledException.
 */
export class Transaction {
  constructor() {
    this.actions = [];
  }

  #add(kind, table, member, value, { condition, names, values } = {}, update) {
    const body = { TableName: table.name, [member]: marshallItem(value) };
    const p = new Placeholders();
    p.addRaw(names, values);
    if (update != null) body.UpdateExpression = typeof update === 'string' ? update : update.build(p);
    withExpressions(body, p, {}, { ConditionExpression: condition });
    this.actions.push({ [kind]: body });
    return this;
  }

  /** Puts `item` into `table` (when `options.condition` holds). */
  put(table, item, options) { return this.#add('Put', table, 'Item', item, options); }
  /** Updates the item with `key`. */
  update(table, key, update, options) { return this.#add('Update', table, 'Key', key, options, update); }
  /** Deletes the item with `key`. */
  delete(table, key, options) { return this.#add('Delete', table, 'Key', key, options); }
  /** Checks `condition` on the item with `key` without writing it. */
  check(table, key, condition, options = {}) { return this.#add('ConditionCheck', table, 'Key', key, { ...options, condition }); }

  /** Commits: every action happens, or none does. `token` makes it idempotent. */
  commit({ token } = {}) {
    const req = { TransactItems: this.actions };
    if (token != null) req.ClientRequestToken = token;
    call('TransactWriteItems', req);
  }
}

/**
 * TransactGetItems: the items with these `[table, key]` pairs, read at one instant, in order
 * (null where missing).
 * @param {Array<[Table, object]>} gets
 */
export function transactGet(gets) {
  const req = { TransactItems: gets.map(([t, k]) => ({ Get: { TableName: t.name, Key: marshallItem(k) } })) };
  return (call('TransactGetItems', req).Responses ?? []).map((r) => (r.Item ? unmarshallItem(r.Item) : null));
}
