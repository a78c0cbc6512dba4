"""{{name}}: a stream handler in Python. Each change of `items` moves a counter in `counts`
(item `{"id": "totals"}`). A record whose update fails is reported failed and retried by tarn
(with the later changes of the same item); the others are accepted."""

import tarn

counts = tarn.Table("counts")
COUNTER = {"INSERT": "inserted", "MODIFY": "modified", "REMOVE": "removed"}


@tarn.record_handler
def on_change(record: tarn.StreamRecord) -> None:
    counter = COUNTER[record.event_name]
    counts.update({"id": "totals"}, tarn.Update().add(counter, 1))
    tarn.log.info("%s %s", record.event_name, record.keys)
