//! The beneficiary registry: who is registered under which mobile number, and their doses.
//!
//! A registry is looked up by a normalised mobile number ([`Mobile`]) and a normalised name
//! ([`NameKey`]): one mobile number holds up to [`MAX_BENEFICIARIES_PER_MOBILE`] people (as
//! CoWIN allowed), told apart by name. [`JsonlRegistry`] is the built-in implementation, loaded
//! from a JSON Lines file checked against `core/schemas/registry.schema.json`.
//!
//! Mobile numbers and names are personal data: neither type prints them in `Debug`, and no
//! error detail of this module quotes them.

use crate::error::{Error, ErrorCode, Result};
use crate::jose::json::Json;
use crate::schema::Schema;
use crate::status::schedule::{DoseRecord, check_dose_records};
use std::collections::{HashMap, HashSet};
use std::fmt;
use std::sync::LazyLock;
use unicode_normalization::UnicodeNormalization;

/// The most beneficiaries one mobile number may hold.
pub const MAX_BENEFICIARIES_PER_MOBILE: usize = 4;
/// The longest line a registry file may have, in bytes.
pub const MAX_REGISTRY_LINE_LEN: usize = 16 * 1024;
/// The longest name accepted as input to a look-up, in bytes (before normalisation).
pub const MAX_NAME_INPUT_LEN: usize = 512;
/// The longest mobile number accepted as input, in bytes (before normalisation).
pub const MAX_MOBILE_INPUT_LEN: usize = 32;

/// The synthetic sample registry (300 people, every status, several people on some mobile
/// numbers, names in Latin and nine Indian scripts), as JSON Lines. Written by
/// `core/data/gen_sample_registry.py`; every person and number in it is invented.
pub const SAMPLE_REGISTRY_JSONL: &str = include_str!("../../data/sample-registry.jsonl");

/// The JSON Schema every registry line is checked against.
pub const REGISTRY_SCHEMA: &str = include_str!("../../schemas/registry.schema.json");

/// An Indian mobile number in normal form: 10 ASCII digits, the first 6 to 9.
///
/// `Debug` never shows the number; [`Mobile::as_str`] does, for the host that sends the SMS.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Mobile(String);

impl Mobile {
    /// Normalises a mobile number as people write it.
    ///
    /// ASCII spaces and hyphens are dropped; then one prefix is removed: `+91`, or `91` when 12
    /// digits remain, or a single leading `0` (trunk prefix) when 11 digits remain. What is
    /// left must be exactly 10 ASCII digits, the first 6, 7, 8 or 9.
    /// Error: `invalid_mobile` (the detail never quotes the input).
    pub fn parse(input: &str) -> Result<Mobile> {
        let invalid = || {
            Error::new(
                ErrorCode::InvalidMobile,
                "mobile number must be 10 digits starting with 6-9, optionally after +91 or 0",
            )
        };
        if input.len() > MAX_MOBILE_INPUT_LEN {
            return Err(invalid());
        }
        let compact: String = input.chars().filter(|c| !matches!(c, ' ' | '-')).collect();
        let digits = if let Some(rest) = compact.strip_prefix("+91") {
            rest
        } else if compact.len() == 12 && compact.starts_with("91") {
            &compact[2..]
        } else if compact.len() == 11 && compact.starts_with('0') {
            &compact[1..]
        } else {
            &compact
        };
        let bytes = digits.as_bytes();
        if bytes.len() != 10
            || !bytes.iter().all(u8::is_ascii_digit)
            || !matches!(bytes[0], b'6'..=b'9')
        {
            return Err(invalid());
        }
        Ok(Mobile(digits.to_owned()))
    }

    /// The 10 digits.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Mobile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Mobile(<redacted>)")
    }
}

/// Normalises a name for matching: Unicode NFKC, then full default case folding, then NFKC
/// again (folding can leave a string unnormalised), then every run of Unicode white space
/// collapsed to one ASCII space, with none at either end.
///
/// NFKC makes precomposed and decomposed spellings equal (a Devanagari letter with nukta
/// typed as one code point or two) as well as compatibility forms (full-width Latin); case
/// folding makes `SHARMA` equal `sharma`. Scripts without case are left as they are.
pub fn normalize_name(name: &str) -> String {
    let nfkc: String = name.nfkc().collect();
    let folded: String = caseless::default_case_fold_str(&nfkc).nfkc().collect();
    folded.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// True when two names are equal after [`normalize_name`].
pub fn names_match(a: &str, b: &str) -> bool {
    normalize_name(a) == normalize_name(b)
}

/// A name in the form [`normalize_name`] gives, the key a registry is searched by.
/// `Debug` never shows it.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct NameKey(String);

impl NameKey {
    /// Normalises `name`. Error: `invalid_argument` when it is longer than
    /// [`MAX_NAME_INPUT_LEN`] bytes or nothing but white space (the detail never quotes it).
    pub fn new(name: &str) -> Result<NameKey> {
        if name.len() > MAX_NAME_INPUT_LEN {
            return Err(Error::new(
                ErrorCode::InvalidArgument,
                format!("name must be at most {MAX_NAME_INPUT_LEN} bytes"),
            ));
        }
        let key = normalize_name(name);
        if key.is_empty() {
            return Err(Error::new(ErrorCode::InvalidArgument, "name is empty"));
        }
        Ok(NameKey(key))
    }

    /// The normalised name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for NameKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("NameKey(<redacted>)")
    }
}

