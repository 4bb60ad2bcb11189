//! HTTP/1.1 GETs, plain or TLS, with a deadline: pod `/metrics` endpoints, the
//! Prometheus query API and external JSON sources. hyper's client with rustls (both
//! already in kube's tree), one pooled connection set for the whole operator; HTTPS
//! sources are verified against the system's roots plus an optional CA file.

use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper_rustls::{HttpsConnector, HttpsConnectorBuilder};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::PemObject;
use std::collections::BTreeMap;
use std::time::Duration;

/// Why a GET gave no body.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FetchError {
    #[error("{url}: not a valid URL ({why})")]
    Url { url: String, why: String },
    #[error("{url}: no answer within {timeout_ms} ms")]
    Timeout { url: String, timeout_ms: u128 },
    #[error("{url}: {why}")]
    Connect { url: String, why: String },
    #[error("{url}: HTTP {status}{}", if body.is_empty() { String::new() } else { format!(": {body}") })]
    Status {
        url: String,
        status: u16,
        body: String,
    },
    #[error("{url}: the body is not UTF-8")]
    NotText { url: String },
}

/// A CA file that cannot be used.
#[derive(Debug, thiserror::Error)]
#[error("{path}: {why}")]
pub struct CaFileError {
    pub path: String,
    pub why: String,
}

/// The operator's HTTP(S) client.
#[derive(Clone)]
pub struct Http {
    client: Client<HttpsConnector<HttpConnector>, Empty<Bytes>>,
    timeout: Duration,
}

impl std::fmt::Debug for Http {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Http")
            .field("timeout", &self.timeout)
            .finish()
    }
}

impl Http {
    /// A client whose every GET gives up after `timeout` (connect and body included);
    /// `https://` sources are verified against the system's roots.
    pub fn new(timeout: Duration) -> Http {
        Http::with_roots(timeout, system_roots())
    }

    /// [`Http::new`] also trusting the PEM certificates of `ca_file` (the CA that signs
    /// the pods' metrics certificates).
    pub fn with_ca_file(timeout: Duration, ca_file: &std::path::Path) -> Result<Http, CaFileError> {
        let error = |why: String| CaFileError {
            path: ca_file.display().to_string(),
            why,
        };
        let pem = std::fs::read(ca_file).map_err(|e| error(e.to_string()))?;
        let mut roots = system_roots();
        let mut added = 0;
        for cert in CertificateDer::pem_slice_iter(&pem) {
            let cert = cert.map_err(|e| error(format!("not a PEM certificate: {e}")))?;
            roots
                .add(cert)
                .map_err(|e| error(format!("not a usable CA certificate: {e}")))?;
            added += 1;
        }
        if added == 0 {
            return Err(error("no PEM certificate in the file".to_string()));
        }
        Ok(Http::with_roots(timeout, roots))
    }

    fn with_roots(timeout: Duration, roots: rustls::RootCertStore) -> Http {
        let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
        let tls = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .expect("ring supports the default protocol versions")
            .with_root_certificates(roots)
            .with_no_client_auth();
        let mut connector = HttpConnector::new();
        connector.set_connect_timeout(Some(timeout));
        connector.enforce_http(false);
        let connector = HttpsConnectorBuilder::new()
            .with_tls_config(tls)
            .https_or_http()
            .enable_http1()
            .wrap_connector(connector);
        Http {
            client: Client::builder(TokioExecutor::new()).build(connector),
            timeout,
        }
    }

    /// The body of `url` as text; any status but 2xx is an error.
    pub async fn get(
        &self,
        url: &str,
        headers: &BTreeMap<String, String>,
    ) -> Result<String, FetchError> {
        let mut request = http::Request::get(url);
        for (name, value) in headers {
            request = request.header(name.as_str(), value.as_str());
        }
        let request = request.body(Empty::new()).map_err(|e| FetchError::Url {
            url: url.to_string(),
            why: e.to_string(),
        })?;
        let fetch = async {
            let response = self
                .client
                .request(request)
                .await
                .map_err(|e| FetchError::Connect {
                    url: url.to_string(),
                    why: error_chain(&e),
                })?;
            let status = response.status();
            let body = response
                .into_body()
                .collect()
                .await
                .map_err(|e| FetchError::Connect {
                    url: url.to_string(),
                    why: e.to_string(),
                })?;
            if !status.is_success() {
                // The start of the body says why (Prometheus answers a bad query with a
                // JSON error).
                let text = String::from_utf8_lossy(&body.to_bytes()).trim().to_string();
                return Err(FetchError::Status {
                    url: url.to_string(),
                    status: status.as_u16(),
                    body: truncate_chars(&text, 300),
                });
            }
            String::from_utf8(body.to_bytes().to_vec()).map_err(|_| FetchError::NotText {
                url: url.to_string(),
            })
        };
        match tokio::time::timeout(self.timeout, fetch).await {
            Ok(result) => result,
            Err(_) => Err(FetchError::Timeout {
                url: url.to_string(),
                timeout_ms: self.timeout.as_millis(),
            }),
        }
    }
}

fn truncate_chars(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((end, _)) => format!("{}…", &text[..end]),
        None => text.to_string(),
    }
}

/// The system's trusted roots (unreadable ones are skipped: a source they would have
/// verified then fails with the certificate error, named).
fn system_roots() -> rustls::RootCertStore {
    let mut roots = rustls::RootCertStore::empty();
    for cert in rustls_native_certs::load_native_certs().certs {
        let _ = roots.add(cert);
    }
    roots
}

/// An error and its sources, as one line.
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// Percent-encodes a query parameter value (RFC 3986 unreserved characters kept).
pub fn encode_query_value(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~') {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_values_are_percent_encoded() {
        assert_eq!(
            encode_query_value("sum(rate(x{a=\"b\"}[1m]))"),
            "sum%28rate%28x%7Ba%3D%22b%22%7D%5B1m%5D%29%29"
        );
    }
}
