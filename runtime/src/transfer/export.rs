//! The writer of DynamoDB's export layout.
//!
//! An export with id `<id>` into bucket directory `B` with prefix `p` writes, as DynamoDB writes
//! to S3:
//!
//! ```text
//! B/p/AWSDynamoDB/<id>/_started                 empty, written first
//! B/p/AWSDynamoDB/<id>/data/<random>.json.gz    gzipped lines {"Item":{...}} (DynamoDB JSON)
//! B/p/AWSDynamoDB/<id>/manifest-files.json      one line per data file:
//!     {"itemCount":N,"md5Checksum":"<base64 MD5>","etag":"<hex MD5>","dataFileS3Key":"p/AWSDynamoDB/<id>/data/<random>.json.gz"}
//! B/p/AWSDynamoDB/<id>/manifest-files.md5       the hex MD5 of manifest-files.json
//! B/p/AWSDynamoDB/<id>/manifest-summary.json    the export's summary (version 2020-06-30),
//!                                               written last: its presence means complete
//! B/p/AWSDynamoDB/<id>/manifest-summary.md5
//! ```
//!
//! A data file is closed and a new one started once it holds [`DEFAULT_FILE_BYTES`] of
//! uncompressed lines; an empty table still gets one (empty) data file, as DynamoDB writes one
//! per partition. The etag is the MD5 of the file in hex, as S3 reports it for an object
//! uploaded in one part. Manifests are written to a temporary name and renamed into place.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use base64::Engine as _;
use flate2::write::GzEncoder;
use md5::{Digest, Md5};
use serde_json::{json, Value};
use tarn_store::Item;

use super::location::{join_key, key_path};
use super::TransferError;
use tarn_wire::encode_item;

/// Uncompressed bytes of lines after which a data file is closed and the next one started.
pub const DEFAULT_FILE_BYTES: u64 = 64 * 1024 * 1024;

/// The manifest format version DynamoDB writes.
pub const MANIFEST_VERSION: &str = "2020-06-30";

/// Where an export goes: the bucket directory, the prefix, and the export id.
#[derive(Debug, Clone)]
pub struct ExportLayout {
    /// The bucket's directory.
    pub bucket_dir: PathBuf,
    /// `S3Prefix`, if any.
    pub prefix: Option<String>,
    /// The export id (`<ms>-<8 hex>`).
    pub export_id: String,
}

impl ExportLayout {
    /// The key of the export's directory: `p/AWSDynamoDB/<id>`.
    pub fn export_key(&self) -> String {
        join_key(
            self.prefix.as_deref(),
            &format!("AWSDynamoDB/{}", self.export_id),
        )
    }

    /// The key of `name` in the export's directory.
    pub fn key(&self, name: &str) -> String {
        format!("{}/{name}", self.export_key())
    }

    /// The key of manifest-summary.json (DescribeExport's ExportManifest).
    pub fn manifest_summary_key(&self) -> String {
        self.key("manifest-summary.json")
    }

    /// The export's directory on disk.
    pub fn dir(&self) -> Result<PathBuf, TransferError> {
        key_path(&self.bucket_dir, &self.export_key())
    }
}

/// What manifest-summary.json says beside the file list.
#[derive(Debug, Clone)]
pub struct ExportSummary {
    /// The export's ARN.
    pub export_arn: String,
    /// When the export started (seconds since the epoch).
    pub start_time: f64,
    /// When it ended.
    pub end_time: f64,
    /// The table's ARN.
    pub table_arn: String,
    /// The table's id.
    pub table_id: String,
    /// The instant the data is from.
    pub export_time: f64,
    /// `S3Bucket` as requested.
    pub s3_bucket: String,
    /// `S3SseAlgorithm` as requested.
    pub s3_sse_algorithm: Option<String>,
    /// `S3SseKmsKeyId` as requested.
    pub s3_sse_kms_key_id: Option<String>,
}

/// One data file as manifest-files.json lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataFile {
    /// Items in the file.
    pub item_count: u64,
    /// The base64 MD5 of the file.
    pub md5_checksum: String,
    /// The hex MD5 of the file.
    pub etag: String,
    /// The file's key.
    pub data_file_s3_key: String,
}

impl DataFile {
    /// The manifest-files.json line.
    pub fn to_json(&self) -> Value {
        json!({
            "itemCount": self.item_count,
            "md5Checksum": self.md5_checksum,
            "etag": self.etag,
            "dataFileS3Key": self.data_file_s3_key,
        })
    }

    /// Reads a manifest-files.json line.
    pub fn from_json(line: &Value) -> Result<DataFile, TransferError> {
        let text = |name: &str| {
            line.get(name)
                .and_then(Value::as_str)
                .map(str::to_owned)
                .ok_or_else(|| {
                    TransferError::Format(format!("manifest-files.json: a line has no {name}"))
                })
        };
        Ok(DataFile {
            item_count: line.get("itemCount").and_then(Value::as_u64).unwrap_or(0),
            md5_checksum: text("md5Checksum").unwrap_or_default(),
            etag: text("etag").unwrap_or_default(),
            data_file_s3_key: text("dataFileS3Key")?,
        })
    }
}

