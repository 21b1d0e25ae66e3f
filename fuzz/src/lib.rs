//! slackdesk's fuzz targets. `targets` is also compiled into the test suite
//! (`tests/api/fuzz_targets.rs`), which replays each target's corpus plus random inputs on
//! the stable toolchain; the `fuzz_targets/` binaries run the same functions under
//! libFuzzer (`scripts/fuzz`).

pub mod targets;
