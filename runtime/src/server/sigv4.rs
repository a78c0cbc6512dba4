//! AWS Signature Version 4 verification for the DynamoDB endpoint (DynamoDB and DynamoDB Streams
//! operations alike: both sign with the service name `dynamodb`).
//!
//! With credentials configured ([`Credentials`]: a file of `ACCESS_KEY_ID:SECRET` lines and/or
//! the `TARN_ACCESS_KEY_ID` / `TARN_SECRET_ACCESS_KEY` pair), every POST must carry
//! `Authorization: AWS4-HMAC-SHA256 Credential=..., SignedHeaders=..., Signature=...` and an
//! `X-Amz-Date`. [`Verifier`] checks, in this order, as DynamoDB does:
//!
//! 1. the header is present (`MissingAuthenticationTokenException`) and well formed
//!    (`IncompleteSignatureException`), `host` and `x-amz-date` among the signed headers;
//! 2. the access key id is configured (`UnrecognizedClientException`);
//! 3. the credential scope: date equal to `X-Amz-Date`'s day, service `dynamodb`, terminator
//!    `aws4_request`, any region (the region whose tables the request sees)
//!    (`InvalidSignatureException`);
//! 4. `X-Amz-Date` within 15 minutes of the server clock (`InvalidSignatureException`,
//!    `Signature expired` / `Signature not yet current`);
//! 5. the signature, over the body (`InvalidSignatureException`).
//!
//! Steps 1-4 run on the headers alone ([`Verifier::check_headers`]), before the body is read.
//! The signature is recomputed with the AWS SDK's own signer (`aws-sigv4`) over a canonical
//! request built from the incoming request with exactly the headers the client listed in
//! `SignedHeaders`, its `X-Amz-Date` and the configured secret; the two signatures are compared
//! in constant time. Session tokens (`X-Amz-Security-Token`) are signed over like any header but
//! not otherwise checked: tarn's credentials are long-term keys.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use aws_sigv4::http_request::{sign, SignableBody, SignableRequest, SigningSettings};
use aws_sigv4::sign::v4;
use chrono::{DateTime, NaiveDateTime, Utc};
use http::HeaderMap;
use subtle::ConstantTimeEq;

use crate::api::error::kind;
use crate::api::ApiError;

/// The only signing algorithm accepted.
pub const ALGORITHM: &str = "AWS4-HMAC-SHA256";
/// The service name DynamoDB and DynamoDB Streams requests are signed for.
pub const SERVICE: &str = "dynamodb";
/// How far `X-Amz-Date` may be from the server clock, either way.
pub const MAX_CLOCK_SKEW: Duration = Duration::from_secs(15 * 60);
/// Environment variable naming an access key id (with [`ENV_SECRET_ACCESS_KEY`]).
pub const ENV_ACCESS_KEY_ID: &str = "TARN_ACCESS_KEY_ID";
/// Environment variable holding the secret of [`ENV_ACCESS_KEY_ID`].
pub const ENV_SECRET_ACCESS_KEY: &str = "TARN_SECRET_ACCESS_KEY";

const X_AMZ_DATE_FORMAT: &str = "%Y%m%dT%H%M%SZ";
const SIGNATURE_MISMATCH: &str = "The request signature we calculated does not match the signature you provided. \
     Check your AWS Secret Access Key and signing method. Consult the service documentation for details.";

/// Why credentials could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum CredentialsError {
    /// The file could not be read.
    #[error("cannot read credentials file {path}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The failure.
        #[source]
        source: std::io::Error,
    },
    /// A line is not `ACCESS_KEY_ID:SECRET`.
    #[error("{path}:{line}: expected ACCESS_KEY_ID:SECRET")]
    Syntax {
        /// The file.
        path: PathBuf,
        /// The 1-based line number.
        line: usize,
    },
    /// Only one of the two environment variables is set.
    #[error("set both {ENV_ACCESS_KEY_ID} and {ENV_SECRET_ACCESS_KEY}, or neither")]
    HalfEnv,
    /// The file holds no credentials.
    #[error("credentials file {0} holds no credentials")]
    Empty(PathBuf),
}

