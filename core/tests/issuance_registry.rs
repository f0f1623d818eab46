//! The registry: mobile normalisation, name matching, the JSON Lines format and its errors,
//! and the sample registry.

use kycvs_core::{
    ErrorCode, JsonlRegistry, MAX_BENEFICIARIES_PER_MOBILE, Mobile, NameKey, Registry,
    VaccineSchedule, names_match, normalize_name,
};
use std::collections::{HashMap, HashSet};

#[test]
fn mobile_normalisation_table() {
    let ok: &[(&str, &str)] = &[
        ("9876543210", "9876543210"),
        ("+919876543210", "9876543210"),
        ("+91 98765 43210", "9876543210"),
        ("+91-98765-43210", "9876543210"),
        ("919876543210", "9876543210"),
        ("09876543210", "9876543210"),
        ("098765-43210", "9876543210"),
        (" 98765 43210 ", "9876543210"),
        ("6000000000", "6000000000"),
        ("7000000000", "7000000000"),
        ("8123456789", "8123456789"),
        // 91 is also a valid start of a 10-digit number.
        ("9191919191", "9191919191"),
    ];
    for (input, normal) in ok {
        assert_eq!(Mobile::parse(input).unwrap().as_str(), *normal, "{input:?}");
    }
    let bad = [
        "",
        "5876543210",    // starts with 5
        "0876543210",    // starts with 0 after nothing to strip
        "987654321",     // 9 digits
        "98765432101",   // 11 digits without a 0 prefix
        "+9198765432",   // too short after +91
        "+1 9876543210", // other country code
        "+91+919876543210",
        "98765.43210", // dots are not separators
        "(98765) 43210",
        "९८७६५४३२१०",           // Devanagari digits
        "９８７６５４３２１０", // full-width digits
        "98765432１0",
        "0091 9876543210", // international prefix
        "+91 0 9876543210",
        "abcdefghij",
        "9876543210        x",
        "+91 98765 43210                                 ", // over the input length limit
    ];
    for input in bad {
        let err = Mobile::parse(input).unwrap_err();
        assert_eq!(err.code(), ErrorCode::InvalidMobile, "{input:?}");
        assert!(!err.detail().contains("9876"), "detail quotes the input");
    }
}

#[test]
fn name_matching() {
    let same: &[(&str, &str)] = &[
        ("Priya Sharma", "priya sharma"),
        ("Priya Sharma", "  PRIYA   SHARMA "),
        ("Priya Sharma", "Priya\tSharma"),
        ("Priya Sharma", "Priya\u{00a0}Sharma"), // no-break space
        ("Priya Sharma", "Ｐｒｉｙａ Ｓｈａｒｍａ"), // full-width (NFKC)
        ("STRASSE", "straße"),                   // full case folding
        ("Ölaf", "O\u{0308}laf"),                // precomposed vs combining
        // Devanagari: क़ as one code point (U+0958) and as क + nukta.
        ("\u{0958}ासिम", "\u{0915}\u{093C}ासिम"),
        ("ज़ोया शर्मा", "ज़ोया  शर्मा"),
        ("முருகன் செல்வம்", " முருகன்  செல்வம் "), // Tamil, whitespace only
        ("অমিত দাস", "অমিত\u{2003}দাস"),       // Bengali, em space
    ];
    for (a, b) in same {
        assert!(names_match(a, b), "{a:?} vs {b:?}");
    }
    let different: &[(&str, &str)] = &[
        ("Priya Sharma", "Priya Verma"),
        ("Priya Sharma", "PriyaSharma"),
        ("राहुल शर्मा", "राहुल वर्मा"),
        ("प्रिया", "प्रिय"), // a vowel sign matters
    ];
    for (a, b) in different {
        assert!(!names_match(a, b), "{a:?} vs {b:?}");
    }
    assert_eq!(normalize_name("  A  b "), "a b");
    assert_eq!(
        NameKey::new(" \t ").unwrap_err().code(),
        ErrorCode::InvalidArgument
    );
    assert_eq!(
        NameKey::new(&"a".repeat(1000)).unwrap_err().code(),
        ErrorCode::InvalidArgument
    );
}

