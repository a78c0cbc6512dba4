// {{name}}: runs on each tick of its cron schedule and records it in `ticks`.
import { Table, Update, log, scheduleHandler } from 'tarn-sdk';

const ticks = new Table('ticks');

export const schedule = scheduleHandler((scheduledTime) => {
  ticks.update({ id: 'ticks' }, new Update().set('last', scheduledTime).add('count', 1));
  log.info(`tick at ${scheduledTime}`);
});