/// The access keys tarn accepts: access key id -> secret access key.
#[derive(Clone, Default)]
pub struct Credentials {
    keys: BTreeMap<String, String>,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the secrets.
        f.debug_struct("Credentials")
            .field("access_key_ids", &self.keys.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl Credentials {
    /// No credentials.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds (or replaces) one key pair.
    pub fn insert(&mut self, access_key_id: impl Into<String>, secret: impl Into<String>) {
        self.keys.insert(access_key_id.into(), secret.into());
    }

    /// Whether no key is configured.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// How many keys are configured.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// The secret of `access_key_id`.
    pub fn secret(&self, access_key_id: &str) -> Option<&str> {
        self.keys.get(access_key_id).map(String::as_str)
    }

    /// Parses a credentials file: one `ACCESS_KEY_ID:SECRET` per line; blank lines and lines
    /// starting with `#` are ignored, spaces around either part are trimmed.
    pub fn parse(text: &str, path: &Path) -> Result<Self, CredentialsError> {
        let mut creds = Credentials::new();
        for (n, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let syntax = || CredentialsError::Syntax {
                path: path.to_path_buf(),
                line: n + 1,
            };
            let (id, secret) = line.split_once(':').ok_or_else(syntax)?;
            let (id, secret) = (id.trim(), secret.trim());
            if id.is_empty() || secret.is_empty() || id.contains(char::is_whitespace) {
                return Err(syntax());
            }
            creds.insert(id, secret);
        }
        Ok(creds)
    }

    /// Reads a credentials file (see [`Credentials::parse`]). Warns when other users may read it.
    pub fn from_file(path: &Path) -> Result<Self, CredentialsError> {
        let text = std::fs::read_to_string(path).map_err(|source| CredentialsError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            if let Ok(meta) = std::fs::metadata(path) {
                if meta.permissions().mode() & 0o077 != 0 {
                    tracing::warn!(
                        path = %path.display(),
                        "credentials file is readable by other users; chmod 600 it"
                    );
                }
            }
        }
        let creds = Self::parse(&text, path)?;
        if creds.is_empty() {
            return Err(CredentialsError::Empty(path.to_path_buf()));
        }
        Ok(creds)
    }

    /// Adds the pair named by [`ENV_ACCESS_KEY_ID`] and [`ENV_SECRET_ACCESS_KEY`], if set.
    pub fn add_env(&mut self) -> Result<(), CredentialsError> {
        let id = std::env::var(ENV_ACCESS_KEY_ID)
            .ok()
            .filter(|v| !v.is_empty());
        let secret = std::env::var(ENV_SECRET_ACCESS_KEY)
            .ok()
            .filter(|v| !v.is_empty());
        match (id, secret) {
            (Some(id), Some(secret)) => {
                self.insert(id.trim(), secret.trim());
                Ok(())
            }
            (None, None) => Ok(()),
            _ => Err(CredentialsError::HalfEnv),
        }
    }
}

/// The parts of an `Authorization: AWS4-HMAC-SHA256 ...` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authorization {
    /// The access key id of the credential.
    pub access_key_id: String,
    /// The scope's date, `YYYYMMDD`.
    pub date: String,
    /// The scope's region.
    pub region: String,
    /// The scope's service.
    pub service: String,
    /// The scope's terminator (`aws4_request`).
    pub terminator: String,
    /// The signed header names, lower case, in the client's order.
    pub signed_headers: Vec<String>,
    /// The signature, lower-case hex.
    pub signature: String,
}

fn incomplete(message: impl Into<String>) -> ApiError {
    ApiError::new(kind::INCOMPLETE_SIGNATURE, message)
}

fn invalid_signature(message: impl Into<String>) -> ApiError {
    ApiError::new(kind::INVALID_SIGNATURE, message)
}

/// Parses the value of an `Authorization` header.
pub fn parse_authorization(value: &str) -> Result<Authorization, ApiError> {
    let value = value.trim();
    let (algorithm, rest) = value.split_once(' ').unwrap_or((value, ""));
    if algorithm != ALGORITHM {
        return Err(incomplete(format!(
            "Authorization header requires the '{ALGORITHM}' algorithm, not '{algorithm}'."
        )));
    }
    let mut credential = None;
    let mut signed_headers = None;
    let mut signature = None;
    for part in rest.split(',') {
        let part = part.trim();
        if part.is_empty() {
            continue;
        }
        let (k, v) = part.split_once('=').unwrap_or((part, ""));
        let slot = match k.trim() {
            "Credential" => &mut credential,
            "SignedHeaders" => &mut signed_headers,
            "Signature" => &mut signature,
            _ => {
                return Err(incomplete(format!(
                    "'{}' not a valid key=value pair (missing equal-sign) in Authorization header.",
                    part.chars().take(64).collect::<String>()
                )))
            }
        };
        *slot = Some(v.trim());
    }
    let mut missing = Vec::new();
    for (name, v) in [
        ("Credential", credential),
        ("Signature", signature),
        ("SignedHeaders", signed_headers),
    ] {
        if v.is_none_or(str::is_empty) {
            missing.push(format!("Authorization header requires '{name}' parameter."));
        }
    }
    if !missing.is_empty() {
        return Err(incomplete(missing.join(" ")));
    }
    let (credential, signed_headers, signature) = (
        credential.unwrap_or_default(),
        signed_headers.unwrap_or_default(),
        signature.unwrap_or_default(),
    );
    let scope: Vec<&str> = credential.split('/').collect();
    let [access_key_id, date, region, service, terminator] = scope[..] else {
        return Err(incomplete(format!(
            "Credential should be scoped to a valid region, service and terminator: '{}'",
            credential.chars().take(128).collect::<String>()
        )));
    };
    if access_key_id.is_empty() {
        return Err(incomplete("Credential should contain an access key id."));
    }
    if signature.len() != 64 || !signature.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(invalid_signature(SIGNATURE_MISMATCH));
    }
    let signed_headers: Vec<String> = signed_headers
        .split(';')
        .map(|h| h.trim().to_ascii_lowercase())
        .collect();
    if signed_headers.iter().any(String::is_empty) {
        return Err(incomplete("SignedHeaders holds an empty header name."));
    }
    Ok(Authorization {
        access_key_id: access_key_id.to_string(),
        date: date.to_string(),
        region: region.to_string(),
        service: service.to_string(),
        terminator: terminator.to_string(),
        signed_headers,
        signature: signature.to_ascii_lowercase(),
    })
}

