// hello-js: `hello from tarn (js)` on any path, the JavaScript row of the functions benchmark;
// and `GET [/PREFIX]/forbidden[?table=T]`, which reads a table its manifest does not grant (default
// `not-granted`) and answers 200 with the error it got: `{"kind", "message"}`.
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

app.any('/*', () => text('hello from tarn (js)'));

httpHandler(app);
