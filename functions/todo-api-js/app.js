// todo-api in JavaScript: the REST API of functions/todo-api (Rust), route for route and error
// for error, over the `todos` table (partition key `id`, a string).
//
// | route | what |
// |---|---|
// | `POST /todos` | create from `{"title": "..", "done": false}`; the server picks `id`, `version` is 1; 201 |
// | `GET /todos?limit=N&next=TOKEN` | one page (Scan); `{"items": [..], "next": TOKEN or null}` |
// | `GET /todos/:id` | one todo, or 404 |
// | `PUT /todos/:id` | update `{"title"?, "done"?, "version"}`: `version` is the one the client read; a different stored version is 409, a missing todo 404 |
// | `DELETE /todos/:id` | 204, or 404; `?version=N` deletes only that version (else 409) |
//
// Bad JSON, unknown fields, an empty title or a bad `limit`/`next` are 400.
import {
  Attr, ConditionalCheckFailedException, HttpError, InvalidTokenError, Router, Table, Update,
  httpHandler, json, log, readJson,
} from 'tarn-sdk';

const TABLE = 'todos';
const DEFAULT_LIMIT = 20;
const MAX_LIMIT = 100;
const MAX_TITLE = 1000;

const todos = new Table(TABLE);
const now = () => Math.floor(Date.now() / 1000);

/** 32 random hex digits. */
function newId() {
  const bytes = new Uint8Array(16);
  crypto.getRandomValues(bytes);
  return [...bytes].map((b) => b.toString(16).padStart(2, '0')).join('');
}

function checkTitle(title) {
  if (typeof title !== 'string') throw new HttpError(400, 'title must be a string');
  const t = title.trim();
  if (!t) throw new HttpError(400, 'title must not be empty');
  if ([...t].length > MAX_TITLE) throw new HttpError(400, `title is longer than ${MAX_TITLE} characters`);
  return t;
}

async function jsonObject(req, allowed) {
  const body = await readJson(req);
  if (body === null || typeof body !== 'object' || Array.isArray(body)) throw new HttpError(400, 'invalid JSON body: expected an object');
  const unknown = Object.keys(body).filter((k) => !allowed.includes(k)).sort();
  if (unknown.length) throw new HttpError(400, `invalid JSON body: unknown field \`${unknown[0]}\``);
  return body;
}

function versionNumber(value) {
  if (!Number.isSafeInteger(value) || value < 0) throw new HttpError(400, 'version must be a whole number');
  return value;
}

/** After a failed version check: 404 if the todo is gone, else 409 naming its version. */
function conflictOrMissing(id, sent) {
  const current = todos.get({ id });
  if (!current) return new HttpError(404, `no todo ${id}`);
  return new HttpError(409, `version mismatch: you sent ${sent}, the todo is at version ${current.version}`);
}

const app = new Router();

app.post('/todos', async (req) => {
  const body = await jsonObject(req, ['title', 'done']);
  if (!('title' in body)) throw new HttpError(400, 'invalid JSON body: missing field `title`');
  const done = body.done ?? false;
  if (typeof done !== 'boolean') throw new HttpError(400, 'done must be true or false');
  const t = now();
  const todo = { id: newId(), title: checkTitle(body.title), done, version: 1, created_at: t, updated_at: t };
  todos.put(todo, { condition: Attr('id').notExists() });
  log.info(`created todo ${todo.id}`);
  return json(todo, 201, { location: `/todos/${todo.id}` });
});

app.get('/todos', (req, { query }) => {
  let limit = DEFAULT_LIMIT;
  if (query.has('limit')) {
    const raw = query.get('limit');
    if (!/^\d+$/.test(raw) || Number(raw) < 1 || Number(raw) > MAX_LIMIT) {
      throw new HttpError(400, `limit must be a number from 1 to ${MAX_LIMIT}`);
    }
    limit = Number(raw);
  }
  try {
    const page = todos.scan({ limit, start: query.get('next') ?? undefined });
    return { items: page.items, next: page.nextToken };
  } catch (e) {
    if (e instanceof InvalidTokenError) throw new HttpError(400, 'invalid next token');
    throw e;
  }
});

app.get('/todos/:id', (req, { params }) => {
  const todo = todos.get({ id: params.id });
  if (!todo) throw new HttpError(404, `no todo ${params.id}`);
  return todo;
});

app.put('/todos/:id', async (req, { params }) => {
  const body = await jsonObject(req, ['title', 'done', 'version']);
  if (!('version' in body)) throw new HttpError(400, 'invalid JSON body: missing field `version`');
  const sent = versionNumber(body.version);
  if (body.title == null && body.done == null) throw new HttpError(400, 'nothing to update: give title and/or done');
  const change = new Update().set('version', sent + 1).set('updated_at', now());
  if (body.title != null) change.set('title', checkTitle(body.title));
  if (body.done != null) {
    if (typeof body.done !== 'boolean') throw new HttpError(400, 'done must be true or false');
    change.set('done', body.done);
  }
  try {
    return todos.update({ id: params.id }, change, { condition: Attr('id').exists().and(Attr('version').eq(sent)) });
  } catch (e) {
    if (e instanceof ConditionalCheckFailedException) throw conflictOrMissing(params.id, sent);
    throw e;
  }
});

app.delete('/todos/:id', (req, { params, query }) => {
  let deleted;
  if (query.has('version')) {
    const raw = query.get('version');
    if (!/^\d+$/.test(raw)) throw new HttpError(400, 'version must be a number');
    try {
      deleted = todos.delete({ id: params.id }, { condition: Attr('version').eq(Number(raw)) });
    } catch (e) {
      if (e instanceof ConditionalCheckFailedException) throw conflictOrMissing(params.id, Number(raw));
      throw e;
    }
  } else {
    deleted = todos.delete({ id: params.id });
  }
  if (!deleted) throw new HttpError(404, `no todo ${params.id}`);
  return null;
});

httpHandler(app);