/// A request whose headers passed [`Verifier::check_headers`]; its signature is checked over
/// the body by [`Verifier::check_signature`].
#[derive(Debug)]
pub struct CheckedHeaders {
    authorization: Authorization,
    time: SystemTime,
}

impl CheckedHeaders {
    /// The access key id the request is signed with.
    pub fn access_key_id(&self) -> &str {
        &self.authorization.access_key_id
    }

    /// The region of the credential scope: the region the request is made in.
    pub fn region(&self) -> &str {
        &self.authorization.region
    }
}

/// The region of the credential scope of an `Authorization: AWS4-HMAC-SHA256 Credential=
/// <key>/<date>/<region>/<service>/aws4_request, ...` header value, read without checking
/// the rest (for a server that does not verify signatures, where the region still decides
/// which tables a request sees). `None` when the value has no such scope.
pub fn credential_region(value: &str) -> Option<&str> {
    // Every SDK puts the credential first: skip the substring search (a searcher built per
    // request) for that shape.
    let rest = match value.strip_prefix("AWS4-HMAC-SHA256 Credential=") {
        Some(rest) => rest,
        None => value.split_once("Credential=")?.1,
    };
    let credential = rest.split([',', ' ']).next()?;
    let mut scope = credential.split('/');
    let region = scope.nth(2)?;
    (scope.count() == 2).then_some(region)
}

/// Verifies SigV4 signatures against a set of [`Credentials`].
#[derive(Debug, Clone)]
pub struct Verifier {
    credentials: Credentials,
}

