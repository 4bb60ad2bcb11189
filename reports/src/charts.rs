//! Which charts a folder gets, and from which columns. Overview charts compare every
//! run; each run then gets its replicas (with scale decisions marked), its queue and
//! KV use, and its latency and attainment per minute; BudScaler runs whose decisions
//! carry forecasts add forecast against demand and the forecast's confidence.
//!
//! Long runs are thinned to at most [`MAX_POINTS`] points per series (the largest
//! value of each slice of time, so peaks survive) and at most [`MAX_MARKERS`] marked
//! decisions per chart; titles say when that happened.

use crate::chart::{Axis, Chart, Marker, Series, Shape};
use crate::folder::{RunFolder, points};
use simulator::output::read::ReadError;

/// Points per series, at most.
pub const MAX_POINTS: usize = 1500;
/// Marked decisions per chart, at most.
pub const MAX_MARKERS: usize = 400;

/// A titled group of charts.
#[derive(Debug, Clone, PartialEq)]
pub struct Section {
    pub title: String,
    /// A sentence on what the section shows.
    pub lead: String,
    pub charts: Vec<Chart>,
}

/// Time in the unit a run's length reads best in.
#[derive(Debug, Clone, Copy)]
struct Clock {
    seconds_per_unit: f64,
    label: &'static str,
}

impl Clock {
    fn for_span(seconds: f64) -> Clock {
        if seconds > 3.0 * 3600.0 {
            Clock {
                seconds_per_unit: 3600.0,
                label: "hours since start",
            }
        } else {
            Clock {
                seconds_per_unit: 60.0,
                label: "minutes since start",
            }
        }
    }

    fn at(self, seconds: f64) -> f64 {
        seconds / self.seconds_per_unit
    }

    fn series(self, points: Vec<(f64, f64)>) -> Vec<(f64, f64)> {
        points.into_iter().map(|(t, y)| (self.at(t), y)).collect()
    }
}

/// Every section of the report for `folder`.
pub fn sections(folder: &RunFolder) -> Result<Vec<Section>, ReadError> {
    let span = folder
        .timeseries
        .numbers("time_s")?
        .into_iter()
        .flatten()
        .fold(0.0f64, f64::max);
    let clock = Clock::for_span(span);
    let mut sections = vec![overview(folder, clock)?];
    for run in &folder.summary.runs {
        sections.push(run_section(folder, &run.scaler, &run.strategy, clock)?);
    }
    Ok(sections)
}

fn overview(folder: &RunFolder, clock: Clock) -> Result<Section, ReadError> {
    let runs = &folder.summary.runs;
    // Zoomed to the attainments there are: the differences that matter are points.
    let lowest = runs
        .iter()
        .map(|r| 100.0 * r.slo_attainment)
        .fold(100.0f64, f64::min);
    let mut charts = vec![Chart {
        id: "overview-gpu-hours-vs-slo".into(),
        title: "GPU-hours against SLO attainment (up and left is better)".into(),
        x_label: "GPU-hours".into(),
        y: Axis::fixed("SLO attainment %", (lowest - 2.0).floor().max(0.0), 100.5),
        y2: None,
        series: runs
            .iter()
            .enumerate()
            .map(|(i, r)| {
                Series::new(
                    r.scaler.clone(),
                    vec![(r.gpu_hours, 100.0 * r.slo_attainment)],
                    Shape::Points,
                    i,
                )
            })
            .collect(),
        markers: runs
            .iter()
            .enumerate()
            .map(|(i, r)| Marker {
                x: r.gpu_hours,
                y: 100.0 * r.slo_attainment,
                text: format!(
                    "{} ({}): {:.2}% at {:.2} GPU-h",
                    r.scaler,
                    r.strategy,
                    100.0 * r.slo_attainment,
                    r.gpu_hours
                ),
                color: i,
            })
            .collect(),
    }];
    let mut cost = Vec::new();
    for (i, run) in runs.iter().enumerate() {
        let pts = thin(clock.series(points(
            &folder.timeseries,
            &run.scaler,
            "time_s",
            "cost_usd",
        )?));
        cost.push(Series::new(run.scaler.clone(), pts, Shape::Line, i));
    }
    charts.push(Chart {
        id: "overview-cumulative-cost".into(),
        title: "Cumulative cost".into(),
        x_label: clock.label.into(),
        y: Axis::new("USD"),
        y2: None,
        series: cost,
        markers: Vec::new(),
    });
    if let Some(cdf) = &folder.latency_cdf {
        for (column, what) in [("ttft_s", "TTFT"), ("tpot_s", "TPOT")] {
            let mut series = Vec::new();
            for (i, run) in runs.iter().enumerate() {
                let pts: Vec<(f64, f64)> = points(cdf, &run.scaler, column, "percentile")?
                    .into_iter()
                    .filter(|&(_, p)| p <= 99.0)
                    .collect();
                if !pts.is_empty() {
                    series.push(Series::new(run.scaler.clone(), pts, Shape::Line, i));
                }
            }
            charts.push(Chart {
                id: format!("overview-{}-cdf", what.to_lowercase()),
                title: format!(
                    "{what} distribution of completed requests (to the 99th percentile)"
                ),
                x_label: format!("{what}, seconds"),
                y: Axis::fixed("percentile", 0.0, 100.0),
                y2: None,
                series,
                markers: Vec::new(),
            });
        }
    }
    Ok(Section {
        title: "All runs".into(),
        lead: "Each scaler replays the same trace on its own fleet.".into(),
        charts,
    })
}

