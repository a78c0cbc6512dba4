//! `tarn backup create|list|restore|delete` and `tarn pitr enable|disable|status|restore`: the
//! backup API of a running server, for people. Long work (a backup being written, a table
//! being restored) shows a progress bar on a terminal and waits until it is done.

use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};
use serde_json::{json, Value};

use super::client::{ClientError, Endpoint};
use super::output::{out, OutputError};

/// Why a backup or pitr command failed.
#[derive(Debug, thiserror::Error)]
pub enum BackupCliError {
    /// The server refused or could not be reached.
    #[error(transparent)]
    Client(#[from] ClientError),
    /// Something the command itself found wrong.
    #[error("{0}")]
    Usage(String),
    /// The output could not be written.
    #[error(transparent)]
    Output(#[from] OutputError),
}

type Result<T> = std::result::Result<T, BackupCliError>;

const POLL: Duration = Duration::from_millis(200);

/// On-demand backups.
#[derive(Debug, clap::Subcommand)]
pub enum BackupCommand {
    /// Back up a table as it is now, and wait until the backup is available.
    Create {
        /// The table.
        #[arg(long)]
        table: String,
        /// The backup's name (default: the table's name and the time).
        #[arg(long)]
        name: Option<String>,
        #[command(flatten)]
        endpoint: Endpoint,
    },
    /// List backups.
    List {
        /// Only the backups of this table.
        #[arg(long)]
        table: Option<String>,
        #[command(flatten)]
        endpoint: Endpoint,
    },
    /// Restore a backup into a new table, and wait until it is loaded.
    Restore {
        /// The backup: its ARN, or the id at the end of it.
        #[arg(long)]
        backup: String,
        /// The new table's name.
        #[arg(long)]
        to: String,
        #[command(flatten)]
        endpoint: Endpoint,
    },
    /// Delete a backup.
    Delete {
        /// The backup: its ARN, or the id at the end of it.
        #[arg(long)]
        backup: String,
        #[command(flatten)]
        endpoint: Endpoint,
    },
}

/// Point-in-time recovery.
#[derive(Debug, clap::Subcommand)]
pub enum PitrCommand {
    /// Turn point-in-time recovery on for a table.
    Enable {
        /// The table.
        #[arg(long)]
        table: String,
        /// How many days back restores may go (1 to 35).
        #[arg(long, default_value_t = 35)]
        days: u32,
        #[command(flatten)]
        endpoint: Endpoint,
    },
    /// Turn it off (the table's history is dropped).
    Disable {
        /// The table.
        #[arg(long)]
        table: String,
        #[command(flatten)]
        endpoint: Endpoint,
    },
    /// Show the restorable window.
    Status {
        /// The table.
        #[arg(long)]
        table: String,
        #[command(flatten)]
        endpoint: Endpoint,
    },
    /// Restore a table (live, or deleted within its recovery period) as it was at a moment,
    /// into a new table, and wait until it is loaded.
    Restore {
        /// The source table.
        #[arg(long)]
        table: String,
        /// The new table's name.
        #[arg(long)]
        to: String,
        /// The moment: RFC 3339 (`2026-11-22T10:15:00Z`) or seconds since the epoch.
        #[arg(long, conflicts_with = "latest", required_unless_present = "latest")]
        at: Option<String>,
        /// The latest restorable moment.
        #[arg(long)]
        latest: bool,
        #[command(flatten)]
        endpoint: Endpoint,
    },
}

/// Runs a backup command.
pub async fn run_backup(cmd: BackupCommand) -> Result<()> {
    match cmd {
        BackupCommand::Create {
            table,
            name,
            endpoint,
        } => {
            let name = name.unwrap_or_else(|| {
                format!("{table}-{}", chrono::Utc::now().format("%Y%m%dT%H%M%S"))
            });
            let out = endpoint
                .call(
                    "CreateBackup",
                    &json!({"TableName": table, "BackupName": name}),
                )
                .await?;
            let arn = str_at(&out, &["BackupDetails", "BackupArn"])?;
            let bar = spinner(&format!("backing up {table}"));
            let d = loop {
                let d = endpoint
                    .call("DescribeBackup", &json!({"BackupArn": arn}))
                    .await?;
                match str_at(&d, &["BackupDescription", "BackupDetails", "BackupStatus"])?.as_str()
                {
                    "AVAILABLE" => break d,
                    "CREATING" => {}
                    other => {
                        bar.abandon();
                        return Err(BackupCliError::Usage(format!(
                            "the backup failed ({other}); see the server's log"
                        )));
                    }
                }
                bar.tick();
                tokio::time::sleep(POLL).await;
            };
            bar.finish_and_clear();
            let details = &d["BackupDescription"]["SourceTableDetails"];
            out!(
                "{arn}\n{} items, {} bytes",
                details["ItemCount"],
                d["BackupDescription"]["BackupDetails"]["BackupSizeBytes"]
            )?;
        }
        BackupCommand::List { table, endpoint } => {
            let mut body = json!({});
            if let Some(t) = &table {
                body["TableName"] = json!(t);
            }
            loop {
                let page = endpoint.call("ListBackups", &body).await?;
                for b in page["BackupSummaries"].as_array().into_iter().flatten() {
                    out!(
                        "{}\t{}\t{}\t{}\t{} bytes\t{}",
                        b["BackupArn"].as_str().unwrap_or_default(),
                        b["TableName"].as_str().unwrap_or_default(),
                        b["BackupName"].as_str().unwrap_or_default(),
                        b["BackupStatus"].as_str().unwrap_or_default(),
                        b["BackupSizeBytes"].as_u64().unwrap_or(0),
                        time_text(b["BackupCreationDateTime"].as_f64()),
                    )?;
                }
                match page.get("LastEvaluatedBackupArn") {
                    Some(last) => body["ExclusiveStartBackupArn"] = last.clone(),
                    None => break,
                }
            }
        }
        BackupCommand::Restore {
            backup,
            to,
            endpoint,
        } => {
            let arn = resolve_backup(&endpoint, &backup).await?;
            let d = endpoint
                .call("DescribeBackup", &json!({"BackupArn": arn}))
                .await?;
            let total = d["BackupDescription"]["SourceTableDetails"]["ItemCount"].as_u64();
            endpoint
                .call(
                    "RestoreTableFromBackup",
                    &json!({"TargetTableName": to, "BackupArn": arn}),
                )
                .await?;
            let n = wait_restored(&endpoint, &to, total).await?;
            out!("restored {n} items into {to}")?;
        }
        BackupCommand::Delete { backup, endpoint } => {
            let arn = resolve_backup(&endpoint, &backup).await?;
            endpoint
                .call("DeleteBackup", &json!({"BackupArn": arn}))
                .await?;
            out!("deleted {arn}")?;
        }
    }
    Ok(())
}

/// Runs a pitr command.
pub async fn run_pitr(cmd: PitrCommand) -> Result<()> {
    match cmd {
        PitrCommand::Enable {
            table,
            days,
            endpoint,
        } => {
            let spec = json!({"PointInTimeRecoveryEnabled": true, "RecoveryPeriodInDays": days});
            endpoint
                .call(
                    "UpdateContinuousBackups",
                    &json!({"TableName": table, "PointInTimeRecoverySpecification": spec}),
                )
                .await?;
            let bar = spinner(&format!("taking the first snapshot of {table}"));
            let status = loop {
                let s = pitr_status(&endpoint, &table).await?;
                if s.get("EarliestRestorableDateTime").is_some() {
                    break s;
                }
                bar.tick();
                tokio::time::sleep(POLL).await;
            };
            bar.finish_and_clear();
            print_pitr(&table, &status)?;
        }
        PitrCommand::Disable { table, endpoint } => {
            let spec = json!({"PointInTimeRecoveryEnabled": false});
            endpoint
                .call(
                    "UpdateContinuousBackups",
                    &json!({"TableName": table, "PointInTimeRecoverySpecification": spec}),
                )
                .await?;
            out!("{table}: point-in-time recovery disabled")?;
        }
        PitrCommand::Status { table, endpoint } => {
            print_pitr(&table, &pitr_status(&endpoint, &table).await?)?;
        }
        PitrCommand::Restore {
            table,
            to,
            at,
            latest,
            endpoint,
        } => {
            let mut body = json!({"SourceTableName": table, "TargetTableName": to});
            match at {
                Some(at) => body["RestoreDateTime"] = json!(parse_time(&at)?),
                None if latest => body["UseLatestRestorableTime"] = json!(true),
                None => return Err(BackupCliError::Usage("give --at or --latest".into())),
            }
            endpoint.call("RestoreTableToPointInTime", &body).await?;
            let n = wait_restored(&endpoint, &to, None).await?;
            out!("restored {n} items into {to}")?;
        }
    }
    Ok(())
}

async fn pitr_status(endpoint: &Endpoint, table: &str) -> Result<Value> {
    let d = endpoint
        .call("DescribeContinuousBackups", &json!({"TableName": table}))
        .await?;
    Ok(d["ContinuousBackupsDescription"]["PointInTimeRecoveryDescription"].clone())
}

fn print_pitr(table: &str, s: &Value) -> Result<()> {
    out!(
        "{table}: point-in-time recovery {}",
        s["PointInTimeRecoveryStatus"].as_str().unwrap_or("?")
    )?;
    if let Some(days) = s["RecoveryPeriodInDays"].as_u64() {
        out!("recovery period: {days} days")?;
    }
    if s.get("EarliestRestorableDateTime").is_some() {
        out!(
            "restorable from {} to {}",
            time_text(s["EarliestRestorableDateTime"].as_f64()),
            time_text(s["LatestRestorableDateTime"].as_f64())
        )?;
    }
    Ok(())
}

/// Polls DescribeTable until the restored table is ACTIVE; a bar of items loaded (out of
/// `total` when known). Returns the items loaded.
async fn wait_restored(endpoint: &Endpoint, table: &str, total: Option<u64>) -> Result<u64> {
    let bar = match total {
        Some(n) => {
            let bar = ProgressBar::new(n);
            bar.set_style(
                ProgressStyle::with_template(
                    "{msg} [{bar:40}] {pos}/{len} items ({per_sec}, eta {eta})",
                )
                .expect("a valid template")
                .progress_chars("=> "),
            );
            bar.set_message(format!("restoring {table}"));
            bar
        }
        None => spinner(&format!("restoring {table}")),
    };
    loop {
        let d = match endpoint
            .call("DescribeTable", &json!({"TableName": table}))
            .await
        {
            Ok(d) => d,
            Err(ClientError::Service { kind, .. }) if kind == "ResourceNotFoundException" => {
                bar.abandon();
                return Err(BackupCliError::Usage(format!(
                    "the restore of {table} failed and was rolled back; see the server's log"
                )));
            }
            Err(e) => return Err(e.into()),
        };
        let t = &d["Table"];
        let items = t["ItemCount"].as_u64().unwrap_or(0);
        bar.set_position(items);
        if t["TableStatus"] == "ACTIVE" {
            bar.finish_and_clear();
            return Ok(items);
        }
        tokio::time::sleep(POLL).await;
    }
}

/// The ARN of a backup given by ARN or by id.
async fn resolve_backup(endpoint: &Endpoint, backup: &str) -> Result<String> {
    if backup.starts_with("arn:") {
        return Ok(backup.to_string());
    }
    let suffix = format!("/backup/{backup}");
    let mut body = json!({"BackupType": "ALL"});
    loop {
        let page = endpoint.call("ListBackups", &body).await?;
        for b in page["BackupSummaries"].as_array().into_iter().flatten() {
            if let Some(arn) = b["BackupArn"].as_str().filter(|a| a.ends_with(&suffix)) {
                return Ok(arn.to_string());
            }
        }
        match page.get("LastEvaluatedBackupArn") {
            Some(last) => body["ExclusiveStartBackupArn"] = last.clone(),
            None => return Err(BackupCliError::Usage(format!("no backup with id {backup}"))),
        }
    }
}

fn spinner(msg: &str) -> ProgressBar {
    let bar = ProgressBar::new_spinner();
    bar.set_message(msg.to_string());
    bar.enable_steady_tick(Duration::from_millis(120));
    bar
}

fn str_at(v: &Value, path: &[&str]) -> Result<String> {
    let mut cur = v;
    for p in path {
        cur = &cur[*p];
    }
    cur.as_str().map(str::to_string).ok_or_else(|| {
        BackupCliError::Usage(format!("the server's answer lacks {}", path.join(".")))
    })
}

/// Seconds since the epoch from RFC 3339 or a number.
fn parse_time(s: &str) -> Result<f64> {
    if let Ok(secs) = s.parse::<f64>() {
        return Ok(secs);
    }
    chrono::DateTime::parse_from_rfc3339(s)
        .map(|t| t.timestamp_micros() as f64 / 1e6)
        .map_err(|e| {
            BackupCliError::Usage(format!("--at {s}: {e} (want RFC 3339 or epoch seconds)"))
        })
}

fn time_text(secs: Option<f64>) -> String {
    secs.and_then(|s| chrono::DateTime::from_timestamp_micros((s * 1e6) as i64))
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
        .unwrap_or_else(|| "-".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_read_as_rfc3339_or_epoch_seconds() {
        assert_eq!(parse_time("1700000000.5").unwrap(), 1_700_000_000.5);
        assert_eq!(parse_time("2023-11-14T22:13:20Z").unwrap(), 1_700_000_000.0);
        assert!(parse_time("yesterday").is_err());
        assert_eq!(time_text(Some(1_700_000_000.0)), "2023-11-14T22:13:20.000Z");
    }
}
