//! The Prometheus/OpenMetrics parser: real-shaped scrapes, lookups, no panics, round trips.

use proptest::prelude::*;
use traces::metrics::prometheus::{
    Format, MetricFamily, MetricKind, Sample, Scrape, parse_text, parse_text_as, render_text,
};

const VLLM_V1: &str = r#"# HELP vllm:num_requests_running Number of requests in model execution batches.
# TYPE vllm:num_requests_running gauge
vllm:num_requests_running{engine="0",model_name="meta-llama/Llama-3.1-8B"} 12.0
vllm:num_requests_running{engine="1",model_name="meta-llama/Llama-3.1-8B"} 8.0
# HELP vllm:prompt_tokens_total Number of prefill tokens processed.
# TYPE vllm:prompt_tokens_total counter
vllm:prompt_tokens_total{engine="0",model_name="meta-llama/Llama-3.1-8B"} 123456.0
# HELP vllm:time_to_first_token_seconds Histogram of time to first token in seconds.
# TYPE vllm:time_to_first_token_seconds histogram
vllm:time_to_first_token_seconds_bucket{engine="0",le="0.1",model_name="meta-llama/Llama-3.1-8B"} 10.0
vllm:time_to_first_token_seconds_bucket{engine="0",le="0.5",model_name="meta-llama/Llama-3.1-8B"} 30.0
vllm:time_to_first_token_seconds_bucket{engine="0",le="+Inf",model_name="meta-llama/Llama-3.1-8B"} 40.0
vllm:time_to_first_token_seconds_count{engine="0",model_name="meta-llama/Llama-3.1-8B"} 40.0
vllm:time_to_first_token_seconds_sum{engine="0",model_name="meta-llama/Llama-3.1-8B"} 12.0
vllm:time_to_first_token_seconds_bucket{engine="1",le="0.1",model_name="meta-llama/Llama-3.1-8B"} 0.0
vllm:time_to_first_token_seconds_bucket{engine="1",le="0.5",model_name="meta-llama/Llama-3.1-8B"} 10.0
vllm:time_to_first_token_seconds_bucket{engine="1",le="+Inf",model_name="meta-llama/Llama-3.1-8B"} 10.0
vllm:time_to_first_token_seconds_count{engine="1",model_name="meta-llama/Llama-3.1-8B"} 10.0
vllm:time_to_first_token_seconds_sum{engine="1",model_name="meta-llama/Llama-3.1-8B"} 3.0
# HELP rpc_duration_seconds A summary.
# TYPE rpc_duration_seconds summary
rpc_duration_seconds{quantile="0.5"} 0.2
rpc_duration_seconds{quantile="0.99"} 1.5
rpc_duration_seconds_sum 100
rpc_duration_seconds_count 400
"#;

#[test]
fn vllm_scrape_lookups() {
    let scrape = parse_text(VLLM_V1).unwrap();
    assert_eq!(scrape.families.len(), 4);
    let model = ("model_name", "meta-llama/Llama-3.1-8B");
    assert_eq!(
        scrape.gauge("vllm:num_requests_running", &[model]),
        Some(20.0)
    );
    assert_eq!(
        scrape.gauge("vllm:num_requests_running", &[model, ("engine", "1")]),
        Some(8.0)
    );
    assert_eq!(
        scrape.gauge("vllm:num_requests_running", &[("model_name", "other")]),
        None
    );
    assert_eq!(scrape.counter("vllm:prompt_tokens", &[]), Some(123_456.0));
    let histogram = scrape
        .histogram("vllm:time_to_first_token_seconds", &[])
        .unwrap();
    assert_eq!(
        histogram.buckets,
        vec![(0.1, 10.0), (0.5, 40.0), (f64::INFINITY, 50.0)]
    );
    assert_eq!(histogram.count, 50.0);
    assert_eq!(histogram.mean(), Some(0.3));
    let p50 = histogram.quantile(0.5).unwrap();
    assert!((p50 - 0.3).abs() < 1e-12, "p50 {p50}");
    assert_eq!(
        scrape.summary_quantiles("rpc_duration_seconds", &[]),
        vec![(0.5, 0.2), (0.99, 1.5)]
    );
    let family = scrape.family("rpc_duration_seconds").unwrap();
    assert_eq!(family.kind, MetricKind::Summary);
    assert_eq!(family.samples.len(), 4);
}

