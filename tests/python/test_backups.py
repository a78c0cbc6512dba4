"""On-demand backups and point-in-time recovery (issue 6), through boto3: CreateBackup,
DescribeBackup, ListBackups, DeleteBackup, RestoreTableFromBackup, UpdateContinuousBackups,
DescribeContinuousBackups and RestoreTableToPointInTime, with their errors; a corrupt backup
file; a backup taken while transactions run; restores of past seconds against a model."""

import datetime
import glob
import os
import threading
import time

import pytest

import conftest
from botocore.config import Config
from botocore.exceptions import ClientError

from conftest import canon, error_code, spawn_tarn, unique_name, wait_active

pytestmark = pytest.mark.issue6

WAIT_S = 30


def wait_until(predicate, what, timeout=WAIT_S):
    return conftest.wait_until(predicate, what, timeout)


def wait_backup(ddb, arn):
    def available():
        d = ddb.describe_backup(BackupArn=arn)["BackupDescription"]
        return d if d["BackupDetails"]["BackupStatus"] == "AVAILABLE" else None
    return wait_until(available, "backup AVAILABLE")


def wait_restored(ddb, name):
    def done():
        try:
            t = ddb.describe_table(TableName=name)["Table"]
        except ClientError:
            return None
        return t if t["TableStatus"] == "ACTIVE" else None
    return wait_until(done, f"restore of {name}")


def scan_all(ddb, name):
    return sorted((canon(i) for i in conftest.scan_items(ddb, name)), key=repr)


def fill(ddb, name, n, prefix="k"):
    for i in range(n):
        ddb.put_item(TableName=name, Item={
            "pk": {"S": f"{prefix}{i:04}"}, "n": {"N": str(i)},
            "g": {"S": "even" if i % 2 == 0 else "odd"},
            "m": {"M": {"l": {"L": [{"N": "1"}, {"SS": ["a", "b"]}]}, "b": {"B": b"\x00\x01"}}},
        })


def table_with_gsi(make_table, **extra):
    """A table keyed by `pk` with a global index `by-g` on `g`."""
    return make_table(
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                              {"AttributeName": "g", "AttributeType": "S"}],
        GlobalSecondaryIndexes=[{
            "IndexName": "by-g", "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
            "Projection": {"ProjectionType": "ALL"}}],
        **extra)


@pytest.fixture
def cleanup(ddb):
    names = []
    yield names
    for n in names:
        try:
            ddb.delete_table(TableName=n)
        except ClientError:
            pass