fn run_section(
    folder: &RunFolder,
    scaler: &str,
    strategy: &str,
    clock: Clock,
) -> Result<Section, ReadError> {
    let id = slug(scaler);
    let ts = &folder.timeseries;
    let column = |name: &str| -> Result<Vec<(f64, f64)>, ReadError> {
        Ok(clock.series(points(ts, scaler, "time_s", name)?))
    };
    let decisions: Vec<_> = folder
        .decisions
        .iter()
        .filter(|d| d.scaler == scaler)
        .collect();
    let scale_events: Vec<_> = decisions
        .iter()
        .filter(|d| d.desired != d.current)
        .collect();
    let step = scale_events.len().div_ceil(MAX_MARKERS).max(1);
    let markers: Vec<Marker> = scale_events
        .iter()
        .step_by(step)
        .map(|d| Marker {
            x: clock.at(d.time_s),
            y: f64::from(d.desired),
            text: format!("t = {:.0} s, {}: {}", d.time_s, d.reason, d.message),
            color: 5,
        })
        .collect();
    let thinned = if step > 1 {
        format!(
            " (every {step}th of {} scale decisions marked)",
            scale_events.len()
        )
    } else {
        String::new()
    };
    let mut charts = vec![Chart {
        id: format!("{id}-replicas"),
        title: format!("{scaler}: replicas and demand{thinned}"),
        x_label: clock.label.into(),
        y: Axis::new("replicas"),
        y2: Some(Axis::new("arrivals, requests/s")),
        series: vec![
            Series::new("desired", thin(column("desired")?), Shape::Step, 0),
            Series::new("ready", thin(column("ready")?), Shape::Step, 2),
            Series::new("starting", thin(column("starting")?), Shape::Step, 1),
            Series::new(
                "arrivals",
                thin(column("arrival_rate_rps")?),
                Shape::Line,
                4,
            )
            .on_right(),
        ],
        markers,
    }];
    let waiting = column("waiting")?;
    let gateway = column("gateway_queue")?;
    charts.push(Chart {
        id: format!("{id}-queue-kv"),
        title: format!("{scaler}: queue and KV cache"),
        x_label: clock.label.into(),
        y: Axis::new("requests waiting"),
        y2: Some(Axis::fixed("KV cache use, % (0-100)", 0.0, 100.0)),
        series: vec![
            Series::new("waiting in replicas", thin(waiting), Shape::Line, 0),
            Series::new("waiting at the gateway", thin(gateway), Shape::Line, 5),
            Series::new(
                "KV cache use",
                thin(column("kv_cache_pct")?),
                Shape::Line,
                2,
            )
            .on_right(),
        ],
        markers: Vec::new(),
    });
    if let Some(slo) = &folder.slo_timeseries {
        let minute = |name: &str| -> Result<Vec<(f64, f64)>, ReadError> {
            Ok(clock.series(points(slo, scaler, "time_s", name)?))
        };
        let arrivals = minute("arrivals")?;
        let met = minute("met_slo")?;
        let attainment: Vec<(f64, f64)> = arrivals
            .iter()
            .zip(&met)
            .filter(|((_, a), _)| *a > 0.0)
            .map(|(&(t, a), &(_, m))| (t, 100.0 * m / a))
            .collect();
        charts.push(Chart {
            id: format!("{id}-latency"),
            title: format!("{scaler}: latency and SLO attainment per minute of arrival"),
            x_label: clock.label.into(),
            y: Axis::new("seconds"),
            y2: Some(Axis::fixed("SLO attainment, %", 0.0, 100.0)),
            series: vec![
                Series::new("TTFT p50", thin(minute("ttft_p50_s")?), Shape::Line, 4),
                Series::new("TTFT p90", thin(minute("ttft_p90_s")?), Shape::Line, 0),
                Series::new("TPOT p90", thin(minute("tpot_p90_s")?), Shape::Line, 1),
                Series::new("attainment", thin_min(attainment), Shape::Line, 2).on_right(),
            ],
            markers: Vec::new(),
        });
    }
    let forecasts: Vec<_> = decisions
        .iter()
        .filter_map(|d| d.forecast.as_ref().map(|f| (d.time_s, f)))
        .collect();
    if !forecasts.is_empty() {
        let demand = forecasts
            .iter()
            .map(|(t, f)| (clock.at(*t), f.current))
            .collect();
        let point = forecasts
            .iter()
            .map(|(t, f)| (clock.at(t + f.horizon_s), f.point))
            .collect();
        let quantile = forecasts
            .iter()
            .map(|(t, f)| (clock.at(t + f.horizon_s), f.value))
            .collect();
        charts.push(Chart {
            id: format!("{id}-forecast"),
            title: format!("{scaler}: forecast against the demand that came (forecasts drawn at the time they were for)"),
            x_label: clock.label.into(),
            y: Axis::new("demand, work units/s"),
            y2: None,
            series: vec![
                Series::new("demand observed", thin(demand), Shape::Line, 7),
                Series::new("forecast (point)", thin(point), Shape::Line, 0),
                Series::new("forecast (quantile sized for)", thin(quantile), Shape::Line, 1),
            ],
            markers: Vec::new(),
        });
        let confidence = forecasts
            .iter()
            .map(|(t, f)| (clock.at(*t), f.confidence))
            .collect();
        charts.push(Chart {
            id: format!("{id}-forecast-confidence"),
            title: format!("{scaler}: forecast confidence (1 - recent MAPE)"),
            x_label: clock.label.into(),
            y: Axis::fixed("confidence", 0.0, 1.0),
            y2: None,
            series: vec![Series::new(
                "confidence",
                thin_min(confidence),
                Shape::Line,
                2,
            )],
            markers: Vec::new(),
        });
    }
    let lead = match strategy {
        "Oracle" => {
            "The clairvoyant schedule: no decisions, replicas asked a cold start ahead.".to_string()
        }
        "Static" => "A fixed fleet.".to_string(),
        _ => format!(
            "{} decisions, {} of them changed the count (marked; hover for the reason and message).",
            decisions.len(),
            scale_events.len()
        ),
    };
    Ok(Section {
        title: format!("{scaler} ({strategy})"),
        lead,
        charts,
    })
}

