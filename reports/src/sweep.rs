//! A sweep's table and Pareto chart: GPU-hours against SLO attainment for every point,
//! the front joined up, the references beside them and the recommended point marked
//! with the rule that chose it (`simulator::sweep`).

use crate::chart::{Axis, Chart, Marker, Series, Shape, escape};
use simulator::sweep::{RULE, SweepFile, verdict};
use std::fmt::Write;

/// The chart `charts/sweep-pareto.png` and the page draw.
pub fn pareto_chart(file: &SweepFile) -> Chart {
    let (pareto, recommended) = verdict(&file.rows);
    let at = |i: usize| {
        let run = &file.rows[i].run;
        (run.gpu_hours, 100.0 * run.slo_attainment)
    };
    let points: Vec<usize> = (0..file.rows.len())
        .filter(|&i| file.rows[i].point.is_some())
        .collect();
    let mut front: Vec<(f64, f64)> = points
        .iter()
        .filter(|&&i| pareto[i])
        .map(|&i| at(i))
        .collect();
    front.sort_by(|a, b| a.0.total_cmp(&b.0));
    let lowest = file
        .rows
        .iter()
        .map(|r| 100.0 * r.run.slo_attainment)
        .fold(100.0f64, f64::min);
    let mut series = vec![
        Series::new(
            "grid points",
            points.iter().map(|&i| at(i)).collect(),
            Shape::Points,
            4,
        ),
        Series::new("Pareto front", front, Shape::Line, 0),
    ];
    for (slot, i) in (0..file.rows.len())
        .filter(|&i| file.rows[i].point.is_none())
        .enumerate()
    {
        series.push(Series::new(
            format!("{} (reference)", file.rows[i].run.scaler),
            vec![at(i)],
            Shape::Points,
            [1, 3, 7][slot % 3],
        ));
    }
    let mut markers: Vec<Marker> = points
        .iter()
        .map(|&i| Marker {
            x: at(i).0,
            y: at(i).1,
            text: describe(file, i),
            color: if pareto[i] { 0 } else { 4 },
        })
        .collect();
    if let Some(i) = recommended {
        markers.push(Marker {
            x: at(i).0,
            y: at(i).1,
            text: format!("recommended: {}", describe(file, i)),
            color: 5,
        });
    }
    Chart {
        id: "sweep-pareto".into(),
        title: format!(
            "{}: GPU-hours against SLO attainment over the grid (red: recommended)",
            file.scaler
        ),
        x_label: "GPU-hours".into(),
        y: Axis::fixed("SLO attainment %", (lowest - 2.0).floor().max(0.0), 100.5),
        y2: None,
        series,
        markers,
    }
}

/// `point 3: path=value, …: 99.12% at 2.40 GPU-h`.
fn describe(file: &SweepFile, i: usize) -> String {
    let row = &file.rows[i];
    let values = file
        .paths
        .iter()
        .zip(&row.values)
        .map(|(path, value)| format!("{path}={value}"))
        .collect::<Vec<_>>()
        .join(", ");
    format!(
        "point {}: {values}: {:.2}% at {:.2} GPU-h",
        row.point.map_or_else(|| "-".into(), |p| p.to_string()),
        100.0 * row.run.slo_attainment,
        row.run.gpu_hours
    )
}

/// The text table the CLI prints.
pub fn sweep_table(file: &SweepFile) -> String {
    let (pareto, recommended) = verdict(&file.rows);
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{}: sweep of {} over {} points ({}), seed {}",
        file.scenario,
        file.scaler,
        file.points,
        file.paths.join(" x "),
        file.seed
    );
    let widths: Vec<usize> = file
        .paths
        .iter()
        .enumerate()
        .map(|(slot, path)| {
            file.rows
                .iter()
                .filter_map(|r| r.values.get(slot).map(|v| v.to_string().len()))
                .chain([path.len()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let name = file
        .rows
        .iter()
        .map(|r| r.run.scaler.len())
        .max()
        .unwrap_or(0)
        .max(16);
    let _ = write!(out, "{:<name$} ", "scaler");
    for (path, width) in file.paths.iter().zip(&widths) {
        let _ = write!(out, "{path:>width$} ");
    }
    let _ = writeln!(
        out,
        "{:>9} {:>9} {:>8}  verdict",
        "SLO att.", "GPU-h", "x oracle"
    );
    for (i, row) in file.rows.iter().enumerate() {
        let _ = write!(out, "{:<name$} ", row.run.scaler);
        for (slot, width) in widths.iter().enumerate() {
            let value = row
                .values
                .get(slot)
                .map_or_else(|| "-".to_string(), |v| v.to_string());
            let _ = write!(out, "{value:>width$} ");
        }
        let verdict = match (row.point.is_none(), Some(i) == recommended, pareto[i]) {
            (true, _, _) => "reference",
            (false, true, _) => "recommended (Pareto)",
            (false, false, true) => "Pareto",
            (false, false, false) => "",
        };
        let _ = writeln!(
            out,
            "{:>8.2}% {:>9.2} {:>8}  {verdict}",
            100.0 * row.run.slo_attainment,
            row.run.gpu_hours,
            row.run
                .gpu_hours_vs_oracle
                .map_or_else(|| "-".to_string(), |r| format!("{r:.2}x"))
        );
    }
    let _ = writeln!(out, "recommended: {RULE}");
    out
}

/// The sweep's `report.html`: the rule, the table and the chart.
pub fn page(file: &SweepFile, svg: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>budscaler sweep: {title}</title>\n<style>body {{ font-family: 'DejaVu Sans', Verdana, sans-serif; margin: 2rem auto; max-width: 1000px; padding: 0 1rem; }} pre {{ font-size: 0.8rem; overflow-x: auto; }} figure svg {{ width: 100%; height: auto; }}</style>\n</head>\n<body>\n<h1>Sweep of {scaler} on {title}</h1>\n<p>Recommended: {rule}.</p>\n<figure id=\"sweep-pareto\" class=\"chart\">\n{svg}\n<figcaption>charts/sweep-pareto.png</figcaption>\n</figure>\n<pre>{table}</pre>\n</body>\n</html>\n",
        title = escape(&file.scenario),
        scaler = escape(&file.scaler),
        rule = escape(RULE),
        table = escape(&sweep_table(file)),
    )
}
