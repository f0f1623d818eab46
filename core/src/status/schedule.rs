//! Status rules: dose records and a vaccine schedule table in, `0`/`1`/`2` out.
//!
//! The rules sit in the core so that every binding attests the same status for the same
//! records; see [`VaccineSchedule::status`].

use crate::error::{Error, ErrorCode, Result};
use crate::issuer::registry::normalize_name;
use crate::jose::json::{Json, truncate};
use crate::schema::Schema;
use crate::status::VaccinationStatus;
use std::collections::HashMap;
use std::fmt;
use std::sync::LazyLock;

/// The default schedule table, as JSON (`core/data/default-schedule.json`).
pub const DEFAULT_SCHEDULE_JSON: &str = include_str!("../../data/default-schedule.json");

/// The JSON Schema a schedule table is checked against.
pub const SCHEDULE_SCHEMA: &str = include_str!("../../schemas/schedule.schema.json");

/// The most dose records one person may have.
pub const MAX_DOSE_RECORDS: usize = 16;

/// Whether a dose belongs to the primary series or is a precaution (booster) dose.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DoseKind {
    /// A dose of the primary series (`"primary"`, the default when `kind` is absent).
    #[default]
    Primary,
    /// A precaution (booster) dose (`"precaution"`): never changes the status.
    Precaution,
}

impl DoseKind {
    /// `"primary"` or `"precaution"`.
    pub const fn as_str(self) -> &'static str {
        match self {
            DoseKind::Primary => "primary",
            DoseKind::Precaution => "precaution",
        }
    }
}

/// One dose as recorded: `{"product": "Covishield", "dose": 1, "date": "2021-05-01",
/// "kind": "primary"}`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DoseRecord {
    /// The product name, matched against the schedule after [`normalize_name`].
    pub product: String,
    /// The dose number across all of the person's doses, primary and precaution: 1, 2, 3…
    pub dose: u32,
    /// The date given, `YYYY-MM-DD` (a real calendar date).
    pub date: String,
    /// Primary or precaution.
    #[serde(default)]
    pub kind: DoseKind,
}

/// One row of a schedule table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScheduleEntry {
    /// The product's display name.
    pub name: String,
    /// Primary doses that complete the series, 1 to 5.
    pub primary_doses: u32,
    /// Other names the product is recorded under.
    pub aliases: Vec<String>,
}

/// A vaccine schedule table: how many primary doses complete each product's series.
///
/// Defaults to [`DEFAULT_SCHEDULE_JSON`]: Covishield 2, Covaxin 2, Sputnik V 2, Sputnik
/// Light 1, ZyCoV-D 3, Corbevax 2, Covovax 2, Spikevax (Moderna) 2, Janssen 1.
#[derive(Clone, PartialEq, Eq)]
pub struct VaccineSchedule {
    entries: Vec<ScheduleEntry>,
    /// normalised name or alias -> index into `entries`
    lookup: HashMap<String, usize>,
}

static SCHEDULE_VALIDATOR: LazyLock<Schema> = LazyLock::new(|| Schema::compile(SCHEDULE_SCHEMA));

static DEFAULT_SCHEDULE: LazyLock<VaccineSchedule> = LazyLock::new(|| {
    VaccineSchedule::from_json(DEFAULT_SCHEDULE_JSON.as_bytes())
        .expect("the default schedule is valid (tested)")
});

#[derive(serde::Deserialize)]
struct ScheduleFile {
    products: Vec<ProductLine>,
}

#[derive(serde::Deserialize)]
struct ProductLine {
    name: String,
    primary_doses: u32,
    #[serde(default)]
    aliases: Vec<String>,
}

