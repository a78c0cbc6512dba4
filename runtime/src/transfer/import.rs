//! Import sources: DynamoDB JSON lines and CSV, gzipped or not, read into items, and the loader
//! that writes them into the new table.
//!
//! Each source line becomes a [`Line`]: an item, or the reason it is not one. A bad line is
//! counted and logged by the caller and the import goes on, as DynamoDB counts them in
//! `ErrorCount`. A file that cannot be read on (corrupt gzip data, an I/O error) ends with an
//! error after the lines read so far: DynamoDB too may "skip processing the remaining portion of
//! the object".
//!
//! - DynamoDB JSON: one `{"Item":{...}}` object per line (what an export writes); blank lines
//!   are skipped; a line longer than [`MAX_LINE_BYTES`] is bad without being buffered.
//! - CSV: RFC 4180 fields (quoted fields may hold delimiters, quotes and newlines), a delimiter
//!   of `,` `;` `:` `|` tab or space. The header is `HeaderList`, or else the file's first line.
//!   Every value is a string (S) except for attributes the AttributeDefinitions name, which take
//!   their type there (N parsed as a number, B decoded from base64). An empty field is no
//!   attribute (CSV cannot tell an empty string from a missing value); a line with more fields
//!   than the header is bad; one with fewer lacks the last attributes.
//!
//! The [`Loader`] checks each item as a PutItem would (key attributes present and typed, key
//! sizes, index key types, the 400 KB and nesting limits) before batching it, and writes batches
//! with [`tarn_store::Store::write_items`] so index entries are written with their items. Items
//! with the same key overwrite each other (the last read wins), as DynamoDB's import does,
//! without being errors.

use std::cell::RefCell;
use std::collections::{HashMap, HashSet, VecDeque};
use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::rc::Rc;
use std::sync::Arc;

use base64::Engine as _;
use serde_json::Value;
use tarn_store::schema::{ScalarType, TableMeta};
use tarn_store::{AttributeValue, Item, Mutation, Number, Store, StoreError, TransactAction};

use super::jobs::Progress;
use super::TransferError;
use tarn_wire::{decode_item, encode_item};

/// The longest DynamoDB JSON line read; longer ones are bad lines (an item is at most 400 KB,
/// which JSON escaping and base64 can at most multiply by six).
pub const MAX_LINE_BYTES: usize = 4 * 1024 * 1024;

/// Items written per batch.
pub const BATCH_ITEMS: usize = 100;

/// How source files are compressed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Compression {
    /// Plain files.
    None,
    /// gzip.
    Gzip,
}

/// CSV options (`InputFormatOptions.Csv`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CsvOptions {
    /// The field delimiter.
    pub delimiter: u8,
    /// The column names; without them the first line of each file is the header.
    pub header: Option<Vec<String>>,
}

impl Default for CsvOptions {
    fn default() -> Self {
        CsvOptions {
            delimiter: b',',
            header: None,
        }
    }
}

/// What a source line became.
#[derive(Debug, Clone, PartialEq)]
pub struct Line {
    /// Its line number in the (uncompressed) file, from 1.
    pub number: u64,
    /// Its size in bytes.
    pub bytes: u64,
    /// The item, or why there is none.
    pub item: Result<Item, String>,
}

/// Opens a source file, decompressing it as told.
pub fn open_source(
    path: &Path,
    compression: Compression,
) -> Result<Box<dyn BufRead + Send>, TransferError> {
    let file = File::open(path).map_err(TransferError::io(path))?;
    Ok(match compression {
        Compression::None => Box::new(BufReader::with_capacity(256 * 1024, file)),
        Compression::Gzip => Box::new(BufReader::with_capacity(
            256 * 1024,
            flate2::read::MultiGzDecoder::new(BufReader::new(file)),
        )),
    })
}

