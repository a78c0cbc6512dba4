//! `tarn export` and `tarn import`: a table to files and files to a new table, through a
//! running server's DynamoDB API.
//!
//! ```text
//! tarn export --table T --to DIR [--at 2024-05-01T12:00:00Z] [--endpoint http://127.0.0.1:8000]
//! tarn import --from DIR|FILE --table T --format dynamodb-json|csv [--compression gzip|none]
//!             --key pk:S [--sort sk:N] [--delimiter ';'] [--header a,b,c] [--endpoint URL]
//! ```
//!
//! Both start a job with ExportTableToPointInTime or ImportTable, the directory given as a
//! `file:///abs/path` bucket (so the server must run on this machine), then poll DescribeExport
//! or DescribeImport and show a progress bar of the items so far (hidden when stdout is not a
//! terminal) until the job is done. An export lands in `DIR/AWSDynamoDB/<export id>/`; the
//! table needs point-in-time recovery, as in DynamoDB. An import reads an export's manifests
//! when it finds them under `--from`, or else every file of the format; `--compression`
//! defaults to gzip for DynamoDB JSON (what exports write) and none for CSV.
//!
//! Requests go through the CLI's DynamoDB client ([`super::client`]): signed with SigV4 when
//! AWS credentials are in the environment.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde_json::{json, Value};
use tarn_store::schema::KeyAttribute;

use super::client::{ClientError, Endpoint};
use super::output::{out, OutputError};

/// How often a running job is described.
const POLL: Duration = Duration::from_millis(250);

/// Why `tarn export` or `tarn import` failed.
#[derive(Debug, thiserror::Error)]
pub enum TransferCliError {
    /// The arguments cannot be used.
    #[error("{0}")]
    Usage(String),
    /// The server refused or could not be reached.
    #[error(transparent)]
    Client(#[from] ClientError),
    /// The job ran and failed.
    #[error("{what} failed: {code}: {message}")]
    Failed {
        /// `export` or `import`.
        what: &'static str,
        /// FailureCode.
        code: String,
        /// FailureMessage.
        message: String,
    },
    /// The output could not be written.
    #[error(transparent)]
    Output(#[from] OutputError),
}

type Result<T, E = TransferCliError> = std::result::Result<T, E>;

/// Options of `tarn export`.
#[derive(Debug, Clone, clap::Args)]
pub struct ExportArgs {
    /// The table to export (it needs point-in-time recovery enabled).
    #[arg(long, value_name = "TABLE")]
    pub table: String,
    /// The directory to export into (created if missing); the export is DIR/AWSDynamoDB/<id>/.
    #[arg(long, value_name = "DIR")]
    pub to: PathBuf,
    /// Export the table as it was at this time (RFC 3339, `2024-05-01T12:00:00Z`) instead of
    /// now; it must lie in the table's point-in-time recovery window.
    #[arg(long, value_name = "TIME", value_parser = parse_time)]
    pub at: Option<f64>,
    /// The server (on this machine: the files are exchanged through the file system).
    #[command(flatten)]
    pub endpoint: Endpoint,
}

/// Source formats of `tarn import`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum FormatArg {
    /// `{"Item":{...}}` lines, as exports write them.
    DynamodbJson,
    /// Comma-separated values with a header line (or --header).
    Csv,
}

/// Compression of `tarn import` sources.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum CompressionArg {
    /// gzip (.gz).
    Gzip,
    /// Plain files.
    None,
}

/// Options of `tarn import`.
#[derive(Debug, Clone, clap::Args)]
pub struct ImportArgs {
    /// A directory (an export's, or one holding data files) or a single file to import.
    #[arg(long, value_name = "PATH")]
    pub from: PathBuf,
    /// The table to create (it must not exist).
    #[arg(long, value_name = "TABLE")]
    pub table: String,
    /// The source format.
    #[arg(long, value_enum)]
    pub format: FormatArg,
    /// The source compression [default: gzip for dynamodb-json, none for csv].
    #[arg(long, value_enum)]
    pub compression: Option<CompressionArg>,
    /// The partition key, NAME:TYPE with TYPE S, N or B (`pk:S`).
    #[arg(long, value_name = "NAME:TYPE", value_parser = KeyAttribute::from_spec)]
    pub key: KeyAttribute,
    /// The sort key, NAME:TYPE.
    #[arg(long, value_name = "NAME:TYPE", value_parser = KeyAttribute::from_spec)]
    pub sort: Option<KeyAttribute>,
    /// CSV: the field delimiter (one of , ; : | tab space).
    #[arg(long, value_name = "CHAR")]
    pub delimiter: Option<char>,
    /// CSV: the column names, comma-separated, when the files have no header line.
    #[arg(long, value_name = "NAMES", value_delimiter = ',')]
    pub header: Option<Vec<String>>,
    /// The server (on this machine: the files are exchanged through the file system).
    #[command(flatten)]
    pub endpoint: Endpoint,
}

