//! Fuzzing of every answer decoder with a maintained engine (bolero): inside `cargo test`, every
//! seed of every target (a fixed corpus) and then random structured inputs
//! ([`FuzzCase`](wso2_is_client::test_util::fuzz::FuzzCase): a target, a seed, edits);
//! plus billion-laughs, external-entity and nesting bombs against every decoder family.
//!
//! `WSO2_FUZZ_EXECUTIONS` sets the number of random inputs (default 100,000). The long run, with
//! a counting allocator, is the `fuzz_decoders` example:
//! `cargo run --release -p wso2-is-client --example fuzz_decoders -- 1000000`.
//! Coverage-guided fuzzing of the same target: `cargo bolero test -p wso2-is-client --test it
//! fuzz::every_decoder_survives_fuzzing --engine libfuzzer` (nightly).

use std::net::TcpListener;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use wso2_is_client::carbon::soap::{AnswerError, decode};
use wso2_is_client::carbon::xml::from_element;
use wso2_is_client::model::ServiceProvider;
use wso2_is_client::test_util::fuzz::{
    self, Family, Fuzz, FuzzCase, Input, Prepared, Syntax, Target, Verdict,
};

/// Random inputs of the run inside `cargo test` (the fixed corpus comes first).
const RANDOM_INPUTS: usize = 100_000;

fn verdict(target: &Target, input: Input) -> Verdict {
    (target.decode)(&Prepared::new(input, target.syntax))
}

#[test]
fn every_decoder_survives_fuzzing() {
    let random = std::env::var("WSO2_FUZZ_EXECUTIONS")
        .ok()
        .and_then(|v| v.replace(['_', ','], "").parse().ok())
        .unwrap_or(RANDOM_INPUTS);
    let fuzz = Fuzz::new();
    let targets = fuzz.targets();

    // The fixed corpus: every seed of every target, unedited; the success answers decode.
    let problems = fuzz::check_seeds(targets);
    assert!(problems.is_empty(), "seeds: {problems:#?}");
    let corpus: usize = targets.iter().map(|t| t.seeds.len()).sum();

    // Random structured inputs from the engine. A panic, or a broken property (made a panic
    // here), fails the test with the input that caused it (bolero shrinks and prints it).
    let decoded: Vec<AtomicU64> = targets.iter().map(|_| AtomicU64::new(0)).collect();
    let refused: Vec<AtomicU64> = targets.iter().map(|_| AtomicU64::new(0)).collect();
    let started = Instant::now();
    bolero::check!()
        .with_arbitrary::<FuzzCase>()
        .with_iterations(random)
        .for_each(|case| {
            let (target, verdict) = fuzz.run(case);
            let i = targets
                .iter()
                .position(|t| std::ptr::eq(t, target))
                .expect("a target of the list");
            match verdict {
                Verdict::Decoded => decoded[i].fetch_add(1, Ordering::Relaxed),
                Verdict::Refused => refused[i].fetch_add(1, Ordering::Relaxed),
                Verdict::Broken(why) => panic!("{}: {why}", target.name),
            };
        });
    let seconds = started.elapsed().as_secs_f64();
    let count = |v: &[AtomicU64]| v.iter().map(|n| n.load(Ordering::Relaxed)).sum::<u64>();
    let (ok, no) = (count(&decoded), count(&refused));
    let executions = ok + no;
    println!(
        "fuzz (bolero, `cargo test -p wso2-is-client --test it fuzz`): {} targets; corpus {corpus} seeds; {executions} random executions in {seconds:.1} s; decoded {ok}, refused with an error {no}; panics 0",
        targets.len()
    );
    // Each random input ran once (bolero may run a few more while shrinking a failure, which
    // would have failed the test above).
    assert!(executions >= random as u64, "{executions} executions");
    // Every target ran, every family, and the inputs both decoded and were refused (the edits
    // reach past the first syntax check).
    for (i, t) in targets.iter().enumerate() {
        let n = decoded[i].load(Ordering::Relaxed) + refused[i].load(Ordering::Relaxed);
        assert!(n > 0, "{} never ran", t.name);
    }
    for family in [Family::Soap, Family::Model, Family::Scim2, Family::Oidc] {
        assert!(targets.iter().any(|t| t.family == family), "{family:?}");
    }
    assert!(
        ok > executions / 50 && no > executions / 5,
        "{ok} decoded / {no} refused"
    );
}

