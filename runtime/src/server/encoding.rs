//! Compressed request bodies: `Content-Encoding: gzip` and `deflate` on the DynamoDB port.
//!
//! AWS SDKs may compress a request body (the SDKs' "request compression" feature) and say so with
//! `Content-Encoding`; DynamoDB decodes it. The SigV4 signature covers the body as sent, so the
//! endpoint checks the signature over the compressed bytes first and decodes them here
//! afterwards; the 16 MB request limit then applies to the decoded body.
//!
//! - `gzip` (and `x-gzip`): RFC 1952; several members one after another decode as their
//!   concatenation, as the gzip format allows.
//! - `deflate`: RFC 9110's "deflate" coding, a zlib stream (RFC 1950), one stream only.
//! - `identity`, an empty value or no header: the body as is.
//!
//! Decoding reads through a reader bounded at the limit plus one byte, so a small body that would
//! inflate far past the limit is refused after at most that many bytes, never inflated whole. An
//! empty, broken or truncated stream, bytes after the end of the stream, and any other coding are
//! refused too: DynamoDB answers all of these with an HTTP 500 `InternalServerError`, so this
//! module's [`DecodeError`] becomes that answer (see [`DecodeError::into_api_error`]).

use std::io::Read;

use flate2::read::{MultiGzDecoder, ZlibDecoder};
use http::header::CONTENT_ENCODING;
use http::HeaderMap;

use crate::api::ApiError;

/// A content coding the endpoint decodes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Coding {
    /// No coding: the body is the JSON document.
    Identity,
    /// gzip (RFC 1952), one or more members.
    Gzip,
    /// zlib-wrapped deflate (RFC 1950), as HTTP's `deflate` coding is.
    Deflate,
}

/// Why a body could not be decoded.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum DecodeError {
    /// The `Content-Encoding` names a coding this endpoint does not decode.
    #[error("Unsupported Content-Encoding: {0} (supported: gzip, deflate, identity)")]
    Unsupported(String),
    /// The body is not a valid stream of its coding (empty, corrupt, truncated, or followed by
    /// other bytes).
    #[error("The request body could not be decoded as {coding}: {reason}")]
    Corrupt {
        /// The coding's name.
        coding: &'static str,
        /// What was wrong.
        reason: String,
    },
    /// The decoded body is longer than the limit.
    #[error("the decoded request body is longer than {limit} bytes")]
    TooLarge {
        /// The limit, in bytes.
        limit: usize,
    },
}

impl DecodeError {
    /// The answer DynamoDB gives: an `InternalServerError` (HTTP 500) for a body it cannot decode
    /// or a coding it does not know; `too_large` for a body that decodes past the limit.
    pub fn into_api_error(self, too_large: impl FnOnce() -> ApiError) -> ApiError {
        match self {
            DecodeError::TooLarge { .. } => too_large(),
            other => ApiError::internal(other.to_string()),
        }
    }
}

impl Coding {
    /// The coding a request's `Content-Encoding` header names (`Identity` without one).
    pub fn of(headers: &HeaderMap) -> Result<Coding, DecodeError> {
        let Some(value) = headers.get(CONTENT_ENCODING) else {
            return Ok(Coding::Identity);
        };
        let name = value
            .to_str()
            .map_err(|_| {
                DecodeError::Unsupported(String::from_utf8_lossy(value.as_bytes()).into())
            })?
            .trim();
        match name.to_ascii_lowercase().as_str() {
            "" | "identity" => Ok(Coding::Identity),
            "gzip" | "x-gzip" => Ok(Coding::Gzip),
            "deflate" => Ok(Coding::Deflate),
            _ => Err(DecodeError::Unsupported(name.to_string())),
        }
    }

