//! The XML codec of `wso2-is-client` against plain quick-xml serde and serde-xml-rs, on the same
//! structs and the same bytes: decoding a `getApplicationResponse` (a typical service provider,
//! and one with 1,000 claim mappings) and encoding the service provider back to XML.
//!
//! Run: `cargo bench -p wso2-federation --bench xml_codec` (prints figures; no thresholds).
//!
//! * Input: the answers the simulated IS sends for `getApplication` (captured once per run from
//!   a sandbox; Axis2-style prefixed namespaces), so every library reads the same bytes.
//! * Time: the best of 5 batches of at least 100 ms each, per operation.
//! * Instructions: each case runs alone in this binary (`--one ...`) under
//!   `valgrind --tool=callgrind`, with 1 and with 1 + K iterations; the difference over K is
//!   the cost of one operation (start-up and reading the fixture cancel out). Skipped with a
//!   note when valgrind is not installed, or with `BENCH_NO_CALLGRIND=1`.
//! * Memory: a counting global allocator; the peak of live heap bytes during one operation
//!   above what was live before it (the decoded value included), over the body size.

#![allow(clippy::unwrap_used, missing_docs, unreachable_pub, dead_code)]

mod common;

use std::hint::black_box;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use peak_alloc::PeakAlloc;
use serde::Deserialize;
use wso2_is_client::PropertyValue;
use wso2_is_client::application::GetApplication;
use wso2_is_client::carbon::soap;
use wso2_is_client::carbon::xml::{from_element, ns, to_element};
use wso2_is_client::carbon::{RestAuth, RestRequest, SecretBody};
use wso2_is_client::model::{
    Claim, ClaimConfig, ClaimMapping, ServiceProvider, visit_sp_properties,
};
use wso2_testkit::{SUPER_TENANT, Sandbox};

#[global_allocator]
static ALLOC: PeakAlloc = PeakAlloc;

/// `getApplicationResponse` as the serde libraries see it (elements by local name).
#[derive(Debug, Deserialize)]
struct Envelope {
    #[serde(rename = "Body")]
    body: Body,
}

#[derive(Debug, Deserialize)]
struct Body {
    #[serde(rename = "getApplicationResponse")]
    response: Response,
}

#[derive(Debug, Deserialize)]
struct Response {
    #[serde(rename = "return")]
    value: ServiceProvider,
}

const TYPICAL: &str = "apim-federation";
const LARGE: &str = "bench-large-sp";

/// A service provider with `n` requested claims (local dialect), as a large real one looks.
fn large_service_provider(n: usize) -> ServiceProvider {
    let mut sp = ServiceProvider::named(&LARGE.parse().unwrap())
        .with_description("A service provider with many requested claims");
    let mut claims = ClaimConfig::default();
    claims.local_claim_dialect = Some(true);
    claims.role_claim_uri = Some("http://wso2.org/claims/role".into());
    claims.claim_mappings = (0..n)
        .map(|i| {
            let uri = format!("http://wso2.org/claims/bench/attribute{i:04}");
            let mut m = ClaimMapping::default();
            m.local_claim = Some(Claim::uri(uri.clone()));
            m.remote_claim = Some(Claim::uri(uri));
            m.mandatory = Some(i % 7 == 0);
            m.requested = Some(true);
            m
        })
        .collect();
    sp.claim_config = Some(claims);
    sp
}

/// Asks the sandbox's IS for `getApplication` of `name` and returns the raw answer body.
async fn raw_get_application(is: &wso2_is_client::IsClient, name: &str) -> Vec<u8> {
    let op = GetApplication::new(&name.parse().unwrap());
    let request = soap::encode(&op).unwrap();
    let answer = is
        .core()
        .rest(&RestRequest {
            operation: "getApplication",
            method: http::Method::POST,
            path: request.path.clone(),
            auth: RestAuth::Admin,
            content_type: Some("text/xml; charset=UTF-8"),
            accept: None,
            body: Some(SecretBody(request.body.into_bytes())),
            read_only: true,
        })
        .await
        .unwrap();
    assert_eq!(answer.status, 200, "getApplication {name}");
    answer.body.to_vec()
}

