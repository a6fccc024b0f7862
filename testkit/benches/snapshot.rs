//! Clean-slate cost: seed 10,000 objects, take two snapshots, compare them.
//!
//! Run: `cargo bench -p wso2-testkit --bench snapshot` (prints the figures; no thresholds).

use std::time::{Duration, Instant};

use wso2_testkit::{SUPER_TENANT, Sandbox, SeedCounts};

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn main() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let sb = Sandbox::builder().http().start().await.expect("sandbox");
        let runs = 5;
        let mut best: Option<(Duration, Duration, Duration, Duration, usize)> = None;
        for _ in 0..runs {
            // Fresh servers each run: restore the empty state first.
            let empty = sb.snapshot();
            let t0 = Instant::now();
            sb.is().seed(SUPER_TENANT, SeedCounts::spread(5_000));
            sb.apim().seed(SUPER_TENANT, SeedCounts::spread(5_000));
            let seeded = t0.elapsed();
            let t1 = Instant::now();
            let a = sb.snapshot();
            let snap1 = t1.elapsed();
            let b = sb.snapshot();
            let t2 = Instant::now();
            let same = a == b && a.diff(&b).is_empty();
            let compare = t2.elapsed();
            assert!(same);
            let total = t0.elapsed();
            let objects = a.object_count() - empty.object_count();
            if best.is_none_or(|b| total < b.3) {
                best = Some((seeded, snap1, compare, total, objects));
            }
            sb.is().restore(&empty.is);
            sb.apim().restore(&empty.apim);
        }
        let (seeded, snap, compare, total, objects) = best.expect("ran");
        println!("snapshot bench (best of {runs}, {objects} objects: 10,000 seeded + their Application/ roles)");
        println!("  seed 10,000 objects        {:8.2} ms", ms(seeded));
        println!("  one snapshot (both servers){:8.2} ms", ms(snap));
        println!("  compare two snapshots      {:8.2} ms", ms(compare));
        println!("  seed + 2 snapshots + compare {:6.2} ms", ms(total));
    });
}
