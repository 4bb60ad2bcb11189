//! Everything a person reads about a simulation: the text tables the CLI prints
//! ([`table`]), the charts ([`charts`] chooses them, [`chart`] draws each as SVG for the
//! page and PNG for `charts/`) and the self-contained `report.html` ([`html`]), all
//! built from an output folder alone ([`folder`]), so `budscaler report DIR` re-renders
//! any folder `simulate` or `compare` wrote. Same folder, same bytes.

pub mod chart;
pub mod charts;
pub mod folder;
pub mod font;
pub mod html;
pub mod sweep;
pub mod table;

use std::path::{Path, PathBuf};

/// A report that could not be built or written.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error(transparent)]
    Read(#[from] simulator::output::read::ReadError),
    #[error(transparent)]
    Chart(#[from] chart::ChartError),
    #[error("cannot write {path}: {message}")]
    Write { path: PathBuf, message: String },
}

/// What [`write_report`] wrote.
#[derive(Debug, Clone, PartialEq)]
pub struct Written {
    pub html: PathBuf,
    pub pngs: Vec<PathBuf>,
}

/// Reads the output folder `dir` and writes `dir/report.html` and `dir/charts/*.png`.
pub fn write_report(dir: &Path) -> Result<Written, ReportError> {
    let folder = folder::RunFolder::load(dir)?;
    let sections = charts::sections(&folder)?;
    let charts_dir = dir.join("charts");
    std::fs::create_dir_all(&charts_dir).map_err(|e| write_error(&charts_dir, e))?;
    let mut svgs = Vec::with_capacity(sections.len());
    let mut pngs = Vec::new();
    for section in &sections {
        let mut section_svgs = Vec::with_capacity(section.charts.len());
        for chart in &section.charts {
            section_svgs.push(chart.to_svg()?);
            let path = charts_dir.join(format!("{}.png", chart.id));
            std::fs::write(&path, chart.to_png()?).map_err(|e| write_error(&path, e))?;
            pngs.push(path);
        }
        svgs.push(section_svgs);
    }
    let html = dir.join("report.html");
    std::fs::write(&html, html::page(&folder, &sections, &svgs))
        .map_err(|e| write_error(&html, e))?;
    Ok(Written { html, pngs })
}

fn write_error(path: &Path, error: impl std::fmt::Display) -> ReportError {
    ReportError::Write {
        path: path.to_path_buf(),
        message: error.to_string(),
    }
}
