//! The canonical CSV reader behind a valid header: any bytes must give requests or an error, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    budscaler_traces_fuzz::read_after(
        b"arrival_us,prompt_tokens,output_tokens,prefix_blocks,tenant,model,priority,failed\n",
        data,
        &traces::ReadOptions::default(),
    );
});
