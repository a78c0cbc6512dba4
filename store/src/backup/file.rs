//! The snapshot file: one table's definition and items as of one instant.
//!
//! Layout (integers big-endian):
//!
//! ```text
//! "TARNSNAP" u32 version=1
//! u32 header length, header (JSON: the table definition, the change-log position it holds)
//! frames: u32 length (> 0), body; a body is a run of (u32 length, item record), sealed with
//!         the table's item key (frame number as associated data) in an encrypted store
//! u32 0, u64 item count, u64 item bytes
//! 32 bytes: SHA-256 of everything before them
//! ```
//!
//! A file is written under a temporary name, synced, then renamed, so a complete name always
//! holds a complete file. A reader checks the checksum before it trusts anything: a truncated,
//! altered or missing file is an error, never half a table.

use std::borrow::Cow;
use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Seek, SeekFrom, Write};
use std::path::Path;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::encoding::{decode_item, encode_item, ItemCodec};
use crate::error::{Result, StoreError};
use crate::schema::TableMeta;
use crate::value::{item_size, Item};

const MAGIC: &[u8; 8] = b"TARNSNAP";
const VERSION: u32 = 1;
/// Items are grouped in frames of about this many bytes.
const FRAME_BYTES: usize = 1 << 20;

/// What a snapshot file says about itself before its items.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SnapshotHeader {
    /// The table's definition at the snapshot's instant.
    pub table: TableMeta,
    /// For a point-in-time base: the last change-log sequence number the snapshot includes
    /// (0: none). Unused by on-demand backups.
    #[serde(default)]
    pub position: u64,
    /// The snapshot's instant, microseconds since the epoch.
    pub taken_at_micros: u64,
    /// Frames are sealed (the store was encrypted).
    pub sealed: bool,
}

/// Figures of a written snapshot.
#[derive(Clone, Copy, Debug, Default)]
pub struct SnapshotSummary {
    /// Items written.
    pub item_count: u64,
    /// Item bytes by DynamoDB's size rules.
    pub item_bytes: u64,
    /// Bytes of the file.
    pub file_bytes: u64,
}

/// A writer that hashes everything it writes and counts it.
struct HashingWriter<W: Write> {
    inner: W,
    hash: Sha256,
    written: u64,
}

impl<W: Write> Write for HashingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hash.update(&buf[..n]);
        self.written += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// Writes snapshot files item by item.
pub(crate) struct SnapshotWriter<'a> {
    out: HashingWriter<BufWriter<File>>,
    codec: &'a ItemCodec,
    header: SnapshotHeader,
    frame: Vec<u8>,
    frames: u64,
    summary: SnapshotSummary,
    temp: std::path::PathBuf,
    path: std::path::PathBuf,
}

impl<'a> SnapshotWriter<'a> {
    /// Starts the file `path` (written as `path.tmp` until [`SnapshotWriter::finish`]).
    pub(crate) fn create(
        path: &Path,
        codec: &'a ItemCodec,
        mut header: SnapshotHeader,
    ) -> Result<Self> {
        header.sealed = codec.is_sealing();
        let temp = path.with_extension("tmp");
        let file = File::create(&temp)?;
        let mut out = HashingWriter {
            inner: BufWriter::with_capacity(1 << 20, file),
            hash: Sha256::new(),
            written: 0,
        };
        let json = serde_json::to_vec(&header).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        out.write_all(MAGIC)?;
        out.write_all(&VERSION.to_be_bytes())?;
        out.write_all(&(json.len() as u32).to_be_bytes())?;
        out.write_all(&json)?;
        Ok(SnapshotWriter {
            out,
            codec,
            header,
            frame: Vec::with_capacity(FRAME_BYTES + 4096),
            frames: 0,
            summary: SnapshotSummary::default(),
            temp,
            path: path.to_path_buf(),
        })
    }

    /// Appends one item.
    pub(crate) fn push(&mut self, item: &Item) -> Result<()> {
        let record = encode_item(item);
        self.frame
            .extend_from_slice(&(record.len() as u32).to_be_bytes());
        self.frame.extend_from_slice(&record);
        self.summary.item_count += 1;
        self.summary.item_bytes += item_size(item) as u64;
        if self.frame.len() >= FRAME_BYTES {
            self.flush_frame()?;
        }
        Ok(())
    }

    /// Items and bytes written so far.
    pub(crate) fn summary(&self) -> SnapshotSummary {
        self.summary
    }

    fn flush_frame(&mut self) -> Result<()> {
        if self.frame.is_empty() {
            return Ok(());
        }
        let plain = std::mem::take(&mut self.frame);
        let body = self
            .codec
            .seal(&self.header.table.id, &self.frames.to_be_bytes(), plain);
        self.out.write_all(&(body.len() as u32).to_be_bytes())?;
        self.out.write_all(&body)?;
        self.frames += 1;
        Ok(())
    }

