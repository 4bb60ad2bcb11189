//! The generic CSV reader with a datetime mapping: any bytes must give requests or an error, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let options = traces::ReadOptions {
        columns: "arrival=t,prompt=p,output=o,prefix=b,arrival_unit=datetime"
            .parse()
            .ok(),
        ..traces::ReadOptions::default()
    };
    budscaler_traces_fuzz::read_after(b"t,p,o,b\n", data, &options);
});
