//! Everything a person reads about a simulation: the text tables the CLI prints, the
//! charts (SVG in the page, PNG in `charts/`) and the self-contained `report.html`,
//! all built from an output folder alone.

pub mod chart;
pub mod font;
