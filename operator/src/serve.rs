//! The operator's HTTP endpoint: `/metrics` (its own Prometheus metrics), `/healthz`
//! (the process runs) and `/readyz` (the last pass over scalers succeeded, or this
//! replica is a standby).

use crate::metrics::OperatorMetrics;
use bytes::Bytes;
use http_body_util::Full;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use tokio::net::TcpListener;

/// What the endpoint reports.
#[derive(Debug, Default)]
pub struct Health {
    pub metrics: Arc<OperatorMetrics>,
    pub ready: AtomicBool,
}

fn respond(health: &Health, path: &str) -> http::Response<Full<Bytes>> {
    let (status, body) = match path {
        "/metrics" => (200, health.metrics.render()),
        "/healthz" => (200, "ok\n".to_string()),
        "/readyz" if health.ready.load(Ordering::Relaxed) => (200, "ready\n".to_string()),
        "/readyz" => (503, "not ready\n".to_string()),
        _ => (404, "not found\n".to_string()),
    };
    let mut response = http::Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() = http::StatusCode::from_u16(status).unwrap_or_default();
    response
}

/// Serves `health` on `listener` until the task is dropped.
pub async fn serve(listener: TcpListener, health: Arc<Health>) {
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let health = health.clone();
        tokio::spawn(async move {
            let service = service_fn(move |request: hyper::Request<hyper::body::Incoming>| {
                let response = respond(&health, request.uri().path());
                async move { Ok::<_, std::convert::Infallible>(response) }
            });
            let _ = http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn probes_and_metrics_answer_over_http() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let health = Arc::new(Health::default());
        let server = tokio::spawn(serve(listener, health.clone()));
        let http = crate::http::Http::new(std::time::Duration::from_secs(5));
        let none = Default::default();
        assert_eq!(
            http.get(&format!("http://{address}/healthz"), &none)
                .await
                .unwrap(),
            "ok\n"
        );
        let not_ready = http
            .get(&format!("http://{address}/readyz"), &none)
            .await
            .unwrap_err();
        assert!(not_ready.to_string().contains("HTTP 503"), "{not_ready}");
        health.ready.store(true, Ordering::Relaxed);
        assert_eq!(
            http.get(&format!("http://{address}/readyz"), &none)
                .await
                .unwrap(),
            "ready\n"
        );
        let metrics = http
            .get(&format!("http://{address}/metrics"), &none)
            .await
            .unwrap();
        assert!(metrics.contains("budscaler_operator_leader 0"), "{metrics}");
        server.abort();
    }
}