/// One registered person. `Debug` shows the id and the number of doses, never the name.
#[derive(Clone, PartialEq, Eq)]
pub struct Beneficiary {
    /// A stable opaque id (`B000123`): 1 to 64 of `A-Z a-z 0-9 _ -`. It feeds the pairwise
    /// pseudonym and never appears in a token as such.
    pub id: String,
    /// The name as registered.
    pub name: String,
    /// The dose records, in the form [`crate::VaccineSchedule::status`] reads.
    pub doses: Vec<DoseRecord>,
}

impl fmt::Debug for Beneficiary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Beneficiary")
            .field("id", &self.id)
            .field("name", &"<redacted>")
            .field("doses", &self.doses.len())
            .finish()
    }
}

/// Where beneficiaries are looked up. Implementations must be safe to share across threads.
pub trait Registry: Send + Sync {
    /// The beneficiary registered under `mobile` whose name, normalised by
    /// [`normalize_name`], equals `name`; `None` when there is none.
    ///
    /// For the consent flow not to reveal who is registered, an implementation should take
    /// about the same time whether or not the person exists (one hash look-up, say), and
    /// must not log its arguments. Errors are the implementation's own (a database failure).
    fn find(&self, mobile: &Mobile, name: &NameKey) -> Result<Option<Beneficiary>>;
}

/// The built-in registry: every record in memory, indexed by (mobile, normalised name).
pub struct JsonlRegistry {
    index: HashMap<(Mobile, NameKey), Beneficiary>,
    mobiles: usize,
}

static REGISTRY_VALIDATOR: LazyLock<Schema> = LazyLock::new(|| Schema::compile(REGISTRY_SCHEMA));

#[derive(serde::Deserialize)]
struct RecordLine {
    id: String,
    mobile: String,
    name: String,
    doses: Vec<DoseRecord>,
}

impl JsonlRegistry {
    /// Loads a JSON Lines registry: one JSON object per line (UTF-8; empty lines are
    /// skipped), each valid under `core/schemas/registry.schema.json`:
    ///
    /// ```json
    /// {"id":"B000123","mobile":"9876543210","name":"Priya Sharma",
    ///  "doses":[{"product":"Covishield","dose":1,"date":"2021-05-01","kind":"primary"}]}
    /// ```
    ///
    /// Beyond the schema: ids are unique in the file; one mobile holds at most
    /// [`MAX_BENEFICIARIES_PER_MOBILE`] people whose names differ after [`normalize_name`];
    /// each person's dose records are consistent (see [`crate::VaccineSchedule::status`];
    /// products are checked against a schedule only when a status is computed).
    ///
    /// Error: `invalid_registry`; the detail names the line (1-based) and the field, never a
    /// value from the file.
    pub fn from_jsonl(text: &str) -> Result<JsonlRegistry> {
        let mut index = HashMap::new();
        let mut ids: HashSet<String> = HashSet::new();
        let mut per_mobile: HashMap<Mobile, usize> = HashMap::new();
        for (n, line) in text.lines().enumerate() {
            let line_no = n + 1;
            let bad = |what: String| {
                Error::new(
                    ErrorCode::InvalidRegistry,
                    format!("line {line_no}: {what}"),
                )
            };
            if line.trim().is_empty() {
                continue;
            }
            if line.len() > MAX_REGISTRY_LINE_LEN {
                return Err(bad(format!("longer than {MAX_REGISTRY_LINE_LEN} bytes")));
            }
            let json = Json::parse(line.as_bytes())
                .map_err(|_| bad("not one JSON object with unique member names".into()))?;
            let value = json.into_value();
            if let Some(violation) = REGISTRY_VALIDATOR.violation(&value) {
                return Err(bad(violation));
            }
            let record: RecordLine = serde_json::from_value(value)
                .map_err(|_| bad("does not match the record layout".into()))?;
            let mobile =
                Mobile::parse(&record.mobile).map_err(|_| bad("/mobile: invalid".into()))?;
            let name = NameKey::new(&record.name).map_err(|_| bad("/name: invalid".into()))?;
            check_dose_records(&record.doses)
                .map_err(|e| bad(format!("/doses: {}", e.detail())))?;
            if !ids.insert(record.id.clone()) {
                return Err(bad("/id: duplicate id".into()));
            }
            let count = per_mobile.entry(mobile.clone()).or_insert(0);
            *count += 1;
            if *count > MAX_BENEFICIARIES_PER_MOBILE {
                return Err(bad(format!(
                    "/mobile: more than {MAX_BENEFICIARIES_PER_MOBILE} beneficiaries on one mobile"
                )));
            }
            let beneficiary = Beneficiary {
                id: record.id,
                name: record.name,
                doses: record.doses,
            };
            if index.insert((mobile, name), beneficiary).is_some() {
                return Err(bad(
                    "/name: same name as another beneficiary on this mobile".into(),
                ));
            }
        }
        Ok(JsonlRegistry {
            index,
            mobiles: per_mobile.len(),
        })
    }

