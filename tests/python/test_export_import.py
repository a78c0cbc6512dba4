"""Export and import (issue 6), through boto3: ExportTableToPointInTime, DescribeExport,
ListExports, ImportTable, DescribeImport and ListImports with their errors; DynamoDB's S3
export layout on disk; a round trip of every attribute type; exports of a past instant; CSV
with a header line, with HeaderList and other delimiters; bad source lines counted in
ErrorCount; jobs interrupted by a crash; and `tarn export` / `tarn import` on the command
line."""

import base64
import datetime
import gzip
import hashlib
import json
import os
import re
import subprocess
import time

import pytest

import conftest
from botocore.exceptions import ClientError

from conftest import _tarn_bin, canon, error_code, error_message, spawn_tarn, unique_name, AwsFactory

pytestmark = pytest.mark.issue6

WAIT_S = 60
ARN_ID = r"\d{14}-[0-9a-f]{8}"


def wait_until(predicate, what, timeout=WAIT_S):
    return conftest.wait_until(predicate, what, timeout)


def wait_export(ddb, arn):
    def done():
        d = ddb.describe_export(ExportArn=arn)["ExportDescription"]
        return d if d["ExportStatus"] != "IN_PROGRESS" else None
    d = wait_until(done, "export")
    assert d["ExportStatus"] == "COMPLETED", d
    return d


def wait_import(ddb, arn, status="COMPLETED"):
    def done():
        d = ddb.describe_import(ImportArn=arn)["ImportTableDescription"]
        return d if d["ImportStatus"] != "IN_PROGRESS" else None
    d = wait_until(done, "import")
    assert d["ImportStatus"] == status, d
    return d


def scan_all(ddb, name):
    """Every item of a table, exactly as Scan returns them, in one order."""
    return ordered(conftest.scan_items(ddb, name))


def ordered(items):
    """Items in one order, whatever order they were read in."""
    return sorted(items, key=lambda i: repr(canon(i)))


def enable_pitr(ddb, table, wait_earliest=False):
    ddb.update_continuous_backups(TableName=table, PointInTimeRecoverySpecification={
        "PointInTimeRecoveryEnabled": True})
    if wait_earliest:
        wait_until(lambda: ddb.describe_continuous_backups(TableName=table)
                   ["ContinuousBackupsDescription"]["PointInTimeRecoveryDescription"]
                   .get("EarliestRestorableDateTime"), "earliest restorable time")


def table_arn(ddb, table):
    return ddb.describe_table(TableName=table)["Table"]["TableArn"]


def file_bucket(path):
    return "file://" + str(path)


def creation(name, hash_key=("pk", "S"), range_key=None, **extra):
    params = {
        "TableName": name,
        "AttributeDefinitions": [{"AttributeName": hash_key[0], "AttributeType": hash_key[1]}],
        "KeySchema": [{"AttributeName": hash_key[0], "KeyType": "HASH"}],
        "BillingMode": "PAY_PER_REQUEST",
    }
    if range_key:
        params["AttributeDefinitions"].append({"AttributeName": range_key[0], "AttributeType": range_key[1]})
        params["KeySchema"].append({"AttributeName": range_key[0], "KeyType": "RANGE"})
    params.update(extra)
    return params


@pytest.fixture
def cleanup(ddb):
    names = []
    yield names
    for n in names:
        try:
            ddb.delete_table(TableName=n)
        except ClientError:
            pass


def every_type_items():
    """Items holding every attribute type, nested, with edge values."""
    all_bytes = bytes(range(256))
    deep = {"S": "bottom"}
    for i in range(20):
        deep = {"M": {f"level{i}": deep, "list": {"L": [deep]}}} if i % 5 == 0 else {"L": [deep, {"N": str(i)}]}
    items = [
        {"pk": {"S": "scalars"}, "sk": {"N": "1"},
         "s": {"S": "héllo wörld ✓ \u0000 \"quoted\" \n tab\t"}, "empty": {"S": ""},
         "n_big": {"N": "1E+125"}, "n_small": {"N": "-0.000000000000000000000000000000000000001"},
         "n_digits": {"N": "12345678901234567890123456789012345678"}, "n_neg": {"N": "-42.5"},
         "n_zero": {"N": "0"}, "b": {"B": all_bytes}, "b_empty": {"B": b""},
         "t": {"BOOL": True}, "f": {"BOOL": False}, "null": {"NULL": True}},
        {"pk": {"S": "sets"}, "sk": {"N": "2"},
         "ss": {"SS": ["b", "a", "ü", " "]}, "ns": {"NS": ["1E+125", "-1", "0.5", "3"]},
         "bs": {"BS": [b"\x00", b"\xff\xfe", b"abc"]}},
        {"pk": {"S": "nested"}, "sk": {"N": "-3.25"},
         "m": {"M": {"inner": {"M": {"l": {"L": [{"N": "1"}, {"SS": ["x"]}, {"NULL": True},
                                                  {"M": {"b": {"B": b"\x01\x02"}}}]}}},
                     "empty_m": {"M": {}}, "empty_l": {"L": []}, "bs": {"BS": [b"z"]},
                     "ns": {"NS": ["7"]}, "bool": {"BOOL": False}}},
         "l": {"L": [{"L": [{"L": [{"S": "three deep"}]}]}, {"M": {"k": {"N": "-0.1"}}}]},
         "deep": deep, "g": {"S": "index-me"}},
        {"pk": {"S": "binary key?"}, "sk": {"N": "99999999999999999999999999999999999999"},
         "g": {"S": "index-me"}, "unicode ключ": {"S": "значение"}},
    ]
    for i in range(60):
        items.append({"pk": {"S": f"bulk{i:03}"}, "sk": {"N": str(i)}, "v": {"N": str(i * 1.5)},
                      "payload": {"B": os.urandom(64)}, "tags": {"SS": [f"t{i}", "common"]}})
    return items


