//! Tables as Parquet through polars, byte-identical for identical tables: fixed column
//! order and types, zstd at its default level, min/max/null-count statistics, one serial
//! writer, fixed row groups, and no key-value metadata (no timestamps, no paths).
//!
//! Row groups follow [`row_groups`], the layout polars' `ParquetWriter::finish` gives a
//! one-chunk frame with a 64 Ki-row group size, and every table, whole or streamed, is
//! written one row group per [`ParquetTableWriter::write`] through polars' batched
//! writer. So a table written whole and the same rows streamed in those groups are the
//! same bytes, and files written before streaming existed are unchanged.

use super::table::{Table, Values};
use polars::prelude::*;
use std::io::Write;

/// Target rows per row group.
const ROW_GROUP_ROWS: usize = 64 * 1024;

/// The row-group sizes of a `rows`-row table: one group below the target; otherwise
/// `rows / target` groups of `rows / groups` rows, the last taking the remainder.
pub fn row_groups(rows: usize) -> Vec<usize> {
    let groups = rows / ROW_GROUP_ROWS;
    if groups <= 1 {
        return if rows == 0 { Vec::new() } else { vec![rows] };
    }
    let size = rows / groups;
    let mut sizes = vec![size; groups - 1];
    sizes.push(rows - size * (groups - 1));
    sizes
}

/// Writes `table` as Parquet.
pub fn write_parquet(out: impl Write, table: &Table) -> PolarsResult<()> {
    let frame = frame(table)?;
    let mut writer = ParquetTableWriter::with_schema(out, &frame)?;
    let mut offset = 0;
    for size in row_groups(table.rows()) {
        writer.write_frame(&frame.slice(offset as i64, size))?;
        offset += size;
    }
    writer.finish()
}

/// A Parquet file written one row group at a time.
pub struct ParquetTableWriter<W: Write> {
    writer: BatchedWriter<W>,
}

impl<W: Write> ParquetTableWriter<W> {
    /// A writer for tables shaped like `shape` (its rows are not written).
    pub fn new(out: W, shape: &Table) -> PolarsResult<Self> {
        Self::with_schema(out, &frame(shape)?)
    }

    fn with_schema(out: W, shape: &DataFrame) -> PolarsResult<Self> {
        let writer = ParquetWriter::new(out)
            .with_compression(ParquetCompression::Zstd(None))
            .with_statistics(StatisticsOptions::default())
            .with_row_group_size(Some(ROW_GROUP_ROWS))
            .set_parallel(false)
            .batched(shape.schema().as_ref())?;
        Ok(ParquetTableWriter { writer })
    }

    /// Writes `table` as one row group.
    pub fn write(&mut self, table: &Table) -> PolarsResult<()> {
        self.write_frame(&frame(table)?)
    }

    fn write_frame(&mut self, frame: &DataFrame) -> PolarsResult<()> {
        self.writer.write_batch(frame)
    }

    /// Writes the footer.
    pub fn finish(self) -> PolarsResult<()> {
        self.writer.finish()?;
        Ok(())
    }
}

/// Reads a table this module wrote: every column, typed as [`Values`] writes it.
pub fn read_parquet(file: std::fs::File) -> PolarsResult<Vec<(String, Values)>> {
    let frame = ParquetReader::new(file).finish()?;
    frame
        .columns()
        .iter()
        .map(|column| {
            let name = column.name().to_string();
            let series = column.as_materialized_series();
            let values = match series.dtype() {
                DataType::String => Values::Str(
                    series
                        .str()?
                        .iter()
                        .map(|v| v.unwrap_or_default().to_string())
                        .collect(),
                ),
                DataType::Int64 => Values::I64(series.i64()?.iter().collect()),
                DataType::UInt32 => Values::U32(series.u32()?.iter().collect()),
                DataType::Float64 => Values::F64(series.f64()?.iter().collect()),
                DataType::Boolean => Values::Bool(
                    series
                        .bool()?
                        .iter()
                        .map(|v| v.unwrap_or(false))
                        .collect(),
                ),
                other => polars_bail!(ComputeError: "column `{name}` has type {other}, not one this project writes"),
            };
            Ok((name, values))
        })
        .collect()
}

