// Logging through the host's `log` import: lines are captured per invocation with its request id
// (`tarn logs`). Under node (tests) they go to stderr unless a test transport takes them.
//
//   log.info('created', id);     // arguments joined with spaces, objects as JSON
//   log.captureConsole();        // console.log/info/warn/error/debug go to the host too

import { writeLog } from './host.js';

function format(args) {
  return args.map((a) => (typeof a === 'string' ? a : a instanceof Error ? (a.stack ?? String(a)) : safeJson(a))).join(' ');
}

function safeJson(v) {
  try {
    return JSON.stringify(v, (k, x) => (typeof x === 'bigint' ? String(x) : x)) ?? String(v);
  } catch {
    return String(v);
  }
}

/** Logs at trace level. */ export const trace = (...args) => writeLog('trace', format(args));
/** Logs at debug level. */ export const debug = (...args) => writeLog('debug', format(args));
/** Logs at info level. */ export const info = (...args) => writeLog('info', format(args));
/** Logs at warn level. */ export const warn = (...args) => writeLog('warn', format(args));
/** Logs at error level. */ export const error = (...args) => writeLog('error', format(args));

/** Sends `console.log` and friends through the host's `log` (with their level). */
export function captureConsole() {
  console.log = info;
  console.info = info;
  console.debug = debug;
  console.warn = warn;
  console.error = error;
}