def put_all(ddb, table, items):
    for start in range(0, len(items), 25):
        ddb.batch_write_item(RequestItems={table: [{"PutRequest": {"Item": i}} for i in items[start:start + 25]]})


GSI = [{"IndexName": "byG", "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
        "Projection": {"ProjectionType": "ALL"}}]


def test_round_trip_of_every_attribute_type(ddb, make_table, cleanup, tmp_path):
    """Export a table with every attribute type (nested maps and lists, binary, big and tiny
    numbers, sets) in DynamoDB's S3 layout, import it into a new table: a Scan of both
    answers the same items, byte for byte; the new table's index answers too."""
    table = make_table(("pk", "S"), ("sk", "N"))
    items = every_type_items()
    put_all(ddb, table, items)
    enable_pitr(ddb, table)
    arn = table_arn(ddb, table)
    before = time.time()
    started = ddb.export_table_to_point_in_time(
        TableArn=arn, S3Bucket=file_bucket(tmp_path), S3Prefix="exports/full",
        ExportFormat="DYNAMODB_JSON")["ExportDescription"]
    assert re.fullmatch(re.escape(arn) + "/export/" + ARN_ID, started["ExportArn"])
    assert started["ExportStatus"] in ("IN_PROGRESS", "COMPLETED")
    done = wait_export(ddb, started["ExportArn"])
    desc = ddb.describe_table(TableName=table)["Table"]
    assert done["TableArn"] == arn and done["TableId"] == desc["TableId"]
    assert done["S3Bucket"] == file_bucket(tmp_path) and done["S3Prefix"] == "exports/full"
    assert done["ExportFormat"] == "DYNAMODB_JSON" and done["ExportType"] == "FULL_EXPORT"
    assert done["ItemCount"] == len(items)
    assert done["BilledSizeBytes"] > 0
    assert before - 1 <= done["StartTime"].timestamp() <= done["EndTime"].timestamp() <= time.time() + 1
    assert abs(done["ExportTime"].timestamp() - done["StartTime"].timestamp()) < 1
    export_id = done["ExportArn"].rsplit("/", 1)[1]
    assert done["ExportManifest"] == f"exports/full/AWSDynamoDB/{export_id}/manifest-summary.json"

    # The layout on disk.
    root = tmp_path / "exports" / "full" / "AWSDynamoDB" / export_id
    assert (root / "_started").is_file() and (root / "_started").stat().st_size == 0
    summary = json.loads((root / "manifest-summary.json").read_text())
    assert summary["version"] == "2020-06-30"
    assert summary["exportArn"] == done["ExportArn"] and summary["tableArn"] == arn
    assert summary["tableId"] == desc["TableId"] and summary["itemCount"] == len(items)
    assert summary["s3Bucket"] == file_bucket(tmp_path) and summary["s3Prefix"] == "exports/full"
    assert summary["outputFormat"] == "DYNAMODB_JSON" and summary["exportType"] == "FULL_EXPORT"
    assert summary["manifestFilesS3Key"] == f"exports/full/AWSDynamoDB/{export_id}/manifest-files.json"
    for key in ("startTime", "endTime", "exportTime"):
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", summary[key]), summary[key]
    manifest_files = (root / "manifest-files.json").read_text()
    assert (root / "manifest-files.md5").read_text() == hashlib.md5(manifest_files.encode()).hexdigest()
    exported = []
    for line in manifest_files.splitlines():
        entry = json.loads(line)
        assert list(entry) == ["itemCount", "md5Checksum", "etag", "dataFileS3Key"]
        assert re.fullmatch(rf"exports/full/AWSDynamoDB/{export_id}/data/[a-z2-7]{{26}}\.json\.gz",
                            entry["dataFileS3Key"])
        data = (tmp_path / entry["dataFileS3Key"]).read_bytes()
        assert entry["etag"] == hashlib.md5(data).hexdigest()
        assert entry["md5Checksum"] == base64.b64encode(hashlib.md5(data).digest()).decode()
        lines = gzip.decompress(data).decode().splitlines()
        assert len(lines) == entry["itemCount"]
        for l in lines:
            obj = json.loads(l)
            assert list(obj) == ["Item"]
            exported.append(obj["Item"])
    assert len(exported) == len(items)

    # Import it into a new table with an index.
    target = unique_name("roundtrip")
    cleanup.append(target)
    params = creation(target, ("pk", "S"), ("sk", "N"), GlobalSecondaryIndexes=GSI)
    params["AttributeDefinitions"].append({"AttributeName": "g", "AttributeType": "S"})
    imp = ddb.import_table(
        S3BucketSource={"S3Bucket": file_bucket(tmp_path), "S3KeyPrefix": "exports/full"},
        InputFormat="DYNAMODB_JSON", InputCompressionType="GZIP",
        TableCreationParameters=params)["ImportTableDescription"]
    new_arn = table_arn(ddb, target)
    assert re.fullmatch(re.escape(new_arn) + "/import/" + ARN_ID, imp["ImportArn"])
    done = wait_import(ddb, imp["ImportArn"])
    assert done["TableArn"] == new_arn
    assert done["TableId"] == ddb.describe_table(TableName=target)["Table"]["TableId"]
    assert done["S3BucketSource"] == {"S3Bucket": file_bucket(tmp_path), "S3KeyPrefix": "exports/full"}
    assert done["InputFormat"] == "DYNAMODB_JSON" and done["InputCompressionType"] == "GZIP"
    assert done["TableCreationParameters"]["TableName"] == target
    assert done["TableCreationParameters"]["GlobalSecondaryIndexes"][0]["IndexName"] == "byG"
    assert done["ProcessedItemCount"] == len(items)
    assert done["ImportedItemCount"] == len(items)
    assert done["ErrorCount"] == 0
    assert done["ProcessedSizeBytes"] > 0
    assert done["StartTime"] <= done["EndTime"]

    assert scan_all(ddb, target) == scan_all(ddb, table)
    got = ddb.query(TableName=target, IndexName="byG", KeyConditionExpression="g = :g",
                    ExpressionAttributeValues={":g": {"S": "index-me"}})["Items"]
    assert sorted(i["pk"]["S"] for i in got) == ["binary key?", "nested"]
    # The imported table's exact counts: every item, and the two that carry the index key.
    t = ddb.describe_table(TableName=target)["Table"]
    assert t["ItemCount"] == len(items)
    assert t["GlobalSecondaryIndexes"][0]["ItemCount"] == 2


