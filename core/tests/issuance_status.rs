//! Status rules: dose records through the schedule table to 0/1/2, table-driven.

use kycvs_core::{DoseKind, DoseRecord, ErrorCode, VaccinationStatus, VaccineSchedule};

use DoseKind::{Precaution as C, Primary as P};
use VaccinationStatus::{
    FullyVaccinated as Full, NotVaccinated as None0, PartiallyVaccinated as Part,
};

/// Doses numbered 1.. in order, a month apart.
fn doses(list: &[(&str, DoseKind)]) -> Vec<DoseRecord> {
    list.iter()
        .enumerate()
        .map(|(i, (product, kind))| DoseRecord {
            product: (*product).to_owned(),
            dose: i as u32 + 1,
            date: format!("2021-{:02}-15", i + 1),
            kind: *kind,
        })
        .collect()
}

#[test]
fn every_default_product_partial_and_complete() {
    let schedule = VaccineSchedule::default();
    let table: [(&str, u32); 9] = [
        ("Covishield", 2),
        ("Covaxin", 2),
        ("Sputnik V", 2),
        ("Sputnik Light", 1),
        ("ZyCoV-D", 3),
        ("Corbevax", 2),
        ("Covovax", 2),
        ("Spikevax (Moderna)", 2),
        ("Janssen", 1),
    ];
    assert_eq!(schedule.entries().len(), table.len());
    for (product, required) in table {
        assert_eq!(schedule.primary_doses(product), Some(required), "{product}");
        for given in 0..=required + 1 {
            let records = doses(&vec![(product, P); given as usize]);
            let expected = match given {
                0 => None0,
                g if g < required => Part,
                _ => Full,
            };
            assert_eq!(
                schedule.status(&records).unwrap(),
                expected,
                "{product} x{given}"
            );
        }
    }
}

