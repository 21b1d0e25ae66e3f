#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| slackdesk_fuzz::targets::pull_state(data));