def test_buckets_map_to_the_export_root(tmp_path):
    """`--export-root DIR`: S3Bucket `b` with S3Prefix `p` is DIR/b/p/...; `..` cannot climb
    out; ImportTable reads the same bucket back."""
    root = tmp_path / "root"
    with spawn_tarn("--export-root", str(root)) as server:
        ddb = AwsFactory(server.endpoint).client()
        ddb.create_table(**creation("src"))
        for i in range(30):
            ddb.put_item(TableName="src", Item={"pk": {"S": f"k{i}"}, "v": {"N": str(i)}})
        enable_pitr(ddb, "src")
        d = ddb.export_table_to_point_in_time(TableArn=table_arn(ddb, "src"), S3Bucket="my-bucket",
                                              S3Prefix="nightly/2024")["ExportDescription"]
        d = wait_export(ddb, d["ExportArn"])
        export_id = d["ExportArn"].rsplit("/", 1)[1]
        assert (root / "my-bucket" / "nightly" / "2024" / "AWSDynamoDB" / export_id /
                "manifest-summary.json").is_file()
        for bucket, prefix in [("my-bucket", "../../escape"), ("my-bucket", "a/./b"),
                               ("a/b", None), ("..", None), ("file://relative/x", None)]:
            kw = {"S3Prefix": prefix} if prefix else {}
            with pytest.raises(ClientError) as e:
                ddb.export_table_to_point_in_time(TableArn=table_arn(ddb, "src"), S3Bucket=bucket, **kw)
            assert error_code(e) == "ValidationException", (bucket, prefix)
        with pytest.raises(ClientError) as e:
            ddb.import_table(S3BucketSource={"S3Bucket": "my-bucket", "S3KeyPrefix": "x/../../.."},
                             InputFormat="DYNAMODB_JSON", TableCreationParameters=creation("never"))
        assert error_code(e) == "ValidationException"
        assert "never" not in ddb.list_tables()["TableNames"]

        imp = ddb.import_table(S3BucketSource={"S3Bucket": "my-bucket", "S3KeyPrefix": "nightly/"},
                               InputFormat="DYNAMODB_JSON", InputCompressionType="GZIP",
                               TableCreationParameters=creation("copy"))["ImportTableDescription"]
        done = wait_import(ddb, imp["ImportArn"])
        assert done["ImportedItemCount"] == 30
        assert scan_all(ddb, "copy") == scan_all(ddb, "src")

        # Without --export-root the root is <data dir>/exports.
    with spawn_tarn() as server:
        ddb = AwsFactory(server.endpoint).client()
        ddb.create_table(**creation("tbl1"))
        enable_pitr(ddb, "tbl1")
        d = ddb.export_table_to_point_in_time(TableArn=table_arn(ddb, "tbl1"), S3Bucket="b")["ExportDescription"]
        d = wait_export(ddb, d["ExportArn"])
        assert d["ExportManifest"].startswith("AWSDynamoDB/")
        assert os.path.isfile(os.path.join(server.data_dir, "exports", "b", d["ExportManifest"]))