/// Captures the two `getApplicationResponse` bodies from a sandbox: the seed federation's
/// service provider after an apply (typical), and one with 1,000 claim mappings (large).
fn capture(dir: &Path) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let sb = Sandbox::start().await.unwrap();
        let journal = common::seed::TempJournal::new();
        let fed = common::seed::seed(&sb, &journal);
        fed.apply(&journal.options()).await.unwrap();
        let large = to_element(&large_service_provider(1000), ns::MODEL, "return").unwrap();
        sb.is().seed_xml(SUPER_TENANT, &large).unwrap();
        let is = common::seed::is_client(&sb);
        for name in [TYPICAL, LARGE] {
            let body = raw_get_application(&is, name).await;
            std::fs::write(dir.join(format!("{name}.xml")), body).unwrap();
        }
    });
}

/// The serde derives read a property's value as plain text; our decoder holds it as a secret
/// when the property's name or flag says so. The serde paths do the same afterwards, so that all
/// produce the same value (counted in their cost).
fn classify_secrets(sp: &mut ServiceProvider) {
    visit_sp_properties(sp, &mut |_, p| {
        if p.is_secret() {
            p.value = p.value.take().map(PropertyValue::into_secret);
        }
    });
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Lib {
    Ours,
    QuickXml,
    SerdeXmlRs,
}

impl Lib {
    const ALL: [Lib; 3] = [Lib::Ours, Lib::QuickXml, Lib::SerdeXmlRs];

    fn name(self) -> &'static str {
        match self {
            Lib::Ours => "ours",
            Lib::QuickXml => "quick-xml",
            Lib::SerdeXmlRs => "serde-xml-rs",
        }
    }

    fn parse(s: &str) -> Self {
        Self::ALL.into_iter().find(|l| l.name() == s).unwrap()
    }
}

/// The inputs of one case: the body as the server sent it, and the variant serde-xml-rs can read.
struct Input {
    body: Vec<u8>,
    /// The same document with element prefixes removed and `xsi:nil` elements left out
    /// (serde-xml-rs matches prefixed names literally and has no `xsi:nil`).
    plain: Vec<u8>,
}

/// Rewrites the answer for serde-xml-rs: elements by local name, nil elements dropped.
fn unprefixed(body: &[u8]) -> Vec<u8> {
    use quick_xml::events::{BytesEnd, BytesStart, Event};
    let mut reader = quick_xml::Reader::from_reader(body);
    let mut writer = quick_xml::Writer::new(Vec::new());
    let rename = |s: &BytesStart<'_>| {
        let local = s.local_name().as_ref().to_owned();
        let mut out = BytesStart::new(local);
        for a in s.attributes() {
            let a = a.unwrap();
            if a.key.local_name().as_ref() != "nil" {
                out.push_attribute(a);
            }
        }
        out
    };
    let is_nil = |s: &BytesStart<'_>| {
        s.attributes().any(|a| {
            let a = a.unwrap();
            a.key.local_name().as_ref() == "nil" && a.value.as_ref() == "true"
        })
    };
    let mut skip = 0usize;
    loop {
        let ev = reader.read_event().unwrap();
        match ev {
            Event::Eof => break,
            _ if skip > 0 => match ev {
                Event::Start(_) => skip += 1,
                Event::End(_) => skip -= 1,
                _ => {}
            },
            Event::Start(s) if is_nil(&s) => skip = 1,
            Event::Empty(s) if is_nil(&s) => {}
            Event::Start(s) => writer.write_event(Event::Start(rename(&s))).unwrap(),
            Event::Empty(s) => writer.write_event(Event::Empty(rename(&s))).unwrap(),
            Event::End(e) => {
                let local = e.local_name().as_ref().to_owned();
                writer
                    .write_event(Event::End(BytesEnd::new(local)))
                    .unwrap();
            }
            other => writer.write_event(other).unwrap(),
        }
    }
    writer.into_inner()
}

fn decode(lib: Lib, input: &Input) -> ServiceProvider {
    match lib {
        Lib::Ours => {
            soap::decode::<GetApplication>(200, Some("text/xml; charset=UTF-8"), &input.body)
                .unwrap()
                .unwrap()
        }
        Lib::QuickXml => {
            let text = std::str::from_utf8(&input.body).unwrap();
            let env: Envelope = quick_xml::de::from_str(text).unwrap();
            let mut sp = env.body.response.value;
            classify_secrets(&mut sp);
            sp
        }
        Lib::SerdeXmlRs => {
            let text = std::str::from_utf8(&input.plain).unwrap();
            let env: Envelope = serde_xml_rs::from_str(text).unwrap();
            let mut sp = env.body.response.value;
            classify_secrets(&mut sp);
            sp
        }
    }
}