    fn name(self) -> &'static str {
        match self {
            Coding::Identity => "identity",
            Coding::Gzip => "gzip",
            Coding::Deflate => "deflate",
        }
    }

    /// Decodes `body`, reading at most `limit + 1` decoded bytes; `None` for `Identity` (the
    /// body is used as is, and its size was checked as it arrived).
    pub fn decode(self, body: &[u8], limit: usize) -> Result<Option<Vec<u8>>, DecodeError> {
        let corrupt = |reason: String| DecodeError::Corrupt {
            coding: self.name(),
            reason,
        };
        if body.is_empty() && self != Coding::Identity {
            return Err(corrupt("the body is empty".into()));
        }
        let bound = limit as u64 + 1;
        let mut out = Vec::new();
        let read = match self {
            Coding::Identity => return Ok(None),
            Coding::Gzip => MultiGzDecoder::new(body).take(bound).read_to_end(&mut out),
            Coding::Deflate => {
                let mut decoder = ZlibDecoder::new(body);
                let read = (&mut decoder).take(bound).read_to_end(&mut out);
                // A zlib stream ends with its checksum; anything after it is not part of it.
                if read.is_ok() && out.len() <= limit && decoder.total_in() < body.len() as u64 {
                    return Err(corrupt(format!(
                        "{} bytes follow the end of the compressed stream",
                        body.len() as u64 - decoder.total_in()
                    )));
                }
                read
            }
        };
        match read {
            Ok(_) if out.len() > limit => Err(DecodeError::TooLarge { limit }),
            Ok(_) => Ok(Some(out)),
            Err(e) => Err(corrupt(e.to_string())),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use flate2::write::{GzEncoder, ZlibEncoder};
    use flate2::Compression;
    use http::HeaderValue;

    use super::*;

    fn gzip(data: &[u8]) -> Vec<u8> {
        let mut e = GzEncoder::new(Vec::new(), Compression::default());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    fn zlib(data: &[u8]) -> Vec<u8> {
        let mut e = ZlibEncoder::new(Vec::new(), Compression::default());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    fn coding(value: &str) -> Result<Coding, DecodeError> {
        let mut h = HeaderMap::new();
        h.insert(CONTENT_ENCODING, HeaderValue::from_str(value).unwrap());
        Coding::of(&h)
    }

    #[test]
    fn header_names_the_coding() {
        assert_eq!(Coding::of(&HeaderMap::new()), Ok(Coding::Identity));
        assert_eq!(coding("GZIP"), Ok(Coding::Gzip));
        assert_eq!(coding(" deflate "), Ok(Coding::Deflate));
        assert_eq!(coding("identity"), Ok(Coding::Identity));
        assert_eq!(
            coding("br"),
            Err(DecodeError::Unsupported("br".to_string()))
        );
    }

    #[test]
    fn decodes_gzip_members_and_zlib() {
        let doc = br#"{"TableName":"t"}"#;
        assert_eq!(Coding::Gzip.decode(&gzip(doc), 100).unwrap().unwrap(), doc);
        let mut two = gzip(&doc[..5]);
        two.extend(gzip(&doc[5..]));
        assert_eq!(Coding::Gzip.decode(&two, 100).unwrap().unwrap(), doc);
        assert_eq!(
            Coding::Deflate.decode(&zlib(doc), 100).unwrap().unwrap(),
            doc
        );
        assert_eq!(Coding::Identity.decode(doc, 100).unwrap(), None);
    }

    #[test]
    fn refuses_broken_truncated_and_trailing_bytes() {
        let doc = br#"{"TableName":"t"}"#;
        for c in [Coding::Gzip, Coding::Deflate] {
            assert!(matches!(
                c.decode(b"", 100),
                Err(DecodeError::Corrupt { .. })
            ));
            assert!(matches!(
                c.decode(doc, 100),
                Err(DecodeError::Corrupt { .. })
            ));
        }
        let g = gzip(doc);
        assert!(Coding::Gzip.decode(&g[..g.len() - 1], 100).is_err());
        let mut junk = g.clone();
        junk.extend_from_slice(b"junk");
        assert!(Coding::Gzip.decode(&junk, 100).is_err());
        let z = zlib(doc);
        assert!(Coding::Deflate.decode(&z[..z.len() - 1], 100).is_err());
        let mut junk = z.clone();
        junk.extend_from_slice(b"junk");
        assert!(Coding::Deflate.decode(&junk, 100).is_err());
    }

    #[test]
    fn stops_at_the_limit() {
        let big = vec![b' '; 10_000];
        for (c, body) in [(Coding::Gzip, gzip(&big)), (Coding::Deflate, zlib(&big))] {
            assert_eq!(
                c.decode(&body, 9_999),
                Err(DecodeError::TooLarge { limit: 9_999 })
            );
            assert_eq!(c.decode(&body, 10_000).unwrap().unwrap().len(), 10_000);
        }
    }
}