impl Verifier {
    /// A verifier accepting `credentials`.
    pub fn new(credentials: Credentials) -> Self {
        Verifier { credentials }
    }

    /// Checks everything but the signature itself: the header's shape, the access key, the
    /// scope and the date's distance from `now`.
    pub fn check_headers(
        &self,
        headers: &HeaderMap,
        now: SystemTime,
    ) -> Result<CheckedHeaders, ApiError> {
        let Some(value) = headers.get(http::header::AUTHORIZATION) else {
            return Err(ApiError::missing_authentication_token(
                "Request is missing Authentication Token",
            ));
        };
        let value = value
            .to_str()
            .map_err(|_| incomplete("Authorization header is not valid ASCII."))?;
        let authorization = parse_authorization(value)?;
        for required in ["host", "x-amz-date"] {
            if !authorization.signed_headers.iter().any(|h| h == required) {
                return Err(incomplete(format!(
                    "'{required}' must be a 'SignedHeader' in the AWS Authorization."
                )));
            }
        }
        let date_text = headers
            .get("x-amz-date")
            .and_then(|v| v.to_str().ok())
            .ok_or_else(|| {
                incomplete(
                    "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.",
                )
            })?;
        let time = parse_amz_date(date_text)?;
        if self
            .credentials
            .secret(&authorization.access_key_id)
            .is_none()
        {
            tracing::debug!(access_key_id = %authorization.access_key_id, "unknown access key");
            return Err(ApiError::new(
                kind::UNRECOGNIZED_CLIENT,
                "The security token included in the request is invalid.",
            ));
        }
        let day = &date_text[..8];
        if authorization.date != day {
            return Err(invalid_signature(format!(
                "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '{}' != '{day}', from '{date_text}'.",
                authorization.date
            )));
        }
        if authorization.service != SERVICE {
            return Err(invalid_signature(format!(
                "Credential should be scoped to correct service: '{SERVICE}'. "
            )));
        }
        if authorization.terminator != "aws4_request" {
            return Err(invalid_signature(format!(
                "Credential should be scoped with a valid terminator: 'aws4_request', not '{}'.",
                authorization.terminator
            )));
        }
        if authorization.region.is_empty() {
            return Err(invalid_signature(
                "Credential should be scoped to a valid region.",
            ));
        }
        check_skew(time, now, date_text)?;
        Ok(CheckedHeaders {
            authorization,
            time,
        })
    }

    /// Recomputes the signature of the request (`method`, `uri`, `headers`, `body`) with the
    /// secret of the checked access key, and compares it with the client's in constant time.
    pub fn check_signature(
        &self,
        checked: &CheckedHeaders,
        method: &http::Method,
        uri: &http::Uri,
        headers: &HeaderMap,
        body: &[u8],
    ) -> Result<(), ApiError> {
        let auth = &checked.authorization;
        let Some(secret) = self.credentials.secret(&auth.access_key_id) else {
            return Err(ApiError::new(
                kind::UNRECOGNIZED_CLIENT,
                "The security token included in the request is invalid.",
            ));
        };
        let expected = compute_signature(
            &auth.access_key_id,
            secret,
            &auth.region,
            checked.time,
            &auth.signed_headers,
            method,
            uri,
            headers,
            body,
        )?;
        if bool::from(expected.as_bytes().ct_eq(auth.signature.as_bytes())) {
            Ok(())
        } else {
            tracing::debug!(access_key_id = %auth.access_key_id, "signature mismatch");
            Err(invalid_signature(SIGNATURE_MISMATCH))
        }
    }
}

/// Parses `X-Amz-Date` (`20240102T030405Z`).
fn parse_amz_date(text: &str) -> Result<SystemTime, ApiError> {
    let bad = || {
        incomplete(format!(
            "Date must be in ISO-8601 'basic format'. Got '{}'. See http://en.wikipedia.org/wiki/ISO_8601",
            text.chars().take(32).collect::<String>()
        ))
    };
    if text.len() != 16 || !text.is_ascii() {
        return Err(bad());
    }
    let naive = NaiveDateTime::parse_from_str(text, X_AMZ_DATE_FORMAT).map_err(|_| bad())?;
    Ok(SystemTime::from(naive.and_utc()))
}

