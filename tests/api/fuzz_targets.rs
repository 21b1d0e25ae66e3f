//! The fuzz targets of `fuzz/` on the stable toolchain: each replays its corpus
//! (`fuzz/corpus/<target>/`) and then random inputs (corpus entries mutated with the
//! target's tokens, and fresh token soups) for a short time budget. A failing input is
//! written to `target/fuzz-failures/` and the test fails with it.
//!
//! `FUZZ_SECONDS` (default 2) is the budget per target; `scripts/fuzz` runs longer, with
//! libFuzzer when `cargo fuzz` is installed.

#[path = "../../fuzz/src/targets.rs"]
mod targets;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// xorshift64*: fixed seed per target, so a run can be repeated.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

fn mutate(rng: &mut Rng, seed: &[u8], tokens: &[&str]) -> Vec<u8> {
    let mut input = seed.to_vec();
    for _ in 0..1 + rng.below(6) {
        let at = rng.below(input.len() + 1);
        match rng.below(6) {
            0 if !input.is_empty() => {
                let i = rng.below(input.len());
                input[i] = rng.next() as u8;
            }
            1 if !input.is_empty() => {
                let end = (at + rng.below(8)).min(input.len());
                input.drain(at.min(end)..end);
            }
            2 => {
                let byte =
                    [0u8, 0xff, 0xc3, b'\n', b'<', b'>', b'"', b'%', b'&', b':'][rng.below(10)];
                input.insert(at, byte);
            }
            3 if !input.is_empty() => {
                // Repeat a slice: long runs and deep nesting.
                let end = (at + 1 + rng.below(16)).min(input.len());
                let piece = input[at.min(end - 1)..end].to_vec();
                for _ in 0..rng.below(64) {
                    input.splice(at..at, piece.iter().copied());
                }
            }
            _ => {
                let token = tokens[rng.below(tokens.len())].as_bytes();
                input.splice(at..at, token.iter().copied());
            }
        }
    }
    input.truncate(64 * 1024);
    input
}

fn token_soup(rng: &mut Rng, tokens: &[&str]) -> Vec<u8> {
    let mut input = Vec::new();
    for _ in 0..rng.below(40) {
        if rng.below(4) == 0 {
            input.push(rng.next() as u8);
        } else {
            input.extend_from_slice(tokens[rng.below(tokens.len())].as_bytes());
        }
    }
    input
}

fn corpus(name: &str) -> Vec<Vec<u8>> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/corpus")
        .join(name);
    let mut entries: Vec<PathBuf> = std::fs::read_dir(&dir)
        .map(|d| d.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    entries.sort();
    entries
        .iter()
        .filter_map(|p| std::fs::read(p).ok())
        .collect()
}

fn run_one(name: &str, target: fn(&[u8]), input: &[u8]) {
    let outcome = std::panic::catch_unwind(|| target(input));
    if let Err(panic) = outcome {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/fuzz-failures");
        let _ = std::fs::create_dir_all(&dir);
        let file = dir.join(format!(
            "{name}-{}",
            hex::encode(&input[..input.len().min(16)])
        ));
        let _ = std::fs::write(&file, input);
        let message = panic
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| panic.downcast_ref::<&str>().map(|s| (*s).to_owned()))
            .unwrap_or_default();
        panic!(
            "fuzz target {name} failed on {} ({} bytes, saved to {}): {message}",
            String::from_utf8_lossy(&input[..input.len().min(200)]).escape_debug(),
            input.len(),
            file.display()
        );
    }
}

#[test]
fn every_fuzz_target_survives_its_corpus_and_random_inputs() {
    let budget = Duration::from_secs_f64(
        std::env::var("FUZZ_SECONDS")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(2.0),
    );
    let mut report = Vec::new();
    for (index, (name, target, tokens)) in targets::TARGETS.iter().enumerate() {
        let seeds = corpus(name);
        assert!(!seeds.is_empty(), "fuzz/corpus/{name} has seeds");
        for seed in &seeds {
            run_one(name, *target, seed);
        }
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15 ^ (index as u64 + 1));
        let started = Instant::now();
        let mut tried = 0usize;
        while started.elapsed() < budget {
            let input = if rng.below(3) == 0 {
                token_soup(&mut rng, tokens)
            } else {
                let seed = &seeds[rng.below(seeds.len())];
                mutate(&mut rng, seed, tokens)
            };
            run_one(name, *target, &input);
            tried += 1;
        }
        report.push(format!("{name}: {} corpus + {tried} random", seeds.len()));
    }
    println!("fuzz targets (stable replay): {}", report.join("; "));
}
