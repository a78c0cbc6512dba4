// {{name}}: an HTTP function in JavaScript (the `tarn-sdk` package: guest-sdk/js).
import { HttpError, Router, Table, httpHandler, log, readJson } from 'tarn-sdk';

const app = new Router();
const items = new Table('items');

app.get('/hello/:who', (req, { params }) => {
  log.info(`saying hello to ${params.who}`);
  return `hello, ${params.who}, from JavaScript\n`;
});

app.put('/items/:id', async (req, { params }) => {
  const body = await readJson(req);
  if (body === null || typeof body !== 'object' || Array.isArray(body)) throw new HttpError(400, 'send a JSON object');
  const item = { ...body, id: params.id };
  items.put(item);
  return item;
});

app.get('/items/:id', (req, { params }) => {
  const item = items.get({ id: params.id });
  if (!item) throw new HttpError(404, `no item ${params.id}`);
  return item;
});

httpHandler(app);
