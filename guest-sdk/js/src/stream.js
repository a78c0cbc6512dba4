// Stream and schedule handlers: `StreamRecord` (one table change, images as plain values) and the
// wrappers whose result the function's module exports:
//
//   export const stream = streamHandler((records) => {
//     // return the sequence numbers of failed records (ReportBatchItemFailures), or nothing to
//     // accept the batch; throw to fail the whole batch
//   });
//   export const stream = recordHandler((record) => { /* one record; a throw fails it */ });
//   export const schedule = scheduleHandler((scheduledTime) => { /* throw to fail the tick */ });
//
// The export's name is the WIT interface's (`stream`, `schedule`); handlers may be async.

import { writeLog } from './host.js';
import { unmarshallItem } from './types.js';

/** One table change (a record of a Lambda DynamoDB event). */
export class StreamRecord {
  /** @param {any} record one record of the host's batch */
  constructor(record) {
    const data = record.dynamodb ?? {};
    const who = record.userIdentity ?? {};
    /** The record's id. */
    this.eventId = record.eventID ?? '';
    /** `INSERT`, `MODIFY` or `REMOVE`. */
    this.eventName = record.eventName;
    /** The sequence number: what a handler reports for a failed record. */
    this.sequenceNumber = data.SequenceNumber;
    /** The item's key attributes, as plain values. */
    this.keys = unmarshallItem(data.Keys ?? {});
    /** The item after the change, when the stream's view type includes it (else null). */
    this.newImage = data.NewImage ? unmarshallItem(data.NewImage) : null;
    /** The item before the change, when the stream's view type includes it (else null). */
    this.oldImage = data.OldImage ? unmarshallItem(data.OldImage) : null;
    /** True for a deletion made by TTL expiry. */
    this.byTtl = (who.principalId ?? who.PrincipalId) === 'dynamodb.amazonaws.com';
    /** The record as the host sent it (DynamoDB JSON images). */
    this.raw = record;
    if (typeof this.eventName !== 'string' || typeof this.sequenceNumber !== 'string') {
      throw new TypeError('a stream record needs eventName and dynamodb.SequenceNumber');
    }
  }

  /** The JSON array the host hands to a stream handler. @param {string} text */
  static parseBatch(text) {
    return JSON.parse(text).map((r) => new StreamRecord(r));
  }
}

/**
 * Runs a batch handler on the host's batch: the failed sequence numbers. Throws an Error whose
 * message the host records when the batch fails.
 */
export async function handleBatch(handler, recordsJson) {
  try {
    const failed = await handler(StreamRecord.parseBatch(recordsJson));
    return failed == null ? [] : [...failed].map(String);
  } catch (e) {
    writeLog('error', `stream batch failed: ${e && e.stack ? e.stack : e}`);
    throw new Error(`${e && e.name ? e.name : 'Error'}: ${e && e.message ? e.message : e}`);
  }
}

/**
 * A batch handler calling `handler` on each record. A record whose call throws is reported
 * failed (and logged); so is every later record of the same item in the batch, left
 * unprocessed, so an item's changes are never applied out of order.
 */
export function perRecord(handler) {
  return async (records) => {
    const failed = [];
    const failedKeys = new Set();
    for (const record of records) {
      const keys = record.raw.dynamodb?.Keys ?? {};
      const key = JSON.stringify(Object.keys(keys).sort().map((k) => [k, keys[k]]));
      if (failedKeys.has(key)) {
        failed.push(record.sequenceNumber);
        continue;
      }
      try {
        await handler(record);
      } catch (e) {
        writeLog('warn', `record ${record.sequenceNumber} failed: ${e && e.stack ? e.stack : e}`);
        failed.push(record.sequenceNumber);
        failedKeys.add(key);
      }
    }
    return failed;
  };
}

/**
 * The `tarn:function/stream` export for a batch handler: `export const stream = streamHandler(fn)`.
 * `fn(records)` returns the failed records' sequence numbers (or nothing); a throw fails the batch.
 */
export function streamHandler(fn) {
  return { handle: (records) => handleBatch(fn, records), handler: fn };
}

/**
 * The `tarn:function/stream` export for a per-record handler: a record whose call throws is
 * reported failed (ReportBatchItemFailures) and retried, with the later records of its item.
 */
export function recordHandler(fn) {
  const batch = perRecord(fn);
  return { handle: (records) => handleBatch(batch, records), handler: fn };
}

/**
 * The `tarn:function/schedule` export: `export const schedule = scheduleHandler(fn)`. `fn` gets
 * the tick's time (RFC 3339, UTC); a throw fails the tick.
 */
export function scheduleHandler(fn) {
  return {
    async handle(scheduledTime) {
      try {
        await fn(scheduledTime);
      } catch (e) {
        writeLog('error', `schedule tick ${scheduledTime} failed: ${e && e.stack ? e.stack : e}`);
        throw new Error(`${e && e.name ? e.name : 'Error'}: ${e && e.message ? e.message : e}`);
      }
    },
    handler: fn,
  };
}
