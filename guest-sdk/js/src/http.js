// HTTP for functions, on the web's own `Request` and `Response` (StarlingMonkey's in a
// component, node's globals in tests): a `Router` with `:param` and `*` routes, JSON helpers,
// `HttpError`, and `httpHandler`, which serves a router or handler as the component's
// `wasi:http/incoming-handler` (through src/incoming.js).
//
//   import { Router, Table, HttpError, httpHandler, json } from 'tarn-sdk';
//   const app = new Router();
//   app.get('/todos/:id', (req, { params }) => {
//     const todo = new Table('todos').get({ id: params.id });
//     if (!todo) throw new HttpError(404, 'no such todo');
//     return todo;                                  // an object: 200, as JSON
//   });
//   httpHandler(app);
//
// A handler (sync or async) gets the `Request` and a context `{ params, query, url }` and returns
// a `Response`, an object or array (200, JSON), a string (200, text) or null/undefined (204). It
// may throw `HttpError` (its status, JSON `{"error": message}`), or let a `TableError` escape (its
// `httpStatus`: 409 for a failed condition, 404, 400, 403, 429, 500). Anything else is logged and
// answers 500.

import { TableError } from './errors.js';
import { writeLog } from './host.js';
import { pathnameOf, urlOf } from './request.js';
import { SdkResponse, webResponse } from './response.js';
import { toJson } from './types.js';

const TEXT = 'text/plain; charset=utf-8';

/** An error that becomes a response: `status` and a JSON body `{"error": message}`. */
export class HttpError extends Error {
  /** @param {number} status @param {string} message */
  constructor(status, message) {
    super(message);
    this.name = 'HttpError';
    this.status = status;
  }

  /** The response this error answers with. */
  toResponse() {
    return json({ error: this.message }, this.status);
  }
}

/**
 * `value` as a JSON response (items included: see types.toJson).
 * @param {any} value
 * @param {number} [status]
 * @param {Record<string, string>} [headers]
 */
export function json(value, status = 200, headers = null) {
  return new SdkResponse(toJson(value), status, 'application/json', headers);
}

/** A `text/plain` response. @param {string} body @param {number} [status] @param {Record<string, string>} [headers] */
export function text(body, status = 200, headers = null) {
  // A string body is written as it is (src/response.js); any other body the web's Response takes.
  if (typeof body === 'string') return new SdkResponse(body, status, TEXT, headers);
  return new Response(body, { status, headers: { 'content-type': TEXT, ...headers } });
}

/**
 * The request's body parsed as JSON; HttpError(400) when it is not JSON.
 * @param {Request} req
 */
export async function readJson(req) {
  const body = await req.text();
  try {
    return JSON.parse(body);
  } catch (e) {
    throw new HttpError(400, `invalid JSON body: ${e.message}`);
  }
}

/** What a handler returned, as a Response. */
export function toResponse(result) {
  if (result instanceof Response) return result;
  if (result == null) return new SdkResponse(null, 204, null);
  if (typeof result === 'string') return text(result);
  if (typeof result === 'object') return json(result);
  throw new TypeError(`a handler returned ${typeof result}; return a Response, object, array, string or null`);
}

/** The Response for an exception `e` a handler threw on `req`. */
function failure(e, req, ctx) {
  if (e instanceof HttpError) return e.toResponse();
  if (e instanceof TableError) {
    if (e.httpStatus >= 500) writeLog('error', `${req.method} ${ctx.url.pathname}: ${e.name}: ${e.message}`);
    return new HttpError(e.httpStatus, `${e.name}: ${e.message}`).toResponse();
  }
  writeLog('error', `${req.method} ${ctx.url.pathname} failed: ${e && e.stack ? e.stack : e}`);
  return new HttpError(500, 'internal error').toResponse();
}

/** What `result` (a handler's return value) answers, or the failure its conversion threw. */
function answer(result, req, ctx) {
  try {
    return toResponse(result);
  } catch (e) {
    return failure(e, req, ctx);
  }
}

/**
 * Calls `handler`, turning its result or exception into a Response: at once for a handler that
 * returns a value, as a promise for one that returns a promise (an async handler).
 */
function settle(handler, req, ctx) {
  let result;
  try {
    result = handler(req, ctx);
  } catch (e) {
    return failure(e, req, ctx);
  }
  if (result && typeof result.then === 'function') {
    return Promise.resolve(result).then((r) => answer(r, req, ctx), (e) => failure(e, req, ctx));
  }
  return answer(result, req, ctx);
}

/** Calls `handler`, turning its result or exception into a Response. */
export async function runHandler(handler, req, ctx) {
  return settle(handler, req, ctx);
}

/** A handler's context: `params`, and `url` (parsed on first use, once) and its `query`. */
class Context {
  #req;
  #url = null;

  constructor(req, params) {
    this.#req = req;
    /** The route's `:name` (and `*`) values. */
    this.params = params;
  }

