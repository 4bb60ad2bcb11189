//! `report.html`: one file with everything inline (styles, SVG charts), no script and
//! no network, readable on a laptop and in print view. Hovering a marked decision
//! shows its reason and message (SVG `<title>`).

use crate::chart::{escape, number};
use crate::charts::Section;
use crate::folder::RunFolder;
use std::fmt::Write;

const STYLE: &str = "
body { font-family: 'DejaVu Sans', Verdana, sans-serif; margin: 2rem auto; max-width: 1000px; color: #222; padding: 0 1rem; }
h1 { font-size: 1.6rem; margin-bottom: 0.2rem; }
h2 { font-size: 1.25rem; margin-top: 2.2rem; border-bottom: 1px solid #ccc; padding-bottom: 0.2rem; }
p.lead, p.meta { color: #555; margin-top: 0.2rem; }
table { border-collapse: collapse; margin: 1rem 0; font-size: 0.9rem; }
th, td { padding: 0.25rem 0.6rem; border-bottom: 1px solid #e4e4e4; text-align: right; }
th:first-child, td:first-child, th:nth-child(2), td:nth-child(2) { text-align: left; }
tr.oracle td { color: #555; font-style: italic; }
figure { margin: 1rem 0; break-inside: avoid; }
figure svg { width: 100%; height: auto; }
pre { background: #f6f6f6; padding: 0.6rem; overflow-x: auto; font-size: 0.8rem; }
details { margin: 0.4rem 0; }
.notes li { color: #555; font-size: 0.9rem; }
@media print { body { max-width: none; margin: 0; } details { display: none; } h2 { break-before: page; } }
";

/// The page for `folder`, its `sections` and their charts as SVG (same order).
pub fn page(folder: &RunFolder, sections: &[Section], svgs: &[Vec<String>]) -> String {
    let summary = &folder.summary;
    let mut out = String::new();
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>budscaler report: {}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n",
        escape(&summary.scenario)
    );
    let _ = writeln!(out, "<h1>{}</h1>", escape(&summary.scenario));
    let _ = writeln!(
        out,
        "<p class=\"meta\">{} trace requests, seed {}; SLO: TTFT &le; {} s and TPOT &le; {} s per request.</p>",
        summary.trace_requests,
        summary.seed,
        number(summary.slo.ttft_s),
        number(summary.slo.tpot_s)
    );
    if let Some(description) = folder.scenario.as_deref().and_then(description) {
        let _ = writeln!(out, "<p class=\"lead\">{}</p>", escape(&description));
    }
    runs_table(&mut out, folder);
    let notes: Vec<_> = summary
        .runs
        .iter()
        .filter_map(|r| r.note.as_ref().map(|n| (r.scaler.as_str(), n)))
        .collect();
    if !notes.is_empty() {
        out.push_str("<ul class=\"notes\">\n");
        for (scaler, note) in notes {
            let _ = writeln!(out, "<li><b>{}</b>: {}</li>", escape(scaler), escape(note));
        }
        out.push_str("</ul>\n");
    }
    if let Some(scenario) = &folder.scenario {
        let _ = writeln!(
            out,
            "<details><summary>Scenario as run (scenario.yaml)</summary><pre>{}</pre></details>",
            escape(scenario)
        );
    }
    for (name, text) in &folder.scalers {
        if let Some(mapping) = imported_mapping(text) {
            let _ = writeln!(
                out,
                "<p class=\"lead\"><b>{}</b>: {}</p>\n<ul class=\"notes\">",
                escape(name),
                escape(&mapping.0)
            );
            for line in mapping.1 {
                let _ = writeln!(out, "<li>{}</li>", escape(line));
            }
            out.push_str("</ul>\n");
        }
        let _ = writeln!(
            out,
            "<details><summary>Scaler manifest: {}</summary><pre>{}</pre></details>",
            escape(name),
            escape(text)
        );
    }
    for (section, charts) in sections.iter().zip(svgs) {
        let _ = writeln!(out, "<h2>{}</h2>", escape(&section.title));
        let _ = writeln!(out, "<p class=\"lead\">{}</p>", escape(&section.lead));
        for (chart, svg) in section.charts.iter().zip(charts) {
            let _ = writeln!(
                out,
                "<figure id=\"{}\" class=\"chart\">\n{}\n<figcaption>charts/{}.png</figcaption>\n</figure>",
                chart.id,
                svg.trim_start_matches(|c: char| c != '<'),
                chart.id
            );
        }
    }
    out.push_str("</body>\n</html>\n");
    out
}

fn runs_table(out: &mut String, folder: &RunFolder) {
    out.push_str("<table>\n<thead><tr><th>scaler</th><th>strategy</th><th>SLO attainment</th><th>TTFT p90 s</th><th>TPOT p90 s</th><th>GPU-hours</th><th>cost $</th><th>&times; oracle</th><th>scale events</th></tr></thead>\n<tbody>\n");
    for run in &folder.summary.runs {
        let latency = |l: Option<simulator::output::Latency>| {
            l.map_or_else(|| "&ndash;".to_string(), |l| format!("{:.3}", l.p90))
        };
        let class = if run.strategy == "Oracle" {
            " class=\"oracle\""
        } else {
            ""
        };
        let _ = writeln!(
            out,
            "<tr{class}><td>{}</td><td>{}</td><td>{:.2}%</td><td>{}</td><td>{}</td><td>{:.2}</td><td>{:.2}</td><td>{}</td><td>{}</td></tr>",
            escape(&run.scaler),
            escape(&run.strategy),
            100.0 * run.slo_attainment,
            latency(run.ttft_s),
            latency(run.tpot_s),
            run.gpu_hours,
            run.cost_usd,
            run.gpu_hours_vs_oracle
                .map_or_else(|| "&ndash;".to_string(), |r| format!("{r:.2}&times;")),
            run.scale_events
        );
    }
    out.push_str("</tbody>\n</table>\n");
}

/// An imported manifest's header (`# Imported from KIND (FILE):` then `# - sentence`
/// per mapped field, as the simulator writes it): the first line and the sentences.
fn imported_mapping(text: &str) -> Option<(String, Vec<&str>)> {
    let mut lines = text.lines();
    let first = lines.next()?.strip_prefix("# Imported from ")?;
    let sentences = lines.map_while(|line| line.strip_prefix("# - ")).collect();
    Some((
        format!("imported from {}", first.trim_end_matches(':')),
        sentences,
    ))
}

/// The scenario's `description:` line, if it has one on a single line.
fn description(scenario: &str) -> Option<String> {
    scenario.lines().find_map(|line| {
        line.strip_prefix("description:")
            .map(|d| d.trim().trim_matches('"').to_string())
            .filter(|d| !d.is_empty())
    })
}
