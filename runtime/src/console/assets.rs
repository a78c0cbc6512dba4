//! The console's front end, embedded in the binary: every file of `ui/` (pages, styles, the
//! ES modules of `ui/js/`, and the vendored libraries of `ui/vendor/` with their licences) is
//! compiled in with `include_bytes!`, so running tarn needs nothing beside it and building it
//! needs no Node. A test checks that this list and the directory agree.
//!
//! Assets are served under `/console/assets/<path>` with an `ETag` (a digest of the bytes) and
//! `Cache-Control: no-cache`, so a browser revalidates and gets `304 Not Modified` until a new
//! binary brings new bytes. The app page itself (`index.html`) is never cached.

use std::collections::HashMap;
use std::sync::OnceLock;

use sha2::{Digest, Sha256};

use super::http;
use crate::host::http::ResponseBody;

/// One embedded file.
struct Asset {
    path: &'static str,
    bytes: &'static [u8],
}

macro_rules! assets {
    ($($path:literal),* $(,)?) => {
        &[$(Asset { path: $path, bytes: include_bytes!(concat!("ui/", $path)) }),*]
    };
}

/// Every file of `ui/`.
static ASSETS: &[Asset] = assets![
    "app.css",
    "favicon.svg",
    "index.html",
    "login.html",
    "signed-in.html",
    "js/api.js",
    "js/backups.js",
    "js/chart.js",
    "js/cost.js",
    "js/ddb.js",
    "js/functions.js",
    "js/indexes.js",
    "js/items.js",
    "js/main.js",
    "js/metrics.js",
    "js/table.js",
    "js/tables.js",
    "js/transfer.js",
    "js/ui.js",
    "vendor/LICENSE-htm.txt",
    "vendor/LICENSE-preact.txt",
    "vendor/LICENSE-uplot.txt",
    "vendor/README.md",
    "vendor/htm.umd.js",
    "vendor/preact-hooks.umd.js",
    "vendor/preact.umd.js",
    "vendor/uPlot.iife.min.js",
    "vendor/uPlot.min.css",
];

/// The login page; `<!--message-->` is where an error sentence goes.
pub const LOGIN_HTML: &str = include_str!("ui/login.html");
/// The page a one-time link answers with: it sets the cookie and moves on to the app.
pub const SIGNED_IN_HTML: &str = include_str!("ui/signed-in.html");

fn find(path: &str) -> Option<&'static Asset> {
    ASSETS.iter().find(|a| a.path == path)
}

/// The content type of a file, by its extension.
fn content_type(path: &str) -> &'static str {
    match path.rsplit_once('.').map_or("", |(_, ext)| ext) {
        "html" => "text/html; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "js" => "text/javascript; charset=utf-8",
        "svg" => "image/svg+xml",
        "json" => "application/json",
        "md" | "txt" => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

/// The ETag of each asset (a digest of its bytes), computed once.
fn etag(asset: &Asset) -> &'static str {
    static TAGS: OnceLock<HashMap<&'static str, String>> = OnceLock::new();
    let tags = TAGS.get_or_init(|| {
        ASSETS
            .iter()
            .map(|a| {
                let d = Sha256::digest(a.bytes);
                let hex: String = d[..12].iter().map(|b| format!("{b:02x}")).collect();
                (a.path, format!("\"{hex}\""))
            })
            .collect()
    });
    tags.get(asset.path).map_or("\"\"", String::as_str)
}

/// `GET /console/assets/<path>`: the file, or `304` when the browser's copy is current.
pub fn serve<B>(path: &str, req: &hyper::Request<B>) -> hyper::Response<ResponseBody> {
    let Some(asset) = find(path) else {
        return http::error(404, "NotFound", format!("no console asset {path}"));
    };
    let tag = etag(asset);
    let fresh = req
        .headers()
        .get(hyper::header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == tag));
    let builder = http::response(
        if fresh { 304 } else { 200 },
        content_type(path),
        "no-cache",
    )
    .header("etag", tag);
    http::finish(builder, if fresh { &[][..] } else { asset.bytes })
}

/// A page of the app (`index.html`), never cached.
pub fn page(path: &str) -> hyper::Response<ResponseBody> {
    match find(path) {
        Some(a) => http::html(200, a.bytes),
        None => http::error(404, "NotFound", format!("no console page {path}")),
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    fn files_under(dir: &Path, root: &Path, out: &mut Vec<String>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let p = entry.unwrap().path();
            if p.is_dir() {
                files_under(&p, root, out);
            } else {
                out.push(
                    p.strip_prefix(root)
                        .unwrap()
                        .to_string_lossy()
                        .replace('\\', "/"),
                );
            }
        }
    }

    #[test]
    fn every_file_of_ui_is_embedded_and_nothing_else() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/console/ui");
        let mut on_disk = Vec::new();
        files_under(&root, &root, &mut on_disk);
        on_disk.sort();
        let mut listed: Vec<String> = ASSETS.iter().map(|a| a.path.to_string()).collect();
        listed.sort();
        assert_eq!(listed, on_disk, "assets.rs lists exactly the files of ui/");
    }

    #[test]
    fn pages_and_modules_name_only_embedded_files() {
        // Every asset a page links and every module a script imports is embedded.
        let index = std::str::from_utf8(find("index.html").unwrap().bytes).unwrap();
        for part in index.split("\"assets/").skip(1) {
            let path = &part[..part.find('"').unwrap()];
            assert!(find(path).is_some(), "index.html names {path}");
        }
        for a in ASSETS.iter().filter(|a| a.path.starts_with("js/")) {
            let src = std::str::from_utf8(a.bytes).unwrap();
            for part in src.split(" from './").skip(1) {
                let module = &part[..part.find('\'').unwrap()];
                assert!(
                    find(&format!("js/{module}")).is_some(),
                    "{} imports {module}",
                    a.path
                );
            }
            assert!(
                !src.contains("innerHTML"),
                "{} builds HTML from strings",
                a.path
            );
        }
    }

    #[test]
    fn assets_have_types_and_revalidate() {
        assert_eq!(content_type("js/main.js"), "text/javascript; charset=utf-8");
        assert_eq!(content_type("app.css"), "text/css; charset=utf-8");
        let req = hyper::Request::builder().body(()).unwrap();
        let r = serve("js/main.js", &req);
        assert_eq!(r.status(), 200);
        let tag = r.headers()["etag"].to_str().unwrap().to_string();
        let req = hyper::Request::builder()
            .header("if-none-match", &tag)
            .body(())
            .unwrap();
        assert_eq!(serve("js/main.js", &req).status(), 304);
        assert_eq!(serve("js/nope.js", &req).status(), 404);
        assert_eq!(serve("../mod.rs", &req).status(), 404);
        assert!(LOGIN_HTML.contains("<!--message-->"));
    }
}
