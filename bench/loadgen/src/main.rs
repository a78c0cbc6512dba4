//! `tarn-loadgen`: a closed-loop load generator for DynamoDB's JSON 1.0 protocol, to compare
//! tarn with DynamoDB Local and dynalite (see `BENCHMARKS.md` and `bench/compare.sh`).
//!
//! ```text
//! tarn-loadgen run --endpoint http://127.0.0.1:8000 --workload put [--connections 16]
//!                  [--seconds 5] [--warmup 1] [--label tarn] [--out results.jsonl]
//! tarn-loadgen setup --endpoint URL          # tables and seed data only
//! tarn-loadgen ceiling --listen 127.0.0.1:9000
//! tarn-loadgen report --results results.jsonl [--criterion target/criterion]
//! tarn-loadgen free-port
//! tarn-loadgen bigtable --endpoint URL --server-pid PID [--big 10000000] [--small 10000]
//! ```
//!
//! `bigtable` is the big-table bench ([`bigtable`]; `bench/bigtable.sh` runs it).
//!
//! `run` creates the tables and seeds the items the reads hit (once per endpoint), checks one
//! request of the workload answers as expected, then keeps `--connections` keep-alive HTTP/1.1
//! connections busy, each sending its next request when the previous answer arrives. Requests
//! sent during the warm-up are not measured. It prints a summary line to stderr and the
//! [`report::Measurement`] as a JSON line to stdout (and appends it to `--out`).

mod bigtable;
mod ceiling;
mod client;
mod load;
mod report;
mod setup;
mod workload;

use std::io::Write as _;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use clap::{Parser, Subcommand};

use crate::client::{Connection, Endpoint};
use crate::workload::{RequestBuilder, Workload, QUERY_ITEMS};

#[derive(Parser)]
#[command(
    name = "tarn-loadgen",
    version,
    about = "Closed-loop load for DynamoDB-compatible endpoints"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run one workload against one endpoint and print the measurement.
    Run {
        /// The endpoint, e.g. http://127.0.0.1:8000.
        #[arg(long)]
        endpoint: String,
        /// The workload.
        #[arg(long, value_enum)]
        workload: Workload,
        /// Concurrent connections.
        #[arg(long, default_value_t = 16)]
        connections: usize,
        /// Measured seconds.
        #[arg(long, default_value_t = 5.0)]
        seconds: f64,
        /// Warm-up seconds before measuring.
        #[arg(long, default_value_t = 1.0)]
        warmup: f64,
        /// Seeded items the reads pick from.
        #[arg(long, default_value_t = 10_000)]
        keys: u64,
        /// The server's name in the results (default: the endpoint).
        #[arg(long)]
        label: Option<String>,
        /// Append the measurement as a JSON line to this file.
        #[arg(long)]
        out: Option<PathBuf>,
        /// Skip creating tables, seeding and the check request (for the ceiling server).
        #[arg(long)]
        no_setup: bool,
        /// Generator threads (1: leave the other cores to the server).
        #[arg(long, default_value_t = 1)]
        threads: usize,
        /// The server's process id: report the CPU time it spends per request (Linux).
        #[arg(long)]
        server_pid: Option<u32>,
    },
    /// Create the tables and seed the items, then exit.
    Setup {
        /// The endpoint.
        #[arg(long)]
        endpoint: String,
        /// Items to seed.
        #[arg(long, default_value_t = 10_000)]
        keys: u64,
    },
    /// Serve the ceiling: a plain hyper server answering `{}` to everything.
    Ceiling {
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1:0")]
        listen: SocketAddr,
        /// Server threads (default: one per core).
        #[arg(long)]
        threads: Option<usize>,
    },
    /// Render the Markdown report from JSON lines of measurements.
    Report {
        /// The measurements (JSON lines, as `run --out` writes them).
        #[arg(long)]
        results: PathBuf,
        /// Servers whose name starts with this are ours; the others are peers.
        #[arg(long, default_value = "tarn")]
        ours: String,
        /// Criterion's output directory, for the store's own ops/s (group `store_ops`).
        #[arg(long)]
        criterion: Option<PathBuf>,
    },
    /// Print a free loopback TCP port.
    FreePort,
    /// The big-table bench: load a big and a small wide table, then GetItem and Query on each
    /// in turn; prints a Markdown report.
    Bigtable {
        /// The endpoint.
        #[arg(long)]
        endpoint: String,
        /// Items in the big table.
        #[arg(long, default_value_t = 10_000_000)]
        big: u64,
        /// Items in the small table.
        #[arg(long, default_value_t = 10_000)]
        small: u64,
        /// Concurrent connections of the measured runs.
        #[arg(long, default_value_t = 16)]
        connections: usize,
        /// Connections loading the tables.
        #[arg(long, default_value_t = 8)]
        load_connections: u64,
        /// Measured seconds per run.
        #[arg(long, default_value_t = 10.0)]
        seconds: f64,
        /// Warm-up seconds before each run.
        #[arg(long, default_value_t = 2.0)]
        warmup: f64,
        /// Rounds (each runs every workload on both tables).
        #[arg(long, default_value_t = 3)]
        rounds: usize,
        /// The server's process id: CPU per request and resident memory (Linux).
        #[arg(long)]
        server_pid: Option<u32>,
        /// After loading, wait up to this many seconds for the server's background work
        /// (flushes, compactions) to finish before measuring (needs --server-pid).
        #[arg(long, default_value_t = 300)]
        settle: u64,
    },
}