    /// Ends the file: trailer, checksum, sync, rename into place.
    pub(crate) fn finish(mut self) -> Result<SnapshotSummary> {
        self.flush_frame()?;
        self.out.write_all(&0u32.to_be_bytes())?;
        self.out.write_all(&self.summary.item_count.to_be_bytes())?;
        self.out.write_all(&self.summary.item_bytes.to_be_bytes())?;
        let digest = self.out.hash.clone().finalize();
        let mut inner = self.out.inner;
        inner.write_all(&digest)?;
        let file = inner.into_inner().map_err(|e| e.into_error())?;
        file.sync_all()?;
        drop(file);
        std::fs::rename(&self.temp, &self.path)?;
        if let Some(dir) = self.path.parent() {
            File::open(dir)?.sync_all()?;
        }
        self.summary.file_bytes = self.out.written + digest.len() as u64;
        Ok(self.summary)
    }
}

/// Writes `items` (raw entries of the table's items keyspace, as of one instant) to `path`.
pub(crate) fn write_snapshot<I>(
    codec: &ItemCodec,
    path: &Path,
    table: &TableMeta,
    items: I,
    progress: super::Progress<'_>,
) -> Result<SnapshotSummary>
where
    I: Iterator<Item = fjall::Guard>,
{
    let header = SnapshotHeader {
        table: table.clone(),
        position: 0,
        taken_at_micros: crate::clock::now_micros(),
        sealed: false,
    };
    write_entries(codec, path, header, items, progress)
}

/// Writes a snapshot with `header` from raw item entries of `header.table`.
pub(crate) fn write_entries<I>(
    codec: &ItemCodec,
    path: &Path,
    header: SnapshotHeader,
    items: I,
    progress: super::Progress<'_>,
) -> Result<SnapshotSummary>
where
    I: Iterator<Item = fjall::Guard>,
{
    let table_id = header.table.id;
    let mut w = SnapshotWriter::create(path, codec, header)?;
    let result = (|| {
        for guard in items {
            let (k, v) = guard.into_inner()?;
            w.push(&codec.decode(&table_id, &k, &v)?)?;
            let s = w.summary();
            if s.item_count % 4096 == 0 {
                progress(s.item_count, s.item_bytes);
            }
        }
        Ok(())
    })();
    match result {
        Ok(()) => w.finish(),
        Err(e) => {
            let _ = std::fs::remove_file(&w.temp);
            Err(e)
        }
    }
}

fn corrupt(path: &Path, what: &str) -> StoreError {
    StoreError::Corrupt(format!("snapshot file {} {what}", path.display()))
}

/// Reads and checks the whole file `path` (its checksum and trailer) and returns its header
/// and figures. Nothing is trusted before this passes.
pub fn verify(path: &Path) -> Result<(SnapshotHeader, SnapshotSummary)> {
    let file = File::open(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => corrupt(path, "is missing"),
        _ => StoreError::Io(e),
    })?;
    let len = file.metadata()?.len();
    if len < 8 + 4 + 4 + 4 + 16 + 32 {
        return Err(corrupt(path, "is truncated"));
    }
    let mut reader = BufReader::with_capacity(1 << 20, file);
    let mut hash = Sha256::new();
    let mut remaining = len - 32;
    let mut buf = vec![0u8; 1 << 20];
    while remaining > 0 {
        let n = reader.read(&mut buf[..remaining.min(1 << 20) as usize])?;
        if n == 0 {
            return Err(corrupt(path, "is truncated"));
        }
        hash.update(&buf[..n]);
        remaining -= n as u64;
    }
    let mut digest = [0u8; 32];
    reader.read_exact(&mut digest)?;
    if hash.finalize().as_slice() != digest {
        return Err(corrupt(path, "is corrupt (checksum mismatch)"));
    }
    let header = SnapshotReader::open(path)?.header;
    // The trailer's figures, just before the checksum.
    let mut f = File::open(path)?;
    f.seek(SeekFrom::Start(len - 32 - 16))?;
    let mut tail = [0u8; 16];
    f.read_exact(&mut tail)?;
    let summary = SnapshotSummary {
        item_count: u64::from_be_bytes(tail[..8].try_into().expect("8 bytes")),
        item_bytes: u64::from_be_bytes(tail[8..].try_into().expect("8 bytes")),
        file_bytes: len,
    };
    Ok((header, summary))
}

/// Reads the items of a snapshot file, frame by frame.
pub(crate) struct SnapshotReader<R: Read> {
    input: R,
    path: std::path::PathBuf,
    /// The file's header.
    pub(crate) header: SnapshotHeader,
    frame: Vec<u8>,
    at: usize,
    frames: u64,
    done: bool,
}

impl SnapshotReader<BufReader<File>> {
    /// Opens `path` (call [`verify`] first).
    pub(crate) fn open(path: &Path) -> Result<Self> {
        let file = File::open(path)?;
        Self::from_reader(path, BufReader::with_capacity(1 << 20, file))
    }
}