/// Reads up to and including the next newline into `buf` (emptied first), keeping at most
/// `max` bytes: the bytes consumed and whether the line was longer than `max` (then `buf` is
/// empty).
fn read_line_bounded(
    r: &mut dyn BufRead,
    buf: &mut Vec<u8>,
    max: usize,
) -> std::io::Result<(usize, bool)> {
    buf.clear();
    let mut total = 0;
    let mut too_long = false;
    loop {
        let available = match r.fill_buf() {
            Ok(a) => a,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if available.is_empty() {
            break;
        }
        let (n, done) = match available.iter().position(|&b| b == b'\n') {
            Some(i) => (i + 1, true),
            None => (available.len(), false),
        };
        if !too_long {
            if buf.len() + n > max {
                too_long = true;
                buf.clear();
            } else {
                buf.extend_from_slice(&available[..n]);
            }
        }
        total += n;
        r.consume(n);
        if done {
            break;
        }
    }
    Ok((total, too_long))
}

/// Reads DynamoDB JSON lines (`{"Item":{...}}`), handing each non-blank line to `each`.
pub fn read_json_lines(
    mut reader: impl BufRead,
    each: &mut dyn FnMut(Line) -> Result<(), TransferError>,
) -> Result<(), std::io::Error> {
    let mut buf = Vec::new();
    let mut number = 0u64;
    loop {
        let (n, too_long) = read_line_bounded(&mut reader, &mut buf, MAX_LINE_BYTES)?;
        if n == 0 {
            return Ok(());
        }
        number += 1;
        let item = if too_long {
            Err(format!("the line is longer than {MAX_LINE_BYTES} bytes"))
        } else if buf.iter().all(u8::is_ascii_whitespace) {
            continue;
        } else {
            parse_json_line(&buf)
        };
        each(Line {
            number,
            bytes: n as u64,
            item,
        })
        .map_err(std::io::Error::other)?;
    }
}

/// One `{"Item":{...}}` line.
fn parse_json_line(line: &[u8]) -> Result<Item, String> {
    let v: Value = serde_json::from_slice(line).map_err(|e| format!("not a JSON object: {e}"))?;
    let item = v
        .get("Item")
        .ok_or("the line has no \"Item\" member (expected {\"Item\":{...}})")?;
    decode_item(item).map_err(|e| e.message)
}

/// Reads CSV, handing each record to `each` as an item. `types` gives the types of the
/// attributes the AttributeDefinitions name. A header that cannot be used (empty or repeated
/// column names) is an error for the whole file.
pub fn read_csv(
    reader: impl BufRead,
    options: &CsvOptions,
    types: &HashMap<String, ScalarType>,
    each: &mut dyn FnMut(Line) -> Result<(), TransferError>,
) -> Result<(), TransferError> {
    let lines = Rc::new(RefCell::new(LineMarks::default()));
    let mut csv = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(options.delimiter)
        .from_reader(Tracked {
            inner: reader,
            offset: 0,
            marks: lines.clone(),
        });
    let mut header = options.header.clone();
    if let Some(h) = &header {
        check_header(h)?;
    }
    let mut record = csv::ByteRecord::new();
    let mut last_byte = 0u64;
    let mut first = true;
    loop {
        let more = csv
            .read_byte_record(&mut record)
            .map_err(|e| match e.into_kind() {
                csv::ErrorKind::Io(e) => TransferError::Io {
                    path: "CSV".into(),
                    source: e,
                },
                other => TransferError::Format(format!("CSV: {other:?}")),
            })?;
        if !more {
            return Ok(());
        }
        let line_number = lines
            .borrow_mut()
            .line_at(record.position().map_or(0, |p| p.byte()));
        let end = csv.position().byte();
        let bytes = end.saturating_sub(last_byte);
        last_byte = end;
        let mut fields: Vec<&[u8]> = record.iter().collect();
        if first {
            first = false;
            if let Some(f) = fields.first_mut() {
                *f = f.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(f);
            }
            if header.is_none() {
                let names = fields
                    .iter()
                    .map(|f| {
                        String::from_utf8(f.to_vec()).map_err(|_| {
                            TransferError::Format("the CSV header is not UTF-8".into())
                        })
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                check_header(&names)?;
                header = Some(names);
                continue;
            }
        }
        let names = header.as_deref().expect("header read");
        each(Line {
            number: line_number,
            bytes,
            item: csv_item(names, &fields, types),
        })?;
    }
}

/// A reader that notes where line terminators are, so a CSV record's line number counts the
/// blank lines the CSV reader skips before it (its own positions do not).
struct Tracked<R> {
    inner: R,
    offset: u64,
    marks: Rc<RefCell<LineMarks>>,
}

impl<R: Read> Read for Tracked<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        let mut marks = self.marks.borrow_mut();
        for (i, b) in buf[..n].iter().enumerate() {
            if matches!(b, b'\n' | b'\r') {
                marks.ahead.push_back((self.offset + i as u64, *b == b'\n'));
            }
        }
        self.offset += n as u64;
        Ok(n)
    }
}

/// The line terminators read but not yet passed, and the newlines passed.
#[derive(Default)]
struct LineMarks {
    /// Offsets of `\r` and `\n` bytes read ahead (and whether each is `\n`).
    ahead: VecDeque<(u64, bool)>,
    /// `\n` bytes before the first of `ahead`.
    newlines: u64,
}

impl LineMarks {
    /// The line (from 1) of the first byte at or after `offset` that is not a line terminator:
    /// where a record read from `offset` starts. Offsets must not decrease between calls.
    fn line_at(&mut self, offset: u64) -> u64 {
        while let Some(&(o, newline)) = self.ahead.front() {
            if o >= offset {
                break;
            }
            self.newlines += u64::from(newline);
            self.ahead.pop_front();
        }
        let skipped: u64 = (offset..)
            .zip(&self.ahead)
            .take_while(|(at, (o, _))| o == at)
            .map(|(_, (_, newline))| u64::from(*newline))
            .sum();
        1 + self.newlines + skipped
    }
}

fn check_header(names: &[String]) -> Result<(), TransferError> {
    let mut seen = HashSet::new();
    for n in names {
        if n.is_empty() {
            return Err(TransferError::Format(
                "the CSV header has an empty column name".into(),
            ));
        }
        if !seen.insert(n) {
            return Err(TransferError::Format(format!(
                "the CSV header names the column {n:?} twice"
            )));
        }
    }
    Ok(())
}

/// One CSV record as an item.
fn csv_item(
    names: &[String],
    fields: &[&[u8]],
    types: &HashMap<String, ScalarType>,
) -> Result<Item, String> {
    if fields.len() > names.len() {
        return Err(format!(
            "the line has {} fields, the header {}",
            fields.len(),
            names.len()
        ));
    }
    let mut item = Item::new();
    for (name, raw) in names.iter().zip(fields) {
        if raw.is_empty() {
            continue;
        }
        let text = std::str::from_utf8(raw).map_err(|_| format!("{name}: not UTF-8"))?;
        let value = match types.get(name) {
            None | Some(ScalarType::S) => AttributeValue::S(text.to_string()),
            Some(ScalarType::N) => AttributeValue::N(
                Number::parse(text)
                    .map_err(|e| format!("{name}: {text:?} is not a number: {e}"))?,
            ),
            Some(ScalarType::B) => AttributeValue::B(
                base64::engine::general_purpose::STANDARD
                    .decode(text)
                    .map_err(|_| format!("{name}: {text:?} is not base64"))?,
            ),
        };
        item.insert(name.clone(), value);
    }
    Ok(item)
}

/// Writes items into a table in batches.
pub struct Loader<'a> {
    store: &'a Store,
    meta: TableMeta,
    batch: Vec<(Item, Item)>,
    keys: HashSet<String>,
    progress: Arc<Progress>,
    /// Items written.
    pub imported: u64,
    /// Items that passed the checks but that the store refused (each logged).
    pub refused: u64,
}

