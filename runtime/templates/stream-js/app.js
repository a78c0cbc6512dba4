// {{name}}: a stream handler in JavaScript. Each change of `items` moves a counter in `counts`
// (item `{"id": "totals"}`). A record whose update fails is reported failed and retried by tarn
// (with the later changes of the same item); the others are accepted.
import { Table, Update, log, recordHandler } from 'tarn-sdk';

const counts = new Table('counts');
const COUNTER = { INSERT: 'inserted', MODIFY: 'modified', REMOVE: 'removed' };

export const stream = recordHandler((record) => {
  counts.update({ id: 'totals' }, new Update().add(COUNTER[record.eventName], 1));
  log.info(record.eventName, record.keys);
});