def test_backup_lifecycle_and_restore(ddb, make_table, cleanup):
    src = table_with_gsi(
        make_table, StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"})
    ddb.update_time_to_live(TableName=src, TimeToLiveSpecification={
        "Enabled": True, "AttributeName": "exp"})
    fill(ddb, src, 120)
    details = ddb.create_backup(TableName=src, BackupName="nightly-1")["BackupDetails"]
    assert details["BackupName"] == "nightly-1"
    assert details["BackupType"] == "USER"
    assert details["BackupStatus"] in ("CREATING", "AVAILABLE")
    assert details["BackupArn"].endswith(":table/" + src + "/backup/" + details["BackupArn"].split("/")[-1])
    assert isinstance(details["BackupCreationDateTime"], datetime.datetime)
    arn = details["BackupArn"]
    # Writes after the backup are not in it.
    ddb.put_item(TableName=src, Item={"pk": {"S": "after"}})
    d = wait_backup(ddb, arn)
    assert d["BackupDetails"]["BackupSizeBytes"] > 0
    assert d["SourceTableDetails"]["TableName"] == src
    assert d["SourceTableDetails"]["ItemCount"] == 120
    assert d["SourceTableDetails"]["KeySchema"] == [{"AttributeName": "pk", "KeyType": "HASH"}]
    features = d["SourceTableFeatureDetails"]
    assert features["GlobalSecondaryIndexes"][0]["IndexName"] == "by-g"
    assert features["StreamDescription"] == {"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"}
    assert features["TimeToLiveDescription"] == {"TimeToLiveStatus": "ENABLED", "AttributeName": "exp"}

    target = unique_name("restored")
    cleanup.append(target)
    t = ddb.restore_table_from_backup(TargetTableName=target, BackupArn=arn)["TableDescription"]
    assert t["TableName"] == target
    assert t["RestoreSummary"]["SourceBackupArn"] == arn
    assert t["RestoreSummary"]["SourceTableArn"].endswith(":table/" + src)
    t = wait_restored(ddb, target)
    assert t["RestoreSummary"]["RestoreInProgress"] is False
    expected = [i for i in scan_all(ddb, src) if i != canon({"pk": {"S": "after"}})]
    assert scan_all(ddb, target) == expected
    assert t["GlobalSecondaryIndexes"][0]["IndexName"] == "by-g"
    assert t["StreamSpecification"]["StreamViewType"] == "NEW_IMAGE"
    assert ddb.describe_time_to_live(TableName=target)["TimeToLiveDescription"]["TimeToLiveStatus"] == "ENABLED"
    q = ddb.query(TableName=target, IndexName="by-g", KeyConditionExpression="g = :g",
                  ExpressionAttributeValues={":g": {"S": "odd"}})
    assert q["Count"] == 60

    # The backup is listed (filters, paging) and can be deleted.
    second = ddb.create_backup(TableName=src, BackupName="nightly-2")["BackupDetails"]["BackupArn"]
    wait_backup(ddb, second)
    mine = ddb.list_backups(TableName=src)["BackupSummaries"]
    assert [b["BackupArn"] for b in mine] == [arn, second]
    assert mine[0]["TableName"] == src and mine[0]["BackupStatus"] == "AVAILABLE"
    page = ddb.list_backups(TableName=src, Limit=1)
    assert [b["BackupArn"] for b in page["BackupSummaries"]] == [arn]
    page = ddb.list_backups(TableName=src, Limit=1, ExclusiveStartBackupArn=page["LastEvaluatedBackupArn"])
    assert [b["BackupArn"] for b in page["BackupSummaries"]] == [second]
    assert "LastEvaluatedBackupArn" not in page
    future = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(hours=1)
    assert ddb.list_backups(TableName=src, TimeRangeLowerBound=future)["BackupSummaries"] == []
    assert ddb.list_backups(TableName=src, BackupType="SYSTEM")["BackupSummaries"] == []
    gone = ddb.delete_backup(BackupArn=arn)["BackupDescription"]
    assert gone["BackupDetails"]["BackupStatus"] == "DELETED"
    with pytest.raises(ClientError) as e:
        ddb.describe_backup(BackupArn=arn)
    assert error_code(e) == "BackupNotFoundException"
    ddb.delete_backup(BackupArn=second)


def test_restore_overrides(ddb, make_table, cleanup):
    src = table_with_gsi(make_table)
    fill(ddb, src, 30)
    arn = ddb.create_backup(TableName=src, BackupName="bk1")["BackupDetails"]["BackupArn"]
    wait_backup(ddb, arn)
    target = unique_name("override")
    cleanup.append(target)
    ddb.restore_table_from_backup(
        TargetTableName=target, BackupArn=arn, BillingModeOverride="PROVISIONED",
        ProvisionedThroughputOverride={"ReadCapacityUnits": 7, "WriteCapacityUnits": 3},
        GlobalSecondaryIndexOverride=[])
    t = wait_restored(ddb, target)
    assert t["ProvisionedThroughput"]["ReadCapacityUnits"] == 7
    assert "GlobalSecondaryIndexes" not in t
    assert len(scan_all(ddb, target)) == 30
    ddb.delete_backup(BackupArn=arn)


def test_backup_errors(ddb, table, cleanup):
    with pytest.raises(ClientError) as e:
        ddb.create_backup(TableName="no-such-table", BackupName="bk1")
    assert error_code(e) == "TableNotFoundException"
    with pytest.raises(ClientError) as e:
        ddb.create_backup(TableName=table, BackupName="a b")
    assert error_code(e) == "ValidationException"
    missing = f"arn:aws:dynamodb:us-east-1:000000000000:table/{table}/backup/01700000000000000-deadbeef"
    for call in (lambda: ddb.describe_backup(BackupArn=missing),
                 lambda: ddb.delete_backup(BackupArn=missing),
                 lambda: ddb.restore_table_from_backup(TargetTableName="x-restored", BackupArn=missing)):
        with pytest.raises(ClientError) as e:
            call()
        assert error_code(e) == "BackupNotFoundException"
    arn = ddb.create_backup(TableName=table, BackupName="bk1")["BackupDetails"]["BackupArn"]
    wait_backup(ddb, arn)
    with pytest.raises(ClientError) as e:
        ddb.restore_table_from_backup(TargetTableName=table, BackupArn=arn)
    assert error_code(e) == "TableAlreadyExistsException"
    ddb.delete_backup(BackupArn=arn)


def test_a_corrupt_backup_file_is_reported_and_nothing_is_restored():
    with spawn_tarn() as server:
        import boto3
        ddb = boto3.client("dynamodb", endpoint_url=server.endpoint, region_name="us-east-1",
                           aws_access_key_id="x", aws_secret_access_key="x")
        ddb.create_table(TableName="src", KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                         AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                         BillingMode="PAY_PER_REQUEST")
        fill(ddb, "src", 50)
        arn = ddb.create_backup(TableName="src", BackupName="bk1")["BackupDetails"]["BackupArn"]
        wait_backup(ddb, arn)
        (path,) = glob.glob(os.path.join(server.data_dir, "backups", "*.tbk"))
        with open(path, "r+b") as f:
            f.seek(os.path.getsize(path) // 2)
            b = f.read(1)
            f.seek(-1, os.SEEK_CUR)
            f.write(bytes([b[0] ^ 0xFF]))
        with pytest.raises(ClientError) as e:
            ddb.restore_table_from_backup(TargetTableName="dst", BackupArn=arn)
        assert error_code(e) == "ValidationException"
        assert "checksum" in e.value.response["Error"]["Message"]
        os.remove(path)
        with pytest.raises(ClientError) as e:
            ddb.restore_table_from_backup(TargetTableName="dst", BackupArn=arn)
        assert "missing" in e.value.response["Error"]["Message"]
        assert "dst" not in ddb.list_tables()["TableNames"]


def test_a_backup_during_transactions_restores_one_instant(ddb, table, cleanup):
    """Writers move amounts between accounts in transactions (the total never changes) and
    append numbered entries; every backup taken meanwhile holds the total, and a gap-free
    prefix of the entries."""
    accounts = 6
    for a in range(accounts):
        ddb.put_item(TableName=table, Item={"pk": {"S": f"acct{a}"}, "bal": {"N": "100"}})
    stop = threading.Event()
    errors = []

    def mover(seed):
        i = 0
        while not stop.is_set():
            a, b = (seed + i) % accounts, (seed + 2 * i + 1) % accounts
            if a != b:
                try:
                    ddb.transact_write_items(TransactItems=[
                        {"Update": {"TableName": table, "Key": {"pk": {"S": f"acct{a}"}},
                                    "UpdateExpression": "ADD bal :m", "ExpressionAttributeValues": {":m": {"N": "-1"}}}},
                        {"Update": {"TableName": table, "Key": {"pk": {"S": f"acct{b}"}},
                                    "UpdateExpression": "ADD bal :p", "ExpressionAttributeValues": {":p": {"N": "1"}}}},
                    ])
                except ClientError as e:
                    if error_code_of(e) not in ("TransactionConflictException", "TransactionCanceledException"):
                        errors.append(e)
            i += 1

    def appender():
        i = 0
        while not stop.is_set():
            ddb.put_item(TableName=table, Item={"pk": {"S": f"seq{i:06}"}})
            i += 1

    threads = [threading.Thread(target=mover, args=(s,)) for s in range(3)]
    threads.append(threading.Thread(target=appender))
    for t in threads:
        t.start()
    try:
        time.sleep(0.5)
        arns = []
        for k in range(3):
            arns.append(ddb.create_backup(TableName=table, BackupName=f"live-{k}")["BackupDetails"]["BackupArn"])
            time.sleep(0.3)
    finally:
        stop.set()
        for t in threads:
            t.join()
    assert not errors, errors
    for k, arn in enumerate(arns):
        wait_backup(ddb, arn)
        target = unique_name(f"instant{k}")
        cleanup.append(target)
        ddb.restore_table_from_backup(TargetTableName=target, BackupArn=arn)
        wait_restored(ddb, target)
        items = scan_all(ddb, target)
        pks = sorted(dict(i)["pk"][1] for i in items)
        total = sum(int(dict(i)["bal"][1]) for i in items if "bal" in dict(i))
        assert total == 100 * accounts, f"backup {k} is not one instant: total {total}"
        seq = [p for p in pks if p.startswith("seq")]
        assert seq == [f"seq{i:06}" for i in range(len(seq))], f"backup {k} has a gap"
        ddb.delete_backup(BackupArn=arn)


def error_code_of(e):
    return e.response["Error"]["Code"]


def pitr(ddb, table):
    return ddb.describe_continuous_backups(TableName=table)["ContinuousBackupsDescription"]


def test_continuous_backups_on_and_off(ddb, table):
    d = pitr(ddb, table)
    assert d["ContinuousBackupsStatus"] == "ENABLED"
    assert d["PointInTimeRecoveryDescription"]["PointInTimeRecoveryStatus"] == "DISABLED"
    d = ddb.update_continuous_backups(TableName=table, PointInTimeRecoverySpecification={
        "PointInTimeRecoveryEnabled": True, "RecoveryPeriodInDays": 10})["ContinuousBackupsDescription"]
    assert d["PointInTimeRecoveryDescription"]["PointInTimeRecoveryStatus"] == "ENABLED"
    assert d["PointInTimeRecoveryDescription"]["RecoveryPeriodInDays"] == 10
    d = wait_until(lambda: (p := pitr(ddb, table)["PointInTimeRecoveryDescription"]).get(
        "EarliestRestorableDateTime") and p, "earliest restorable time")
    assert d["EarliestRestorableDateTime"] <= d["LatestRestorableDateTime"]
    with pytest.raises(ClientError) as e:
        ddb.update_continuous_backups(TableName=table, PointInTimeRecoverySpecification={
            "PointInTimeRecoveryEnabled": True, "RecoveryPeriodInDays": 36})
    assert error_code(e) == "ValidationException"
    ddb.update_continuous_backups(TableName=table, PointInTimeRecoverySpecification={
        "PointInTimeRecoveryEnabled": False})
    assert pitr(ddb, table)["PointInTimeRecoveryDescription"]["PointInTimeRecoveryStatus"] == "DISABLED"
    for call in (lambda: pitr(ddb, "no-such-table"),
                 lambda: ddb.update_continuous_backups(TableName="no-such-table", PointInTimeRecoverySpecification={
                     "PointInTimeRecoveryEnabled": True})):
        with pytest.raises(ClientError) as e:
            call()
        assert error_code(e) == "TableNotFoundException"


def test_point_in_time_restores_each_second_of_the_past(ddb, table, cleanup):
    """Writes and deletes over several seconds, the table's state noted at each second
    boundary; a restore to each of those instants equals the noted state exactly, also after
    the table is deleted; latest restores the end state."""
    ddb.update_continuous_backups(TableName=table, PointInTimeRecoverySpecification={
        "PointInTimeRecoveryEnabled": True})
    wait_until(lambda: pitr(ddb, table)["PointInTimeRecoveryDescription"].get("EarliestRestorableDateTime"),
               "earliest restorable time")
    model, marks = {}, []
    for step in range(4):
        for i in range(15):
            k = f"k{(step * 7 + i) % 25:02}"
            if (step + i) % 4 == 3:
                ddb.delete_item(TableName=table, Key={"pk": {"S": k}})
                model.pop(k, None)
            else:
                item = {"pk": {"S": k}, "v": {"N": str(step * 100 + i)}, "step": {"S": str(step)}}
                ddb.put_item(TableName=table, Item=item)
                model[k] = canon(item)
        # The next whole second: every write above is before it, none after.
        now = time.time()
        mark = float(int(now) + 1)
        time.sleep(mark - now + 0.05)
        marks.append((mark, sorted(model.values(), key=repr)))
    for n, (mark, expected) in enumerate(marks[:3]):
        target = unique_name(f"pitr{n}")
        cleanup.append(target)
        ddb.restore_table_to_point_in_time(
            SourceTableName=table, TargetTableName=target,
            RestoreDateTime=datetime.datetime.fromtimestamp(mark, datetime.timezone.utc))
        wait_restored(ddb, target)
        assert scan_all(ddb, target) == expected, f"restore to second {n}"
    latest = unique_name("latest")
    cleanup.append(latest)
    t = ddb.restore_table_to_point_in_time(SourceTableName=table, TargetTableName=latest,
                                           UseLatestRestorableTime=True)["TableDescription"]
    assert t["TableStatus"] == "CREATING"
    wait_restored(ddb, latest)
    assert scan_all(ddb, latest) == marks[-1][1]

    # Deleted: still restorable by name within the recovery period.
    arn = ddb.describe_table(TableName=table)["Table"]["TableArn"]
    ddb.delete_table(TableName=table)
    after_delete = unique_name("deleted")
    cleanup.append(after_delete)
    ddb.restore_table_to_point_in_time(
        SourceTableArn=arn, TargetTableName=after_delete,
        RestoreDateTime=datetime.datetime.fromtimestamp(marks[1][0], datetime.timezone.utc))
    wait_restored(ddb, after_delete)
    assert scan_all(ddb, after_delete) == marks[1][1]


def test_point_in_time_errors(ddb, table):
    def restore(**kw):
        return ddb.restore_table_to_point_in_time(TargetTableName=unique_name("never"), **kw)

    with pytest.raises(ClientError) as e:
        restore(SourceTableName=table, UseLatestRestorableTime=True)
    assert error_code(e) == "PointInTimeRecoveryUnavailableException"
    with pytest.raises(ClientError) as e:
        restore(SourceTableName="no-such-table", UseLatestRestorableTime=True)
    assert error_code(e) == "TableNotFoundException"
    ddb.update_continuous_backups(TableName=table, PointInTimeRecoverySpecification={
        "PointInTimeRecoveryEnabled": True})
    wait_until(lambda: pitr(ddb, table)["PointInTimeRecoveryDescription"].get("EarliestRestorableDateTime"),
               "earliest restorable time")
    with pytest.raises(ClientError) as e:
        restore(SourceTableName=table,
                RestoreDateTime=datetime.datetime(2001, 1, 1, tzinfo=datetime.timezone.utc))
    assert error_code(e) == "InvalidRestoreTimeException"
    with pytest.raises(ClientError) as e:
        restore(SourceTableName=table)
    assert error_code(e) == "ValidationException"
    with pytest.raises(ClientError) as e:
        restore(SourceTableName=table, UseLatestRestorableTime=True,
                RestoreDateTime=datetime.datetime.now(datetime.timezone.utc))
    assert error_code(e) == "ValidationException"
    with pytest.raises(ClientError) as e:
        ddb.restore_table_to_point_in_time(SourceTableName=table, TargetTableName=table,
                                           UseLatestRestorableTime=True)
    assert error_code(e) == "TableAlreadyExistsException"


def test_the_cli_backs_up_restores_and_recovers(ddb, table, cleanup, tarn_server):
    """`tarn backup create|list|restore|delete` and `tarn pitr enable|status|restore` against
    the running server, as a person would type them."""
    import subprocess

    from conftest import _tarn_bin

    def tarn(*args):
        r = subprocess.run([_tarn_bin(), *args, "--endpoint", tarn_server.endpoint],
                           capture_output=True, text=True, timeout=120)
        assert r.returncode == 0, f"tarn {' '.join(args)} failed:\n{r.stdout}\n{r.stderr}"
        return r.stdout

    fill(ddb, table, 40)
    out = tarn("backup", "create", "--table", table, "--name", "by-cli")
    arn = out.splitlines()[0]
    assert arn.startswith("arn:aws:dynamodb:") and "/backup/" in arn
    assert "40 items" in out
    assert arn in tarn("backup", "list", "--table", table)
    target = unique_name("cli-restore")
    cleanup.append(target)
    backup_id = arn.rsplit("/", 1)[1]
    assert "restored 40 items" in tarn("backup", "restore", "--backup", backup_id, "--to", target)
    assert scan_all(ddb, target) == scan_all(ddb, table)
    tarn("backup", "delete", "--backup", arn)
    assert arn not in tarn("backup", "list", "--table", table)

    assert "ENABLED" in tarn("pitr", "enable", "--table", table, "--days", "3")
    status = tarn("pitr", "status", "--table", table)
    assert "recovery period: 3 days" in status and "restorable from" in status
    ddb.delete_item(TableName=table, Key={"pk": {"S": "k0000"}})
    latest = unique_name("cli-latest")
    cleanup.append(latest)
    assert "restored 39 items" in tarn("pitr", "restore", "--table", table, "--to", latest, "--latest")
    r = subprocess.run([_tarn_bin(), "pitr", "restore", "--table", table, "--to", unique_name("x"),
                        "--at", "2001-01-01T00:00:00Z", "--endpoint", tarn_server.endpoint],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode != 0 and "InvalidRestoreTimeException" in r.stderr


def test_acknowledged_writes_survive_kill_9_in_the_pitr_log(tmp_path):
    """Writers put items while PITR is on; the server is killed with SIGKILL mid-load. After a
    restart, a restore to the latest time holds every acknowledged write."""
    import boto3

    data = str(tmp_path / "data")

    def client(server):
        return boto3.client("dynamodb", endpoint_url=server.endpoint, region_name="us-east-1",
                            aws_access_key_id="x", aws_secret_access_key="x",
                            config=Config(retries={"max_attempts": 0}))

    acked = {}
    lock = threading.Lock()
    with spawn_tarn(data_dir=data) as server:
        ddb = client(server)
        ddb.create_table(TableName="live", KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                         AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                         BillingMode="PAY_PER_REQUEST")
        ddb.update_continuous_backups(TableName="live", PointInTimeRecoverySpecification={
            "PointInTimeRecoveryEnabled": True})
        wait_until(lambda: pitr(ddb, "live")["PointInTimeRecoveryDescription"].get("EarliestRestorableDateTime"),
                   "earliest restorable time")

        def writer(w):
            c = client(server)
            for i in range(100000):
                try:
                    c.put_item(TableName="live", Item={"pk": {"S": f"w{w}-{i % 50}"}, "v": {"N": str(i)}})
                except Exception:
                    return
                with lock:
                    acked[f"w{w}-{i % 50}"] = i

        threads = [threading.Thread(target=writer, args=(w,)) for w in range(4)]
        for t in threads:
            t.start()
        wait_until(lambda: len(acked) >= 150 and sum(acked.values()) > 3000, "enough writes")
        server.kill()
        for t in threads:
            t.join()
    with spawn_tarn(data_dir=data) as server:
        ddb = client(server)
        ddb.restore_table_to_point_in_time(SourceTableName="live", TargetTableName="after-crash",
                                           UseLatestRestorableTime=True)
        wait_restored(ddb, "after-crash")
        items = ddb.scan(TableName="after-crash", ConsistentRead=True)["Items"]
        got = {i["pk"]["S"]: int(i["v"]["N"]) for i in items}
        for k, v in acked.items():
            # A write in flight when the server died may or may not be there: never older.
            assert got.get(k, -1) >= v, f"{k}: acknowledged {v}, restored {got.get(k)}"