impl<'a> Loader<'a> {
    /// A loader into the table `meta` describes.
    pub fn new(store: &'a Store, meta: TableMeta, progress: Arc<Progress>) -> Self {
        Loader {
            store,
            meta,
            batch: Vec::with_capacity(BATCH_ITEMS),
            keys: HashSet::new(),
            progress,
            imported: 0,
            refused: 0,
        }
    }

    /// Checks an item as PutItem would and queues it: `Ok(Err(reason))` for an item that cannot
    /// be imported. Store failures are `Err`.
    pub fn add(&mut self, item: Item) -> Result<Result<(), String>, TransferError> {
        let key = match check(&self.meta, &item) {
            Ok(key) => key,
            Err(reason) => return Ok(Err(reason)),
        };
        let id = encode_item(&key).to_string();
        if self.keys.contains(&id) {
            // The same key twice in one batch: write what is queued first (the last one wins).
            self.flush()?;
        }
        self.keys.insert(id);
        self.batch.push((key, item));
        if self.batch.len() >= BATCH_ITEMS {
            self.flush()?;
        }
        Ok(Ok(()))
    }

    /// Writes the queued items. A batch the store refuses as a whole is written one item at a
    /// time, so one bad item costs only itself.
    pub fn flush(&mut self) -> Result<(), TransferError> {
        if self.batch.is_empty() {
            return Ok(());
        }
        let batch = std::mem::take(&mut self.batch);
        self.keys.clear();
        let n = batch.len() as u64;
        match self
            .store
            .write_items(actions(&self.meta.table_ref(), batch.clone()))
        {
            Ok(_) => {
                self.imported += n;
                Progress::add(&self.progress.items, n);
            }
            Err(StoreError::TransactionCanceled(_) | StoreError::Validation(_)) => {
                for one in batch {
                    let key = encode_item(&one.0).to_string();
                    match self
                        .store
                        .write_items(actions(&self.meta.table_ref(), vec![one]))
                    {
                        Ok(_) => {
                            self.imported += 1;
                            Progress::add(&self.progress.items, 1);
                        }
                        Err(
                            e @ (StoreError::TransactionCanceled(_) | StoreError::Validation(_)),
                        ) => {
                            tracing::warn!(table = %self.meta.name, key, error = %e, "import: item refused");
                            self.refused += 1;
                            Progress::add(&self.progress.errors, 1);
                        }
                        Err(e) => return Err(e.into()),
                    }
                }
            }
            Err(e) => return Err(e.into()),
        }
        Ok(())
    }
}

