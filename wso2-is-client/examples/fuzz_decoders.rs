//! The long fuzz run over every answer decoder of `wso2-is-client` (SOAP operation answers, model
//! elements, SCIM2 and OIDC JSON answers): the fuzz targets of `test_util::fuzz`, driven by
//! bolero's engine with random structured inputs, under a counting allocator.
//!
//! ```sh
//! cargo run --release -p wso2-is-client --example fuzz_decoders -- 1000000 [WORST_CASE_MIB]
//! ```
//!
//! Prints the executions, the panics (must be 0; a panic stops the run with bolero's report of
//! the shrunk input), the seconds, the decoded and refused inputs per family, and the peak memory
//! a single decode allocated (each decode must stay within 32x its input + 256 KiB). Then
//! measures hand-made worst cases, answers of many tiny elements that each decode into a large
//! value (1 MiB each unless `WORST_CASE_MIB` says otherwise): their amplification is printed,
//! not bounded. Exits 1 when anything failed. `BOLERO_RANDOM_SEED` replays a run.
//!
//! Coverage-guided fuzzing of the same target runs through `cargo bolero` (see `tests/it/fuzz.rs`).

#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::process::ExitCode;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Instant;

use peak_alloc::PeakAlloc;
use wso2_is_client::test_util::fuzz::{self, Fuzz, FuzzCase, Prepared, Verdict};

#[global_allocator]
static ALLOCATOR: PeakAlloc = PeakAlloc;

/// The bound a single decode of an edited input must stay within: a small multiple of its
/// input, plus a constant for the decoder's fixed costs (error texts, empty collections).
fn memory_bound(input: usize) -> usize {
    MULTIPLE * input + FIXED
}
const MULTIPLE: usize = 32;
const FIXED: usize = 256 * 1024;

/// Size of each hand-made worst case, in MiB, unless given.
const WORST_CASE_MIB: usize = 1;

/// Peak bytes allocated while `f` runs, above what was allocated before.
fn measure<T>(f: impl FnOnce() -> T) -> (T, usize) {
    let base = ALLOCATOR.current_usage();
    ALLOCATOR.reset_peak_usage();
    let out = f();
    (out, ALLOCATOR.peak_usage().saturating_sub(base))
}

/// The largest resident set of the process (`VmHWM`), where the system says it.
fn resident_peak() -> Option<String> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    Some(line.trim_start_matches("VmHWM:").trim().to_owned())
}

fn mib(bytes: usize) -> String {
    format!("{:.2} MiB", bytes as f64 / (1024.0 * 1024.0))
}