def test_export_errors(ddb, table, tmp_path):
    arn = table_arn(ddb, table)
    bucket = file_bucket(tmp_path)
    with pytest.raises(ClientError) as e:
        ddb.export_table_to_point_in_time(TableArn=arn, S3Bucket=bucket)
    assert error_code(e) == "PointInTimeRecoveryUnavailableException"
    with pytest.raises(ClientError) as e:
        ddb.export_table_to_point_in_time(TableArn=arn.replace(table, "no-such-table"), S3Bucket=bucket)
    assert error_code(e) == "TableNotFoundException"
    with pytest.raises(ClientError) as e:
        ddb.export_table_to_point_in_time(TableArn="not-an-arn", S3Bucket=bucket)
    assert error_code(e) == "ValidationException"
    enable_pitr(ddb, table, wait_earliest=True)
    with pytest.raises(ClientError) as e:
        ddb.export_table_to_point_in_time(TableArn=arn, S3Bucket=bucket, ExportFormat="ION")
    assert error_code(e) == "ValidationException" and "ION is not supported" in error_message(e)
    with pytest.raises(ClientError) as e:
        ddb.export_table_to_point_in_time(
            TableArn=arn, S3Bucket=bucket, ExportType="INCREMENTAL_EXPORT",
            IncrementalExportSpecification={"ExportFromTime": datetime.datetime(2024, 1, 1),
                                            "ExportToTime": datetime.datetime(2024, 1, 2)})
    assert error_code(e) == "ValidationException" and "INCREMENTAL_EXPORT" in error_message(e)
    for when in [datetime.datetime(2001, 1, 1, tzinfo=datetime.timezone.utc),
                 datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(hours=1)]:
        with pytest.raises(ClientError) as e:
            ddb.export_table_to_point_in_time(TableArn=arn, S3Bucket=bucket, ExportTime=when)
        assert error_code(e) == "InvalidExportTimeException", when
    with pytest.raises(ClientError) as e:
        ddb.describe_export(ExportArn=arn + "/export/01700000000000-0a1b2c3d")
    assert error_code(e) == "ExportNotFoundException"
    with pytest.raises(ClientError) as e:
        ddb.describe_export(ExportArn="arn:aws:dynamodb:us-east-1:000000000000:nothing-here")
    assert error_code(e) == "ExportNotFoundException"
    with pytest.raises(ClientError) as e:
        ddb.list_exports(TableArn="bogus")
    assert error_code(e) == "ValidationException"
    with pytest.raises(ClientError) as e:
        ddb.list_exports(NextToken="bogus")
    assert error_code(e) == "ValidationException"


def test_describe_list_and_client_tokens_of_exports(ddb, make_table, tmp_path):
    a, b = make_table(), make_table()
    for t in (a, b):
        ddb.put_item(TableName=t, Item={"pk": {"S": "x"}})
        enable_pitr(ddb, t)
    arns = []
    for n, t in enumerate([a, a, b]):
        d = ddb.export_table_to_point_in_time(TableArn=table_arn(ddb, t), S3Bucket=file_bucket(tmp_path),
                                              S3Prefix=f"e{n}")["ExportDescription"]
        wait_export(ddb, d["ExportArn"])
        arns.append(d["ExportArn"])
    listed = ddb.list_exports(TableArn=table_arn(ddb, a))["ExportSummaries"]
    assert [s["ExportArn"] for s in listed] == [arns[1], arns[0]], "newest first, one table"
    assert all(s["ExportStatus"] == "COMPLETED" and s["ExportType"] == "FULL_EXPORT" for s in listed)
    seen, kw = [], {}
    while True:
        page = ddb.list_exports(MaxResults=1, **kw)
        assert len(page["ExportSummaries"]) <= 1
        seen += [s["ExportArn"] for s in page["ExportSummaries"]]
        if "NextToken" not in page:
            break
        kw["NextToken"] = page["NextToken"]
    assert seen.index(arns[2]) < seen.index(arns[1]) < seen.index(arns[0])
    assert len(seen) == len(set(seen))

    # ClientToken: the same request is the same export; different parameters conflict.
    kw = dict(TableArn=table_arn(ddb, a), S3Bucket=file_bucket(tmp_path), S3Prefix="tok", ClientToken="tok-1")
    first = ddb.export_table_to_point_in_time(**kw)["ExportDescription"]["ExportArn"]
    again = ddb.export_table_to_point_in_time(**kw)["ExportDescription"]["ExportArn"]
    assert first == again
    with pytest.raises(ClientError) as e:
        ddb.export_table_to_point_in_time(**{**kw, "S3Prefix": "other"})
    assert error_code(e) == "ExportConflictException"
    wait_export(ddb, first)


