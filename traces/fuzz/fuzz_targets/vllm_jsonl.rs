//! The vLLM recording reader behind a valid first line: any bytes must give requests or an error, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    budscaler_traces_fuzz::read_after(
        b"{\"request_id\": \"a\", \"input_toks\": 1, \"output_toks\": 1, \"arrival_time\": 1.5}\n",
        data,
        &traces::ReadOptions::default(),
    );
});