fn usage(e: impl std::fmt::Display) -> ExitCode {
    eprintln!("usage: fuzz_decoders [EXECUTIONS] [WORST_CASE_MIB]: {e}");
    ExitCode::from(2)
}

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let executions: usize = match args.next().map(|a| a.replace(['_', ','], "").parse()) {
        None => 1_000_000,
        Some(Ok(n)) => n,
        Some(Err(e)) => return usage(e),
    };
    let worst_case_bytes = match args.next().map(|a| a.parse::<usize>()) {
        None => WORST_CASE_MIB << 20,
        Some(Ok(n)) => n << 20,
        Some(Err(e)) => return usage(e),
    };

    let fuzz = Fuzz::new();
    let targets = fuzz.targets();
    let problems = fuzz::check_seeds(targets);
    if !problems.is_empty() {
        eprintln!("seeds that do not decode: {problems:#?}");
        return ExitCode::from(1);
    }

    let decoded: Vec<AtomicU64> = targets.iter().map(|_| AtomicU64::new(0)).collect();
    let refused: Vec<AtomicU64> = targets.iter().map(|_| AtomicU64::new(0)).collect();
    let largest_input = AtomicUsize::new(0);
    let over_bound = AtomicU64::new(0);
    // (peak, input size) of the largest peak; per syntax, the largest peak/input ratio over
    // inputs of at least 4 KiB, with its peak and size.
    let max_peak = Mutex::new((0usize, 0usize));
    let max_ratio: Mutex<BTreeMap<&'static str, (f64, usize, usize)>> = Mutex::default();

    let started = Instant::now();
    let run = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        bolero::check!()
            .with_arbitrary::<FuzzCase>()
            .with_iterations(executions)
            .for_each(|case| {
                let (target, input) = fuzz.input(case);
                let size = input.body.len();
                let prepared = Prepared::new(input, target.syntax);
                let (verdict, peak) = measure(|| (target.decode)(&prepared));
                let i = targets
                    .iter()
                    .position(|t| std::ptr::eq(t, target))
                    .expect("a target of the list");
                largest_input.fetch_max(size, Ordering::Relaxed);
                {
                    let mut m = max_peak.lock().unwrap();
                    if peak > m.0 {
                        *m = (peak, size);
                    }
                }
                if size >= 4096 {
                    let ratio = peak as f64 / size as f64;
                    let mut r = max_ratio.lock().unwrap();
                    let worst = r.entry(target.syntax.label()).or_insert((0.0, 0, 0));
                    if ratio > worst.0 {
                        *worst = (ratio, peak, size);
                    }
                }
                if peak > memory_bound(size) {
                    over_bound.fetch_add(1, Ordering::Relaxed);
                    eprintln!(
                        "OVER THE BOUND {}: {} for a {size}-byte input: {case:?}",
                        target.name,
                        mib(peak)
                    );
                }
                match verdict {
                    Verdict::Decoded => decoded[i].fetch_add(1, Ordering::Relaxed),
                    Verdict::Refused => refused[i].fetch_add(1, Ordering::Relaxed),
                    Verdict::Broken(why) => panic!("{}: {why}", target.name),
                };
            });
    }));
    let seconds = started.elapsed().as_secs_f64();
    let panics = u64::from(run.is_err());

    let count = |v: &[AtomicU64]| v.iter().map(|n| n.load(Ordering::Relaxed)).sum::<u64>();
    let (ok, no) = (count(&decoded), count(&refused));
    println!("fuzz_decoders (bolero, random structured inputs):");
    println!(
        "  targets: {}, seeds: {}",
        targets.len(),
        targets.iter().map(|t| t.seeds.len()).sum::<usize>()
    );
    let mut families: BTreeMap<fuzz::Family, (u64, u64)> = BTreeMap::new();
    for (i, t) in targets.iter().enumerate() {
        let f = families.entry(t.family).or_default();
        f.0 += decoded[i].load(Ordering::Relaxed);
        f.1 += refused[i].load(Ordering::Relaxed);
    }
    for (family, (d, r)) in &families {
        println!(
            "  {:<48} {:>10} executions ({d} decoded, {r} refused)",
            family.label(),
            d + r
        );
    }
    println!("  executions: {}", ok + no);
    println!("  decoded: {ok}, refused with an error: {no}");
    println!("  panics: {panics}");
    println!(
        "  seconds: {seconds:.1} ({:.0} executions/s)",
        (ok + no) as f64 / seconds.max(1e-9)
    );
    println!(
        "  largest input: {} bytes",
        largest_input.load(Ordering::Relaxed)
    );
    let (peak, peak_input) = *max_peak.lock().unwrap();
    println!(
        "  peak allocated by one decode: {} (input {peak_input} bytes); bound {MULTIPLE}x input + {}",
        mib(peak),
        mib(FIXED)
    );
    for (syntax, (ratio, ratio_peak, ratio_input)) in max_ratio.lock().unwrap().iter() {
        println!(
            "  largest peak/input ratio of a {syntax} input (of at least 4 KiB): {ratio:.1} ({} for {ratio_input} bytes)",
            mib(*ratio_peak)
        );
    }
    let over = over_bound.load(Ordering::Relaxed);
    println!("  over the bound: {over}");

    println!(
        "worst cases crafted by hand ({} each), peak allocated by one decode:",
        mib(worst_case_bytes)
    );
    let mut worst_panics = 0;
    for (name, what, input) in fuzz::worst_cases(worst_case_bytes) {
        let Some(target) = targets.iter().find(|t| t.name == name) else {
            eprintln!("no target {name}");
            return ExitCode::from(1);
        };
        let size = input.body.len();
        let prepared = Prepared::new(input, target.syntax);
        let (verdict, peak) = measure(|| {
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| (target.decode)(&prepared)))
        });
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
    if panics > 0 || over > 0 || worst_panics > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}
