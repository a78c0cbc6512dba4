//! `tarn.toml`: an app's functions, routes, triggers and tables.
//!
//! ```toml
//! [[function]]
//! name = "todo-api"
//! source = "../../functions/todo-api"   # a crate (built for wasm32-wasip2) or a .wasm file
//! memory_mb = 64                        # default 128
//! timeout_ms = 5000                     # default 3000
//! max_concurrency = 10                  # invocations at once; more answer 429 (default: no cap
//!                                       # but the server's --max-concurrent)
//! tables = { todos = "read-write", users = "read" }
//! env = { GREETING = "hello" }
//! network = false                       # sockets and outgoing HTTP; default false
//! reuse = 100                           # one instance serves up to 100 requests, one at a
//!                                       # time; dropped after a trap, timeout or OOM. Globals
//!                                       # survive between them: a function keeping
//!                                       # per-request state in globals must not opt in.
//!                                       # Default: a fresh instance per request.
//!
//! [[route]]
//! method = "GET"                        # default: any method
//! path = "/todos/:id"                   # `:name` matches one segment, a final `*` the rest
//! function = "todo-api"
//!
//! [[schedule]]
//! cron = "0 */5 * * * *"                # seconds first, UTC
//! function = "cleanup"
//! overlap = false                       # default: a tick is skipped while one still runs
//!
//! [[stream]]
//! table = "todos"
//! function = "on-change"
//! batch_size = 100                      # 1 to 10,000
//! batching_window_ms = 0
//! starting_position = "TRIM_HORIZON"    # or LATEST
//! max_retries = 3                       # default: retry until it succeeds
//! max_record_age_s = 3600               # default: no limit
//! bisect_on_error = true
//! on_failure_table = "failed-events"
//! parallelization_factor = 4            # batches at once, lanes by item key (1 to 10)
//!
//! [[table]]
//! name = "todos"
//! hash_key = "id"                       # "name" (type S) or "name:S|N|B"
//! range_key = "created:N"               # optional
//! stream = "NEW_AND_OLD_IMAGES"         # optional stream view type
//! ttl_attribute = "expires_at"          # optional
//! ```
//!
//! Relative paths are relative to the manifest's directory.
//!
//! The `[[stream]]` and `[[schedule]]` entries are the triggers' own definitions
//! ([`StreamDef`], [`ScheduleDef`], re-exported here); route patterns and cron expressions are
//! checked with the triggers' parsers, so the manifest accepts exactly what the triggers run.

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use tarn_store::schema::KeyAttribute;

use crate::host::tables::Access;
pub use crate::triggers::schedule::ScheduleDef;
pub use crate::triggers::stream::StreamDef;

/// Errors reading or checking a manifest.
#[derive(Debug, thiserror::Error)]
pub enum ManifestError {
    /// The file could not be read.
    #[error("reading {0}: {1}")]
    Io(PathBuf, #[source] std::io::Error),
    /// Not valid TOML, or not the expected shape.
    #[error("parsing tarn.toml: {0}")]
    Parse(String),
    /// Valid TOML but inconsistent.
    #[error("tarn.toml: {0}")]
    Invalid(String),
}

/// A whole `tarn.toml`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Manifest {
    /// `[[function]]`.
    #[serde(default, rename = "function", alias = "functions")]
    pub functions: Vec<FunctionDef>,
    /// `[[route]]`.
    #[serde(default, rename = "route", alias = "routes")]
    pub routes: Vec<RouteDef>,
    /// `[[stream]]`.
    #[serde(default, rename = "stream", alias = "streams")]
    pub streams: Vec<StreamDef>,
    /// `[[schedule]]`.
    #[serde(default, rename = "schedule", alias = "schedules")]
    pub schedules: Vec<ScheduleDef>,
    /// `[[table]]`.
    #[serde(default, rename = "table", alias = "tables")]
    pub tables: Vec<TableDef>,
}

fn default_memory_mb() -> u64 {
    128
}
fn default_timeout_ms() -> u64 {
    3000
}