impl VaccineSchedule {
    /// Loads a schedule table:
    ///
    /// ```json
    /// {"version": 1, "products": [{"name": "Covishield", "primary_doses": 2,
    ///                              "aliases": ["AZD1222"]}]}
    /// ```
    ///
    /// valid under `core/schemas/schedule.schema.json`; beyond the schema, every name and
    /// alias must be distinct after [`normalize_name`]. Error: `invalid_schedule` naming the
    /// field.
    pub fn from_json(bytes: &[u8]) -> Result<VaccineSchedule> {
        let bad = |what: String| Error::new(ErrorCode::InvalidSchedule, what);
        let value = Json::parse(bytes)
            .map_err(|_| bad("not one JSON object with unique member names".into()))?
            .into_value();
        if let Some(violation) = SCHEDULE_VALIDATOR.violation(&value) {
            return Err(bad(violation));
        }
        let file: ScheduleFile = serde_json::from_value(value)
            .map_err(|_| bad("does not match the schedule layout".into()))?;
        let mut entries = Vec::with_capacity(file.products.len());
        let mut lookup = HashMap::new();
        for (i, product) in file.products.into_iter().enumerate() {
            for label in std::iter::once(&product.name).chain(&product.aliases) {
                let key = normalize_name(label);
                if key.is_empty() {
                    return Err(bad(format!("/products/{i}: empty name")));
                }
                if lookup.insert(key, i).is_some() {
                    return Err(bad(format!(
                        "/products/{i}: name or alias {:?} is listed twice",
                        truncate(label)
                    )));
                }
            }
            entries.push(ScheduleEntry {
                name: product.name,
                primary_doses: product.primary_doses,
                aliases: product.aliases,
            });
        }
        Ok(VaccineSchedule { entries, lookup })
    }

    /// The rows of the table, in file order.
    pub fn entries(&self) -> &[ScheduleEntry] {
        &self.entries
    }

    /// The row for `product` (by name or alias, after [`normalize_name`]).
    pub fn entry(&self, product: &str) -> Option<&ScheduleEntry> {
        self.lookup
            .get(&normalize_name(product))
            .map(|&i| &self.entries[i])
    }

    /// The primary doses that complete `product`'s series, or `None` for an unknown product.
    pub fn primary_doses(&self, product: &str) -> Option<u32> {
        self.entry(product).map(|e| e.primary_doses)
    }

    /// The status that `doses` attest.
    ///
    /// 1. The records must be consistent (else `invalid_dose_records`): at most
    ///    [`MAX_DOSE_RECORDS`]; dose numbers are exactly 1..n, each once; every date is a
    ///    real `YYYY-MM-DD` date; in dose-number order the dates never go back; no primary
    ///    dose follows a precaution dose.
    /// 2. Every product, primary or precaution, must be in the table (else
    ///    `unknown_product`): a status is never guessed.
    /// 3. With `p` primary doses and `r` the primary doses required by the product of the
    ///    **first** dose: `p = 0` is `NotVaccinated`, `0 < p < r` is `PartiallyVaccinated`,
    ///    `p >= r` is `FullyVaccinated`.
    /// 4. Precaution doses never change the status, but one may only follow a complete
    ///    primary series (else `invalid_dose_records`: the record contradicts itself).
    ///
    /// Mixed (heterologous) series: the product of the first dose sets how many primary
    /// doses complete the series, whatever products follow. The person started that
    /// product's schedule, and later doses continue it; the rule is monotonic (a further
    /// dose never lowers a status, nor changes the requirement) and never lets a later
    /// one-dose product (Janssen) shorten a series begun with a two-dose product.
    pub fn status(&self, doses: &[DoseRecord]) -> Result<VaccinationStatus> {
        check_dose_records(doses)?;
        let mut ordered: Vec<&DoseRecord> = doses.iter().collect();
        ordered.sort_by_key(|d| d.dose);
        let mut required = None;
        for dose in &ordered {
            let needed = self.primary_doses(&dose.product).ok_or_else(|| {
                Error::new(
                    ErrorCode::UnknownProduct,
                    format!(
                        "dose {}: product {:?} is not in the schedule",
                        dose.dose,
                        truncate(&dose.product)
                    ),
                )
            })?;
            required.get_or_insert(needed);
        }
        let mut primary = 0u32;
        for dose in &ordered {
            match dose.kind {
                DoseKind::Primary => primary += 1,
                DoseKind::Precaution => {
                    if required.is_none_or(|r| primary < r) {
                        return Err(Error::new(
                            ErrorCode::InvalidDoseRecords,
                            format!(
                                "dose {}: a precaution dose before the primary series is complete",
                                dose.dose
                            ),
                        ));
                    }
                }
            }
        }
        Ok(match (primary, required) {
            (0, _) => VaccinationStatus::NotVaccinated,
            (p, Some(r)) if p >= r => VaccinationStatus::FullyVaccinated,
            _ => VaccinationStatus::PartiallyVaccinated,
        })
    }
}

