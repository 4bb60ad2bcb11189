//! Tables as Parquet through polars, byte-identical for identical tables: fixed column
//! order and types, zstd at its default level, min/max/null-count statistics, one serial writer, a
//! fixed row-group size, and no key-value metadata (no timestamps, no paths).

use super::table::{Table, Values};
use polars::prelude::*;
use std::io::Write;

/// Rows per row group.
const ROW_GROUP_ROWS: usize = 64 * 1024;

/// Writes `table` as Parquet.
pub fn write_parquet(out: impl Write, table: &Table) -> PolarsResult<()> {
    let columns: Vec<Column> = table
        .columns
        .iter()
        .map(|column| {
            let name = column.name.into();
            match &column.values {
                Values::Str(v) => Column::new(name, v.as_slice()),
                Values::I64(v) => Column::new(name, v.as_slice()),
                Values::U32(v) => Column::new(name, v.as_slice()),
                Values::F64(v) => Column::new(name, v.as_slice()),
                Values::Bool(v) => Column::new(name, v.as_slice()),
            }
        })
        .collect();
    let mut frame = DataFrame::new(table.rows(), columns)?;
    ParquetWriter::new(out)
        .with_compression(ParquetCompression::Zstd(None))
        .with_statistics(StatisticsOptions::default())
        .with_row_group_size(Some(ROW_GROUP_ROWS))
        .set_parallel(false)
        .finish(&mut frame)?;
    Ok(())
}