fn line(id: &str, mobile: &str, name: &str, doses: &str) -> String {
    format!(r#"{{"id":"{id}","mobile":"{mobile}","name":"{name}","doses":{doses}}}"#)
}

const D2: &str = r#"[{"product":"Covishield","dose":1,"date":"2021-05-01"},{"product":"Covishield","dose":2,"date":"2021-08-01","kind":"primary"}]"#;

#[test]
fn loads_and_finds_by_mobile_and_name() {
    let text = [
        line("B1", "9876543210", "Priya Sharma", D2),
        String::new(),
        line("B2", "9876543210", "Rahul Sharma", "[]"),
        line("B3", "8765432109", "Priya Sharma", "[]"),
    ]
    .join("\n");
    let registry = JsonlRegistry::from_jsonl(&text).unwrap();
    assert_eq!((registry.len(), registry.mobiles()), (3, 2));
    let find = |m: &str, n: &str| {
        registry
            .find(&Mobile::parse(m).unwrap(), &NameKey::new(n).unwrap())
            .unwrap()
            .map(|b| b.id)
    };
    assert_eq!(
        find("+91 98765 43210", "priya  SHARMA").as_deref(),
        Some("B1")
    );
    assert_eq!(find("09876543210", "Rahul Sharma").as_deref(), Some("B2"));
    assert_eq!(find("8765432109", "Priya Sharma").as_deref(), Some("B3"));
    assert_eq!(find("8765432109", "Rahul Sharma"), None);
    assert_eq!(find("7000000000", "Priya Sharma"), None);
}

#[test]
fn errors_name_the_line_and_the_field() {
    let good = line("B1", "9876543210", "Priya Sharma", "[]");
    let cases: Vec<(&str, String, &str)> = vec![
        ("not json", "{".into(), "line 2"),
        ("not an object", "[1]".into(), "line 2: /"),
        (
            "duplicate member",
            r#"{"id":"B2","id":"B3","mobile":"9876543210","name":"A","doses":[]}"#.into(),
            "line 2",
        ),
        (
            "missing mobile",
            r#"{"id":"B2","name":"A","doses":[]}"#.into(),
            "mobile",
        ),
        (
            "bad mobile",
            line("B2", "+919876543211", "A", "[]"),
            "line 2: /mobile",
        ),
        (
            "bad id",
            line("B 2", "9876543211", "A", "[]"),
            "line 2: /id",
        ),
        (
            "empty name",
            line("B2", "9876543211", "", "[]"),
            "line 2: /name",
        ),
        (
            "extra member",
            r#"{"id":"B2","mobile":"9876543211","name":"A","doses":[],"aadhaar":"1"}"#.into(),
            "aadhaar",
        ),
        (
            "bad dose number type",
            line(
                "B2",
                "9876543211",
                "A",
                r#"[{"product":"Covaxin","dose":"1","date":"2021-05-01"}]"#,
            ),
            "line 2: /doses/0/dose",
        ),
        (
            "bad kind",
            line(
                "B2",
                "9876543211",
                "A",
                r#"[{"product":"Covaxin","dose":1,"date":"2021-05-01","kind":"booster"}]"#,
            ),
            "line 2: /doses/0/kind",
        ),
        (
            "date format",
            line(
                "B2",
                "9876543211",
                "A",
                r#"[{"product":"Covaxin","dose":1,"date":"01-05-2021"}]"#,
            ),
            "line 2: /doses/0/date",
        ),
        (
            "impossible date",
            line(
                "B2",
                "9876543211",
                "A",
                r#"[{"product":"Covaxin","dose":1,"date":"2021-02-30"}]"#,
            ),
            "line 2: /doses",
        ),
        (
            "dose 0",
            line(
                "B2",
                "9876543211",
                "A",
                r#"[{"product":"Covaxin","dose":0,"date":"2021-02-03"}]"#,
            ),
            "line 2: /doses/0/dose",
        ),
        (
            "duplicate dose numbers",
            line(
                "B2",
                "9876543211",
                "A",
                r#"[{"product":"Covaxin","dose":1,"date":"2021-02-03"},{"product":"Covaxin","dose":1,"date":"2021-03-03"}]"#,
            ),
            "line 2: /doses",
        ),
        (
            "duplicate id",
            line("B1", "9876543211", "A", "[]"),
            "line 2: /id",
        ),
        (
            "same name on a mobile",
            line("B2", "9876543210", " PRIYA sharma", "[]"),
            "line 2: /name",
        ),
    ];
    for (name, bad, needle) in cases {
        let text = format!("{good}\n{bad}\n");
        let err = JsonlRegistry::from_jsonl(&text).unwrap_err();
        assert_eq!(err.code(), ErrorCode::InvalidRegistry, "{name}");
        assert!(err.detail().contains(needle), "{name}: {err}");
        // Details never quote values from the file.
        assert!(!err.detail().contains("987654321"), "{name}: {err}");
        assert!(
            !err.detail().to_lowercase().contains("priya"),
            "{name}: {err}"
        );
    }
    let err = JsonlRegistry::from_jsonl_bytes(b"\n\n{\"id\":\"\xff\"}").unwrap_err();
    assert_eq!(err.code(), ErrorCode::InvalidRegistry);
    assert!(err.detail().starts_with("line 3"), "{err}");
}

#[test]
fn at_most_four_per_mobile() {
    let names = ["A", "B", "C", "D", "E"];
    let lines: Vec<String> = names
        .iter()
        .enumerate()
        .map(|(i, n)| line(&format!("B{i}"), "9876543210", n, "[]"))
        .collect();
    let four = lines[..MAX_BENEFICIARIES_PER_MOBILE].join("\n");
    assert_eq!(JsonlRegistry::from_jsonl(&four).unwrap().len(), 4);
    let err = JsonlRegistry::from_jsonl(&lines.join("\n")).unwrap_err();
    assert_eq!(err.code(), ErrorCode::InvalidRegistry);
    assert!(err.detail().contains("line 5: /mobile"), "{err}");
}

#[test]
fn the_sample_registry_covers_what_the_demo_needs() {
    let registry = JsonlRegistry::sample();
    let schedule = VaccineSchedule::default();
    assert_eq!(registry.len(), 300);
    let mut per_mobile: HashMap<String, usize> = HashMap::new();
    let mut statuses = HashSet::new();
    let mut errors = HashSet::new();
    let mut scripts = HashSet::new();
    let mut boosters = 0;
    let mut mixed = 0;
    for text in kycvs_core::SAMPLE_REGISTRY_JSONL.lines() {
        let record: serde_json::Value = serde_json::from_str(text).unwrap();
        let mobile = Mobile::parse(record["mobile"].as_str().unwrap()).unwrap();
        let name = record["name"].as_str().unwrap();
        *per_mobile.entry(mobile.as_str().to_owned()).or_default() += 1;
        let found = registry
            .find(&mobile, &NameKey::new(name).unwrap())
            .unwrap()
            .expect("every sample person is found");
        assert_eq!(found.id, record["id"].as_str().unwrap());
        match schedule.status(&found.doses) {
            Ok(status) => {
                statuses.insert(status);
            }
            Err(e) => {
                errors.insert(e.code());
            }
        }
        boosters += usize::from(
            found
                .doses
                .iter()
                .any(|d| d.kind == kycvs_core::DoseKind::Precaution),
        );
        let products: HashSet<_> = found
            .doses
            .iter()
            .filter(|d| d.kind == kycvs_core::DoseKind::Primary)
            .map(|d| d.product.as_str())
            .collect();
        mixed += usize::from(products.len() > 1);
        for c in name.chars() {
            scripts.insert(match c as u32 {
                0x0041..=0x007A => "Latin",
                0x0900..=0x097F => "Devanagari",
                0x0980..=0x09FF => "Bengali",
                0x0A00..=0x0A7F => "Gurmukhi",
                0x0A80..=0x0AFF => "Gujarati",
                0x0B00..=0x0B7F => "Odia",
                0x0B80..=0x0BFF => "Tamil",
                0x0C00..=0x0C7F => "Telugu",
                0x0C80..=0x0CFF => "Kannada",
                0x0D00..=0x0D7F => "Malayalam",
                _ => "other",
            });
        }
    }
    assert_eq!(statuses.len(), 3, "every status");
    assert_eq!(errors, HashSet::from([ErrorCode::UnknownProduct]));
    assert!(boosters > 10 && mixed > 10, "{boosters} {mixed}");
    assert!(
        per_mobile
            .values()
            .any(|&n| n == MAX_BENEFICIARIES_PER_MOBILE)
    );
    assert!(per_mobile.values().filter(|&&n| n > 1).count() > 20);
    for script in [
        "Latin",
        "Devanagari",
        "Bengali",
        "Tamil",
        "Telugu",
        "Gujarati",
    ] {
        assert!(scripts.contains(script), "{script}");
    }
    assert!(scripts.len() >= 10, "{scripts:?}");
}

#[test]
fn the_sample_lines_match_the_schema() {
    let schema: serde_json::Value =
        serde_json::from_str(kycvs_core::REGISTRY_SCHEMA).expect("schema is JSON");
    let validator = jsonschema::validator_for(&schema).expect("schema compiles");
    for (n, text) in kycvs_core::SAMPLE_REGISTRY_JSONL.lines().enumerate() {
        let value: serde_json::Value = serde_json::from_str(text).unwrap();
        assert!(validator.is_valid(&value), "line {}", n + 1);
    }
}