fn runtime(threads: usize) -> Result<tokio::runtime::Runtime> {
    Ok(if threads <= 1 {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?
    } else {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(threads)
            .enable_all()
            .build()?
    })
}

fn main() -> Result<()> {
    match Cli::parse().command {
        Command::Run {
            endpoint,
            workload,
            connections,
            seconds,
            warmup,
            keys,
            label,
            out,
            no_setup,
            threads,
            server_pid,
        } => {
            if connections == 0 || seconds <= 0.0 {
                bail!("--connections and --seconds must be positive");
            }
            let spec = load::LoadSpec {
                workload,
                connections,
                warmup: Duration::from_secs_f64(warmup.max(0.0)),
                duration: Duration::from_secs_f64(seconds),
                keys,
                label: label.unwrap_or_else(|| endpoint.clone()),
                server_pid,
                table: None,
            };
            let endpoint = Endpoint::parse(&endpoint)?;
            let m = runtime(threads)?.block_on(async {
                if !no_setup {
                    setup::ensure(&endpoint, keys).await?;
                    check(&endpoint, workload, keys).await?;
                }
                load::run(&endpoint, &spec).await
            })?;
            eprintln!("loadgen: {}", m.summary());
            let line = serde_json::to_string(&m)?;
            println!("{line}");
            if let Some(path) = out {
                let mut f = std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(&path)
                    .with_context(|| format!("opening {}", path.display()))?;
                writeln!(f, "{line}")?;
            }
            Ok(())
        }
        Command::Setup { endpoint, keys } => {
            let endpoint = Endpoint::parse(&endpoint)?;
            runtime(1)?.block_on(setup::ensure(&endpoint, keys))
        }
        Command::Ceiling { listen, threads } => {
            let threads = threads
                .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
            runtime(threads.max(2))?.block_on(ceiling::serve(listen))
        }
        Command::Report {
            results,
            ours,
            criterion,
        } => {
            let text = std::fs::read_to_string(&results)
                .with_context(|| format!("reading {}", results.display()))?;
            let measurements = report::read_measurements(&text)?;
            let store = match criterion {
                Some(dir) => report::read_criterion(&dir, "store_ops")?,
                None => Vec::new(),
            };
            print!("{}", report::markdown(&measurements, &ours, &store));
            println!();
            print!("{}", report::legend());
            Ok(())
        }
        Command::Bigtable {
            endpoint,
            big,
            small,
            connections,
            load_connections,
            seconds,
            warmup,
            rounds,
            server_pid,
            settle,
        } => {
            if small == 0 || big == 0 || connections == 0 || load_connections == 0 || seconds <= 0.0
            {
                bail!("--small, --big, --connections, --load-connections and --seconds must be positive");
            }
            let spec = bigtable::BigTableSpec {
                small,
                big,
                connections,
                load_connections,
                warmup: Duration::from_secs_f64(warmup.max(0.0)),
                duration: Duration::from_secs_f64(seconds),
                rounds: rounds.max(1),
                server_pid,
                settle: Duration::from_secs(settle),
            };
            let endpoint = Endpoint::parse(&endpoint)?;
            let report = runtime(1)?.block_on(bigtable::run(&endpoint, &spec))?;
            print!("{report}");
            Ok(())
        }
        Command::FreePort => {
            let port = std::net::TcpListener::bind("127.0.0.1:0")?
                .local_addr()?
                .port();
            println!("{port}");
            Ok(())
        }
    }
}

/// Sends one request of `workload` and checks the answer is what the workload expects (a hit for
/// GetItem, all the partition for Query), so a misconfigured server fails loudly instead of
/// producing fast errors.
async fn check(endpoint: &Endpoint, workload: Workload, keys: u64) -> Result<()> {
    let mut conn = Connection::open(endpoint).await?;
    let mut requests = RequestBuilder::new(workload, "check", 0, keys);
    let (op, body) = requests.next_request();
    let answer = conn.call_ok(op, body).await?;
    match op {
        "GetItem" if !answer["Item"].is_object() => {
            bail!("GetItem of a seeded key missed: {answer}")
        }
        "Query" if answer["Count"] != QUERY_ITEMS => {
            bail!(
                "Query answered {} items, not {QUERY_ITEMS}",
                answer["Count"]
            )
        }
        _ => Ok(()),
    }
}
