//! `protocolType: https` sources: a fake vLLM exporter behind TLS with a certificate
//! signed by a test CA (made with the `openssl` command; skipped with a message where
//! it is missing). Trusted through `Http::with_ca_file` the scrape reads; without the
//! CA the certificate error is named and the scaler holds.

mod common;

use common::{Cluster, client, ready_pod, scaler_object};
use engine::time::SECOND;
use operator::http::Http;
use operator::metrics::OperatorMetrics;
use operator::operator::{Operator, Settings};
use operator::runner::Context;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use serde_json::json;
use std::path::Path;
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::Duration;

const T0: i64 = 1_796_378_400 * SECOND;
const IP: &str = "127.0.21.1";
const PORT: u16 = 9443;

fn openssl(dir: &Path, args: &[&str]) -> bool {
    Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .is_ok_and(|o| o.status.success())
}

/// A CA and a server certificate for `IP` signed by it; `None` without openssl.
fn certificates(dir: &Path) -> Option<()> {
    if Command::new("openssl").arg("version").output().is_err() {
        eprintln!("skipping: the openssl command is not installed");
        return None;
    }
    let ec = [
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
    ];
    let mut ca = vec![
        "req",
        "-x509",
        "-days",
        "1",
        "-subj",
        "/CN=budscaler test CA",
        "-keyout",
        "ca.key",
        "-out",
        "ca.pem",
    ];
    ca.extend(ec);
    ca.extend([
        "-addext",
        "basicConstraints=critical,CA:TRUE",
        "-addext",
        "keyUsage=critical,keyCertSign",
    ]);
    assert!(openssl(dir, &ca), "CA");
    let mut csr = vec![
        "req",
        "-subj",
        "/CN=llama-1",
        "-keyout",
        "server.key",
        "-out",
        "server.csr",
    ];
    csr.extend(ec);
    assert!(openssl(dir, &csr), "CSR");
    std::fs::write(
        dir.join("ext.cnf"),
        format!("subjectAltName=IP:{IP}\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n"),
    )
    .unwrap();
    assert!(
        openssl(
            dir,
            &[
                "x509",
                "-req",
                "-in",
                "server.csr",
                "-CA",
                "ca.pem",
                "-CAkey",
                "ca.key",
                "-CAcreateserial",
                "-days",
                "1",
                "-out",
                "server.pem",
                "-extfile",
                "ext.cnf"
            ]
        ),
        "server certificate"
    );
    Some(())
}

/// Serves `text` over TLS on `IP:PORT` with the server certificate in `dir`.
async fn serve_tls(dir: &Path, text: String) -> tokio::task::JoinHandle<()> {
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(dir.join("server.pem"))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let key = PrivateKeyDer::from_pem_file(dir.join("server.key")).unwrap();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = tokio::net::TcpListener::bind((IP, PORT)).await.unwrap();
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            let (acceptor, text) = (acceptor.clone(), text.clone());
            tokio::spawn(async move {
                let Ok(tls) = acceptor.accept(stream).await else {
                    return;
                };
                let service = hyper::service::service_fn(move |_request| {
                    let body = text.clone();
                    async move {
                        Ok::<_, std::convert::Infallible>(http::Response::new(
                            http_body_util::Full::new(bytes::Bytes::from(body)),
                        ))
                    }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(hyper_util::rt::TokioIo::new(tls), service)
                    .await;
            });
        }
    })
}

fn operator(cluster: &common::Shared, http: Http) -> Operator {
    let ctx = Context {
        client: client(cluster.clone()),
        http,
        prometheus_url: None,
        dcgm_port: 9400,
        prices: std::sync::Arc::new(control::pricing::PriceCatalog::builtin().clone()),
        instance: "test".to_string(),
        metrics: Arc::new(OperatorMetrics::default()),
    };
    Operator::new(ctx, Settings::default())
}

#[tokio::test]
async fn https_sources_are_verified_against_the_given_ca() {
    let dir = std::env::temp_dir().join(format!("budscaler-operator-tls-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    if certificates(&dir).is_none() {
        return;
    }
    let server = serve_tls(&dir, common::vllm_text(32.0, 0.0)).await;
    let spec = json!({
        "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "llama"},
        "minReplicas": 1, "maxReplicas": 8, "scalingStrategy": "HPA",
        "metricsSources": [{"metricSourceType": "pod", "targetMetric": "vllm:num_requests_running",
                            "targetValue": "8", "protocolType": "https", "port": PORT.to_string()}]
    });
    let setup = || {
        let mut cluster = Cluster::default();
        cluster
            .deployments
            .insert("llm/llama".to_string(), (1, 1, "app=llama".to_string()));
        cluster.pods.insert(
            "llm".to_string(),
            vec![ready_pod("llama-1", IP, T0 / SECOND - 3600)],
        );
        cluster.scalers.insert(
            "llm/llama".to_string(),
            scaler_object("llm", "llama", "u", spec.clone()),
        );
        Arc::new(Mutex::new(cluster))
    };

    // Without the CA: the certificate is not trusted, named, and the HPA holds.
    let untrusted = setup();
    operator(&untrusted, Http::new(Duration::from_secs(2)))
        .step(T0)
        .await
        .unwrap();
    {
        let c = untrusted.lock().unwrap();
        let message = c.message("llm/llama", "MetricsAvailable");
        assert!(
            message.starts_with(&format!("llama-1 https://{IP}:{PORT}/metrics")),
            "{message}"
        );
        assert!(message.to_lowercase().contains("certificate"), "{message}");
        assert_eq!(c.replicas("llm/llama"), 1);
    }

    // With it: read over TLS, 32 running at 8 per replica.
    let trusted = setup();
    let http = Http::with_ca_file(Duration::from_secs(2), &dir.join("ca.pem")).unwrap();
    operator(&trusted, http).step(T0).await.unwrap();
    {
        let c = trusted.lock().unwrap();
        assert_eq!(
            c.condition("llm/llama", "MetricsAvailable")["status"],
            "True",
            "{}",
            c.status("llm/llama")
        );
        assert_eq!(c.replicas("llm/llama"), 4);
    }

    // A CA file that holds no certificate is an error naming it.
    std::fs::write(dir.join("empty.pem"), "").unwrap();
    let error = Http::with_ca_file(Duration::from_secs(1), &dir.join("empty.pem")).unwrap_err();
    assert!(
        error
            .to_string()
            .ends_with("empty.pem: no PEM certificate in the file"),
        "{error}"
    );
    server.abort();
    std::fs::remove_dir_all(&dir).unwrap();
}
