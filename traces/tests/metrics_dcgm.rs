//! dcgm-exporter: the upstream default field list and a scrape of those fields.

use std::path::Path;
use traces::metrics::dcgm::{self, FB_FREE, FB_USED, GPU_UTIL, POWER_USAGE};
use traces::metrics::prometheus::parse_text;

#[test]
fn default_counters_parse_and_feed_a_scrape() {
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/data/dcgm/default-counters.csv");
    if !path.exists() {
        eprintln!(
            "SKIP: {} is absent (shared data not laid out)",
            path.display()
        );
        return;
    }
    let fields = dcgm::read_field_list(&path).unwrap();
    let names: Vec<&str> = fields.iter().map(|f| f.name.as_str()).collect();
    for wanted in [GPU_UTIL, FB_USED, FB_FREE, POWER_USAGE] {
        assert!(
            names.contains(&wanted),
            "{wanted} missing from the default list"
        );
    }
    assert!(
        fields
            .iter()
            .all(|f| ["gauge", "counter", "label"].contains(&f.kind.as_str())),
        "{fields:?}"
    );

    // A scrape exporting every default field for two GPUs of one pod.
    let mut text = String::new();
    for field in &fields {
        if field.kind == "label" {
            continue;
        }
        text.push_str(&format!(
            "# HELP {} {}\n# TYPE {} {}\n",
            field.name, field.help, field.name, field.kind
        ));
        for gpu in 0..2 {
            text.push_str(&format!(
                "{}{{gpu=\"{gpu}\",UUID=\"GPU-{gpu}\",modelName=\"NVIDIA H100 80GB HBM3\",hostname=\"n1\",pod=\"p\",namespace=\"ns\"}} {}\n",
                field.name,
                10 * (gpu + 1)
            ));
        }
    }
    let scrape = parse_text(&text).unwrap();
    let gpus = dcgm::gpu_samples(&scrape);
    assert_eq!(gpus.len(), 2);
    assert_eq!(gpus[1].utilization(), Some(0.2));
    assert_eq!(
        gpus[0].fields.len(),
        fields.iter().filter(|f| f.kind != "label").count()
    );
    let pods = dcgm::by_pod(&gpus);
    assert_eq!(pods.len(), 1);
    assert_eq!(pods[0].namespace.as_deref(), Some("ns"));
    assert_eq!(pods[0].power_w, Some(30.0));
}

#[test]
fn field_list_errors_name_the_line() {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("metrics_dcgm");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("counters.csv");
    std::fs::write(
        &path,
        "# comment\nDCGM_FI_DEV_GPU_UTIL, gauge, ok\nnot a field\n",
    )
    .unwrap();
    let message = dcgm::read_field_list(&path).unwrap_err().to_string();
    assert!(message.contains("counters.csv:3"), "{message}");
}