impl<R: Read> SnapshotReader<R> {
    fn from_reader(path: &Path, mut input: R) -> Result<Self> {
        let mut magic = [0u8; 12];
        input
            .read_exact(&mut magic)
            .map_err(|_| corrupt(path, "is truncated"))?;
        if &magic[..8] != MAGIC {
            return Err(corrupt(path, "is not a tarn snapshot"));
        }
        let version = u32::from_be_bytes(magic[8..].try_into().expect("4 bytes"));
        if version != VERSION {
            return Err(corrupt(path, &format!("has unknown version {version}")));
        }
        let len = read_u32(&mut input, path)? as usize;
        let mut json = vec![0u8; len];
        input
            .read_exact(&mut json)
            .map_err(|_| corrupt(path, "is truncated"))?;
        let header: SnapshotHeader = serde_json::from_slice(&json)
            .map_err(|e| corrupt(path, &format!("has an unreadable header: {e}")))?;
        Ok(SnapshotReader {
            input,
            path: path.to_path_buf(),
            header,
            frame: Vec::new(),
            at: 0,
            frames: 0,
            done: false,
        })
    }

    /// The next item, or `None` at the end.
    pub(crate) fn next_item(&mut self, codec: &ItemCodec) -> Result<Option<Item>> {
        loop {
            if self.at < self.frame.len() {
                let rest = &self.frame[self.at..];
                if rest.len() < 4 {
                    return Err(corrupt(&self.path, "has a broken frame"));
                }
                let n = u32::from_be_bytes(rest[..4].try_into().expect("4 bytes")) as usize;
                let record = rest
                    .get(4..4 + n)
                    .ok_or_else(|| corrupt(&self.path, "has a broken frame"))?;
                let item = decode_item(record)?;
                self.at += 4 + n;
                return Ok(Some(item));
            }
            if self.done {
                return Ok(None);
            }
            let len = read_u32(&mut self.input, &self.path)? as usize;
            if len == 0 {
                self.done = true;
                continue;
            }
            let mut body = vec![0u8; len];
            self.input
                .read_exact(&mut body)
                .map_err(|_| corrupt(&self.path, "is truncated"))?;
            let plain = codec.open(&self.header.table.id, &self.frames.to_be_bytes(), &body)?;
            // A frame that is not sealed is used as read.
            let opened = match plain {
                Cow::Owned(plain) => Some(plain),
                Cow::Borrowed(_) => None,
            };
            self.frame = opened.unwrap_or(body);
            self.frames += 1;
            self.at = 0;
        }
    }
}

fn read_u32<R: Read>(input: &mut R, path: &Path) -> Result<u32> {
    let mut b = [0u8; 4];
    input
        .read_exact(&mut b)
        .map_err(|_| corrupt(path, "is truncated"))?;
    Ok(u32::from_be_bytes(b))
}

#[cfg(test)]
mod tests {
    use fjall::Readable;

    use super::*;
    use crate::testutil::{item, n, open, s, spec};
    use crate::Store;

    fn write_some(store: &Store, path: &Path, count: i64) {
        let meta = store.create_table(spec("tbl", None)).unwrap();
        for i in 0..count {
            store
                .put_item(
                    "tbl",
                    item(&[("pk", s(&format!("k{i}"))), ("v", n(i))]),
                    |_| Ok(()),
                )
                .unwrap();
        }
        let t = store.db.table("tbl").unwrap();
        let snap = store.db.fjall.snapshot();
        let summary = write_snapshot(
            &store.db.codec,
            path,
            &meta,
            snap.iter(&t.items),
            &|_, _| {},
        )
        .unwrap();
        assert_eq!(summary.item_count, count as u64);
    }

    #[test]
    fn a_snapshot_reads_back_its_items() {
        let (dir, store) = open();
        let path = dir.path().join("a.tbk");
        write_some(&store, &path, 500);
        let (header, summary) = verify(&path).unwrap();
        assert_eq!(header.table.name, "tbl");
        assert_eq!(summary.item_count, 500);
        let mut r = SnapshotReader::open(&path).unwrap();
        let mut seen = std::collections::BTreeSet::new();
        while let Some(item) = r.next_item(&store.db.codec).unwrap() {
            seen.insert(format!("{:?}", item["pk"]));
        }
        assert_eq!(seen.len(), 500);
    }

    #[test]
    fn a_changed_truncated_or_missing_file_is_refused() {
        let (dir, store) = open();
        let path = dir.path().join("a.tbk");
        write_some(&store, &path, 50);
        let mut bytes = std::fs::read(&path).unwrap();
        let middle = bytes.len() / 2;
        bytes[middle] ^= 1;
        std::fs::write(&path, &bytes).unwrap();
        let e = verify(&path).unwrap_err().to_string();
        assert!(e.contains("checksum mismatch"), "{e}");
        bytes[middle] ^= 1;
        std::fs::write(&path, &bytes[..bytes.len() - 40]).unwrap();
        assert!(verify(&path).is_err());
        std::fs::remove_file(&path).unwrap();
        assert!(verify(&path).unwrap_err().to_string().contains("missing"));
    }
}