fn format_amz_date(t: SystemTime) -> String {
    DateTime::<Utc>::from(t)
        .format(X_AMZ_DATE_FORMAT)
        .to_string()
}

/// Refuses a request dated more than [`MAX_CLOCK_SKEW`] away from `now`, in DynamoDB's words.
fn check_skew(time: SystemTime, now: SystemTime, date_text: &str) -> Result<(), ApiError> {
    let minutes = MAX_CLOCK_SKEW.as_secs() / 60;
    if let Ok(age) = now.duration_since(time) {
        if age > MAX_CLOCK_SKEW {
            return Err(invalid_signature(format!(
                "Signature expired: {date_text} is now earlier than {} ({} - {minutes} min.)",
                format_amz_date(now - MAX_CLOCK_SKEW),
                format_amz_date(now)
            )));
        }
    } else if let Ok(ahead) = time.duration_since(now) {
        if ahead > MAX_CLOCK_SKEW {
            return Err(invalid_signature(format!(
                "Signature not yet current: {date_text} is still later than {} ({} + {minutes} min.)",
                format_amz_date(now + MAX_CLOCK_SKEW),
                format_amz_date(now)
            )));
        }
    }
    Ok(())
}

/// The SigV4 signature of a request, computed by `aws-sigv4` over exactly `signed_headers`.
#[allow(clippy::too_many_arguments)]
fn compute_signature(
    access_key_id: &str,
    secret: &str,
    region: &str,
    time: SystemTime,
    signed_headers: &[String],
    method: &http::Method,
    uri: &http::Uri,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<String, ApiError> {
    // HTTP/2 carries the host as the :authority pseudo-header, which lands in the URI.
    let authority = uri.authority().map(|a| a.as_str().to_string());
    let mut pairs: Vec<(&str, &str)> = Vec::new();
    for name in signed_headers {
        let mut found = false;
        for value in headers.get_all(name.as_str()) {
            let value = value
                .to_str()
                .map_err(|_| invalid_signature(SIGNATURE_MISMATCH))?;
            pairs.push((name.as_str(), value));
            found = true;
        }
        if !found {
            match (name.as_str(), authority.as_deref()) {
                ("host", Some(a)) => pairs.push(("host", a)),
                _ => {
                    tracing::debug!(header = %name, "a signed header is missing from the request");
                    return Err(invalid_signature(SIGNATURE_MISMATCH));
                }
            }
        }
    }
    let path_and_query = uri.path_and_query().map_or("/", |p| p.as_str());
    let identity = aws_credential_types::Credentials::new(
        access_key_id,
        secret,
        None,
        None,
        "tarn-credentials",
    )
    .into();
    let mut settings = SigningSettings::default();
    // The client decided what it signed: sign over exactly its list, nothing excluded.
    settings.excluded_headers = None;
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(region)
        .name(SERVICE)
        .time(time)
        .settings(settings)
        .build()
        .map_err(|e| {
            tracing::debug!(error = %e, "cannot build signing parameters");
            invalid_signature(SIGNATURE_MISMATCH)
        })?
        .into();
    let signable = SignableRequest::new(
        method.as_str(),
        path_and_query,
        pairs.into_iter(),
        SignableBody::Bytes(body),
    )
    .map_err(|e| {
        tracing::debug!(error = %e, "cannot build the canonical request");
        invalid_signature(SIGNATURE_MISMATCH)
    })?;
    let output = sign(signable, &params).map_err(|e| {
        tracing::debug!(error = %e, "cannot compute the signature");
        invalid_signature(SIGNATURE_MISMATCH)
    })?;
    Ok(output.signature().to_string())
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_credential_scope_names_the_region() {
        let v = "AWS4-HMAC-SHA256 Credential=AKID/20261206/eu-west-1/dynamodb/aws4_request, SignedHeaders=host, Signature=00";
        assert_eq!(credential_region(v), Some("eu-west-1"));
        let compact = "AWS4-HMAC-SHA256 Credential=AKID/20261206/ap-south-1/dynamodb/aws4_request,SignedHeaders=host,Signature=00";
        assert_eq!(credential_region(compact), Some("ap-south-1"));
        assert_eq!(
            credential_region("AWS4-HMAC-SHA256 Credential=AKID/20261206"),
            None
        );
        assert_eq!(credential_region("Basic abc"), None);
    }

    use super::*;

    const AKID: &str = "AKIDEXAMPLE";
    const SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";

    fn verifier() -> Verifier {
        let mut c = Credentials::new();
        c.insert(AKID, SECRET);
        c.insert("OTHER", "other-secret");
        Verifier::new(c)
    }

    /// Signs a DynamoDB request the way the SDKs do (aws-sigv4's defaults), at `time`.
    fn signed(
        akid: &str,
        secret: &str,
        time: SystemTime,
        body: &[u8],
    ) -> (http::Method, http::Uri, HeaderMap) {
        let mut req = http::Request::builder()
            .method("POST")
            .uri("http://127.0.0.1:8000/")
            .header("host", "127.0.0.1:8000")
            .header("content-type", "application/x-amz-json-1.0")
            .header("x-amz-target", "DynamoDB_20120810.ListTables")
            .header("user-agent", "test")
            .body(())
            .unwrap();
        let identity = aws_credential_types::Credentials::new(akid, secret, None, None, "t").into();
        let params = v4::SigningParams::builder()
            .identity(&identity)
            .region("eu-west-1")
            .name("dynamodb")
            .time(time)
            .settings(SigningSettings::default())
            .build()
            .unwrap()
            .into();
        let headers: Vec<(&str, &str)> = req
            .headers()
            .iter()
            .map(|(k, v)| (k.as_str(), v.to_str().unwrap()))
            .collect();
        let signable = SignableRequest::new(
            "POST",
            "http://127.0.0.1:8000/",
            headers.into_iter(),
            SignableBody::Bytes(body),
        )
        .unwrap();
        let (instructions, _) = sign(signable, &params).unwrap().into_parts();
        instructions.apply_to_request_http1x(&mut req);
        let (parts, ()) = req.into_parts();
        // What the server sees: the path only.
        (parts.method, "/".parse().unwrap(), parts.headers)
    }

    fn verify(
        v: &Verifier,
        req: &(http::Method, http::Uri, HeaderMap),
        body: &[u8],
        now: SystemTime,
    ) -> Result<(), ApiError> {
        let checked = v.check_headers(&req.2, now)?;
        v.check_signature(&checked, &req.0, &req.1, &req.2, body)
    }

    #[test]
    fn a_correct_signature_passes() {
        let now = SystemTime::now();
        let req = signed(AKID, SECRET, now, b"{}");
        verify(&verifier(), &req, b"{}", now).unwrap();
        // The user-agent header was not signed; changing it changes nothing.
        let mut req = req;
        req.2.insert("user-agent", "another".parse().unwrap());
        verify(&verifier(), &req, b"{}", now).unwrap();
    }

    #[test]
    fn wrong_secret_unknown_key_and_tampering_fail() {
        let now = SystemTime::now();
        let v = verifier();
        let e = verify(&v, &signed(AKID, "wrong", now, b"{}"), b"{}", now).unwrap_err();
        assert_eq!(e.kind, kind::INVALID_SIGNATURE);
        assert!(e.message.starts_with("The request signature we calculated"));
        let e = verify(&v, &signed("NOBODY", SECRET, now, b"{}"), b"{}", now).unwrap_err();
        assert_eq!(e.kind, kind::UNRECOGNIZED_CLIENT);
        assert_eq!(
            e.message,
            "The security token included in the request is invalid."
        );
        // Tampered body.
        let req = signed(AKID, SECRET, now, b"{}");
        let e = verify(&v, &req, b"{\"Limit\":1}", now).unwrap_err();
        assert_eq!(e.kind, kind::INVALID_SIGNATURE);
        // Tampered signed header.
        let mut tampered = req;
        tampered.2.insert(
            "x-amz-target",
            "DynamoDB_20120810.DeleteTable".parse().unwrap(),
        );
        let e = verify(&v, &tampered, b"{}", now).unwrap_err();
        assert_eq!(e.kind, kind::INVALID_SIGNATURE);
        // One key's signature does not pass for another key.
        let mut req = signed(AKID, SECRET, now, b"{}");
        let auth = req.2["authorization"]
            .to_str()
            .unwrap()
            .replace(AKID, "OTHER");
        req.2.insert("authorization", auth.parse().unwrap());
        assert_eq!(
            verify(&v, &req, b"{}", now).unwrap_err().kind,
            kind::INVALID_SIGNATURE
        );
    }

    #[test]
    fn dates_outside_fifteen_minutes_fail() {
        let now = SystemTime::now();
        let v = verifier();
        let old = now - Duration::from_secs(16 * 60);
        let e = verify(&v, &signed(AKID, SECRET, old, b""), b"", now).unwrap_err();
        assert_eq!(e.kind, kind::INVALID_SIGNATURE);
        assert!(
            e.message.starts_with("Signature expired: "),
            "{}",
            e.message
        );
        let future = now + Duration::from_secs(16 * 60);
        let e = verify(&v, &signed(AKID, SECRET, future, b""), b"", now).unwrap_err();
        assert!(
            e.message.starts_with("Signature not yet current: "),
            "{}",
            e.message
        );
        let near = now - Duration::from_secs(14 * 60);
        verify(&v, &signed(AKID, SECRET, near, b""), b"", now).unwrap();
    }

    #[test]
    fn missing_and_malformed_headers() {
        let now = SystemTime::now();
        let v = verifier();
        let e = v.check_headers(&HeaderMap::new(), now).unwrap_err();
        assert_eq!(e.kind, kind::MISSING_AUTHENTICATION_TOKEN);
        assert_eq!(
            e.to_body()["__type"],
            "com.amazon.coral.service#MissingAuthenticationTokenException"
        );
        let mut h = HeaderMap::new();
        h.insert("authorization", "Bearer x".parse().unwrap());
        assert_eq!(
            v.check_headers(&h, now).unwrap_err().kind,
            kind::INCOMPLETE_SIGNATURE
        );
        h.insert(
            "authorization",
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20240101/us-east-1/dynamodb/aws4_request"
                .parse()
                .unwrap(),
        );
        let e = v.check_headers(&h, now).unwrap_err();
        assert_eq!(e.kind, kind::INCOMPLETE_SIGNATURE);
        assert!(e.message.contains("'Signature'"), "{}", e.message);
        // Wrong service in the scope.
        let req = signed(AKID, SECRET, now, b"");
        let auth = req.2["authorization"]
            .to_str()
            .unwrap()
            .replace("/dynamodb/", "/s3/");
        let mut h = req.2.clone();
        h.insert("authorization", auth.parse().unwrap());
        assert_eq!(
            v.check_headers(&h, now).unwrap_err().kind,
            kind::INVALID_SIGNATURE
        );
        // No X-Amz-Date.
        let mut h = req.2.clone();
        h.remove("x-amz-date");
        assert_eq!(
            v.check_headers(&h, now).unwrap_err().kind,
            kind::INCOMPLETE_SIGNATURE
        );
    }

    #[test]
    fn credentials_files_parse() {
        let p = Path::new("creds");
        let c = Credentials::parse("# comment\n\n AK1 : s1 \nAK2:s:2\n", p).unwrap();
        assert_eq!(c.len(), 2);
        assert_eq!(c.secret("AK1"), Some("s1"));
        assert_eq!(c.secret("AK2"), Some("s:2"));
        assert!(Credentials::parse("no colon here\n", p).is_err());
        assert!(Credentials::parse(":secret\n", p).is_err());
        assert!(!format!("{c:?}").contains("s1"), "Debug hides secrets");
    }
}