/// One `[[function]]`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct FunctionDef {
    /// Unique name.
    pub name: String,
    /// A `.wasm` component, or a crate directory to build for wasm32-wasip2.
    pub source: String,
    /// Memory limit per linear memory, MiB.
    #[serde(default = "default_memory_mb")]
    pub memory_mb: u64,
    /// Wall-clock limit per invocation, ms.
    #[serde(default = "default_timeout_ms")]
    pub timeout_ms: u64,
    /// Most invocations of this function running at once; more are throttled (HTTP 429).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_concurrency: Option<u32>,
    /// Tables granted, `read` or `read-write`.
    #[serde(default)]
    pub tables: BTreeMap<String, Access>,
    /// Environment variables.
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    /// Whether sockets and outgoing HTTP are allowed.
    #[serde(default)]
    pub network: bool,
    /// Instance reuse: one instance serves up to this many requests, one at a time (default:
    /// a fresh instance per request). Globals survive between them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reuse: Option<u32>,
}

/// One `[[route]]`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct RouteDef {
    /// HTTP method; absent or `*` for any.
    #[serde(default)]
    pub method: Option<String>,
    /// Path pattern.
    pub path: String,
    /// The function serving it.
    pub function: String,
}

/// One `[[table]]` to create if missing.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct TableDef {
    /// Table name.
    pub name: String,
    /// Partition key: `name` or `name:S|N|B`.
    #[serde(alias = "partition_key")]
    pub hash_key: String,
    /// Sort key, same form.
    #[serde(default, alias = "sort_key", skip_serializing_if = "Option::is_none")]
    pub range_key: Option<String>,
    /// Stream view type (`NEW_AND_OLD_IMAGES`...), enabling the table's stream.
    #[serde(
        default,
        alias = "stream_view_type",
        skip_serializing_if = "Option::is_none"
    )]
    pub stream: Option<String>,
    /// TTL attribute.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ttl_attribute: Option<String>,
    /// Global secondary indexes.
    #[serde(default, alias = "gsi", skip_serializing_if = "Vec::is_empty")]
    pub global_secondary_indexes: Vec<IndexDef>,
}

/// A global secondary index of a `[[table]]`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct IndexDef {
    /// Index name.
    pub name: String,
    /// Partition key, as in [`TableDef::hash_key`].
    #[serde(alias = "partition_key")]
    pub hash_key: String,
    /// Sort key.
    #[serde(default, alias = "sort_key", skip_serializing_if = "Option::is_none")]
    pub range_key: Option<String>,
}

/// Splits `name:T` into (name, T), T defaulting to S.
pub fn key_attr(spec: &str) -> Result<(String, String), ManifestError> {
    let key = KeyAttribute::from_spec(spec).map_err(|_| {
        ManifestError::Invalid(format!(
            "key `{spec}`: expected `name` or `name:S`, `name:N`, `name:B`"
        ))
    })?;
    Ok((key.name, key.attr_type.as_str().to_string()))
}

impl TableDef {
    /// The DynamoDB `CreateTable` request for this table.
    pub fn create_table_request(&self) -> Result<serde_json::Value, ManifestError> {
        use serde_json::json;
        let mut attrs = BTreeMap::new();
        let mut schema =
            |hash: &str, range: Option<&str>| -> Result<serde_json::Value, ManifestError> {
                let (h, ht) = key_attr(hash)?;
                attrs.insert(h.clone(), ht);
                let mut ks = vec![json!({"AttributeName": h, "KeyType": "HASH"})];
                if let Some(r) = range {
                    let (r, rt) = key_attr(r)?;
                    attrs.insert(r.clone(), rt);
                    ks.push(json!({"AttributeName": r, "KeyType": "RANGE"}));
                }
                Ok(json!(ks))
            };
        let key_schema = schema(&self.hash_key, self.range_key.as_deref())?;
        let mut gsis = Vec::new();
        for i in &self.global_secondary_indexes {
            let ks = schema(&i.hash_key, i.range_key.as_deref())?;
            gsis.push(json!({"IndexName": i.name, "KeySchema": ks, "Projection": {"ProjectionType": "ALL"}}));
        }
        let mut req = json!({
            "TableName": self.name,
            "KeySchema": key_schema,
            "AttributeDefinitions": attrs.iter().map(|(n, t)| json!({"AttributeName": n, "AttributeType": t})).collect::<Vec<_>>(),
            "BillingMode": "PAY_PER_REQUEST",
        });
        if !gsis.is_empty() {
            req["GlobalSecondaryIndexes"] = json!(gsis);
        }
        if let Some(view) = &self.stream {
            req["StreamSpecification"] = json!({"StreamEnabled": true, "StreamViewType": view});
        }
        Ok(req)
    }
}