def test_export_of_a_past_instant(ddb, make_table, cleanup, tmp_path):
    """ExportTime in the PITR window exports the table as it was then."""
    table = make_table()
    enable_pitr(ddb, table, wait_earliest=True)
    for i in range(20):
        ddb.put_item(TableName=table, Item={"pk": {"S": f"k{i:02}"}, "v": {"N": "1"}})
    now = time.time()
    mark = float(int(now) + 1)
    time.sleep(mark - now + 0.05)
    then = scan_all(ddb, table)
    for i in range(10):
        ddb.put_item(TableName=table, Item={"pk": {"S": f"k{i:02}"}, "v": {"N": "2"}})
        ddb.delete_item(TableName=table, Key={"pk": {"S": f"k{i + 10:02}"}})
    ddb.put_item(TableName=table, Item={"pk": {"S": "new"}})
    time.sleep(0.1)
    d = ddb.export_table_to_point_in_time(
        TableArn=table_arn(ddb, table), S3Bucket=file_bucket(tmp_path),
        ExportTime=datetime.datetime.fromtimestamp(mark, datetime.timezone.utc))["ExportDescription"]
    d = wait_export(ddb, d["ExportArn"])
    assert d["ExportTime"].timestamp() == mark
    assert d["ItemCount"] == 20
    target = unique_name("past")
    cleanup.append(target)
    imp = ddb.import_table(S3BucketSource={"S3Bucket": file_bucket(tmp_path)}, InputFormat="DYNAMODB_JSON",
                           InputCompressionType="GZIP", TableCreationParameters=creation(target))
    wait_import(ddb, imp["ImportTableDescription"]["ImportArn"])
    assert scan_all(ddb, target) == then
    assert scan_all(ddb, table) != then


def write_lines(path, lines, compress=False):
    data = "".join(l + "\n" for l in lines).encode()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(gzip.compress(data) if compress else data)


def test_dynamodb_json_gzip_and_none_and_a_single_file(ddb, cleanup, tmp_path):
    """Loose DynamoDB JSON files (no export manifest): every *.json under the prefix with NONE,
    every *.json.gz with GZIP, or the one file the prefix names."""
    lines = [json.dumps({"Item": {"pk": {"S": f"k{i}"}, "n": {"N": str(i)}}}) for i in range(10)]
    write_lines(tmp_path / "plain" / "a.json", lines[:5])
    write_lines(tmp_path / "plain" / "sub" / "b.json", lines[5:])
    write_lines(tmp_path / "plain" / "ignored.txt", ["not read"])
    write_lines(tmp_path / "zipped" / "a.json.gz", lines, compress=True)
    for prefix, compression, expected in [("plain/", "NONE", 10), ("zipped", "GZIP", 10),
                                          ("plain/sub/b.json", "NONE", 5)]:
        target = unique_name("json")
        cleanup.append(target)
        imp = ddb.import_table(S3BucketSource={"S3Bucket": file_bucket(tmp_path), "S3KeyPrefix": prefix},
                               InputFormat="DYNAMODB_JSON", InputCompressionType=compression,
                               TableCreationParameters=creation(target))["ImportTableDescription"]
        d = wait_import(ddb, imp["ImportArn"])
        assert (d["ImportedItemCount"], d["ErrorCount"]) == (expected, 0), prefix
        assert len(scan_all(ddb, target)) == expected


def test_csv_with_a_header_line(ddb, cleanup, tmp_path):
    """The first line names the columns; values are strings except key attributes typed by
    the AttributeDefinitions; quoted fields; an empty field is no attribute; gzip too."""
    text = ('pk,sk,name,note,bin\n'
            'a,1,Ada,"commas, ""quotes"" and\nnewlines",AAEC\n'
            'b,2.50,Bob,,\n'
            'c,-3,Cy,plain,\n')
    (tmp_path / "csv").mkdir()
    (tmp_path / "csv" / "people.csv").write_text(text)
    (tmp_path / "csvgz").mkdir()
    (tmp_path / "csvgz" / "people.csv.gz").write_bytes(gzip.compress(text.encode()))
    expected = [
        {"pk": {"S": "a"}, "sk": {"N": "1"}, "name": {"S": "Ada"},
         "note": {"S": 'commas, "quotes" and\nnewlines'}, "bin": {"S": "AAEC"}},
        {"pk": {"S": "b"}, "sk": {"N": "2.5"}, "name": {"S": "Bob"}},
        {"pk": {"S": "c"}, "sk": {"N": "-3"}, "name": {"S": "Cy"}, "note": {"S": "plain"}},
    ]
    for prefix, compression in [("csv/", "NONE"), ("csvgz/", "GZIP")]:
        target = unique_name("csv")
        cleanup.append(target)
        imp = ddb.import_table(S3BucketSource={"S3Bucket": file_bucket(tmp_path), "S3KeyPrefix": prefix},
                               InputFormat="CSV", InputCompressionType=compression,
                               TableCreationParameters=creation(target, ("pk", "S"), ("sk", "N")))
        d = wait_import(ddb, imp["ImportTableDescription"]["ImportArn"])
        assert (d["ImportedItemCount"], d["ErrorCount"], d["ProcessedItemCount"]) == (3, 0, 3)
        assert d["InputFormat"] == "CSV"
        assert scan_all(ddb, target) == ordered(expected)


