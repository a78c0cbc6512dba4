// The raw host calls, through a replaceable transport.
//
// In a component, table calls go to the `tarn:function/tables` import and log lines to
// `tarn:function/log`: `component.js` (bundled into every component by the build) installs them.
// Under node (unit tests) there are no such imports: table calls go to the transport installed
// with `setTransport` (see `testing.js`), and log lines to stderr.
//
// `call(operation, request)` is the escape hatch for anything the typed `Table` API does not
// cover: DynamoDB's JSON request body in, its JSON response body out. Calls are synchronous.

import { TableError } from './errors.js';

/** DynamoDB operation -> the `tables` import function that performs it, in the WIT's order. */
export const OPERATIONS = Object.freeze({
  GetItem: 'get',
  PutItem: 'put',
  UpdateItem: 'update',
  DeleteItem: 'delete',
  Query: 'query',
  Scan: 'scan',
  BatchGetItem: 'batchGet',
  BatchWriteItem: 'batchWrite',
  TransactWriteItems: 'transactWrite',
  TransactGetItems: 'transactGet',
});

/** The log levels of the `log` import, lowest first. */
export const LEVELS = Object.freeze(['trace', 'debug', 'info', 'warn', 'error']);

/**
 * What answers table calls and takes log lines.
 * @typedef {object} Transport
 * @property {(operation: string, request: string) => string} call JSON request text in, JSON
 *   response text out; throws a TableError
 * @property {(level: string, message: string) => void} log one log line
 */

/** @type {Transport} */
const noHost = {
  call() {
    throw new TableError('no tarn host: install a transport with testing.setTablesHandler', 'NoHost');
  },
  log(level, message) {
    console.error(`[${level.toUpperCase()}] ${message}`);
  },
};

let transport = noHost;

/**
 * Installs `t` for every later call; `null` restores the default (no host).
 * @param {Transport | null} t
 */
export function setTransport(t) {
  transport = t ?? noHost;
}

/** @returns {Transport} the transport in use */
export function getTransport() {
  return transport;
}

/**
 * Performs `operation` with JSON request text; returns the JSON response text.
 * @param {string} operation
 * @param {string} request
 * @returns {string}
 */
export function callText(operation, request) {
  if (!Object.hasOwn(OPERATIONS, operation)) {
    throw new RangeError(`unknown operation ${operation}; one of ${Object.keys(OPERATIONS).join(', ')}`);
  }
  return transport.call(operation, request);
}

/**
 * Performs `operation` (`"GetItem"`, `"Query"`...) with a request body in DynamoDB JSON;
 * returns the response body.
 * @param {string} operation
 * @param {object} request
 * @returns {any}
 */
export function call(operation, request) {
  return JSON.parse(callText(operation, JSON.stringify(request)));
}

/**
 * Writes one log line through the host.
 * @param {string} level one of LEVELS
 * @param {string} message
 */
export function writeLog(level, message) {
  if (!LEVELS.includes(level)) throw new RangeError(`unknown log level ${level}; one of ${LEVELS.join(', ')}`);
  transport.log(level, message);
}