impl Manifest {
    /// Parses and checks manifest text.
    pub fn parse(text: &str) -> Result<Manifest, ManifestError> {
        let m: Manifest = toml::from_str(text).map_err(|e| ManifestError::Parse(e.to_string()))?;
        m.validate()?;
        Ok(m)
    }

    /// Reads, parses and checks a manifest file.
    pub fn load(path: &Path) -> Result<Manifest, ManifestError> {
        let text =
            std::fs::read_to_string(path).map_err(|e| ManifestError::Io(path.to_path_buf(), e))?;
        Self::parse(&text)
    }

    /// The manifest as TOML text.
    pub fn to_toml(&self) -> String {
        toml::to_string(self).expect("a manifest always serializes")
    }

    /// The function named `name`.
    pub fn function(&self, name: &str) -> Option<&FunctionDef> {
        self.functions.iter().find(|f| f.name == name)
    }

    /// Checks names, references, limits and route patterns.
    pub fn validate(&self) -> Result<(), ManifestError> {
        let bad = |m: String| Err(ManifestError::Invalid(m));
        let mut names = HashSet::new();
        for f in &self.functions {
            if f.name.is_empty()
                || !f
                    .name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
            {
                return bad(format!(
                    "function name `{}`: use letters, digits, - and _",
                    f.name
                ));
            }
            if !names.insert(f.name.as_str()) {
                return bad(format!("function `{}` is defined twice", f.name));
            }
            if f.memory_mb == 0 || f.memory_mb > 4096 {
                return bad(format!("function `{}`: memory_mb must be 1..=4096", f.name));
            }
            if f.max_concurrency == Some(0) {
                return bad(format!(
                    "function `{}`: max_concurrency must be at least 1",
                    f.name
                ));
            }
            if f.timeout_ms == 0 || f.timeout_ms > 900_000 {
                return bad(format!(
                    "function `{}`: timeout_ms must be 1..=900000",
                    f.name
                ));
            }
        }
        let known = |name: &str, what: &str| -> Result<(), ManifestError> {
            if names.contains(name) {
                Ok(())
            } else {
                Err(ManifestError::Invalid(format!(
                    "{what} names unknown function `{name}`"
                )))
            }
        };
        for r in &self.routes {
            known(&r.function, &format!("route {}", r.path))?;
            crate::triggers::routes::RoutePattern::parse(&r.path)
                .map_err(|e| ManifestError::Invalid(format!("route {}: {e}", r.path)))?;
        }
        for s in &self.schedules {
            known(&s.function, "schedule")?;
            crate::triggers::schedule::parse(&s.cron).map_err(ManifestError::Invalid)?;
        }
        for s in &self.streams {
            known(&s.function, "stream")?;
        }
        let mut tables = HashSet::new();
        for t in &self.tables {
            if !tables.insert(t.name.as_str()) {
                return bad(format!("table `{}` is defined twice", t.name));
            }
            t.create_table_request()?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_documented_shape() {
        let m = Manifest::parse(
            r#"
            [[function]]
            name = "api"
            source = "api.wasm"
            tables = { todos = "read-write", users = "read" }
            [[route]]
            path = "/todos/:id"
            function = "api"
            [[table]]
            name = "todos"
            hash_key = "id"
            range_key = "n:N"
            "#,
        )
        .unwrap();
        assert_eq!(m.functions[0].memory_mb, 128);
        assert_eq!(m.functions[0].tables["users"], Access::Read);
        let req = m.tables[0].create_table_request().unwrap();
        assert_eq!(req["KeySchema"][1]["AttributeName"], "n");
        let again = Manifest::parse(&m.to_toml()).unwrap();
        assert_eq!(again, m);
    }

    #[test]
    fn rejects_unknown_functions_and_bad_grants() {
        assert!(Manifest::parse("[[route]]\npath='/'\nfunction='x'").is_err());
        assert!(Manifest::parse(
            "[[function]]\nname='a'\nsource='a.wasm'\ntables={t='write-only'}"
        )
        .is_err());
    }
}
