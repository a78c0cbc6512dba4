// Running function code under node, outside a tarn host (unit tests):
//
//   import { testing } from 'tarn-sdk';
//   const host = testing.setTablesHandler((operation, request) => {
//     return { Item: { id: { S: request.Key.id.S } } };        // DynamoDB JSON out
//   });
//   ...                                                         // Table calls reach the handler
//   host.calls, host.logs
//
// A handler throws `errorFor('ConditionalCheckFailedException', '...')` (or any TableError) to
// answer with an error. `request(method, path, body)` builds a Request for an HTTP handler.

import { setTransport } from './host.js';

/** A transport handing each table call to a function, keeping calls and log lines. */
export class HandlerTransport {
  constructor(handler) {
    this.handler = handler;
    /** Every call: [operation, request object]. */
    this.calls = [];
    /** Every log line: [level, message]. */
    this.logs = [];
  }

  call(operation, request) {
    const body = JSON.parse(request);
    this.calls.push([operation, body]);
    return JSON.stringify(this.handler(operation, body));
  }

  log(level, message) {
    this.logs.push([level, message]);
  }
}

/** Installs `handler` as the table host; returns its transport. */
export function setTablesHandler(handler) {
  const t = new HandlerTransport(handler);
  setTransport(t);
  return t;
}

/** Restores the default (no host). */
export function clearTablesHandler() {
  setTransport(null);
}

/**
 * A Request for `path` on a test origin; an object body is sent as JSON.
 * @param {string} method
 * @param {string} path
 * @param {any} [body]
 */
export function request(method, path, body) {
  const init = { method };
  if (body != null) {
    init.body = typeof body === 'string' ? body : JSON.stringify(body);
    if (typeof body !== 'string') init.headers = { 'content-type': 'application/json' };
  }
  return new Request(new URL(path, 'http://function.test'), init);
}