/// What a finished export wrote.
#[derive(Debug, Clone)]
pub struct ExportOutcome {
    /// Items written.
    pub item_count: u64,
    /// Their size by DynamoDB's item-size rules.
    pub billed_size_bytes: u64,
    /// The data files.
    pub files: Vec<DataFile>,
    /// The key of manifest-summary.json.
    pub manifest_key: String,
}

/// A writer that hashes (MD5) and counts what passes through it.
struct Hashing<W> {
    inner: W,
    md5: Md5,
}

impl<W: Write> Write for Hashing<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.md5.update(&buf[..n]);
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// The data file being written.
struct OpenFile {
    key: String,
    path: PathBuf,
    gz: GzEncoder<Hashing<BufWriter<File>>>,
    items: u64,
    raw_bytes: u64,
}

impl OpenFile {
    fn close(self) -> Result<DataFile, TransferError> {
        let hashing = self.gz.finish().map_err(TransferError::io(&self.path))?;
        let Hashing { inner, md5 } = hashing;
        let file = inner
            .into_inner()
            .map_err(|e| TransferError::io(&self.path)(e.into_error()))?;
        file.sync_all().map_err(TransferError::io(&self.path))?;
        let digest = md5.finalize();
        Ok(DataFile {
            item_count: self.items,
            md5_checksum: base64::engine::general_purpose::STANDARD.encode(digest),
            etag: hex(&digest),
            data_file_s3_key: self.key,
        })
    }
}

/// Writes one export: items in, the layout out.
pub struct ExportWriter {
    layout: ExportLayout,
    dir: PathBuf,
    max_file_bytes: u64,
    current: Option<OpenFile>,
    files: Vec<DataFile>,
    item_count: u64,
    billed_size_bytes: u64,
    line: Vec<u8>,
}

impl ExportWriter {
    /// Creates the export's directory and its `_started` marker.
    pub fn create(layout: ExportLayout, max_file_bytes: u64) -> Result<Self, TransferError> {
        let dir = layout.dir()?;
        let data = dir.join("data");
        std::fs::create_dir_all(&data).map_err(TransferError::io(&data))?;
        let started = dir.join("_started");
        File::create(&started).map_err(TransferError::io(&started))?;
        Ok(ExportWriter {
            layout,
            dir,
            max_file_bytes: max_file_bytes.max(1),
            current: None,
            files: Vec::new(),
            item_count: 0,
            billed_size_bytes: 0,
            line: Vec::new(),
        })
    }

    /// Items written so far.
    pub fn item_count(&self) -> u64 {
        self.item_count
    }

    fn open_file(&mut self) -> Result<&mut OpenFile, TransferError> {
        if self.current.is_none() {
            let name = format!("data/{}.json.gz", random_name());
            let key = self.layout.key(&name);
            let path = self.dir.join(&name);
            let file = File::create(&path).map_err(TransferError::io(&path))?;
            self.current = Some(OpenFile {
                key,
                path,
                gz: GzEncoder::new(
                    Hashing {
                        inner: BufWriter::new(file),
                        md5: Md5::new(),
                    },
                    flate2::Compression::default(),
                ),
                items: 0,
                raw_bytes: 0,
            });
        }
        Ok(self.current.as_mut().expect("opened"))
    }

    /// Appends one item as a `{"Item":{...}}` line.
    pub fn write_item(&mut self, item: &Item) -> Result<(), TransferError> {
        let mut line = std::mem::take(&mut self.line);
        line.clear();
        line.extend_from_slice(b"{\"Item\":");
        serde_json::to_writer(&mut line, &encode_item(item))
            .map_err(|e| TransferError::Format(format!("cannot encode an item: {e}")))?;
        line.extend_from_slice(b"}\n");
        let file = self.open_file()?;
        file.gz
            .write_all(&line)
            .map_err(TransferError::io(&file.path))?;
        file.items += 1;
        file.raw_bytes += line.len() as u64;
        let full = file.raw_bytes >= self.max_file_bytes;
        self.line = line;
        self.item_count += 1;
        self.billed_size_bytes += tarn_store::value::item_size(item) as u64;
        if full {
            let file = self.current.take().expect("open");
            self.files.push(file.close()?);
        }
        Ok(())
    }

