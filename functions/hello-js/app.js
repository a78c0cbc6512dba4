// hello-js: `hello from tarn (js)` on any path, the JavaScript row of the functions benchmark;
// and `GET [/PREFIX]/forbidden[?table=T]`, which reads a table its manifest does not grant (default
// `not-granted`) and answers 200 with the error it got: `{"kind", "message"}`.
// For the instance-reuse tests: `/count` adds one to a global and answers it (1 on a fresh
// instance, more on a reused one), `/boom` throws (the SDK answers 500; the instance lives on),
// and `/loop` never returns (the host stops it at its timeout and drops the instance).
import { Router, Table, TableError, httpHandler, text } from 'tarn-sdk';

const app = new Router();

const forbidden = (req, { query }) => {
  try {
    return { item: new Table(query.get('table') ?? 'not-granted').get({ id: 'x' }) };
  } catch (e) {
    if (e instanceof TableError) return { kind: e.name, message: e.message };
    throw e;
  }
};
app.get('/forbidden', forbidden);
app.get('/:prefix/forbidden', forbidden);

let count = 0;
app.get('/count', () => String(++count));
app.get('/boom', () => { throw new Error('boom'); });
app.get('/loop', () => { for (;;); });

app.any('/*', () => text('hello from tarn (js)'));

httpHandler(app);