def test_csv_with_header_list_and_other_delimiters(ddb, cleanup, tmp_path):
    """HeaderList names the columns (the first line is data); Delimiter `;` or tab; a binary
    key is base64."""
    for delimiter, name in [(";", "semi"), ("\t", "tab")]:
        text = f"AAE={delimiter}1{delimiter}one\nAAI={delimiter}2{delimiter}two\n"
        (tmp_path / name).mkdir()
        (tmp_path / name / "data.csv").write_text(text)
        target = unique_name(name)
        cleanup.append(target)
        opts = {"Csv": {"Delimiter": delimiter, "HeaderList": ["id", "count", "label"]}}
        imp = ddb.import_table(S3BucketSource={"S3Bucket": file_bucket(tmp_path), "S3KeyPrefix": name + "/"},
                               InputFormat="CSV", InputFormatOptions=opts,
                               TableCreationParameters=creation(target, ("id", "B")))["ImportTableDescription"]
        assert imp["InputFormatOptions"] == opts
        done = wait_import(ddb, imp["ImportArn"])
        assert done["ImportedItemCount"] == 2 and done["ErrorCount"] == 0
        items = sorted(ddb.scan(TableName=target)["Items"], key=lambda i: i["id"]["B"])
        assert items == [
            {"id": {"B": b"\x00\x01"}, "count": {"S": "1"}, "label": {"S": "one"}},
            {"id": {"B": b"\x00\x02"}, "count": {"S": "2"}, "label": {"S": "two"}},
        ], delimiter


def test_bad_lines_are_counted_and_good_ones_land(ddb, cleanup, tmp_path, tarn_server):
    good = [{"pk": {"S": f"good{i}"}, "n": {"N": str(i)}} for i in range(6)]
    lines = [json.dumps({"Item": good[0]}),
             "this is not json",
             json.dumps({"Item": {"n": {"N": "1"}}}),                          # no key
             json.dumps({"Item": {"pk": {"N": "1"}}}),                         # wrong key type
             json.dumps({"Item": good[1]}),
             json.dumps({"Item": {"pk": {"S": "big"}, "v": {"S": "x" * 410_000}}}),  # too large
             json.dumps({"Item": {"pk": {"S": "e"}, "s": {"SS": []}}}),        # empty set
             json.dumps({"Item": {"pk": {"S": "n"}, "v": {"N": "1e400"}}}),    # bad number
             json.dumps({"NotItem": good[2]}),
             "",
             json.dumps({"Item": good[2]}),
             json.dumps({"Item": {"pk": {"S": ""}}}),                          # empty key
             json.dumps({"Item": good[3]})]
    write_lines(tmp_path / "mixed" / "a.json", lines)
    write_lines(tmp_path / "mixed" / "b.json", [json.dumps({"Item": g}) for g in good[4:]] + ["{broken"])
    target = unique_name("bad")
    cleanup.append(target)
    imp = ddb.import_table(S3BucketSource={"S3Bucket": file_bucket(tmp_path), "S3KeyPrefix": "mixed"},
                           InputFormat="DYNAMODB_JSON", TableCreationParameters=creation(target))
    d = wait_import(ddb, imp["ImportTableDescription"]["ImportArn"])
    assert d["ImportedItemCount"] == 6
    assert d["ErrorCount"] == 9
    assert d["ProcessedItemCount"] == 15
    assert scan_all(ddb, target) == ordered(good)
    if tarn_server.log_path:
        log = tarn_server.log_tail(10**7)
        assert "bad source line skipped" in log and "line=2" in log, log[-3000:]

    # CSV: a missing key, a mistyped key and a line with too many fields.
    (tmp_path / "badcsv").mkdir()
    (tmp_path / "badcsv" / "x.csv").write_text("pk,sk,v\na,1,ok\n,2,nokey\nb,notanumber,x\nc,3,x,extra\nd,4,\n")
    target = unique_name("badcsv")
    cleanup.append(target)
    imp = ddb.import_table(S3BucketSource={"S3Bucket": file_bucket(tmp_path), "S3KeyPrefix": "badcsv"},
                           InputFormat="CSV", TableCreationParameters=creation(target, ("pk", "S"), ("sk", "N")))
    d = wait_import(ddb, imp["ImportTableDescription"]["ImportArn"])
    assert (d["ImportedItemCount"], d["ErrorCount"], d["ProcessedItemCount"]) == (2, 3, 5)
    assert sorted(i["pk"]["S"] for i in scan_all(ddb, target)) == ["a", "d"]