impl Default for VaccineSchedule {
    fn default() -> Self {
        DEFAULT_SCHEDULE.clone()
    }
}

impl fmt::Debug for VaccineSchedule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list()
            .entries(self.entries.iter().map(|e| (&e.name, e.primary_doses)))
            .finish()
    }
}

/// Checks rule 1 of [`VaccineSchedule::status`] (no schedule needed).
pub(crate) fn check_dose_records(doses: &[DoseRecord]) -> Result<()> {
    let bad = |what: String| Error::new(ErrorCode::InvalidDoseRecords, what);
    if doses.len() > MAX_DOSE_RECORDS {
        return Err(bad(format!("more than {MAX_DOSE_RECORDS} dose records")));
    }
    let mut ordered: Vec<&DoseRecord> = doses.iter().collect();
    ordered.sort_by_key(|d| d.dose);
    let mut seen_precaution = false;
    let mut previous_date: Option<&str> = None;
    for (i, dose) in ordered.iter().enumerate() {
        let expected = i as u64 + 1;
        if u64::from(dose.dose) != expected {
            return Err(bad(if dose.dose == 0 {
                "dose number 0".to_owned()
            } else if i > 0 && ordered[i - 1].dose == dose.dose {
                format!("dose number {} recorded twice", dose.dose)
            } else {
                format!("dose number {expected} is missing")
            }));
        }
        if !is_valid_date(&dose.date) {
            return Err(bad(format!(
                "dose {}: date is not a YYYY-MM-DD date",
                dose.dose
            )));
        }
        // Valid YYYY-MM-DD dates compare correctly as strings.
        if previous_date.is_some_and(|p| dose.date.as_str() < p) {
            return Err(bad(format!(
                "dose {}: date is before the previous dose's",
                dose.dose
            )));
        }
        previous_date = Some(&dose.date);
        match dose.kind {
            DoseKind::Precaution => seen_precaution = true,
            DoseKind::Primary if seen_precaution => {
                return Err(bad(format!(
                    "dose {}: a primary dose after a precaution dose",
                    dose.dose
                )));
            }
            DoseKind::Primary => {}
        }
    }
    Ok(())
}

/// A proleptic Gregorian `YYYY-MM-DD` date, years 1900 to 9999.
fn is_valid_date(date: &str) -> bool {
    let b = date.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return false;
    }
    let number = |range: std::ops::Range<usize>| -> Option<u32> {
        let part = &b[range];
        part.iter().all(u8::is_ascii_digit).then(|| {
            part.iter()
                .fold(0u32, |acc, &d| acc * 10 + u32::from(d - b'0'))
        })
    };
    let (Some(year), Some(month), Some(day)) = (number(0..4), number(5..7), number(8..10)) else {
        return false;
    };
    let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    let days = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return false,
    };
    year >= 1900 && (1..=days).contains(&day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        for ok in ["2021-01-16", "2024-02-29", "2000-02-29", "2021-12-31"] {
            assert!(is_valid_date(ok), "{ok}");
        }
        for bad in [
            "2021-02-29",
            "1900-02-29",
            "2021-13-01",
            "2021-00-10",
            "2021-04-31",
            "2021-1-01",
            "21-01-01",
            "2021/01/01",
            "2021-01-1a",
            "1899-12-31",
            "",
        ] {
            assert!(!is_valid_date(bad), "{bad}");
        }
    }

    #[test]
    fn default_table_loads() {
        let s = VaccineSchedule::default();
        assert_eq!(s.entries().len(), 9);
        assert_eq!(s.primary_doses("covishield"), Some(2));
        assert_eq!(s.primary_doses("Moderna"), Some(2));
    }
}
