//! Opening a trace file: transparent gzip (found by its magic bytes, whatever the name)
//! and a look at the first line for format detection without consuming it.

use crate::error::{Location, TraceError};
use flate2::read::MultiGzDecoder;
use std::io::{BufRead, BufReader, Cursor, Read};
use std::path::Path;
use std::sync::Arc;

const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];
const PARQUET_MAGIC: &[u8; 4] = b"PAR1";
/// The first line is read for detection; a "line" longer than this is not a header.
const FIRST_LINE_LIMIT: u64 = 1 << 20;
const BUFFER: usize = 256 * 1024;

/// An opened trace: the first line (for detection) and the whole content, first line
/// included, as one stream.
pub(crate) struct Source {
    pub file: Arc<str>,
    pub first_line: Vec<u8>,
    pub input: Box<dyn BufRead + Send>,
    pub gzip: bool,
    pub parquet: bool,
}

/// Opens `path`, decompressing gzip; a directory stands for its `requests.jsonl` (a vLLM
/// recording folder).
pub(crate) fn open_source(path: &Path) -> Result<Source, TraceError> {
    let path = if path.is_dir() {
        path.join("requests.jsonl")
    } else {
        path.to_path_buf()
    };
    let file: Arc<str> = path.display().to_string().into();
    let handle = std::fs::File::open(&path).map_err(|source| TraceError::Io {
        at: Location::new(file.clone(), 0),
        source,
    })?;
    source_from_reader(Box::new(handle), file)
}

/// As [`open_source`], for content that is not a file (tests, fuzzing, stdin).
pub(crate) fn source_from_reader(
    input: Box<dyn Read + Send>,
    file: Arc<str>,
) -> Result<Source, TraceError> {
    let whole_file = |source| TraceError::Io {
        at: Location::new(file.clone(), 0),
        source,
    };
    let mut raw = BufReader::with_capacity(BUFFER, input);
    let magic = raw.fill_buf().map_err(whole_file)?;
    let gzip = magic.starts_with(&GZIP_MAGIC);
    let parquet = magic.starts_with(PARQUET_MAGIC);
    let mut input: Box<dyn BufRead + Send> = if gzip {
        Box::new(BufReader::with_capacity(BUFFER, MultiGzDecoder::new(raw)))
    } else {
        Box::new(raw)
    };
    let mut first_line = Vec::new();
    (&mut input)
        .take(FIRST_LINE_LIMIT)
        .read_until(b'\n', &mut first_line)
        .map_err(|e| TraceError::from_read(Location::new(file.clone(), 1), e, gzip))?;
    let next_line = if first_line.ends_with(b"\n") { 2 } else { 1 };
    let at_end = input
        .fill_buf()
        .map_err(|e| TraceError::from_read(Location::new(file.clone(), next_line), e, gzip))?
        .is_empty();
    if first_line.trim_ascii().is_empty() && at_end {
        return Err(TraceError::Empty {
            at: Location::new(file, 1),
        });
    }
    let content = strip_bom(&first_line).to_vec();
    let input: Box<dyn BufRead + Send> = Box::new(BufReader::with_capacity(
        BUFFER,
        Cursor::new(content).chain(input),
    ));
    if let Some(rest) = first_line.strip_prefix(b"\xEF\xBB\xBF") {
        first_line = rest.to_vec();
    }
    Ok(Source {
        file,
        first_line,
        input,
        gzip,
        parquet,
    })
}

fn strip_bom(line: &[u8]) -> &[u8] {
    line.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(line)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn gzip_is_found_by_content_and_first_line_kept() {
        let dir = std::env::temp_dir().join(format!("traces-src-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("no-extension");
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        encoder.write_all(b"\xEF\xBB\xBFa,b\n1,2\n").unwrap();
        std::fs::write(&path, encoder.finish().unwrap()).unwrap();
        let mut source = open_source(&path).unwrap();
        assert!(source.gzip);
        assert_eq!(source.first_line, b"a,b\n");
        let mut all = String::new();
        source.input.read_to_string(&mut all).unwrap();
        assert_eq!(all, "a,b\n1,2\n");
        std::fs::remove_dir_all(dir).unwrap();
    }
}