    /// Closes the last data file and writes the manifests (manifest-summary.json last).
    pub fn finish(mut self, summary: &ExportSummary) -> Result<ExportOutcome, TransferError> {
        if self.current.is_none() && self.files.is_empty() {
            self.open_file()?;
        }
        if let Some(file) = self.current.take() {
            self.files.push(file.close()?);
        }
        let mut files_json = Vec::new();
        for f in &self.files {
            serde_json::to_writer(&mut files_json, &f.to_json())
                .map_err(|e| TransferError::Format(e.to_string()))?;
            files_json.push(b'\n');
        }
        self.write_manifest("manifest-files", &files_json)?;
        let summary_json = self.summary_json(summary);
        let mut bytes =
            serde_json::to_vec(&summary_json).map_err(|e| TransferError::Format(e.to_string()))?;
        bytes.push(b'\n');
        self.write_manifest("manifest-summary", &bytes)?;
        Ok(ExportOutcome {
            item_count: self.item_count,
            billed_size_bytes: self.billed_size_bytes,
            files: self.files,
            manifest_key: self.layout.manifest_summary_key(),
        })
    }

    /// manifest-summary.json's content.
    fn summary_json(&self, s: &ExportSummary) -> Value {
        json!({
            "version": MANIFEST_VERSION,
            "exportArn": s.export_arn,
            "startTime": iso_time(s.start_time),
            "endTime": iso_time(s.end_time),
            "tableArn": s.table_arn,
            "tableId": s.table_id,
            "exportTime": iso_time(s.export_time),
            "s3Bucket": s.s3_bucket,
            "s3Prefix": self.layout.prefix,
            "s3SseAlgorithm": s.s3_sse_algorithm,
            "s3SseKmsKeyId": s.s3_sse_kms_key_id,
            "manifestFilesS3Key": self.layout.key("manifest-files.json"),
            "billedSizeBytes": self.billed_size_bytes,
            "itemCount": self.item_count,
            "outputFormat": "DYNAMODB_JSON",
            "exportType": "FULL_EXPORT",
        })
    }

    /// Writes `<name>.json` and `<name>.md5` durably, each through a temporary file.
    fn write_manifest(&self, name: &str, content: &[u8]) -> Result<(), TransferError> {
        write_durably(&self.dir.join(format!("{name}.json")), content)?;
        let md5 = hex(&Md5::digest(content));
        write_durably(&self.dir.join(format!("{name}.md5")), md5.as_bytes())
    }
}

/// Writes `content` to `path` through a temporary file renamed into place.
fn write_durably(path: &Path, content: &[u8]) -> Result<(), TransferError> {
    let tmp = path.with_extension("tmp");
    let mut f = File::create(&tmp).map_err(TransferError::io(&tmp))?;
    f.write_all(content).map_err(TransferError::io(&tmp))?;
    f.sync_all().map_err(TransferError::io(&tmp))?;
    std::fs::rename(&tmp, path).map_err(TransferError::io(path))
}

/// An ISO 8601 UTC time with milliseconds (`2020-11-04T07:28:34.028Z`), as manifests carry.
pub fn iso_time(secs: f64) -> String {
    chrono::DateTime::from_timestamp_millis((secs * 1000.0).round() as i64)
        .unwrap_or_default()
        .format("%Y-%m-%dT%H:%M:%S%.3fZ")
        .to_string()
}

/// Lower-case hex.
fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A random data file name: 26 characters of lower-case base32, like DynamoDB's.
fn random_name() -> String {
    const ALPHABET: &[u8; 32] = b"abcdefghijklmnopqrstuvwxyz234567";
    let bits = u128::from_be_bytes(*uuid::Uuid::new_v4().as_bytes());
    (0..26)
        .map(|i| ALPHABET[((bits >> (i * 5)) & 31) as usize] as char)
        .collect()
}

#[cfg(test)]
mod tests {
    use std::io::Read;

    use serde_json::json;

    use super::*;
    use tarn_wire::decode_item;

    fn item(n: u32) -> Item {
        decode_item(
            &json!({"pk": {"S": format!("k{n}")}, "n": {"N": n.to_string()},
                            "b": {"B": "AAEC"}, "l": {"L": [{"NULL": true}, {"SS": ["x", "y"]}]}}),
        )
        .unwrap()
    }

    fn summary() -> ExportSummary {
        ExportSummary {
            export_arn:
                "arn:aws:dynamodb:us-east-1:000000000000:table/T/export/01700000000000-0a1b2c3d"
                    .into(),
            start_time: 1_700_000_000.0,
            end_time: 1_700_000_001.5,
            table_arn: "arn:aws:dynamodb:us-east-1:000000000000:table/T".into(),
            table_id: "00000000-0000-0000-0000-000000000001".into(),
            export_time: 1_700_000_000.0,
            s3_bucket: "bucket".into(),
            s3_sse_algorithm: None,
            s3_sse_kms_key_id: None,
        }
    }

    fn gunzip(path: &Path) -> String {
        let mut out = String::new();
        flate2::read::GzDecoder::new(File::open(path).unwrap())
            .read_to_string(&mut out)
            .unwrap();
        out
    }

