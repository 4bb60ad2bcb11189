//! Tables as CSV, for builds without Parquet: the same columns in the same order, a
//! header row, nulls as empty fields, floats in Rust's shortest round-trip form.

use super::table::{Table, Values};
use std::io::{self, Write};

/// Writes `table` as CSV.
pub fn write_csv(out: impl Write, table: &Table) -> io::Result<()> {
    let mut writer = CsvTableWriter::new(out, table)?;
    writer.write(table)?;
    writer.finish()
}

/// A CSV table written a batch of rows at a time.
pub struct CsvTableWriter<W: Write> {
    writer: csv::Writer<W>,
    record: Vec<String>,
}

impl<W: Write> CsvTableWriter<W> {
    /// Writes the header of tables shaped like `shape` (its rows are not written).
    pub fn new(out: W, shape: &Table) -> io::Result<Self> {
        let mut writer = csv::Writer::from_writer(out);
        writer.write_record(shape.columns.iter().map(|c| c.name.as_ref()))?;
        Ok(CsvTableWriter {
            writer,
            record: Vec::with_capacity(shape.columns.len()),
        })
    }

    /// Appends the rows of `table`.
    pub fn write(&mut self, table: &Table) -> io::Result<()> {
        for row in 0..table.rows() {
            self.record.clear();
            self.record
                .extend(table.columns.iter().map(|c| cell(&c.values, row)));
            self.writer.write_record(&self.record)?;
        }
        Ok(())
    }

    pub fn finish(mut self) -> io::Result<()> {
        self.writer.flush()
    }
}

fn cell(values: &Values, row: usize) -> String {
    fn or_empty<T: ToString>(value: Option<&T>) -> String {
        value.map(T::to_string).unwrap_or_default()
    }
    match values {
        Values::Str(v) => v[row].clone(),
        Values::I64(v) => or_empty(v[row].as_ref()),
        Values::U32(v) => or_empty(v[row].as_ref()),
        Values::F64(v) => or_empty(v[row].as_ref()),
        Values::Bool(v) => v[row].to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::output::table::Column;

    #[test]
    fn nulls_are_empty_and_order_is_kept() {
        let table = Table {
            columns: vec![
                Column {
                    name: "scaler".into(),
                    values: Values::Str(vec!["a,b".into(), "c".into()]),
                },
                Column {
                    name: "x".into(),
                    values: Values::F64(vec![Some(0.1), None]),
                },
                Column {
                    name: "ok".into(),
                    values: Values::Bool(vec![true, false]),
                },
            ],
        };
        let mut out = Vec::new();
        write_csv(&mut out, &table).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "scaler,x,ok\n\"a,b\",0.1,true\nc,,false\n"
        );
    }
}
