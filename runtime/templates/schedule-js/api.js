// {{name}}-api: `GET /ticks`, what the schedule recorded.
import { Router, Table, httpHandler } from 'tarn-sdk';

const app = new Router();
app.get('/ticks', () => new Table('ticks').get({ id: 'ticks' }) ?? { id: 'ticks', count: 0 });
httpHandler(app);
