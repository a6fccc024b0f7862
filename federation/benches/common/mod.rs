//! What the benches share: the seed setup on a sandbox and a temporary journal, from the
//! crate's test utilities (feature `test-util`: users `api_publisher` and `api_user`, roles
//! `publisher_role` and `user_role` mapped to `Internal/publisher` and `Internal/subscriber`),
//! and the machine report printed with every figure.

pub use wso2_federation::test_util::seed;

/// Prints the machine the figures come from: cores, CPU model, memory and the load average
/// (other work on the machine disturbs wall times; instruction counts are not affected).
pub fn print_machine(when: &str) {
    let cores = std::thread::available_parallelism().map_or(0, usize::from);
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find_map(|l| l.strip_prefix("model name"))
        .map(|l| l.trim_start_matches([' ', '\t', ':']).to_owned())
        .unwrap_or_else(|| "unknown CPU".into());
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    let mem_kb: u64 = meminfo
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))
        .and_then(|l| l.split_whitespace().next()?.parse().ok())
        .unwrap_or(0);
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let load: Vec<&str> = load.split_whitespace().take(3).collect();
    println!(
        "machine {when}: {cores} cores, {model}, {:.1} GiB memory, load average {}",
        mem_kb as f64 / 1024.0 / 1024.0,
        load.join(" ")
    );
}
