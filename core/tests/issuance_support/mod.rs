//! Shared set-up for the issuance tests: a service over the sample registry with fixed keys.

#![allow(dead_code)]

use kycvs_core::{
    IssuanceBuilder, IssuanceService, Issuer, JsonlRegistry, Policy, PseudonymKey, SigningKey,
    TrustStore, VaccinationStatus, VaccineSchedule, Verifier,
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

pub fn people() -> Vec<Person> {
    let schedule = VaccineSchedule::default();
    let registry = JsonlRegistry::sample();
    kycvs_core::SAMPLE_REGISTRY_JSONL
        .lines()
        .map(|text| {
            let v: serde_json::Value = serde_json::from_str(text).unwrap();
            let mobile = v["mobile"].as_str().unwrap().to_owned();
            let name = v["name"].as_str().unwrap().to_owned();
            use kycvs_core::Registry as _;
            let b = registry
                .find(
                    &kycvs_core::Mobile::parse(&mobile).unwrap(),
                    &kycvs_core::NameKey::new(&name).unwrap(),
                )
                .unwrap()
                .unwrap();
            Person {
                id: b.id,
                mobile,
                name,
                status: schedule.status(&b.doses).map_err(|e| e.code()),
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