def test_import_errors(ddb, ddb_raw, table, cleanup, tmp_path):
    write_lines(tmp_path / "src" / "a.json", [json.dumps({"Item": {"pk": {"S": "x"}}})])
    source = {"S3Bucket": file_bucket(tmp_path), "S3KeyPrefix": "src"}
    with pytest.raises(ClientError) as e:
        ddb.import_table(S3BucketSource=source, InputFormat="DYNAMODB_JSON", TableCreationParameters=creation(table))
    assert error_code(e) == "ResourceInUseException"
    for kw, words in [(dict(InputFormat="ION"), "ION is not supported"),
                      (dict(InputFormat="DYNAMODB_JSON", InputCompressionType="ZSTD"), "ZSTD is not supported"),
                      (dict(InputFormat="CSV", InputFormatOptions={"Csv": {"Delimiter": "x"}}), "delimiter"),
                      (dict(InputFormat="DYNAMODB_JSON", InputFormatOptions={"Csv": {"Delimiter": ","}}), "CSV"),
                      (dict(InputFormat="XML"), "inputFormat")]:
        name = unique_name("never")
        with pytest.raises(ClientError) as e:
            ddb_raw.import_table(S3BucketSource=source, TableCreationParameters=creation(name), **kw)
        assert error_code(e) == "ValidationException", kw
        assert words in error_message(e), (kw, error_message(e))
        assert name not in ddb.list_tables()["TableNames"]
    with pytest.raises(ClientError) as e:
        ddb_raw.import_table(S3BucketSource=source, InputFormat="DYNAMODB_JSON")
    assert error_code(e) == "ValidationException" and "tableCreationParameters" in error_message(e)
    with pytest.raises(ClientError) as e:
        ddb_raw.import_table(S3BucketSource=source, InputFormat="DYNAMODB_JSON",
                             TableCreationParameters={"TableName": unique_name("x"), "KeySchema": [],
                                                      "AttributeDefinitions": []})
    assert error_code(e) == "ValidationException"
    with pytest.raises(ClientError) as e:
        ddb.describe_import(ImportArn=table_arn(ddb, table) + "/import/01700000000000-0a1b2c3d")
    assert error_code(e) == "ImportNotFoundException"
    with pytest.raises(ClientError) as e:
        ddb.list_imports(NextToken="0" * 112)
    assert error_code(e) == "ValidationException"

    # ClientToken: the same request is the same import; other parameters conflict.
    target = unique_name("tok")
    cleanup.append(target)
    kw = dict(S3BucketSource=source, InputFormat="DYNAMODB_JSON", ClientToken="import-token-1",
              TableCreationParameters=creation(target))
    first = ddb.import_table(**kw)["ImportTableDescription"]["ImportArn"]
    assert ddb.import_table(**kw)["ImportTableDescription"]["ImportArn"] == first
    with pytest.raises(ClientError) as e:
        ddb.import_table(**{**kw, "InputCompressionType": "GZIP"})
    assert error_code(e) == "ImportConflictException"
    wait_import(ddb, first)

    # Nothing to read: the table is made, the import fails.
    target = unique_name("empty")
    cleanup.append(target)
    imp = ddb.import_table(S3BucketSource={"S3Bucket": file_bucket(tmp_path), "S3KeyPrefix": "nothing-here/"},
                           InputFormat="CSV", TableCreationParameters=creation(target))
    d = wait_import(ddb, imp["ImportTableDescription"]["ImportArn"], status="FAILED")
    assert d["FailureCode"] and "no CSV files" in d["FailureMessage"]
    assert "EndTime" in d


def test_list_imports_pages_and_filters(ddb, cleanup, tmp_path):
    write_lines(tmp_path / "src" / "a.json", [json.dumps({"Item": {"pk": {"S": "x"}}})])
    arns, names = [], []
    for _ in range(3):
        name = unique_name("li")
        cleanup.append(name)
        names.append(name)
        imp = ddb.import_table(S3BucketSource={"S3Bucket": file_bucket(tmp_path), "S3KeyPrefix": "src"},
                               InputFormat="DYNAMODB_JSON", TableCreationParameters=creation(name))
        arns.append(imp["ImportTableDescription"]["ImportArn"])
        wait_import(ddb, arns[-1])
    one = ddb.list_imports(TableArn=table_arn(ddb, names[1]))["ImportSummaryList"]
    assert [s["ImportArn"] for s in one] == [arns[1]]
    s = one[0]
    assert s["ImportStatus"] == "COMPLETED" and s["InputFormat"] == "DYNAMODB_JSON"
    assert s["TableArn"] == table_arn(ddb, names[1])
    assert s["S3BucketSource"]["S3KeyPrefix"] == "src"
    assert s["StartTime"] <= s["EndTime"]
    seen, kw = [], {}
    while True:
        page = ddb.list_imports(PageSize=1, **kw)
        assert len(page["ImportSummaryList"]) <= 1
        seen += [x["ImportArn"] for x in page["ImportSummaryList"]]
        if "NextToken" not in page:
            break
        kw["NextToken"] = page["NextToken"]
    assert seen.index(arns[2]) < seen.index(arns[1]) < seen.index(arns[0])
    assert len(seen) == len(set(seen))