  /** The request's URL. */
  get url() {
    return (this.#url ??= urlOf(this.#req));
  }

  /** The URL's query (`url.searchParams`). */
  get query() {
    return this.url.searchParams;
  }
}

function context(req, params) {
  return new Context(req, params);
}

function split(path) {
  return path.split('/').filter(Boolean);
}

/** The segments of paths seen before (a reused instance sees the same few paths again). */
const seen = new Map();
const SEEN_MAX = 256;

/** `path`'s non-empty segments (an array the caller must not change). */
function segments(path) {
  let segs = seen.get(path);
  if (!segs) {
    segs = split(path);
    if (seen.size < SEEN_MAX) seen.set(path, segs);
  }
  return segs;
}

/** A pattern's segments, compiled once: `{ literal }`, `{ param }` (`:name`) or `{ rest: true }` (`*`). */
function compile(segs) {
  return segs.map((seg) => {
    if (seg === '*') return { rest: true };
    if (seg.startsWith(':')) return { param: seg.slice(1) };
    return { literal: seg };
  });
}

function match(pattern, path) {
  let params = null;
  for (let i = 0; i < pattern.length; i++) {
    const seg = pattern[i];
    if (seg.literal !== undefined) {
      if (seg.literal !== path[i]) return null;
      continue;
    }
    params ??= {};
    if (seg.rest) {
      params['*'] = path.slice(i).map(decodeURIComponent).join('/');
      return params;
    }
    if (i >= path.length) return null;
    params[seg.param] = decodeURIComponent(path[i]);
  }
  return pattern.length === path.length ? params ?? {} : null;
}

/**
 * Routes requests to handlers by method and path pattern; the first match wins.
 *
 * Patterns are `/`-separated segments: a literal, `:name` (one segment, in `ctx.params`), or a
 * final `*` (the rest of the path, `ctx.params['*']`). Empty segments are ignored, so `/todos/`
 * matches `/todos`. GET routes answer HEAD too. A path that matches only routes of other
 * methods gets 405 with an `allow` header; no match at all gets 404.
 */
export class Router {
  constructor() {
    this.routes = [];
  }

  /** Adds `handler` for `method` (null: any) on `pattern`. */
  route(method, pattern, handler) {
    const segs = split(pattern);
    if (segs.slice(0, -1).includes('*')) throw new RangeError(`'*' must be the last segment of ${pattern}`);
    const compiled = compile(segs);
    const rest = compiled.length > 0 && compiled[compiled.length - 1].rest === true;
    this.routes.push({ method: method ? method.toUpperCase() : null, segs, handler, compiled, rest });
    return this;
  }

  /** A GET (and HEAD) route. */ get(pattern, handler) { return this.route('GET', pattern, handler); }
  /** A POST route. */ post(pattern, handler) { return this.route('POST', pattern, handler); }
  /** A PUT route. */ put(pattern, handler) { return this.route('PUT', pattern, handler); }
  /** A PATCH route. */ patch(pattern, handler) { return this.route('PATCH', pattern, handler); }
  /** A DELETE route. */ delete(pattern, handler) { return this.route('DELETE', pattern, handler); }
  /** A route for any method. */ any(pattern, handler) { return this.route(null, pattern, handler); }

  /**
   * Routes `req` and returns the response.
   * @param {Request} req
   * @returns {Promise<Response>}
   */
  async handle(req) {
    return this.dispatch(req);
  }

  /**
   * Routes `req`: the response, or a promise of it when the handler is async. (What `handle`
   * does, without a promise for a handler that answers at once: the component's export calls
   * this.)
   * @param {Request} req
   * @returns {Response | Promise<Response>}
   */
  dispatch(req) {
    const pathname = pathnameOf(req);
    const path = segments(pathname);
    // The method is read only when a matching route has one (reading it is a host call).
    let reqMethod = null;
    const allowed = [];
    const routes = this.routes;
    const first = path.length ? path[0] : undefined;
    for (let i = 0; i < routes.length; i++) {
      const { method, compiled, handler, rest } = routes[i];
      // Cheap rejections first: the number of segments, the first literal.
      if (rest ? path.length < compiled.length - 1 : path.length !== compiled.length) continue;
      const lead = compiled.length ? compiled[0].literal : undefined;
      if (lead !== undefined && lead !== first) continue;
      const params = match(compiled, path);
      if (!params) continue;
      if (method !== null) reqMethod ??= req.method;
      if (method === null || method === reqMethod || (method === 'GET' && reqMethod === 'HEAD')) {
        return settle(handler, req, context(req, params));
      }
      if (!allowed.includes(method)) allowed.push(method);
    }
    if (!allowed.length) return new HttpError(404, `no route for ${pathname}`).toResponse();
    return json({ error: `method ${reqMethod} not allowed` }, 405, { allow: allowed.join(', ') });
  }
}

/** The function `httpHandler` registered, and whether the component's export serves it. */
let server = null;
let viaExport = false;

/**
 * The request handler `httpHandler` registered (null before): what the component export runs.
 * It returns the Response, or a promise of it for an async handler.
 */
export function httpServer() {
  return server;
}

/**
 * Marks the component as serving HTTP through its `wasi:http/incoming-handler` export
 * (src/incoming.js), so `httpHandler` registers no fetch-event listener.
 */
export function useIncomingHandler() {
  viaExport = true;
}

/**
 * Serves `handler` (a Router, or any `(req, ctx) => result` function) as the component's HTTP
 * handler: the build exports `wasi:http/incoming-handler` (src/incoming.js), which runs it once
 * per request, on a fresh instance or a reused one alike. (A component built without that
 * export, by componentize-js alone, serves it through the engine's fetch event, one request per
 * instance.) Call it once, at the top level of the function's module. Returns the function that
 * handles one request (handy in tests).
 * @param {Router | ((req: Request, ctx: object) => any)} handler
 * @returns {(req: Request) => Promise<Response>}
 */
export function httpHandler(handler) {
  const dispatch = handler instanceof Router
    ? (req) => handler.dispatch(req)
    : (req) => settle(handler, req, context(req, {}));
  server = dispatch;
  const serve = async (req) => dispatch(req);
  if (!viaExport && typeof addEventListener === 'function') {
    addEventListener('fetch', (event) => event.respondWith(serve(event.request).then(webResponse)));
  }
  return serve;
}
