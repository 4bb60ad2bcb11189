//! The Azure reader behind a valid header: any bytes must give requests or an error, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut input = b"TIMESTAMP,ContextTokens,GeneratedTokens\n".to_vec();
    input.extend_from_slice(data);
    let options = traces::ReadOptions::default();
    if let Ok(reader) = traces::open_reader(std::io::Cursor::new(input), "fuzz", &options) {
        for item in reader {
            if item.is_err() {
                break;
            }
        }
    }
});