#[test]
fn the_memory_worst_cases_are_answers_the_decoders_accept() {
    // The `fuzz_decoders` example measures what these allocate (at 1 MiB each); here they only
    // have to be what they claim: valid answers (so the measurement covers a real decode).
    let targets = fuzz::targets();
    for (name, what, input) in fuzz::worst_cases(64 * 1024) {
        let target = targets.iter().find(|t| t.name == name).unwrap();
        let expected = match name {
            // Zeros are not users; `invalid_grant` means the credentials were accepted.
            "scim2 user list" => Verdict::Refused,
            _ => Verdict::Decoded,
        };
        assert_eq!(verdict(target, input), expected, "{name}: {what}");
    }
}

/// A billion-laughs DOCTYPE, an external general entity, an external parameter entity and an
/// external DTD, each naming a listener that must never be contacted and a file that must never
/// be read.
fn hostile_doctypes(port: u16, canary_file: &str) -> Vec<(&'static str, String)> {
    vec![
        (
            "billion laughs",
            r#"<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;"><!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;"><!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;"><!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;"><!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;"><!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;"><!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;"><!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">]>"#.to_owned(),
        ),
        (
            "external entity (file)",
            format!(r#"<!DOCTYPE r [<!ENTITY xxe SYSTEM "file://{canary_file}">]>"#),
        ),
        (
            "external entity (http)",
            format!(r#"<!DOCTYPE r [<!ENTITY xxe SYSTEM "http://127.0.0.1:{port}/xxe">]>"#),
        ),
        (
            "external parameter entity",
            format!(r#"<!DOCTYPE r [<!ENTITY % p SYSTEM "http://127.0.0.1:{port}/evil.dtd"> %p;]>"#),
        ),
        (
            "external DTD",
            format!(r#"<!DOCTYPE r SYSTEM "http://127.0.0.1:{port}/evil.dtd">"#),
        ),
    ]
}

/// Puts a DOCTYPE after the XML declaration (or first), and entity references into the text of
/// the first leaf element, of a valid answer.
fn with_doctype(body: &[u8], doctype: &str, reference: &str) -> Vec<u8> {
    let text = String::from_utf8_lossy(body).into_owned();
    let (decl, rest) = match text.strip_prefix("<?xml") {
        Some(_) => {
            let end = text.find("?>").expect("declaration end") + 2;
            (text[..end].to_owned(), text[end..].to_owned())
        }
        None => (String::new(), text),
    };
    // The first text node (after a `>` followed by text and a `</`), or else right inside the
    // root element.
    let at = rest
        .find("</")
        .and_then(|close| {
            let open = rest[..close].rfind('>')?;
            (open + 1 < close).then_some(open + 1)
        })
        .or_else(|| rest.find('>').map(|i| i + 1))
        .unwrap_or(0);
    let rest = format!("{}{reference}{}", &rest[..at], &rest[at..]);
    format!("{decl}{doctype}{rest}").into_bytes()
}

fn assert_untouched(listener: &TcpListener, what: &str) {
    match listener.accept() {
        Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
        Ok((_, peer)) => panic!("{what}: a decoder connected to the entity's URL from {peer}"),
        Err(e) => panic!("{what}: {e}"),
    }
}

/// The first seed of `target` that decodes (a valid success answer).
fn valid_seed(target: &Target) -> Input {
    target
        .seeds
        .iter()
        .find(|s| verdict(target, (*s).clone()) == Verdict::Decoded)
        .cloned()
        .unwrap_or_else(|| panic!("{}: a seed that decodes", target.name))
}

#[test]
fn every_xml_decoder_refuses_entity_bombs_and_external_entities() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let port = listener.local_addr().unwrap().port();
    let canary = std::env::temp_dir().join(format!("wso2-xxe-canary-{}", std::process::id()));
    std::fs::write(&canary, "XXE-CANARY-7c1f").unwrap();
    let canary_path = canary.to_string_lossy().into_owned();

    let targets: Vec<Target> = fuzz::targets()
        .into_iter()
        .filter(|t| t.syntax == Syntax::Xml)
        .collect();
    let mut cases = 0;
    for target in &targets {
        let valid = valid_seed(target);
        for (label, doctype) in hostile_doctypes(port, &canary_path) {
            let reference = if label == "billion laughs" {
                "&lol9;"
            } else {
                "&xxe;"
            };
            for status in [200, 500] {
                let mut input = valid.clone();
                input.status = status;
                input.body = with_doctype(&valid.body, &doctype, reference);
                assert_eq!(
                    verdict(target, input),
                    Verdict::Refused,
                    "{}: {label} (HTTP {status})",
                    target.name
                );
                cases += 1;
            }
        }
        // Without a DOCTYPE, an undeclared entity is refused, not expanded or kept.
        let mut input = valid.clone();
        input.body = with_doctype(&valid.body, "", "&xxe;");
        assert_eq!(
            verdict(target, input),
            Verdict::Refused,
            "{}: undeclared entity",
            target.name
        );
        cases += 1;
    }
    assert_untouched(&listener, "external entities");
    let _ = std::fs::remove_file(&canary);

    // What the refusal says, for one operation, an answer with an error status and a model.
    let valid = valid_seed(&targets[1]);
    let laughs = with_doctype(&valid.body, &hostile_doctypes(port, "/x")[0].1, "&lol9;");
    match decode::<wso2_is_client::application::GetApplication>(200, None, &laughs) {
        Err(AnswerError::Decode(e)) => assert!(
            e.to_string()
                .contains("document type declarations are not accepted"),
            "{e}"
        ),
        other => panic!("{other:?}"),
    }
    let fault = format!(
        "{}{}",
        hostile_doctypes(port, &canary_path)[1].1,
        r#"<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body><soapenv:Fault><faultcode>soapenv:Server</faultcode><faultstring>&xxe;</faultstring></soapenv:Fault></soapenv:Body></soapenv:Envelope>"#
    );
    assert!(matches!(
        decode::<wso2_is_client::application::DeleteApplication>(500, None, fault.as_bytes()),
        Err(AnswerError::Decode(_))
    ));
    let model = format!(
        "{}<return><applicationName>&lol9;</applicationName></return>",
        hostile_doctypes(port, "/x")[0].1
    );
    let e = from_element::<ServiceProvider>(model.as_bytes()).unwrap_err();
    assert!(e.reason().contains("document type"), "{e}");

    // An entity reference inside an attribute is not expanded: `xsi:nil="&a;"` is not nil.
    let attr = br#"<return xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><applicationName xsi:nil="&a;">kept</applicationName></return>"#;
    let sp: ServiceProvider = from_element(attr).unwrap();
    assert_eq!(sp.application_name.as_deref(), Some("kept"));
    println!(
        "XML bombs: {cases} hostile documents against {} XML decoders, all refused; no entity URL contacted",
        targets.len()
    );
}

#[test]
fn every_json_decoder_refuses_nesting_bombs_and_fetches_nothing() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let port = listener.local_addr().unwrap().port();
    let targets: Vec<Target> = fuzz::targets()
        .into_iter()
        .filter(|t| t.syntax == Syntax::Json)
        .collect();
    let mut cases = 0;
    for target in &targets {
        let valid = valid_seed(target);
        let bombs: Vec<(&str, Vec<u8>)> = vec![
            ("100,000 nested arrays", {
                let mut b = "[".repeat(100_000).into_bytes();
                b.extend("]".repeat(100_000).into_bytes());
                b
            }),
            ("100,000 nested objects", {
                let mut b = r#"{"a":"#.repeat(100_000).into_bytes();
                b.extend("}".repeat(100_000).into_bytes());
                b
            }),
            (
                "unclosed nesting",
                "[{\"Resources\":".repeat(50_000).into_bytes(),
            ),
            (
                "an XML billion laughs sent as JSON",
                hostile_doctypes(port, "/x")[0].1.clone().into_bytes(),
            ),
        ];
        for (label, body) in bombs {
            let mut input = valid.clone();
            input.body = body;
            let v = verdict(target, input);
            // The token answer classifies everything (it never fails); the others refuse.
            if target.name != "oidc token answer" {
                assert_eq!(v, Verdict::Refused, "{}: {label}", target.name);
            }
            cases += 1;
        }
        // Nesting inside a valid document: below the limits it decodes, past them it is refused.
        let text = String::from_utf8(valid.body.clone()).unwrap();
        if let Some(at) = text.find('{').map(|i| i + 1) {
            for (depth, expect) in [(100, Verdict::Decoded), (200, Verdict::Refused)] {
                let nested = format!("\"deep\":{}1{},", "[".repeat(depth), "]".repeat(depth));
                let mut input = valid.clone();
                input.body = format!("{}{nested}{}", &text[..at], &text[at..]).into_bytes();
                let v = verdict(target, input);
                if target.name != "oidc token answer" {
                    assert_eq!(v, expect, "{}: depth {depth}", target.name);
                }
                cases += 1;
            }
            // URLs in unknown members are data: nothing fetches them.
            let refs = format!(
                r#""$ref":"http://127.0.0.1:{port}/x","$schema":"http://127.0.0.1:{port}/s","#
            );
            let mut input = valid.clone();
            input.body = format!("{}{refs}{}", &text[..at], &text[at..]).into_bytes();
            let v = verdict(target, input);
            if target.name != "oidc token answer" {
                assert_eq!(v, Verdict::Decoded, "{}: $ref kept as data", target.name);
            }
            cases += 1;
        }
    }
    assert_untouched(&listener, "JSON references");
    println!(
        "JSON bombs: {cases} hostile documents against {} JSON decoders; no stack overflow, nothing fetched",
        targets.len()
    );
}