/// (case name, doses, expected status or error code)
type Case = (
    &'static str,
    Vec<(&'static str, DoseKind)>,
    Result<VaccinationStatus, ErrorCode>,
);

#[test]
fn cases() {
    let schedule = VaccineSchedule::default();
    let cases: &[Case] = &[
        ("nothing", vec![], Ok(None0)),
        (
            "booster after full",
            vec![("Covishield", P), ("Covishield", P), ("Corbevax", C)],
            Ok(Full),
        ),
        (
            "two boosters",
            vec![
                ("Covaxin", P),
                ("Covaxin", P),
                ("Covaxin", C),
                ("Covovax", C),
            ],
            Ok(Full),
        ),
        (
            "booster after one-dose product",
            vec![("Janssen", P), ("Covishield", C)],
            Ok(Full),
        ),
        (
            "booster before series complete",
            vec![("Covishield", P), ("Covishield", C)],
            Err(ErrorCode::InvalidDoseRecords),
        ),
        (
            "booster alone",
            vec![("Covishield", C)],
            Err(ErrorCode::InvalidDoseRecords),
        ),
        (
            "primary after booster",
            vec![
                ("Covishield", P),
                ("Covishield", P),
                ("Covishield", C),
                ("Covishield", P),
            ],
            Err(ErrorCode::InvalidDoseRecords),
        ),
        // Mixed series: the first dose's product sets the requirement.
        (
            "mixed two-dose products",
            vec![("Covishield", P), ("Covaxin", P)],
            Ok(Full),
        ),
        (
            "mixed, ZyCoV-D first, 2 of 3",
            vec![("ZyCoV-D", P), ("Covishield", P)],
            Ok(Part),
        ),
        (
            "mixed, ZyCoV-D first, 3 of 3",
            vec![("ZyCoV-D", P), ("Covishield", P), ("Covaxin", P)],
            Ok(Full),
        ),
        (
            "mixed, one-dose product second does not shorten",
            vec![("Covishield", P), ("Janssen", P)],
            Ok(Full),
        ),
        (
            "one dose of a two-dose product",
            vec![("Covaxin", P)],
            Ok(Part),
        ),
        (
            "mixed, one-dose product first",
            vec![("Sputnik Light", P), ("Sputnik V", P)],
            Ok(Full),
        ),
        // Unknown products are never guessed, wherever they appear.
        (
            "unknown product",
            vec![("Sinopharm BBIBP", P)],
            Err(ErrorCode::UnknownProduct),
        ),
        (
            "unknown second dose",
            vec![("Covishield", P), ("Sinovac", P)],
            Err(ErrorCode::UnknownProduct),
        ),
        (
            "unknown booster",
            vec![("Covishield", P), ("Covishield", P), ("Novavax-X", C)],
            Err(ErrorCode::UnknownProduct),
        ),
        // Names and aliases match after normalisation.
        (
            "alias and case",
            vec![("  covishield ", P), ("AZD1222", P)],
            Ok(Full),
        ),
        ("moderna alias", vec![("moderna", P)], Ok(Part)),
    ];
    for (name, list, expected) in cases {
        let got = schedule.status(&doses(list)).map_err(|e| e.code());
        assert_eq!(&got, expected, "{name}");
    }
}

#[test]
fn inconsistent_records() {
    let schedule = VaccineSchedule::default();
    let d = |dose: u32, date: &str| DoseRecord {
        product: "Covishield".into(),
        dose,
        date: date.into(),
        kind: P,
    };
    let cases: &[(&str, Vec<DoseRecord>)] = &[
        ("dose 0", vec![d(0, "2021-01-01")]),
        (
            "duplicate dose number",
            vec![d(1, "2021-01-01"), d(1, "2021-02-01")],
        ),
        ("gap", vec![d(1, "2021-01-01"), d(3, "2021-02-01")]),
        ("starts at 2", vec![d(2, "2021-01-01")]),
        (
            "dates out of order",
            vec![d(1, "2021-03-01"), d(2, "2021-02-01")],
        ),
        ("bad date", vec![d(1, "2021-02-30")]),
        ("not a date", vec![d(1, "yesterday")]),
        (
            "too many records",
            (1..=17).map(|n| d(n, "2021-01-01")).collect(),
        ),
    ];
    for (name, records) in cases {
        let err = schedule.status(records).unwrap_err();
        assert_eq!(err.code(), ErrorCode::InvalidDoseRecords, "{name}");
    }
    // Records need not be listed in dose order; the same day twice is in order.
    let shuffled = vec![d(2, "2021-02-01"), d(1, "2021-02-01")];
    assert_eq!(schedule.status(&shuffled).unwrap(), Full);
    // Inconsistency is reported before an unknown product.
    let mut both = vec![d(1, "2021-01-01"), d(1, "2021-01-02")];
    both[0].product = "Unknown".into();
    assert_eq!(
        schedule.status(&both).unwrap_err().code(),
        ErrorCode::InvalidDoseRecords
    );
}

#[test]
fn another_table_can_be_loaded() {
    let schedule = VaccineSchedule::from_json(
        br#"{"version":1,"products":[{"name":"Covishield","primary_doses":3}]}"#,
    )
    .unwrap();
    let records = doses(&[("Covishield", P), ("Covishield", P)]);
    assert_eq!(schedule.status(&records).unwrap(), Part);
    assert_eq!(
        schedule
            .status(&doses(&[("Covaxin", P)]))
            .unwrap_err()
            .code(),
        ErrorCode::UnknownProduct
    );
}

#[test]
fn bad_tables_are_invalid_schedule_naming_the_field() {
    let cases: &[(&str, &str)] = &[
        ("not json", "{"),
        (
            "duplicate member",
            r#"{"version":1,"version":1,"products":[]}"#,
        ),
        (
            "wrong version",
            r#"{"version":2,"products":[{"name":"A","primary_doses":1}]}"#,
        ),
        ("no products", r#"{"version":1,"products":[]}"#),
        (
            "zero doses",
            r#"{"version":1,"products":[{"name":"A","primary_doses":0}]}"#,
        ),
        (
            "float doses",
            r#"{"version":1,"products":[{"name":"A","primary_doses":1.5}]}"#,
        ),
        (
            "missing name",
            r#"{"version":1,"products":[{"primary_doses":1}]}"#,
        ),
        (
            "blank name",
            r#"{"version":1,"products":[{"name":"  ","primary_doses":1}]}"#,
        ),
        (
            "extra member",
            r#"{"version":1,"products":[{"name":"A","primary_doses":1,"x":1}]}"#,
        ),
        (
            "duplicate after normalisation",
            r#"{"version":1,"products":[{"name":"Covaxin","primary_doses":2},{"name":"B","primary_doses":1,"aliases":["COVAXIN "]}]}"#,
        ),
    ];
    for (name, text) in cases {
        let err = VaccineSchedule::from_json(text.as_bytes()).unwrap_err();
        assert_eq!(err.code(), ErrorCode::InvalidSchedule, "{name}");
    }
    let err = VaccineSchedule::from_json(
        br#"{"version":1,"products":[{"name":"A","primary_doses":1},{"name":"B","primary_doses":9}]}"#,
    )
    .unwrap_err();
    assert!(err.detail().contains("/products/1/primary_doses"), "{err}");
    let err = VaccineSchedule::from_json(br#"{"version":1,"products":[{"primary_doses":1}]}"#)
        .unwrap_err();
    assert!(
        err.detail().contains("/products/0") && err.detail().contains("name"),
        "{err}"
    );
}

#[test]
fn the_default_table_file_matches_its_schema() {
    let schema: serde_json::Value =
        serde_json::from_str(kycvs_core::SCHEDULE_SCHEMA).expect("schema is JSON");
    let validator = jsonschema::validator_for(&schema).expect("schema compiles");
    let table: serde_json::Value =
        serde_json::from_str(kycvs_core::DEFAULT_SCHEDULE_JSON).expect("table is JSON");
    assert!(validator.is_valid(&table));
}
