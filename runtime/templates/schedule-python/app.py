"""{{name}}: runs on each tick of its cron schedule and records it in `ticks`."""

import tarn

ticks = tarn.Table("ticks")


@tarn.schedule_handler
def tick(scheduled_time: str) -> None:
    ticks.update({"id": "ticks"}, tarn.Update().set("last", scheduled_time).add("count", 1))
    tarn.log.info("tick at %s", scheduled_time)
