//! The BurstGPT reader behind a valid header: any bytes must give requests or an error, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    budscaler_traces_fuzz::read_after(
        b"Timestamp,Model,Request tokens,Response tokens,Total tokens,Log Type\n",
        data,
        &traces::ReadOptions::default(),
    );
});