fn encode(lib: Lib, sp: &ServiceProvider) -> String {
    match lib {
        Lib::Ours => to_element(sp, ns::MODEL, "return").unwrap(),
        Lib::QuickXml => quick_xml::se::to_string_with_root("return", sp).unwrap(),
        Lib::SerdeXmlRs => serde_xml_rs::to_string(sp).unwrap(),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Decode,
    Encode,
}

impl Op {
    fn name(self) -> &'static str {
        match self {
            Op::Decode => "decode",
            Op::Encode => "encode",
        }
    }
}

fn load(dir: &Path, case: &str) -> Input {
    let body = std::fs::read(dir.join(format!("{case}.xml"))).unwrap();
    let plain = unprefixed(&body);
    Input { body, plain }
}

/// Runs one operation `iters` times (the unit callgrind measures).
fn run_one(input: &Input, value: &ServiceProvider, lib: Lib, op: Op, iters: usize) {
    for _ in 0..iters {
        match op {
            Op::Decode => {
                black_box(decode(lib, black_box(input)));
            }
            Op::Encode => {
                black_box(encode(lib, black_box(value)));
            }
        }
    }
}

/// Seconds per operation: the best and the median of 5 batches of at least 100 ms.
fn time_op(mut f: impl FnMut()) -> (Duration, Duration) {
    let mut n = 1u32;
    loop {
        let t = Instant::now();
        for _ in 0..n {
            f();
        }
        if t.elapsed() >= Duration::from_millis(100) {
            break;
        }
        n *= 2;
    }
    let mut per: Vec<Duration> = (0..5)
        .map(|_| {
            let t = Instant::now();
            for _ in 0..n {
                f();
            }
            t.elapsed() / n
        })
        .collect();
    per.sort();
    (per[0], per[2])
}

/// Peak heap bytes above the live bytes before `f`, with its result still alive.
fn peak_of<T>(f: impl FnOnce() -> T) -> usize {
    let base = ALLOC.current_usage();
    ALLOC.reset_peak_usage();
    let out = f();
    let peak = ALLOC.peak_usage().saturating_sub(base);
    drop(black_box(out));
    peak
}

/// Instructions of `iters` runs of one operation under callgrind (the whole process).
fn callgrind(dir: &Path, case: &str, lib: Lib, op: Op, iters: usize) -> Option<u64> {
    let out = dir.join(format!(
        "callgrind.{case}.{}.{}.{iters}",
        lib.name(),
        op.name()
    ));
    let status = Command::new("valgrind")
        .arg("--tool=callgrind")
        .arg(format!("--callgrind-out-file={}", out.display()))
        .arg(std::env::current_exe().ok()?)
        .args([
            "--one",
            &dir.display().to_string(),
            case,
            lib.name(),
            op.name(),
        ])
        .arg(iters.to_string())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .ok()?;
    if !status.success() {
        return None;
    }
    let text = std::fs::read_to_string(&out).ok()?;
    let _ = std::fs::remove_file(&out);
    text.lines()
        .find_map(|l| {
            l.strip_prefix("summary:")
                .or_else(|| l.strip_prefix("totals:"))
        })
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
}

