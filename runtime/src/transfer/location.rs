//! S3 buckets and keys as directories and files.
//!
//! - `S3Bucket` `b` is the directory `<export root>/b`. A bucket name follows S3's model
//!   (letters, digits, `.`, `-`, `_`; a letter or digit at each end), so it is one path
//!   component and cannot climb out of the root.
//! - `S3Bucket` `file:///abs/path` is the absolute directory `/abs/path` itself (taken
//!   literally, without percent-decoding), for exports and imports anywhere on the machine.
//! - A key (`p/AWSDynamoDB/<id>/manifest-summary.json`) is a path below the bucket's directory,
//!   one component per `/`-separated segment. Empty segments are skipped; `.` and `..` are
//!   refused, so no key or prefix reaches outside its bucket.
//!
//! [`list_objects`] lists what S3's ListObjects would under a key prefix: every file whose key
//! starts with the prefix (`data/x` matches `data/x1.csv` and `data/x/y.csv`).

use std::path::{Path, PathBuf};

use super::TransferError;

/// Most objects one import reads (DynamoDB's quota per import job).
pub const MAX_OBJECTS: usize = 50_000;

/// The directory an `S3Bucket` names.
pub fn bucket_dir(export_root: &Path, bucket: &str) -> Result<PathBuf, TransferError> {
    if let Some(path) = bucket.strip_prefix("file://") {
        if !path.starts_with('/') {
            return Err(TransferError::Location(format!(
                "S3Bucket {bucket}: a file URI must hold an absolute path (file:///abs/path)"
            )));
        }
        let segments = segments(path, "S3Bucket")?;
        let mut dir = PathBuf::from("/");
        dir.extend(segments);
        return Ok(dir);
    }
    let valid = !bucket.is_empty()
        && bucket.len() <= 255
        && bucket
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'))
        && bucket.starts_with(|c: char| c.is_ascii_alphanumeric())
        && bucket.ends_with(|c: char| c.is_ascii_alphanumeric());
    if !valid {
        return Err(TransferError::Location(format!(
            "S3Bucket {bucket:?} is not a valid bucket name (letters, digits, '.', '-' and '_', \
             starting and ending with a letter or digit) nor a file:///abs/path URI"
        )));
    }
    Ok(export_root.join(bucket))
}

/// The `/`-separated segments of a key or prefix, without empty ones; `.` and `..` are refused.
pub fn segments<'a>(key: &'a str, what: &str) -> Result<Vec<&'a str>, TransferError> {
    let mut out = Vec::new();
    for segment in key.split('/') {
        match segment {
            "" => {}
            "." | ".." => {
                return Err(TransferError::Location(format!(
                    "{what} {key:?} may not contain '.' or '..' segments"
                )))
            }
            s if s.contains('\0') => {
                return Err(TransferError::Location(format!(
                    "{what} {key:?} may not contain NUL characters"
                )))
            }
            s => out.push(s),
        }
    }
    Ok(out)
}

/// Checks a prefix (`S3Prefix`, `S3KeyPrefix`) as [`segments`] does.
pub fn check_prefix(prefix: &str, what: &str) -> Result<(), TransferError> {
    segments(prefix, what).map(|_| ())
}

/// The file holding `key` in the bucket directory `dir`.
pub fn key_path(dir: &Path, key: &str) -> Result<PathBuf, TransferError> {
    let mut path = dir.to_path_buf();
    path.extend(segments(key, "key")?);
    Ok(path)
}

/// Joins a prefix and a name into a key, as DynamoDB's export does (`p` + `AWSDynamoDB/...` is
/// `p/AWSDynamoDB/...`; no prefix is the name alone).
pub fn join_key(prefix: Option<&str>, name: &str) -> String {
    match prefix.map(|p| p.trim_end_matches('/')) {
        Some(p) if !p.is_empty() => format!("{p}/{name}"),
        _ => name.to_string(),
    }
}

/// One file found under a prefix: its key (relative to the bucket, `/`-separated) and path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Object {
    /// The key, relative to the bucket.
    pub key: String,
    /// Where the file is.
    pub path: PathBuf,
}

