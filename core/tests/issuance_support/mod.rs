//! Shared set-up for the issuance tests: a service over the sample registry with fixed keys.

#![allow(dead_code)]

use kycvs_core::{
    IssuanceBuilder, IssuanceService, Issuer, JsonlRegistry, Policy, PseudonymKey, SigningKey,
    TrustStore, VaccinationStatus, Verifier,
};
use std::sync::Arc;

pub const ISSUER: &str = "cowin.example";
pub const AUDIENCE: &str = "irctc.example";
pub const NOW: u64 = 1_700_000_000;

/// One person of the sample registry, with the status their records give (or the error code).
#[derive(Clone, Debug)]
pub struct Person {
    pub id: String,
    pub mobile: String,
    pub name: String,
    pub status: Result<VaccinationStatus, kycvs_core::ErrorCode>,
}

impl Person {
    /// A consent request for this person, to the test audience, bound to `nonce`.
    pub fn request<'a>(&'a self, nonce: &'a str) -> kycvs_core::ConsentRequest<'a> {
        kycvs_core::ConsentRequest {
            mobile: &self.mobile,
            name: &self.name,
            audience: AUDIENCE,
            nonce,
        }
    }
}

/// Sample people and the outcome of their dose records, worked out by hand from
/// `core/data/sample-registry.jsonl` and the default schedule (never computed by the code under
/// test): four of each status and the three whose product is not in the schedule.
const EXPECTED: [(&str, Result<VaccinationStatus, kycvs_core::ErrorCode>); 15] = {
    use VaccinationStatus::*;
    use kycvs_core::ErrorCode::UnknownProduct;
    [
        ("B000001", Ok(PartiallyVaccinated)), // Covishield, 1 of 2 primary doses
        ("B000002", Ok(FullyVaccinated)),     // Covishield, 2 of 2
        ("B000003", Ok(FullyVaccinated)),     // Janssen, 1 of 1
        ("B000004", Ok(FullyVaccinated)),     // ZyCoV-D, 3 of 3
        ("B000005", Ok(PartiallyVaccinated)), // ZyCoV-D, 2 of 3
        ("B000009", Ok(NotVaccinated)),       // no dose
        ("B000010", Ok(PartiallyVaccinated)), // Covovax, 1 of 2
        ("B000011", Err(UnknownProduct)),     // Sinopharm BBIBP
        ("B000012", Ok(NotVaccinated)),       // no dose
        ("B000013", Ok(PartiallyVaccinated)), // Covaxin, 1 of 2
        ("B000014", Ok(FullyVaccinated)),     // Covaxin, 2 of 2
        ("B000021", Ok(NotVaccinated)),       // no dose
        ("B000024", Ok(NotVaccinated)),       // no dose
        ("B000131", Err(UnknownProduct)),     // Sinopharm BBIBP
        ("B000251", Err(UnknownProduct)),     // Sinopharm BBIBP
    ]
};

/// The people of [`EXPECTED`], in registry order, with their expected outcome.
pub fn people() -> Vec<Person> {
    let people: Vec<Person> = kycvs_core::SAMPLE_REGISTRY_JSONL
        .lines()
        .filter_map(|text| {
            let v: serde_json::Value = serde_json::from_str(text).unwrap();
            let id = v["id"].as_str().unwrap();
            let (_, status) = EXPECTED.iter().find(|(e, _)| *e == id)?;
            Some(Person {
                id: id.to_owned(),
                mobile: v["mobile"].as_str().unwrap().to_owned(),
                name: v["name"].as_str().unwrap().to_owned(),
                status: *status,
            })
        })
        .collect();
    assert_eq!(
        people.len(),
        EXPECTED.len(),
        "every expected id is in the sample"
    );
    people
}

/// Who a sample person is, without what their records give.
#[derive(Clone, Debug)]
pub struct Contact {
    pub id: String,
    pub mobile: String,
    pub name: String,
}

/// Every person of the sample registry (for searching output for anyone's personal data).
pub fn everyone() -> Vec<Contact> {
    kycvs_core::SAMPLE_REGISTRY_JSONL
        .lines()
        .map(|text| {
            let v: serde_json::Value = serde_json::from_str(text).unwrap();
            let field = |key: &str| v[key].as_str().unwrap().to_owned();
            Contact {
                id: field("id"),
                mobile: field("mobile"),
                name: field("name"),
            }
        })
        .collect()
}

/// The first sample person whose records give `status`.
pub fn person_with(status: Result<VaccinationStatus, kycvs_core::ErrorCode>) -> Person {
    people()
        .into_iter()
        .find(|p| p.status == status)
        .expect("the sample has one")
}

pub fn signing_key() -> SigningKey {
    SigningKey::from_seed(&[42u8; 32])
}

/// A builder over the sample registry with the fixed signing and pseudonym keys.
pub fn builder() -> IssuanceBuilder {
    let mut builder = IssuanceService::builder(
        Issuer::new(signing_key(), ISSUER).unwrap(),
        Arc::new(JsonlRegistry::sample()),
    );
    builder.pseudonym_key(PseudonymKey::from_bytes(&[7u8; 32]).unwrap());
    builder
}

pub fn service() -> IssuanceService {
    builder().build().unwrap()
}

pub fn verifier() -> Verifier {
    let mut trust = TrustStore::new();
    trust
        .add(signing_key().public_key().clone(), ISSUER)
        .unwrap();
    Verifier::new(trust, Policy::new(AUDIENCE)).unwrap()
}