fn valgrind_available() -> bool {
    std::env::var_os("BENCH_NO_CALLGRIND").is_none()
        && Command::new("valgrind")
            .arg("--version")
            .stdout(std::process::Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
}

fn child(args: &[String]) {
    // --one DIR CASE LIB OP ITERS
    let dir = Path::new(&args[0]);
    let input = load(dir, &args[1]);
    let lib = Lib::parse(&args[2]);
    let op = if args[3] == "decode" {
        Op::Decode
    } else {
        Op::Encode
    };
    let iters: usize = args[4].parse().unwrap();
    let value = decode(Lib::Ours, &input);
    run_one(&input, &value, lib, op, iters);
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--one") {
        child(&args[i + 1..]);
        return;
    }
    let dir = std::env::temp_dir().join(format!("wso2-xml-codec-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    capture(&dir);
    let with_callgrind = valgrind_available();
    common::print_machine("at start");

    println!(
        "XML codec bench: getApplicationResponse of the simulated IS, decoded into and encoded from"
    );
    println!(
        "wso2_is_client::model::ServiceProvider by ours (wso2-is-client carbon::xml), quick-xml 0.42 serde,"
    );
    println!("and serde-xml-rs 0.8 (same structs, serde derives of the model)");
    if !with_callgrind {
        println!("(valgrind not found or BENCH_NO_CALLGRIND set: no instruction counts)");
    }
    for (case, label, extra) in [
        (
            TYPICAL,
            "typical: the seed federation's service provider",
            200usize,
        ),
        (
            LARGE,
            "large: a service provider with 1,000 claim mappings",
            5,
        ),
    ] {
        let input = load(&dir, case);
        let value = decode(Lib::Ours, &input);
        println!();
        println!(
            "{label}: body {} bytes (serde-xml-rs reads the unprefixed, nil-free rewrite: {} bytes)",
            input.body.len(),
            input.plain.len()
        );
        // Same output value from every decoder.
        for lib in [Lib::QuickXml, Lib::SerdeXmlRs] {
            assert_eq!(
                decode(lib, &input),
                value,
                "{} decodes another value",
                lib.name()
            );
        }
        // serde-xml-rs on the bytes as sent.
        let direct = std::str::from_utf8(&input.body)
            .ok()
            .map(serde_xml_rs::from_str::<Envelope>);
        match direct {
            Some(Ok(env)) if env.body.response.value == value => {
                println!("  serde-xml-rs reads the prefixed answer as sent, too");
            }
            Some(Ok(_)) => println!(
                "  serde-xml-rs on the answer as sent: decodes, but not the same value (prefixed names do not match the fields)"
            ),
            Some(Err(e)) => println!("  serde-xml-rs on the answer as sent: fails ({e})"),
            None => {}
        }
        // What each encoder wrote, read back by our decoder.
        for lib in Lib::ALL {
            let xml = encode(lib, &value);
            let back: ServiceProvider = from_element(xml.as_bytes()).unwrap();
            let note = if back == value {
                "the same value".to_owned()
            } else {
                let mut redacted = value.clone();
                visit_sp_properties(&mut redacted, &mut |_, p| {
                    if p.is_secret() {
                        p.value = Some(PropertyValue::Secret(wso2_is_client::Secret::redacted()));
                    }
                });
                let mut back_r = back.clone();
                visit_sp_properties(&mut back_r, &mut |_, p| {
                    if p.is_secret() {
                        p.value = Some(PropertyValue::Secret(wso2_is_client::Secret::redacted()));
                    }
                });
                assert_eq!(back_r, redacted, "{} encodes another value", lib.name());
                "the same value except secrets, written as <redacted> (the model's Serialize never writes a secret)".to_owned()
            };
            println!(
                "  {} encodes {} bytes; read back: {note}",
                lib.name(),
                xml.len()
            );
        }
        println!(
            "  {:<6} {:<13} | {:>12} {:>12} | {:>14} {:>9} | {:>12} {:>9}",
            "op",
            "library",
            "time best",
            "median",
            "instructions",
            "vs q-xml",
            "peak heap",
            "x body"
        );
        for op in [Op::Decode, Op::Encode] {
            let mut rows = Vec::new();
            for lib in Lib::ALL {
                let (best, median) = time_op(|| run_one(&input, &value, lib, op, 1));
                let peak = match op {
                    Op::Decode => peak_of(|| decode(lib, &input)),
                    Op::Encode => peak_of(|| encode(lib, &value)),
                };
                let ir = if with_callgrind {
                    let one = callgrind(&dir, case, lib, op, 1);
                    let more = callgrind(&dir, case, lib, op, 1 + extra);
                    match (one, more) {
                        (Some(a), Some(b)) => Some(b.saturating_sub(a) / extra as u64),
                        _ => None,
                    }
                } else {
                    None
                };
                rows.push((lib, best, median, ir, peak));
            }
            let qx = rows.iter().find(|r| r.0 == Lib::QuickXml).cloned().unwrap();
            for (lib, best, median, ir, peak) in rows {
                let vs = match (ir, qx.3) {
                    (Some(a), Some(b)) => format!("{:.2}x", a as f64 / b as f64),
                    _ => format!("{:.2}x t", median.as_secs_f64() / qx.2.as_secs_f64()),
                };
                println!(
                    "  {:<6} {:<13} | {:>9.1} µs {:>9.1} µs | {:>14} {:>9} | {:>12} {:>8.2}x",
                    op.name(),
                    lib.name(),
                    best.as_secs_f64() * 1e6,
                    median.as_secs_f64() * 1e6,
                    ir.map_or("-".to_owned(), |i| i.to_string()),
                    vs,
                    peak,
                    peak as f64 / input.body.len() as f64
                );
            }
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    common::print_machine("at end");
}