fn parse_time(s: &str) -> Result<f64, String> {
    chrono::DateTime::parse_from_rfc3339(s)
        .map(|t| t.timestamp_millis() as f64 / 1000.0)
        .map_err(|e| format!("{s:?} is not an RFC 3339 time like 2024-05-01T12:00:00Z: {e}"))
}

/// A progress bar on stdout, hidden when stdout is not a terminal.
fn progress_bar(total: Option<u64>, what: &str) -> ProgressBar {
    let bar = match total.filter(|t| *t > 0) {
        Some(t) => {
            let bar = ProgressBar::new(t);
            bar.set_style(
                ProgressStyle::with_template(&format!(
                    "{{spinner}} {what} [{{bar:40}}] {{pos}}/{{len}} items {{msg}} ({{elapsed}})"
                ))
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> "),
            );
            bar
        }
        None => {
            let bar = ProgressBar::new_spinner();
            bar.set_style(
                ProgressStyle::with_template(&format!(
                    "{{spinner}} {what} {{pos}} items {{msg}} ({{elapsed}})"
                ))
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
            );
            bar
        }
    };
    if std::io::stdout().is_terminal() {
        bar.set_draw_target(ProgressDrawTarget::stdout());
        bar.enable_steady_tick(Duration::from_millis(120));
    } else {
        bar.set_draw_target(ProgressDrawTarget::hidden());
    }
    bar
}

fn str_of<'a>(v: &'a Value, key: &str) -> &'a str {
    v.get(key).and_then(Value::as_str).unwrap_or("")
}

fn u64_of(v: &Value, key: &str) -> u64 {
    v.get(key).and_then(Value::as_u64).unwrap_or(0)
}

/// An absolute, UTF-8 path as a `file://` bucket.
fn file_uri(path: &Path) -> Result<String> {
    let abs = path
        .canonicalize()
        .map_err(|e| TransferCliError::Usage(format!("{}: {e}", path.display())))?;
    let s = abs.to_str().ok_or_else(|| {
        TransferCliError::Usage(format!("{}: the path is not UTF-8", abs.display()))
    })?;
    Ok(format!("file://{s}"))
}

/// `tarn export`.
pub async fn export(args: ExportArgs) -> Result<()> {
    let client = &args.endpoint;
    let table = client
        .call("DescribeTable", &json!({"TableName": args.table}))
        .await?;
    let table = &table["Table"];
    std::fs::create_dir_all(&args.to)
        .map_err(|e| TransferCliError::Usage(format!("{}: {e}", args.to.display())))?;
    let mut request = json!({
        "TableArn": str_of(table, "TableArn"),
        "S3Bucket": file_uri(&args.to)?,
        "ExportFormat": "DYNAMODB_JSON",
        "ClientToken": uuid::Uuid::new_v4().to_string(),
    });
    if let Some(at) = args.at {
        request["ExportTime"] = json!(at);
    }
    let started = client.call("ExportTableToPointInTime", &request).await?;
    let arn = str_of(&started["ExportDescription"], "ExportArn").to_string();
    let bar = progress_bar(Some(u64_of(table, "ItemCount")), "exporting");
    let done = loop {
        let d = client
            .call("DescribeExport", &json!({"ExportArn": arn}))
            .await?;
        let d = d["ExportDescription"].clone();
        let items = u64_of(&d, "ItemCount");
        if bar.length().is_some_and(|l| items > l) {
            bar.set_length(items);
        }
        bar.set_position(items);
        if str_of(&d, "ExportStatus") != "IN_PROGRESS" {
            break d;
        }
        tokio::time::sleep(POLL).await;
    };
    bar.finish_and_clear();
    if str_of(&done, "ExportStatus") != "COMPLETED" {
        return Err(TransferCliError::Failed {
            what: "export",
            code: str_of(&done, "FailureCode").to_string(),
            message: str_of(&done, "FailureMessage").to_string(),
        });
    }
    let manifest = str_of(&done, "ExportManifest");
    let dir = args
        .to
        .join(manifest.rsplit_once('/').map_or("", |(d, _)| d));
    out!(
        "exported {} items of {} to {}",
        u64_of(&done, "ItemCount"),
        args.table,
        dir.display()
    )?;
    out!("export: {arn}")?;
    Ok(())
}

