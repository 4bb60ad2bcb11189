//! The generic CSV reader with a datetime mapping: any bytes must give requests or an error, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut input = b"t,p,o,b\n".to_vec();
    input.extend_from_slice(data);
    let options = traces::ReadOptions {
        columns: "arrival=t,prompt=p,output=o,prefix=b,arrival_unit=datetime"
            .parse()
            .ok(),
        ..traces::ReadOptions::default()
    };
    if let Ok(reader) = traces::open_reader(std::io::Cursor::new(input), "fuzz", &options) {
        for item in reader {
            if item.is_err() {
                break;
            }
        }
    }
});
