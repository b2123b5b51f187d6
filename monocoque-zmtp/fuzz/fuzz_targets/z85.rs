#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| monocoque_zmtp::fuzz::z85(data));
