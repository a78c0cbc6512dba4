"""Command lines against tarn: the real AWS CLI with only --endpoint-url changed (issue 2), and
tarn's own CLI writing into a pipe whose reader has gone (issue 15)."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import REGION, _tarn_bin, unique_name


def _aws_command():
    # Prefer the CLI installed next to the interpreter running the tests (the venv).
    local = Path(sys.executable).parent / "aws"
    if local.exists():
        return [str(local)]
    found = shutil.which("aws")
    if found:
        return [found]
    return None


AWS = _aws_command()
needs_aws = pytest.mark.skipif(
    AWS is None,
    reason="the `aws` command is not installed (pip install -r tests/python/requirements.txt)",
)


@pytest.fixture
def aws_cli(endpoint, tmp_path):
    env = dict(os.environ)
    env.update(
        AWS_ACCESS_KEY_ID="test",
        AWS_SECRET_ACCESS_KEY="test",
        AWS_DEFAULT_REGION=REGION,
        AWS_CONFIG_FILE=str(tmp_path / "config"),
        AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "credentials"),
        AWS_PAGER="",
        AWS_MAX_ATTEMPTS="1",
    )
    env.pop("AWS_PROFILE", None)
    env.pop("AWS_SESSION_TOKEN", None)

    def run(*args, check=True):
        cmd = AWS + ["dynamodb", *args, "--endpoint-url", endpoint, "--region", REGION, "--output", "json"]
        p = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=60)
        if check:
            assert p.returncode == 0, f"{cmd}\nrc={p.returncode}\nstderr={p.stderr}\nstdout={p.stdout}"
        return p

    return run


@needs_aws
def test_cli_table_lifecycle_and_items(aws_cli):
    name = unique_name("cli")
    out = json.loads(
        aws_cli(
            "create-table",
            "--table-name", name,
            "--attribute-definitions", "AttributeName=pk,AttributeType=S", "AttributeName=sk,AttributeType=N",
            "--key-schema", "AttributeName=pk,KeyType=HASH", "AttributeName=sk,KeyType=RANGE",
            "--billing-mode", "PAY_PER_REQUEST",
        ).stdout
    )
    assert out["TableDescription"]["TableName"] == name
    try:
        aws_cli("wait", "table-exists", "--table-name", name)
        desc = json.loads(aws_cli("describe-table", "--table-name", name).stdout)["Table"]
        assert desc["TableStatus"] == "ACTIVE"
        assert desc["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"

        listed = json.loads(aws_cli("list-tables").stdout)["TableNames"]
        assert name in listed

        item = {"pk": {"S": "a"}, "sk": {"N": "01.50"}, "tags": {"SS": ["x", "y"]}, "m": {"M": {"k": {"L": [{"BOOL": True}]}}}}
        aws_cli("put-item", "--table-name", name, "--item", json.dumps(item))
        got = json.loads(
            aws_cli("get-item", "--table-name", name, "--key", json.dumps({"pk": {"S": "a"}, "sk": {"N": "1.5"}})).stdout
        )["Item"]
        assert got["sk"] == {"N": "1.5"}
        assert sorted(got["tags"]["SS"]) == ["x", "y"]
        assert got["m"] == {"M": {"k": {"L": [{"BOOL": True}]}}}

        out = json.loads(
            aws_cli(
                "delete-item", "--table-name", name,
                "--key", json.dumps({"pk": {"S": "a"}, "sk": {"N": "1.5"}}),
                "--return-values", "ALL_OLD",
            ).stdout
        )
        assert out["Attributes"]["pk"] == {"S": "a"}
        out = aws_cli("get-item", "--table-name", name, "--key", json.dumps({"pk": {"S": "a"}, "sk": {"N": "1.5"}})).stdout
        assert out.strip() == "" or "Item" not in json.loads(out)
    finally:
        aws_cli("delete-table", "--table-name", name, check=False)


@needs_aws
def test_cli_error_is_reported_by_name(aws_cli):
    p = aws_cli("describe-table", "--table-name", unique_name("missing"), check=False)
    assert p.returncode != 0
    assert "ResourceNotFoundException" in p.stderr


@needs_aws
@pytest.mark.issue3
def test_cli_scan_paginates(aws_cli):
    name = unique_name("clis")
    aws_cli(
        "create-table", "--table-name", name,
        "--attribute-definitions", "AttributeName=pk,AttributeType=S",
        "--key-schema", "AttributeName=pk,KeyType=HASH",
        "--billing-mode", "PAY_PER_REQUEST",
    )
    try:
        aws_cli("wait", "table-exists", "--table-name", name)
        for i in range(7):
            aws_cli("put-item", "--table-name", name, "--item", json.dumps({"pk": {"S": f"k{i}"}}))
        # The CLI's auto-pagination follows LastEvaluatedKey with --page-size.
        out = json.loads(aws_cli("scan", "--table-name", name, "--page-size", "2").stdout)
        assert sorted(i["pk"]["S"] for i in out["Items"]) == [f"k{i}" for i in range(7)]
        assert out["Count"] == 7
    finally:
        aws_cli("delete-table", "--table-name", name, check=False)


def test_tarn_backup_list_into_a_closed_pipe(ddb, table, tarn_server):
    """`tarn backup list | head -1` with several backups prints the first line and exits 0: a
    closed stdout ends the command quietly (it used to panic in `println!`)."""
    arns = [
        ddb.create_backup(TableName=table, BackupName=f"pipe-{i}")["BackupDetails"]["BackupArn"]
        for i in range(5)
    ]
    cmd = [str(_tarn_bin()), "backup", "list", "--table", table, "--endpoint", tarn_server.endpoint]
    try:
        # As a person types it; pipefail makes the pipeline fail if tarn does.
        p = subprocess.run(["bash", "-c", 'set -o pipefail; "$@" | head -1', "bash", *cmd],
                           capture_output=True, text=True, timeout=60)
        assert p.returncode == 0, p.stderr
        lines = p.stdout.splitlines()
        assert len(lines) == 1 and lines[0].split("\t")[0] in arns, p.stdout
        assert "panicked" not in p.stderr, p.stderr

        # Deterministically: the reader is gone before tarn writes its first line, so every
        # write fails with EPIPE.
        read_end, write_end = os.pipe()
        os.close(read_end)
        try:
            proc = subprocess.Popen(cmd, stdout=write_end, stderr=subprocess.PIPE)
        finally:
            os.close(write_end)
        _, err = proc.communicate(timeout=60)
        err = err.decode(errors="replace")
        assert proc.returncode == 0, err
        assert "panicked" not in err and "error" not in err, err

        # Whole, the list has every backup.
        full = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
        assert full.returncode == 0, full.stderr
        assert sorted(l.split("\t")[0] for l in full.stdout.splitlines()) == sorted(arns)
    finally:
        for arn in arns:
            ddb.delete_backup(BackupArn=arn)