/// A name usable as a file stem and an element id.
pub fn slug(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect()
}

/// At most [`MAX_POINTS`] points: each slice of the x range keeps its largest value.
fn thin(points: Vec<(f64, f64)>) -> Vec<(f64, f64)> {
    thin_by(points, f64::max)
}

/// As [`thin`], keeping each slice's smallest value (for attainment: dips survive).
fn thin_min(points: Vec<(f64, f64)>) -> Vec<(f64, f64)> {
    thin_by(points, f64::min)
}

fn thin_by(points: Vec<(f64, f64)>, keep: fn(f64, f64) -> f64) -> Vec<(f64, f64)> {
    if points.len() <= MAX_POINTS {
        return points;
    }
    let per_slice = points.len().div_ceil(MAX_POINTS);
    points
        .chunks(per_slice)
        .map(|slice| {
            let y = slice.iter().map(|p| p.1).reduce(keep).unwrap_or(0.0);
            (slice[0].0, y)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thinning_keeps_peaks_and_bounds_points() {
        let mut points: Vec<(f64, f64)> = (0..10_000).map(|i| (f64::from(i), 1.0)).collect();
        points[5_001].1 = 50.0;
        let thinned = thin(points.clone());
        assert!(thinned.len() <= MAX_POINTS);
        assert!(thinned.iter().any(|p| p.1 == 50.0));
        assert_eq!(thin(points[..10].to_vec()), points[..10].to_vec());
    }

    #[test]
    fn slugs_are_file_safe() {
        assert_eq!(slug("BudScaler v2/kv"), "budscaler-v2-kv");
    }
}
