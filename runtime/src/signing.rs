//! SigV4 signing of the DynamoDB requests tarn itself sends: the CLI's calls to a tarn server
//! ([`crate::cli`]) and a cluster node's forwarding to its engine ([`crate::engine`]). One
//! place, over the `aws-sigv4` crate; verifying clients' signatures is [`crate::server`]'s.

use std::time::SystemTime;

use aws_sigv4::http_request::{sign, SignableBody, SignableRequest, SigningSettings};
use aws_sigv4::sign::v4;
use bytes::Bytes;
use http_body_util::Full;

/// Signs the POST `req` to `url` carrying `body` with `credentials` for `region`, as service
/// `dynamodb` (which DynamoDB Streams signs with too), adding the signature's headers.
/// The error is the signer's message.
pub fn sign_post(
    req: &mut http::Request<Full<Bytes>>,
    url: &str,
    body: &[u8],
    credentials: aws_credential_types::Credentials,
    region: &str,
) -> Result<(), String> {
    let identity = credentials.into();
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(region)
        .name("dynamodb")
        .time(SystemTime::now())
        .settings(SigningSettings::default())
        .build()
        .map_err(|e| format!("signing: {e}"))?
        .into();
    let headers: Vec<(String, String)> = req
        .headers()
        .iter()
        .map(|(k, v)| (k.as_str().to_string(), v.to_str().unwrap_or("").to_string()))
        .collect();
    let signable = SignableRequest::new(
        "POST",
        url,
        headers.iter().map(|(k, v)| (k.as_str(), v.as_str())),
        SignableBody::Bytes(body),
    )
    .map_err(|e| format!("signing: {e}"))?;
    let (instructions, _) = sign(signable, &params)
        .map_err(|e| format!("signing: {e}"))?
        .into_parts();
    instructions.apply_to_request_http1x(req);
    Ok(())
}
