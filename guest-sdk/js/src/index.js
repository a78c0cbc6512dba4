// tarn-sdk: write tarn functions in JavaScript.
//
// A tarn function is a WebAssembly component the tarn host runs on an HTTP route, on table
// changes or on a schedule; componentize-js builds it from an ES module that imports this
// package (`scripts/build-guest.sh js app.js app.wasm`, or `tarn build`).
//
// - `Table`: DynamoDB item operations on the tables the manifest grants; items as plain values
//   (types.js: exact numbers as `NumberValue`), conditions with `Key` and `Attr`, updates with
//   `Update`, pages with paging tokens, transactions. Errors are `TableError`s named as
//   DynamoDB names them.
// - `Router`, `json`, `text`, `readJson`, `HttpError`, `httpHandler`: HTTP on web Request/Response.
// - `streamHandler`, `recordHandler`, `scheduleHandler`: table-change and cron functions.
// - `log`: logging through the host; `testing`: a table host for unit tests under node.

export * from './errors.js';
export { call, callText, OPERATIONS, LEVELS, setTransport, getTransport } from './host.js';
export { NumberValue, marshall, marshallItem, unmarshall, unmarshallItem, toJson } from './types.js';
export { Key, Attr, Condition, Placeholders, not } from './conditions.js';
export { Update } from './update.js';
export { Table, Page, Transaction, transactGet, encodeToken, decodeToken } from './table.js';
export { Router, HttpError, json, text, readJson, httpHandler } from './http.js';
export { StreamRecord, streamHandler, recordHandler, scheduleHandler } from './stream.js';
export * as log from './log.js';
export * as testing from './testing.js';