fn frame(table: &Table) -> PolarsResult<DataFrame> {
    let columns: Vec<Column> = table
        .columns
        .iter()
        .map(|column| {
            let name = column.name.as_ref().into();
            match &column.values {
                Values::Str(v) => Column::new(name, v.as_slice()),
                Values::I64(v) => Column::new(name, v.as_slice()),
                Values::U32(v) => Column::new(name, v.as_slice()),
                Values::F64(v) => Column::new(name, v.as_slice()),
                Values::Bool(v) => Column::new(name, v.as_slice()),
            }
        })
        .collect();
    DataFrame::new(table.rows(), columns)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn row_groups_follow_polars_split() {
        assert_eq!(row_groups(0), Vec::<usize>::new());
        assert_eq!(row_groups(10), vec![10]);
        assert_eq!(row_groups(100_000), vec![100_000]);
        assert_eq!(row_groups(131_072), vec![65_536, 65_536]);
        assert_eq!(row_groups(200_000), vec![66_666, 66_666, 66_668]);
        assert_eq!(row_groups(200_001), vec![66_667, 66_667, 66_667]);
        assert_eq!(row_groups(452_203).iter().sum::<usize>(), 452_203);
    }

    /// The layout is polars' own: writing group by group gives the bytes of
    /// `ParquetWriter::finish` on the whole frame (the writer used before streaming).
    #[test]
    fn group_by_group_equals_polars_finish() {
        for rows in [1_000usize, 140_000, 200_001] {
            let table = Table {
                columns: vec![
                    super::super::table::Column {
                        name: "scaler".into(),
                        values: Values::Str(
                            (0..rows).map(|i| format!("s{}", i / 70_000)).collect(),
                        ),
                    },
                    super::super::table::Column {
                        name: "x".into(),
                        values: Values::F64(
                            (0..rows)
                                .map(|i| (i % 7 != 0).then_some(i as f64 / 3.0))
                                .collect(),
                        ),
                    },
                    super::super::table::Column {
                        name: "ok".into(),
                        values: Values::Bool((0..rows).map(|i| i % 3 == 0).collect()),
                    },
                ],
            };
            let mut ours = Vec::new();
            write_parquet(&mut ours, &table).unwrap();
            let mut theirs = Vec::new();
            ParquetWriter::new(&mut theirs)
                .with_compression(ParquetCompression::Zstd(None))
                .with_statistics(StatisticsOptions::default())
                .with_row_group_size(Some(ROW_GROUP_ROWS))
                .set_parallel(false)
                .finish(&mut frame(&table).unwrap())
                .unwrap();
            assert!(ours == theirs, "{rows} rows differ");
        }
    }

    #[test]
    fn a_written_table_reads_back() {
        let table = Table {
            columns: vec![
                super::super::table::Column {
                    name: "scaler".into(),
                    values: Values::Str(vec!["a".into(), "b".into()]),
                },
                super::super::table::Column {
                    name: "n".into(),
                    values: Values::U32(vec![Some(1), None]),
                },
                super::super::table::Column {
                    name: "t".into(),
                    values: Values::I64(vec![Some(-5), Some(7)]),
                },
                super::super::table::Column {
                    name: "x".into(),
                    values: Values::F64(vec![None, Some(0.5)]),
                },
                super::super::table::Column {
                    name: "ok".into(),
                    values: Values::Bool(vec![true, false]),
                },
            ],
        };
        let path =
            std::env::temp_dir().join(format!("budscaler-rt-{}.parquet", std::process::id()));
        write_parquet(std::fs::File::create(&path).unwrap(), &table).unwrap();
        let read = read_parquet(std::fs::File::open(&path).unwrap()).unwrap();
        std::fs::remove_file(&path).unwrap();
        let expected: Vec<(String, Values)> = table
            .columns
            .into_iter()
            .map(|c| (c.name.to_string(), c.values))
            .collect();
        assert_eq!(read, expected);
    }
}
