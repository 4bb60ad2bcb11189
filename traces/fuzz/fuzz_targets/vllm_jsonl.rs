//! The vLLM recording reader behind a valid first line: any bytes must give requests or an error, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut input =
        b"{\"request_id\": \"a\", \"input_toks\": 1, \"output_toks\": 1, \"arrival_time\": 1.5}\n"
            .to_vec();
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
