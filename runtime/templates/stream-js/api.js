// {{name}}-api: writes and deletes `items`, reads the counts the stream handler keeps.
import { HttpError, Router, Table, httpHandler, readJson } from 'tarn-sdk';

const app = new Router();
const items = new Table('items');

app.put('/items/:id', async (req, { params }) => {
  const body = await readJson(req);
  if (body === null || typeof body !== 'object' || Array.isArray(body)) throw new HttpError(400, 'send a JSON object');
  const item = { ...body, id: params.id };
  items.put(item);
  return item;
});

app.delete('/items/:id', (req, { params }) => {
  if (!items.delete({ id: params.id })) throw new HttpError(404, `no item ${params.id}`);
  return null;
});

app.get('/counts', () => new Table('counts').get({ id: 'totals' }) ?? { id: 'totals' });

httpHandler(app);