def test_a_job_interrupted_by_a_crash_is_failed_after_restart(tmp_path):
    """kill -9 while an import runs: after a restart DescribeImport says FAILED (Interrupted),
    and the table holds what was loaded."""
    rows = 300_000
    (tmp_path / "big").mkdir()
    with open(tmp_path / "big" / "rows.csv", "w") as f:
        f.write("pk,v\n")
        for i in range(rows):
            f.write(f"k{i},{i}\n")
    data = tmp_path / "data"
    with spawn_tarn(data_dir=str(data)) as server:
        ddb = AwsFactory(server.endpoint).client()
        imp = ddb.import_table(S3BucketSource={"S3Bucket": file_bucket(tmp_path), "S3KeyPrefix": "big/"},
                               InputFormat="CSV", TableCreationParameters=creation("big"))
        arn = imp["ImportTableDescription"]["ImportArn"]
        d = wait_until(lambda: (lambda d: d if d["ImportedItemCount"] > 0 else None)(
            ddb.describe_import(ImportArn=arn)["ImportTableDescription"]), "first items")
        assert d["ImportStatus"] == "IN_PROGRESS", "the import should take longer than this"
        server.kill()
    with spawn_tarn(data_dir=str(data)) as server:
        ddb = AwsFactory(server.endpoint).client()
        d = ddb.describe_import(ImportArn=arn)["ImportTableDescription"]
        assert d["ImportStatus"] == "FAILED"
        assert d["FailureCode"] == "Interrupted"
        assert "EndTime" in d
        assert [s["ImportStatus"] for s in ddb.list_imports()["ImportSummaryList"]] == ["FAILED"]
        assert ddb.describe_table(TableName="big")["Table"]["TableName"] == "big"


def test_the_cli_exports_and_imports(ddb, make_table, cleanup, tmp_path, tarn_server):
    """`tarn export` then `tarn import` against the running server, as a person types them."""
    def tarn(*args, check=True):
        r = subprocess.run([str(_tarn_bin()), *args, "--endpoint", tarn_server.endpoint],
                           capture_output=True, text=True, timeout=120)
        if check:
            assert r.returncode == 0, f"tarn {' '.join(args)} failed:\n{r.stdout}\n{r.stderr}"
        return r

    table = make_table(("pk", "S"), ("sk", "N"))
    items = every_type_items()
    put_all(ddb, table, items)
    r = tarn("export", "--table", table, "--to", str(tmp_path / "out"), check=False)
    assert r.returncode != 0 and "PointInTimeRecoveryUnavailableException" in r.stderr
    enable_pitr(ddb, table)
    out = tarn("export", "--table", table, "--to", str(tmp_path / "out")).stdout
    assert f"exported {len(items)} items of {table}" in out, out
    assert "\x1b[" not in out, "no progress bar drawn when stdout is not a terminal"
    export_dirs = list((tmp_path / "out" / "AWSDynamoDB").iterdir())
    assert len(export_dirs) == 1 and str(export_dirs[0]) in out

    target = unique_name("cli-import")
    cleanup.append(target)
    out = tarn("import", "--from", str(export_dirs[0]), "--table", target, "--format", "dynamodb-json",
               "--key", "pk:S", "--sort", "sk:N").stdout
    assert f"imported {len(items)} items into {target}" in out, out
    assert scan_all(ddb, target) == scan_all(ddb, table)

    (tmp_path / "people.csv").write_text("alice;1\nbob;2\n;3\n")
    target = unique_name("cli-csv")
    cleanup.append(target)
    out = tarn("import", "--from", str(tmp_path / "people.csv"), "--table", target, "--format", "csv",
               "--delimiter", ";", "--header", "name,age", "--key", "name:S").stdout
    assert f"imported 2 items into {target} (3 read, 1 bad" in out, out
    assert scan_all(ddb, target) == ordered([{"name": {"S": "alice"}, "age": {"S": "1"}},
                                             {"name": {"S": "bob"}, "age": {"S": "2"}}])
    r = tarn("import", "--from", str(tmp_path / "people.csv"), "--table", target, "--format", "csv",
             "--key", "name:S", check=False)
    assert r.returncode != 0 and "ResourceInUseException" in r.stderr