#[test]
fn openmetrics_counter_families_and_units() {
    let text = "# TYPE vllm:generation_tokens counter\n# UNIT vllm:generation_tokens tokens\n\
                # HELP vllm:generation_tokens Generated tokens.\n\
                vllm:generation_tokens_total{model_name=\"m\"} 10 1724198400.5\n\
                vllm:generation_tokens_created{model_name=\"m\"} 1724198000\n# EOF\n";
    let scrape = parse_text(text).unwrap();
    let family = scrape.family("vllm:generation_tokens").unwrap();
    assert_eq!(family.unit.as_deref(), Some("tokens"));
    assert_eq!(family.samples[0].timestamp_ms, Some(1_724_198_400_500));
    assert_eq!(scrape.counter("vllm:generation_tokens", &[]), Some(10.0));
    assert_eq!(
        scrape.counter("vllm:generation_tokens_total", &[]),
        Some(10.0)
    );
    // The same text read as 0.0.4 rejects the float timestamp, naming the line.
    let err = parse_text_as(text, Format::Prometheus004).unwrap_err();
    assert_eq!(err.line, 4);
    assert!(err.expected.contains("milliseconds"), "{err}");
}

#[test]
fn crlf_blank_lines_comments_and_trailing_commas() {
    let text = "# a free comment\r\n\r\nm{a=\"1\",} 2\r\n  \nn\t3\t17\n";
    let scrape = parse_text(text).unwrap();
    assert_eq!(scrape.gauge("m", &[("a", "1")]), Some(2.0));
    assert_eq!(
        scrape.family("n").unwrap().samples[0].timestamp_ms,
        Some(17)
    );
}

#[test]
fn parse_render_parse_is_stable_on_a_real_shape() {
    let scrape = parse_text(VLLM_V1).unwrap();
    let again = parse_text(&render_text(&scrape)).unwrap();
    assert_eq!(scrape, again);
}

/// Throughput of the parser on a generated ~5 MB scrape of distinct families, printed
/// for the record (run with `--nocapture`); it also checks that nothing was lost.
#[test]
fn parser_throughput() {
    let mut text = String::new();
    let mut copies = 0;
    while text.len() < 5_000_000 {
        text.push_str(
            &VLLM_V1
                .replace("vllm:", &format!("vllm{copies}:"))
                .replace("rpc_", &format!("rpc{copies}_")),
        );
        copies += 1;
    }
    let start = std::time::Instant::now();
    let scrape = parse_text(&text).unwrap();
    let elapsed = start.elapsed().as_secs_f64();
    assert_eq!(scrape.families.len(), 4 * copies);
    assert_eq!(scrape.sample_count(), 17 * copies);
    eprintln!(
        "prometheus parser: {:.1} MB/s ({} bytes, {} samples, {:.3} s)",
        text.len() as f64 / 1e6 / elapsed,
        text.len(),
        scrape.sample_count(),
        elapsed
    );
}

fn name_strategy() -> impl Strategy<Value = String> {
    "[a-zA-Z_:][a-zA-Z0-9_:]{0,12}"
}

fn label_value_strategy() -> impl Strategy<Value = String> {
    prop_oneof![any::<String>(), "[a-z\\\\\"\n ]{0,8}"]
}

fn value_strategy() -> impl Strategy<Value = f64> {
    prop_oneof![
        any::<f64>(),
        Just(f64::NAN),
        Just(f64::INFINITY),
        Just(f64::NEG_INFINITY),
        (-1_000_000i64..1_000_000).prop_map(|v| v as f64),
    ]
}

fn labels_strategy() -> impl Strategy<Value = Vec<(String, String)>> {
    proptest::collection::btree_map("[a-zA-Z_][a-zA-Z0-9_]{0,6}", label_value_strategy(), 0..4)
        .prop_map(|m| {
            m.into_iter()
                .filter(|(k, _)| k != "le" && k != "quantile")
                .collect()
        })
}

fn kind_strategy() -> impl Strategy<Value = MetricKind> {
    prop_oneof![
        Just(MetricKind::Counter),
        Just(MetricKind::Gauge),
        Just(MetricKind::Histogram),
        Just(MetricKind::Summary),
        Just(MetricKind::Unknown),
    ]
}

fn help_strategy() -> impl Strategy<Value = Option<String>> {
    proptest::option::of(any::<String>().prop_map(|h| {
        // Leading blanks separate the help from the name and a trailing CR ends the line.
        h.trim_start_matches([' ', '\t'])
            .trim_end_matches('\r')
            .to_string()
    }))
}