fn actions(table: &str, batch: Vec<(Item, Item)>) -> Vec<TransactAction<'static>> {
    batch
        .into_iter()
        .map(|(key, item)| TransactAction {
            table: table.to_string(),
            key,
            decide: Box::new(move |_, _| Ok(Mutation::Put(item))),
        })
        .collect()
}

/// Checks an item against the table as a PutItem would; its key, or why it cannot be stored.
pub fn check(meta: &TableMeta, item: &Item) -> Result<Item, String> {
    let key = meta
        .key_schema
        .key_of_item(item)
        .map_err(|e| e.to_string())?;
    tarn_store::value::validate_item(item).map_err(|e| e.to_string())?;
    tarn_store::index::check_item(meta, item).map_err(|e| e.to_string())?;
    Ok(key)
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use serde_json::json;
    use tarn_store::index::{IndexKind, IndexProjection, IndexSpec};
    use tarn_store::schema::{BillingMode, KeyAttribute, KeySchema, TableSpec};

    use super::*;

    fn json_lines(text: &[u8]) -> Vec<Line> {
        let mut out = Vec::new();
        read_json_lines(text, &mut |l| {
            out.push(l);
            Ok(())
        })
        .unwrap();
        out
    }

    fn csv_lines(text: &str, options: &CsvOptions, types: &[(&str, ScalarType)]) -> Vec<Line> {
        let types = types.iter().map(|(n, t)| (n.to_string(), *t)).collect();
        let mut out = Vec::new();
        read_csv(text.as_bytes(), options, &types, &mut |l| {
            out.push(l);
            Ok(())
        })
        .unwrap();
        out
    }

    fn item(v: Value) -> Item {
        decode_item(&v).unwrap()
    }

    #[test]
    fn json_lines_good_bad_and_blank() {
        let text = b"{\"Item\":{\"pk\":{\"S\":\"a\"},\"n\":{\"N\":\"01.50\"}}}\n\n  \n{\"Item\":{\"pk\":{\"Q\":\"x\"}}}\nnot json\n{\"Other\":1}\n{\"Item\":{\"pk\":{\"S\":\"b\"}}}";
        let lines = json_lines(text);
        assert_eq!(
            lines.iter().map(|l| l.number).collect::<Vec<_>>(),
            [1, 4, 5, 6, 7]
        );
        assert_eq!(
            lines[0].item,
            Ok(item(json!({"pk": {"S": "a"}, "n": {"N": "1.5"}})))
        );
        assert_eq!(lines[0].bytes, 44);
        assert!(lines[1].item.is_err());
        assert!(lines[2]
            .item
            .as_ref()
            .unwrap_err()
            .contains("not a JSON object"));
        assert!(lines[3].item.as_ref().unwrap_err().contains("Item"));
        assert_eq!(lines[4].item, Ok(item(json!({"pk": {"S": "b"}}))));
    }

    #[test]
    fn overlong_lines_are_bad_without_stopping() {
        let mut text = vec![b'x'; MAX_LINE_BYTES + 10];
        text.extend_from_slice(b"\n{\"Item\":{\"pk\":{\"S\":\"a\"}}}\n");
        let lines = json_lines(&text);
        assert_eq!(lines.len(), 2);
        assert!(lines[0].item.as_ref().unwrap_err().contains("longer"));
        assert_eq!(lines[0].bytes, MAX_LINE_BYTES as u64 + 11);
        assert!(lines[1].item.is_ok());
    }

    #[test]
    fn gzip_sources_and_corruption() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("a.json.gz");
        let mut gz =
            flate2::write::GzEncoder::new(File::create(&path).unwrap(), Default::default());
        gz.write_all(b"{\"Item\":{\"pk\":{\"S\":\"a\"}}}\n")
            .unwrap();
        gz.finish().unwrap();
        let reader = open_source(&path, Compression::Gzip).unwrap();
        let mut n = 0;
        read_json_lines(reader, &mut |l| {
            assert!(l.item.is_ok());
            n += 1;
            Ok(())
        })
        .unwrap();
        assert_eq!(n, 1);
        let plain = tmp.path().join("b.json");
        std::fs::write(&plain, b"plain text, not gzip\n").unwrap();
        let reader = open_source(&plain, Compression::Gzip).unwrap();
        assert!(read_json_lines(reader, &mut |_| Ok(())).is_err());
    }

    #[test]
    fn csv_with_header_line_and_key_types() {
        let text = "pk,sk,name,bin\na,1,Ada,AAEC\nb,x,Bob,\n,2,NoKey,\nc,3,\"quoted, with \"\"comma\"\"\nand newline\",\n";
        let lines = csv_lines(
            text,
            &CsvOptions::default(),
            &[("sk", ScalarType::N), ("bin", ScalarType::B)],
        );
        assert_eq!(lines.len(), 4);
        assert_eq!(lines[0].number, 2);
        assert_eq!(
            lines[0].item,
            Ok(item(
                json!({"pk": {"S": "a"}, "sk": {"N": "1"}, "name": {"S": "Ada"},
                           "bin": {"B": "AAEC"}})
            ))
        );
        assert!(lines[1].item.as_ref().unwrap_err().contains("not a number"));
        // An empty field is no attribute: the key is missing, which the loader's check finds.
        assert_eq!(
            lines[2].item,
            Ok(item(json!({"sk": {"N": "2"}, "name": {"S": "NoKey"}})))
        );
        assert_eq!(
            lines[3].item,
            Ok(item(json!({"pk": {"S": "c"}, "sk": {"N": "3"},
                           "name": {"S": "quoted, with \"comma\"\nand newline"}})))
        );
        assert_eq!(lines[3].number, 5);
    }

    #[test]
    fn csv_with_header_list_delimiter_and_ragged_lines() {
        let options = CsvOptions {
            delimiter: b'|',
            header: Some(vec!["pk".into(), "a".into(), "b".into()]),
        };
        let text = "\u{feff}x|1|2\ny|1\nz|1|2|3\n\nw||\n";
        let lines = csv_lines(text, &options, &[]);
        assert_eq!(lines.len(), 4);
        assert_eq!(
            lines[0].item,
            Ok(item(
                json!({"pk": {"S": "x"}, "a": {"S": "1"}, "b": {"S": "2"}})
            ))
        );
        assert_eq!(
            lines[1].item,
            Ok(item(json!({"pk": {"S": "y"}, "a": {"S": "1"}})))
        );
        assert!(lines[2].item.as_ref().unwrap_err().contains("4 fields"));
        assert_eq!(lines[3].item, Ok(item(json!({"pk": {"S": "w"}}))));
        assert_eq!(lines[3].number, 5);
    }

    #[test]
    fn csv_line_numbers_count_blank_lines_and_crlf() {
        let types = [("n", ScalarType::N)];
        for text in [
            "pk,n\na,1\n\n\nb,x\n\"c\nd\",y\ne,z",
            "pk,n\r\na,1\r\n\r\n\r\nb,x\r\n\"c\r\nd\",y\r\ne,z\r\n",
        ] {
            let lines = csv_lines(text, &CsvOptions::default(), &types);
            let numbers: Vec<u64> = lines.iter().map(|l| l.number).collect();
            assert_eq!(numbers, [2, 5, 6, 8], "{text:?}");
        }
    }

    #[test]
    fn csv_headers_must_be_usable() {
        let types = HashMap::new();
        for text in ["a,,b\n1,2,3\n", "a,b,a\n1,2,3\n"] {
            let r = read_csv(text.as_bytes(), &CsvOptions::default(), &types, &mut |_| {
                Ok(())
            });
            assert!(matches!(r, Err(TransferError::Format(_))), "{text:?}");
        }
        let options = CsvOptions {
            delimiter: b'\t',
            header: Some(vec!["pk".into(), "pk".into()]),
        };
        assert!(read_csv("1\t2\n".as_bytes(), &options, &types, &mut |_| Ok(())).is_err());
    }

    #[test]
    fn loader_checks_batches_and_overwrites() {
        let tmp = tempfile::tempdir().unwrap();
        let store = Store::open(tmp.path()).unwrap();
        // Table "Tbl": key pk (S), on demand, with a global index byG on g (N) projecting all.
        let key = |name: &str, attr_type| KeySchema {
            hash: KeyAttribute {
                name: name.into(),
                attr_type,
            },
            range: None,
            hash_rest: Vec::new(),
            range_rest: Vec::new(),
        };
        let spec = TableSpec {
            name: "Tbl".into(),
            key_schema: key("pk", ScalarType::S),
            attribute_definitions: vec![
                key("pk", ScalarType::S).hash,
                key("g", ScalarType::N).hash,
            ],
            billing_mode: BillingMode::PayPerRequest,
            throughput: None,
            tags: Default::default(),
            deletion_protection: false,
            table_class: None,
            stream: None,
            indexes: vec![IndexSpec {
                name: "byG".into(),
                kind: IndexKind::Global,
                key_schema: key("g", ScalarType::N),
                projection: IndexProjection::All,
                throughput: None,
            }],
        };
        let meta = store.create_table(spec).unwrap();
        let progress = Arc::new(Progress::default());
        let mut loader = Loader::new(&store, meta, progress.clone());
        for n in 0..250 {
            let r = loader
                .add(item(
                    json!({"pk": {"S": format!("k{}", n % 200)}, "v": {"N": n.to_string()}}),
                ))
                .unwrap();
            assert_eq!(r, Ok(()));
        }
        let missing = loader.add(item(json!({"v": {"N": "1"}}))).unwrap();
        assert!(missing.unwrap_err().contains("Missing the key pk"));
        let wrong = loader.add(item(json!({"pk": {"N": "1"}}))).unwrap();
        assert!(wrong.unwrap_err().contains("Type mismatch"));
        let bad_index = loader
            .add(item(json!({"pk": {"S": "x"}, "g": {"S": "1"}})))
            .unwrap();
        assert!(bad_index.is_err());
        let big = loader
            .add(item(
                json!({"pk": {"S": "big"}, "v": {"S": "x".repeat(410_000)}}),
            ))
            .unwrap();
        assert!(big.is_err());
        loader.flush().unwrap();
        assert_eq!(loader.imported, 250);
        assert_eq!(loader.refused, 0);
        assert_eq!(Progress::get(&progress.items), 250);
        let got = store
            .get_item("Tbl", &item(json!({"pk": {"S": "k10"}})))
            .unwrap()
            .unwrap();
        assert_eq!(got["v"], AttributeValue::N(Number::parse("210").unwrap()));
        let page = store
            .scan("Tbl", None, &Default::default(), |_| Ok(true))
            .unwrap();
        assert_eq!(page.items.len(), 200);
    }
}
