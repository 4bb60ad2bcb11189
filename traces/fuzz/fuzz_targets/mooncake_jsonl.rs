//! The Mooncake reader behind a valid first line: any bytes must give requests or an error, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    budscaler_traces_fuzz::read_after(
        b"{\"timestamp\": 0, \"input_length\": 1, \"output_length\": 1, \"hash_ids\": [0]}\n",
        data,
        &traces::ReadOptions::default(),
    );
});
