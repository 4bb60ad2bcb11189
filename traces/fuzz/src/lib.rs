//! What every reader target does: put a valid opening before the fuzzer's bytes (so the
//! fuzzer spends its time past format detection), open a reader and drain it up to the
//! first error. A reader may return requests or errors for any input, never panic.

/// Reads `prefix` followed by `data` with `options` until the end or the first error.
pub fn read_after(prefix: &[u8], data: &[u8], options: &traces::ReadOptions) {
    let mut input = prefix.to_vec();
    input.extend_from_slice(data);
    if let Ok(reader) = traces::open_reader(std::io::Cursor::new(input), "fuzz", options) {
        for item in reader {
            if item.is_err() {
                break;
            }
        }
    }
}
