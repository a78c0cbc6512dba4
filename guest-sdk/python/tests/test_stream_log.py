import json
import types
from decimal import Decimal

import pytest

import tarn
from tarn.stream import BatchFailed, Err, StreamRecord, handle_batch, per_record

BATCH = json.dumps([
    {"eventID": "1", "eventName": "INSERT", "dynamodb": {"Keys": {"id": {"S": "a"}},
     "NewImage": {"id": {"S": "a"}, "n": {"N": "1"}}, "SequenceNumber": "100"}},
    {"eventID": "2", "eventName": "REMOVE", "userIdentity": {"type": "Service", "principalId": "dynamodb.amazonaws.com"},
     "dynamodb": {"Keys": {"id": {"S": "b"}}, "OldImage": {"id": {"S": "b"}, "n": {"N": "2"}}, "SequenceNumber": "101"}},
    {"eventID": "3", "eventName": "MODIFY", "dynamodb": {"Keys": {"id": {"S": "a"}},
     "OldImage": {"id": {"S": "a"}}, "NewImage": {"id": {"S": "a"}, "n": {"N": "5"}}, "SequenceNumber": "102"}},
])


def test_parses_records():
    rs = StreamRecord.parse_batch(BATCH)
    assert [r.event_name for r in rs] == ["INSERT", "REMOVE", "MODIFY"]
    assert rs[0].new_image == {"id": "a", "n": Decimal(1)} and rs[0].old_image is None and not rs[0].by_ttl
    assert rs[1].by_ttl and rs[1].old_image["n"] == 2 and rs[1].keys == {"id": "b"}
    assert rs[2].sequence_number == "102"


def test_batch_results():
    assert handle_batch(lambda rs: None, BATCH) == []
    assert handle_batch(lambda rs: [r.sequence_number for r in rs if r.event_name == "REMOVE"], BATCH) == ["101"]
    with pytest.raises(BatchFailed, match="ValueError: nope"):
        handle_batch(lambda rs: (_ for _ in ()).throw(ValueError("nope")), BATCH)
    with pytest.raises(BatchFailed):
        handle_batch(lambda rs: None, "{not json")


def test_per_record_fails_later_records_of_the_same_item():
    seen = []

    def one(record):
        seen.append(record.sequence_number)
        if record.sequence_number == "100":
            raise RuntimeError("first record of a fails")

    host = tarn.testing.set_tables_handler(lambda op, req: {})
    assert handle_batch(per_record(one), BATCH) == ["100", "102"]
    assert seen == ["100", "101"]  # 102 (same item as 100) was not applied out of order
    assert host.logs[0][0] == "warn" and "first record of a fails" in host.logs[0][1]


def test_decorators_export_the_handler_classes():
    module = types.ModuleType("fake_stream")
    exec(
        "import tarn\n"
        "@tarn.record_handler\n"
        "def on_change(record):\n    if record.event_name == 'REMOVE': raise ValueError('x')\n"
        "@tarn.schedule_handler\n"
        "def tick(at):\n    if at == 'bad': raise RuntimeError('tick failed')\n",
        module.__dict__,
    )
    tarn.testing.set_tables_handler(lambda op, req: {})
    assert module.Stream().handle(BATCH) == ["101"]
    assert callable(module.on_change)  # the function itself is left as it was
    module.Schedule().handle("2026-01-01T00:00:00Z")
    with pytest.raises(Err) as e:
        module.Schedule().handle("bad")
    assert "tick failed" in e.value.value
    with pytest.raises(Err):
        module.Stream().handle("[{}]")


def test_logging_goes_to_the_host():
    import logging

    host = tarn.testing.set_tables_handler(lambda op, req: {})
    tarn.log.info("created %s", "t1")
    tarn.log.error("plain %s")
    tarn.log.install()
    logging.getLogger("x").warning("from logging")
    logging.getLogger("x").debug("too low")
    assert host.logs == [("info", "created t1"), ("error", "plain %s"), ("warn", "from logging")]
    with pytest.raises(ValueError):
        tarn.host.write_log("loud", "x")