/// `tarn import`.
pub async fn import(args: ImportArgs) -> Result<()> {
    let client = &args.endpoint;
    let from = args
        .from
        .canonicalize()
        .map_err(|e| TransferCliError::Usage(format!("{}: {e}", args.from.display())))?;
    let (bucket, prefix) = if from.is_dir() {
        (file_uri(&from)?, String::new())
    } else {
        let parent = from.parent().unwrap_or(Path::new("/"));
        let name = from
            .file_name()
            .and_then(|n| n.to_str())
            .ok_or_else(|| TransferCliError::Usage(format!("{}: not UTF-8", from.display())))?;
        (file_uri(parent)?, name.to_string())
    };
    let mut definitions =
        vec![json!({"AttributeName": args.key.name, "AttributeType": args.key.attr_type.as_str()})];
    let mut key_schema = vec![json!({"AttributeName": args.key.name, "KeyType": "HASH"})];
    if let Some(sort) = &args.sort {
        definitions
            .push(json!({"AttributeName": sort.name, "AttributeType": sort.attr_type.as_str()}));
        key_schema.push(json!({"AttributeName": sort.name, "KeyType": "RANGE"}));
    }
    let compression = match (args.compression, args.format) {
        (Some(CompressionArg::Gzip), _) | (None, FormatArg::DynamodbJson) => "GZIP",
        (Some(CompressionArg::None), _) | (None, FormatArg::Csv) => "NONE",
    };
    let mut request = json!({
        "ClientToken": uuid::Uuid::new_v4().to_string(),
        "S3BucketSource": {"S3Bucket": bucket, "S3KeyPrefix": prefix},
        "InputFormat": match args.format { FormatArg::DynamodbJson => "DYNAMODB_JSON", FormatArg::Csv => "CSV" },
        "InputCompressionType": compression,
        "TableCreationParameters": {
            "TableName": args.table,
            "AttributeDefinitions": definitions,
            "KeySchema": key_schema,
            "BillingMode": "PAY_PER_REQUEST",
        },
    });
    if args.format == FormatArg::Csv {
        let mut csv = serde_json::Map::new();
        if let Some(d) = args.delimiter {
            csv.insert("Delimiter".into(), json!(d.to_string()));
        }
        if let Some(h) = &args.header {
            csv.insert("HeaderList".into(), json!(h));
        }
        if !csv.is_empty() {
            request["InputFormatOptions"] = json!({"Csv": csv});
        }
    } else if args.delimiter.is_some() || args.header.is_some() {
        return Err(TransferCliError::Usage(
            "--delimiter and --header apply to --format csv only".into(),
        ));
    }
    let started = client.call("ImportTable", &request).await?;
    let arn = str_of(&started["ImportTableDescription"], "ImportArn").to_string();
    let bar = progress_bar(None, "importing");
    let done = loop {
        let d = client
            .call("DescribeImport", &json!({"ImportArn": arn}))
            .await?;
        let d = d["ImportTableDescription"].clone();
        bar.set_position(u64_of(&d, "ImportedItemCount"));
        let errors = u64_of(&d, "ErrorCount");
        if errors > 0 {
            bar.set_message(format!("({errors} bad)"));
        }
        if str_of(&d, "ImportStatus") != "IN_PROGRESS" {
            break d;
        }
        tokio::time::sleep(POLL).await;
    };
    bar.finish_and_clear();
    if str_of(&done, "ImportStatus") != "COMPLETED" {
        return Err(TransferCliError::Failed {
            what: "import",
            code: str_of(&done, "FailureCode").to_string(),
            message: str_of(&done, "FailureMessage").to_string(),
        });
    }
    let errors = u64_of(&done, "ErrorCount");
    out!(
        "imported {} items into {} ({} read, {} bad{})",
        u64_of(&done, "ImportedItemCount"),
        args.table,
        u64_of(&done, "ProcessedItemCount"),
        errors,
        if errors > 0 {
            "; the server log names each bad line"
        } else {
            ""
        }
    )?;
    out!("import: {arn}")?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use tarn_store::schema::ScalarType;

    #[test]
    fn keys_and_times_parse() {
        let parse_key = KeyAttribute::from_spec;
        assert_eq!(
            parse_key("pk:s").unwrap(),
            KeyAttribute {
                name: "pk".into(),
                attr_type: ScalarType::S
            }
        );
        assert_eq!(parse_key("a:b:N").unwrap().name, "a:b");
        assert_eq!(parse_key("pk").unwrap().attr_type, ScalarType::S);
        assert!(parse_key("pk:X").is_err());
        assert!(parse_key(":N").is_err());
        assert_eq!(parse_time("1970-01-01T00:00:01.5Z").unwrap(), 1.5);
        assert_eq!(
            parse_time("2024-01-01T01:00:00+01:00").unwrap(),
            1_704_067_200.0
        );
        assert!(parse_time("yesterday").is_err());
    }
}
