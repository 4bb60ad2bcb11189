//! The README's table of catalog figures is the catalog: every row's bandwidth and
//! dense BF16 rate are the built-in entry's, and every built-in GPU has a row.

use simulator::Catalog;

/// Numbers in a table cell: "1,555 / 2,039 GB/s" gives [1555, 2039].
fn numbers(cell: &str) -> Vec<f64> {
    cell.split(|c: char| !(c.is_ascii_digit() || c == '.' || c == ','))
        .map(|part| part.replace(',', ""))
        .filter(|part| !part.is_empty() && part != ".")
        .filter_map(|part| part.parse().ok())
        .collect()
}

#[test]
fn the_readme_catalog_table_matches_the_catalog() {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md"))
        .expect("README.md reads");
    let table = readme
        .split("| GPU | memory | bandwidth | BF16 dense, TFLOP/s | from |")
        .nth(1)
        .expect("the README has the catalog table");
    let rows: Vec<Vec<&str>> = table
        .lines()
        .skip(2)
        .take_while(|line| line.starts_with('|'))
        .map(|line| line.split('|').map(str::trim).collect())
        .collect();
    // README row name -> catalog ids (a row may stand for two sizes).
    let ids: [(&str, &[&str]); 10] = [
        ("A10G", &["a10g"]),
        ("L4", &["l4"]),
        ("L40S", &["l40s"]),
        ("A100 40 / 80 GB SXM", &["a100-40gb", "a100-80gb"]),
        ("H100 SXM", &["h100-80gb"]),
        ("H200 SXM", &["h200"]),
        ("B200 (HGX)", &["b200"]),
        ("RTX 4090", &["rtx-4090"]),
        ("RTX PRO 6000 Workstation", &["rtx-pro-6000"]),
        ("RTX PRO 6000 Server", &["rtx-pro-6000-server"]),
    ];
    let catalog = Catalog::builtin();
    assert_eq!(rows.len(), ids.len(), "one row per entry");
    let mut covered = Vec::new();
    for (row, (name, entries)) in rows.iter().zip(ids) {
        assert_eq!(row[1], name);
        let bandwidths = numbers(row[3]);
        let flops = numbers(row[4]);
        for (index, id) in entries.iter().enumerate() {
            let gpu = catalog.gpu(id).unwrap();
            let bandwidth = bandwidths[index.min(bandwidths.len() - 1)];
            assert_eq!(gpu.memory_bandwidth_bytes_per_s, bandwidth * 1e9, "{id}");
            assert!((gpu.bf16_flops - flops[0] * 1e12).abs() < 1e6, "{id}");
            covered.push(gpu.id.clone());
        }
    }
    for gpu in &catalog.gpus {
        assert!(covered.contains(&gpu.id), "{} has no README row", gpu.id);
    }
}