/// A family whose sample names fit its kind. The index suffix keeps family names
/// apart from each other's `_sum`/`_count`/`_total` sample names.
fn family_strategy(index: usize) -> impl Strategy<Value = MetricFamily> {
    (
        name_strategy(),
        help_strategy(),
        proptest::option::of("[a-z]{1,8}"),
        kind_strategy(),
        proptest::collection::vec(
            (
                labels_strategy(),
                value_strategy(),
                proptest::option::of(any::<i64>()),
                0usize..4,
            ),
            0..5,
        ),
    )
        .prop_map(move |(base, help, unit, kind, raw)| {
            let name = format!("{base}_f{index}");
            let samples = raw
                .into_iter()
                .map(|(mut labels, value, timestamp_ms, pick)| {
                    let sample_name = match kind {
                        MetricKind::Counter => format!("{name}_total"),
                        MetricKind::Histogram => {
                            let suffix = ["_bucket", "_sum", "_count", "_bucket"][pick];
                            if suffix == "_bucket" {
                                labels.push((
                                    "le".to_string(),
                                    ["0.5", "+Inf", "1", "10"][pick].to_string(),
                                ));
                                labels.sort();
                            }
                            format!("{name}{suffix}")
                        }
                        MetricKind::Summary => {
                            if pick < 2 {
                                labels.push((
                                    "quantile".to_string(),
                                    ["0.5", "0.99"][pick].to_string(),
                                ));
                                labels.sort();
                                name.clone()
                            } else {
                                format!("{name}{}", ["_sum", "_count"][pick - 2])
                            }
                        }
                        _ => name.clone(),
                    };
                    Sample {
                        name: sample_name,
                        labels,
                        value,
                        timestamp_ms,
                    }
                })
                .collect();
            MetricFamily {
                name,
                help,
                unit,
                kind,
                samples,
            }
        })
}

fn scrape_strategy() -> impl Strategy<Value = Scrape> {
    // Up to 24 families: past the parser's switch from scanning names to a map.
    (0usize..24)
        .prop_flat_map(|n| (0..n).map(family_strategy).collect::<Vec<_>>())
        .prop_map(|families| Scrape { families })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_text_never_panics(text in any::<String>()) {
        let _ = parse_text(&text);
        let _ = parse_text_as(&text, Format::OpenMetrics1);
    }

    #[test]
    fn scrape_like_text_never_panics(
        lines in proptest::collection::vec(
            prop_oneof![
                "# (HELP|TYPE|UNIT|EOF) ?[a-z:_]{0,5} ?[a-z ]{0,8}",
                "[a-z:_]{1,5}(\\{([a-z_]{1,3}=\"[^\"\n]{0,4}(\\\\.)?\"?,? ?){0,3}\\}?)? ?[-+0-9.eEInfNa]{0,8} ?[0-9.]{0,6}( # \\{[a-z]=\"x\"\\} 1( 2)?)?",
                any::<String>(),
            ],
            0..8,
        )
    ) {
        let text = lines.join("\n");
        let _ = parse_text(&text);
        let _ = parse_text_as(&text, Format::OpenMetrics1);
    }

    #[test]
    fn whatever_parses_renders_back_to_itself(
        lines in proptest::collection::vec(
            prop_oneof![
                "# (HELP|TYPE|UNIT) [a-c_]{1,3}(_sum|_count|_total|_bucket)? ?(counter|gauge|summary|histogram|untyped|[a-z\\\\\r ]{0,6})",
                "[a-c_]{1,3}(_sum|_count|_total|_bucket)?(\\{([a-z]{1,2}=\"[^\"\n\\\\]{0,4}\"),?\\})? [-+0-9.eEInfNa]{1,6}( [0-9]{1,4})?\r{0,2}",
            ],
            0..10,
        )
    ) {
        let text = lines.join("\n");
        if let Ok(scrape) = parse_text(&text) {
            let rendered = render_text(&scrape);
            let again = parse_text(&rendered).map_err(|e| TestCaseError::fail(format!("{e}\n{rendered}")))?;
            prop_assert_eq!(again, scrape, "input:\n{}\nrendered:\n{}", text, rendered);
        }
    }

    #[test]
    fn render_then_parse_gives_the_same_scrape(scrape in scrape_strategy()) {
        let text = render_text(&scrape);
        let parsed = parse_text(&text).map_err(|e| TestCaseError::fail(format!("{e}\n{text}")))?;
        prop_assert_eq!(parsed, scrape, "text:\n{}", text);
    }
}
