//! The full fuzz campaign over every answer decoder of `wso2-is-client`: SOAP operation answers,
//! model elements, SCIM2 and OIDC JSON answers (see `tests/it/fuzz/engine.rs` for the targets,
//! seeds and mutations).
//!
//! ```sh
//! cargo run --release -p wso2-is-client --example fuzz_decoders -- 1000000 [SEED] [WORST_CASE_MIB]
//! ```
//!
//! Prints the executions, the panics (must be 0), the broken properties (decoded values that do
//! not survive re-encoding; must be 0), the largest input and the peak memory a single decode
//! allocated, measured with a counting global allocator (each decode of a mutant must stay within
//! 32x its input + 256 KiB). Then measures hand-made worst cases, answers of many tiny elements
//! that each decode into a large value (1 MiB each unless `WORST_CASE_MIB` says otherwise): their
//! amplification is printed, not bounded. Exits 1 when anything failed, writing each failing
//! input to a file in the temporary directory.

// The engine and fixtures are test code shared with `tests/it`: their items are public for the
// test binary, and the fixtures unwrap.
#![allow(dead_code, unreachable_pub, missing_docs, clippy::unwrap_used)]

#[path = "../tests/it/fuzz/engine.rs"]
mod engine;
#[path = "../tests/it/fixtures.rs"]
mod fixtures;

use std::cell::Cell;
use std::process::ExitCode;

use peak_alloc::PeakAlloc;

#[global_allocator]
static ALLOCATOR: PeakAlloc = PeakAlloc;

/// Peak bytes allocated during one decode, above what was allocated before it.
struct PeakMeter {
    base: Cell<usize>,
}

impl engine::Meter for PeakMeter {
    fn begin(&self) {
        self.base.set(ALLOCATOR.current_usage());
        ALLOCATOR.reset_peak_usage();
    }

    fn peak(&self) -> usize {
        ALLOCATOR.peak_usage().saturating_sub(self.base.get())
    }

    fn limit(&self, size: usize, _syntax: engine::Syntax) -> Option<usize> {
        Some(memory_bound(size))
    }
}

/// The bound a single decode of a mutated input must stay within: a small multiple of its
/// input, plus a constant for the decoder's fixed costs (error texts, empty collections).
fn memory_bound(input: usize) -> usize {
    MULTIPLE * input + FIXED
}
const MULTIPLE: usize = 32;
const FIXED: usize = 256 * 1024;

/// Size of each hand-made worst case, in MiB, unless given.
const WORST_CASE_MIB: usize = 1;

/// The largest resident set of the process (`VmHWM`), where the system says it.
fn resident_peak() -> Option<String> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    Some(line.trim_start_matches("VmHWM:").trim().to_owned())
}

fn mib(bytes: usize) -> String {
    format!("{:.2} MiB", bytes as f64 / (1024.0 * 1024.0))
}

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let executions: u64 = match args.next().map(|a| a.replace(['_', ','], "").parse()) {
        None => 1_000_000,
        Some(Ok(n)) => n,
        Some(Err(e)) => {
            eprintln!("usage: fuzz_decoders [EXECUTIONS] [SEED (hex)] [WORST_CASE_MIB]: {e}");
            return ExitCode::from(2);
        }
    };
    let seed = match args.next().map(|a| {
        let a = a.trim_start_matches("0x");
        u64::from_str_radix(a, 16)
    }) {
        None => engine::DEFAULT_SEED,
        Some(Ok(s)) => s,
        Some(Err(e)) => {
            eprintln!("usage: fuzz_decoders [EXECUTIONS] [SEED (hex)] [WORST_CASE_MIB]: {e}");
            return ExitCode::from(2);
        }
    };

    let worst_case_bytes = match args.next().map(|a| a.parse::<usize>()) {
        None => WORST_CASE_MIB << 20,
        Some(Ok(n)) => n << 20,
        Some(Err(e)) => {
            eprintln!("usage: fuzz_decoders [EXECUTIONS] [SEED (hex)] [WORST_CASE_MIB]: {e}");
            return ExitCode::from(2);
        }
    };

    let problems = engine::check_seeds(&engine::targets());
    if !problems.is_empty() {
        eprintln!("seeds that do not decode: {problems:#?}");
        return ExitCode::from(1);
    }
    let meter = PeakMeter { base: Cell::new(0) };
    let report = engine::run(seed, executions, None, &meter);

    println!("fuzz_decoders: {} executions", report.executions);
    println!("{}", report.summary());
    let (peak, peak_input) = report.max_peak;
    println!(
        "  peak allocated by one decode: {} (input {} bytes); bound {}x input + {}",
        mib(peak),
        peak_input,
        MULTIPLE,
        mib(FIXED)
    );
    for (syntax, (ratio, ratio_peak, ratio_input)) in &report.max_ratio {
        println!(
            "  largest peak/input ratio of a {syntax} input (of at least 4 KiB): {ratio:.1} ({} for {} bytes)",
            mib(*ratio_peak),
            ratio_input
        );
    }
    println!("  over the bound: {}", report.over_bound);
    println!("  panics: {}", report.panics);

    println!(
        "worst cases crafted by hand ({} each), peak allocated by one decode:",
        mib(worst_case_bytes)
    );
    let targets = engine::targets();
    let mut worst_panics = 0;
    for (name, what, input) in engine::worst_cases(worst_case_bytes) {
        let Some(target) = targets.iter().find(|t| t.name == name) else {
            eprintln!("no target {name}");
            return ExitCode::from(1);
        };
        let size = input.body.len();
        let prepared = engine::Prepared::new(input, target.syntax);
        engine::Meter::begin(&meter);
        let verdict =
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| (target.decode)(&prepared)));
        let peak = engine::Meter::peak(&meter);
        let verdict = match verdict {
            Ok(v) => format!("{v:?}"),
            Err(_) => {
                worst_panics += 1;
                "PANIC".to_owned()
            }
        };
        println!(
            "  {name:<32} {what:<48} {} -> {:>9} ({:>5.1}x, {verdict})",
            mib(size),
            mib(peak),
            peak as f64 / size as f64
        );
    }
    if let Some(rss) = resident_peak() {
        println!("peak resident set of the whole process: {rss}");
    }

    let mut failed =
        report.panics > 0 || report.broken > 0 || report.over_bound > 0 || worst_panics > 0;
    for (i, f) in report.failures.iter().enumerate() {
        eprintln!("{}", engine::describe(f));
        let path = std::env::temp_dir().join(format!("wso2-fuzz-failure-{i}.bin"));
        match std::fs::write(&path, &f.input.body) {
            Ok(()) => eprintln!("  input written to {}", path.display()),
            Err(e) => eprintln!("  cannot write {}: {e}", path.display()),
        }
        failed = true;
    }
    if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}