    /// Like [`JsonlRegistry::from_jsonl`], from bytes. Error: `invalid_registry` (also for
    /// bytes that are not UTF-8, naming the line).
    pub fn from_jsonl_bytes(bytes: &[u8]) -> Result<JsonlRegistry> {
        match std::str::from_utf8(bytes) {
            Ok(text) => JsonlRegistry::from_jsonl(text),
            Err(e) => {
                let line = bytes[..e.valid_up_to()]
                    .iter()
                    .filter(|&&b| b == b'\n')
                    .count()
                    + 1;
                Err(Error::new(
                    ErrorCode::InvalidRegistry,
                    format!("line {line}: not UTF-8"),
                ))
            }
        }
    }

    /// The built-in synthetic registry, [`SAMPLE_REGISTRY_JSONL`].
    pub fn sample() -> JsonlRegistry {
        JsonlRegistry::from_jsonl(SAMPLE_REGISTRY_JSONL)
            .expect("the sample registry is valid (tested)")
    }

    /// The number of beneficiaries.
    pub fn len(&self) -> usize {
        self.index.len()
    }

    /// True when the registry holds nobody.
    pub fn is_empty(&self) -> bool {
        self.index.is_empty()
    }

    /// The number of distinct mobile numbers.
    pub fn mobiles(&self) -> usize {
        self.mobiles
    }
}

/// Reads a JSON array of dose records (`[{"product", "dose", "date", "kind"}]`, the `doses`
/// of a registry line; `kind` defaults to `"primary"`), for a status look-up through
/// [`crate::VaccineSchedule::status`], which checks the records themselves. At most
/// [`MAX_REGISTRY_LINE_LEN`] bytes. Error: `invalid_dose_records` when the text is not such
/// an array (duplicate member names, unknown members and wrong types included).
pub fn dose_records_from_json(json: &[u8]) -> Result<Vec<DoseRecord>> {
    let bad = |what: &str| Error::new(ErrorCode::InvalidDoseRecords, what.to_owned());
    if json.len() > MAX_REGISTRY_LINE_LEN {
        return Err(bad("dose records longer than 16384 bytes"));
    }
    let value = Json::parse(json)
        .map_err(|_| bad("not one JSON array with unique member names"))?
        .into_value();
    if !value.is_array() {
        return Err(bad("not a JSON array of dose records"));
    }
    serde_json::from_value(value).map_err(|_| {
        bad("each dose record is {product: string, dose: integer, date: string, kind?: \"primary\" | \"precaution\"}")
    })
}

impl Registry for JsonlRegistry {
    fn find(&self, mobile: &Mobile, name: &NameKey) -> Result<Option<Beneficiary>> {
        // One hash look-up, the same work whether or not the person exists.
        Ok(self.index.get(&(mobile.clone(), name.clone())).cloned())
    }
}

impl fmt::Debug for JsonlRegistry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JsonlRegistry")
            .field("beneficiaries", &self.index.len())
            .field("mobiles", &self.mobiles)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_schema_compiles_and_the_sample_loads() {
        let registry = JsonlRegistry::sample();
        assert_eq!(registry.len(), 300);
        assert!(registry.mobiles() < 300);
    }

    #[test]
    fn debug_hides_personal_data() {
        let m = Mobile::parse("9876543210").unwrap();
        assert!(!format!("{m:?}").contains("9876543210"));
        let n = NameKey::new("Priya Sharma").unwrap();
        assert!(!format!("{n:?}").contains("priya"));
    }
}