    #[test]
    fn layout_and_manifests_follow_dynamodb() {
        let tmp = tempfile::tempdir().unwrap();
        let layout = ExportLayout {
            bucket_dir: tmp.path().to_path_buf(),
            prefix: Some("2024/".into()),
            export_id: "01700000000000-0a1b2c3d".into(),
        };
        let dir = tmp.path().join("2024/AWSDynamoDB/01700000000000-0a1b2c3d");
        let mut w = ExportWriter::create(layout, 300).unwrap();
        assert!(dir.join("_started").is_file());
        for n in 0..5 {
            w.write_item(&item(n)).unwrap();
        }
        let out = w.finish(&summary()).unwrap();
        assert_eq!(out.item_count, 5);
        assert!(out.files.len() > 1, "300-byte files roll over");
        assert_eq!(
            out.manifest_key,
            "2024/AWSDynamoDB/01700000000000-0a1b2c3d/manifest-summary.json"
        );

        let s: Value =
            serde_json::from_slice(&std::fs::read(dir.join("manifest-summary.json")).unwrap())
                .unwrap();
        assert_eq!(s["version"], "2020-06-30");
        assert_eq!(s["itemCount"], 5);
        assert_eq!(s["startTime"], "2023-11-14T22:13:20.000Z");
        assert_eq!(s["endTime"], "2023-11-14T22:13:21.500Z");
        assert_eq!(s["s3Prefix"], "2024/");
        assert_eq!(s["s3SseKmsKeyId"], Value::Null);
        assert_eq!(s["outputFormat"], "DYNAMODB_JSON");
        assert_eq!(s["exportType"], "FULL_EXPORT");
        assert_eq!(
            s["manifestFilesS3Key"],
            "2024/AWSDynamoDB/01700000000000-0a1b2c3d/manifest-files.json"
        );
        assert_eq!(s["billedSizeBytes"], out.billed_size_bytes);

        let files = std::fs::read_to_string(dir.join("manifest-files.json")).unwrap();
        let mut lines = Vec::new();
        let mut total = 0;
        for line in files.lines() {
            let v: Value = serde_json::from_str(line).unwrap();
            let keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
            assert_eq!(keys, ["itemCount", "md5Checksum", "etag", "dataFileS3Key"]);
            let f = DataFile::from_json(&v).unwrap();
            let key = f.data_file_s3_key.clone();
            assert!(key.starts_with("2024/AWSDynamoDB/01700000000000-0a1b2c3d/data/"));
            assert!(key.ends_with(".json.gz"));
            let path = key_path(tmp.path(), &key).unwrap();
            let bytes = std::fs::read(&path).unwrap();
            let digest = Md5::digest(&bytes);
            assert_eq!(f.etag, hex(&digest));
            assert_eq!(
                f.md5_checksum,
                base64::engine::general_purpose::STANDARD.encode(digest)
            );
            let text = gunzip(&path);
            assert_eq!(text.lines().count() as u64, f.item_count);
            total += f.item_count;
            lines.extend(text.lines().map(str::to_owned));
        }
        assert_eq!(total, 5);
        assert_eq!(
            hex(&Md5::digest(files.as_bytes())),
            std::fs::read_to_string(dir.join("manifest-files.md5")).unwrap()
        );
        let first: Value = serde_json::from_str(&lines[0]).unwrap();
        assert_eq!(decode_item(&first["Item"]).unwrap(), item(0));
        assert!(!dir.join("manifest-files.tmp").exists());
    }

    #[test]
    fn an_empty_table_gets_one_empty_data_file() {
        let tmp = tempfile::tempdir().unwrap();
        let layout = ExportLayout {
            bucket_dir: tmp.path().to_path_buf(),
            prefix: None,
            export_id: "01700000000000-00000000".into(),
        };
        let out = ExportWriter::create(layout, DEFAULT_FILE_BYTES)
            .unwrap()
            .finish(&summary())
            .unwrap();
        assert_eq!(out.item_count, 0);
        assert_eq!(out.files.len(), 1);
        assert_eq!(out.files[0].item_count, 0);
        assert!(out.files[0]
            .data_file_s3_key
            .starts_with("AWSDynamoDB/01700000000000-00000000/data/"));
        let path = key_path(tmp.path(), &out.files[0].data_file_s3_key).unwrap();
        assert_eq!(gunzip(&path), "");
    }

    #[test]
    fn names_and_times() {
        let n = random_name();
        assert_eq!(n.len(), 26);
        assert!(n
            .bytes()
            .all(|b| b.is_ascii_lowercase() || (b'2'..=b'7').contains(&b)));
        assert_ne!(random_name(), n);
        assert_eq!(iso_time(0.0), "1970-01-01T00:00:00.000Z");
    }
}