/// Every regular file of the bucket directory `dir` whose key starts with `prefix`, in key
/// order. Symbolic links to directories are not followed. More than [`MAX_OBJECTS`] files is an
/// error.
pub fn list_objects(dir: &Path, prefix: &str) -> Result<Vec<Object>, TransferError> {
    let segs = segments(prefix, "S3KeyPrefix")?;
    // The directory every match is under, and the start of the names inside it that match.
    let (parents, partial) = if prefix.ends_with('/') || segs.is_empty() {
        (&segs[..], "")
    } else {
        (&segs[..segs.len() - 1], segs[segs.len() - 1])
    };
    let mut base = dir.to_path_buf();
    base.extend(parents);
    let base_key = parents.join("/");
    let mut out = Vec::new();
    match std::fs::metadata(&base) {
        Ok(m) if m.is_dir() => {}
        Ok(_) => return Ok(out),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(out),
        Err(e) => return Err(TransferError::io(&base)(e)),
    }
    let mut pending = vec![(base, base_key, partial)];
    while let Some((dir, key, partial)) = pending.pop() {
        for entry in std::fs::read_dir(&dir).map_err(TransferError::io(&dir))? {
            let entry = entry.map_err(TransferError::io(&dir))?;
            let Some(name) = entry.file_name().to_str().map(str::to_owned) else {
                continue;
            };
            if !name.starts_with(partial) {
                continue;
            }
            let path = entry.path();
            let child_key = if key.is_empty() {
                name.clone()
            } else {
                format!("{key}/{name}")
            };
            let kind = entry.file_type().map_err(TransferError::io(&path))?;
            if kind.is_dir() {
                pending.push((path, child_key, ""));
            } else if kind.is_file() || (kind.is_symlink() && path.is_file()) {
                out.push(Object {
                    key: child_key,
                    path,
                });
                if out.len() > MAX_OBJECTS {
                    return Err(TransferError::Location(format!(
                        "more than {MAX_OBJECTS} objects under the prefix {prefix:?}"
                    )));
                }
            }
        }
    }
    out.sort_by(|a, b| a.key.cmp(&b.key));
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_map_to_directories() {
        let root = Path::new("/srv/exports");
        assert_eq!(
            bucket_dir(root, "my-bucket.1").unwrap(),
            Path::new("/srv/exports/my-bucket.1")
        );
        assert_eq!(
            bucket_dir(root, "file:///data/x/").unwrap(),
            Path::new("/data/x")
        );
        for bad in [
            "",
            "..",
            "a/b",
            "-a",
            "a-",
            "file://rel/path",
            "file:///a/../b",
            "b k",
        ] {
            assert!(bucket_dir(root, bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn keys_stay_inside_their_bucket() {
        let dir = Path::new("/b");
        assert_eq!(
            key_path(dir, "p//q/AWSDynamoDB/x").unwrap(),
            Path::new("/b/p/q/AWSDynamoDB/x")
        );
        assert!(key_path(dir, "p/../../etc/passwd").is_err());
        assert!(key_path(dir, "./x").is_err());
        assert!(check_prefix("a/../..", "S3Prefix").is_err());
        assert!(check_prefix("2024/exports/", "S3Prefix").is_ok());
        assert_eq!(join_key(Some("p/"), "AWSDynamoDB/1"), "p/AWSDynamoDB/1");
        assert_eq!(join_key(Some(""), "AWSDynamoDB/1"), "AWSDynamoDB/1");
        assert_eq!(join_key(None, "AWSDynamoDB/1"), "AWSDynamoDB/1");
    }

    #[test]
    fn objects_match_by_key_prefix() {
        let tmp = tempfile::tempdir().unwrap();
        let d = tmp.path();
        for f in ["data/x1.csv", "data/x/y.csv", "data/z.csv", "other.csv"] {
            let p = d.join(f);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, "a").unwrap();
        }
        let keys = |prefix| -> Vec<String> {
            list_objects(d, prefix)
                .unwrap()
                .into_iter()
                .map(|o| o.key)
                .collect()
        };
        assert_eq!(keys("data/x"), ["data/x/y.csv", "data/x1.csv"]);
        assert_eq!(keys("data/"), ["data/x/y.csv", "data/x1.csv", "data/z.csv"]);
        assert_eq!(
            keys(""),
            ["data/x/y.csv", "data/x1.csv", "data/z.csv", "other.csv"]
        );
        assert_eq!(keys("other.csv"), ["other.csv"]);
        assert!(keys("missing/").is_empty());
        assert!(list_objects(d, "../x").is_err());
    }
}
