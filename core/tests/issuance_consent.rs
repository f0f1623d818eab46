//! The OTP consent flow with an injected clock: expiry, attempt limit, rate limit, single
//! use, wrong OTPs, no enumeration, concurrency, bounded store.

mod issuance_support;

use issuance_support::*;
use kycvs_core::{
    ConsentConfig, ConsentRequest, ErrorCode, IssuanceService, Issuer, JsonlRegistry,
    MemoryConsentStore, VaccinationStatus, inspect_unverified,
};
use std::sync::Arc;

fn wrong(otp: &str) -> String {
    let n: u32 = otp.parse().unwrap();
    format!("{:06}", (n + 1) % 1_000_000)
}

#[test]
fn each_status_is_issued_and_verifies() {
    let service = service();
    let verifier = verifier();
    for status in [
        VaccinationStatus::NotVaccinated,
        VaccinationStatus::PartiallyVaccinated,
        VaccinationStatus::FullyVaccinated,
    ] {
        let p = person_with(Ok(status));
        let c = service.begin(&p.request("PNR-1"), NOW).unwrap();
        assert_eq!(c.expires_at, NOW + 180);
        assert_eq!(c.consent_id.len(), 22);
        let token = service
            .complete(&c.consent_id, c.otp.expose(), NOW + 5)
            .unwrap();
        let v = verifier.verify(&token, "PNR-1", NOW + 6).unwrap();
        assert_eq!(v.status(), status);
        assert_eq!(v.sub(), service.subject(AUDIENCE, &p.id));
        assert_eq!(v.aud(), AUDIENCE);
        assert_eq!((v.iat(), v.exp()), (NOW + 5, NOW + 5 + 300));
    }
}

#[test]
fn subject_is_pairwise_and_stable() {
    let service = service();
    let p = person_with(Ok(VaccinationStatus::FullyVaccinated));
    let sub = |aud: &str| {
        let c = service
            .begin(
                &ConsentRequest {
                    mobile: &p.mobile,
                    name: &p.name,
                    audience: aud,
                    nonce: "n",
                },
                NOW,
            )
            .unwrap();
        let token = service
            .complete(&c.consent_id, c.otp.expose(), NOW)
            .unwrap();
        inspect_unverified(&token).unwrap().claims["sub"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let a1 = sub("irctc.example");
    assert_eq!(a1, sub("irctc.example"));
    assert_ne!(a1, sub("airline.example"));
    // A second service with the same pseudonym key gives the same subject.
    assert_eq!(
        a1,
        issuance_support::service().subject("irctc.example", &p.id)
    );
}

#[test]
fn person_found_by_formatted_mobile_and_differently_written_name() {
    let service = service();
    let p = person_with(Ok(VaccinationStatus::FullyVaccinated));
    let mobile = format!("+91 {}-{}", &p.mobile[..5], &p.mobile[5..]);
    let name = format!("  {}  ", p.name.to_uppercase().replace(' ', "   "));
    let c = service
        .begin(
            &ConsentRequest {
                mobile: &mobile,
                name: &name,
                audience: AUDIENCE,
                nonce: "n",
            },
            NOW,
        )
        .unwrap();
    service
        .complete(&c.consent_id, c.otp.expose(), NOW)
        .unwrap();
}

#[test]
fn single_use() {
    let service = service();
    let p = person_with(Ok(VaccinationStatus::FullyVaccinated));
    let c = service.begin(&p.request("n"), NOW).unwrap();
    service
        .complete(&c.consent_id, c.otp.expose(), NOW + 1)
        .unwrap();
    let err = service
        .complete(&c.consent_id, c.otp.expose(), NOW + 2)
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::ConsentNotFound);
}

#[test]
fn expiry() {
    let service = service();
    let p = person_with(Ok(VaccinationStatus::FullyVaccinated));
    let c = service.begin(&p.request("n"), NOW).unwrap();
    // Last valid second.
    let c2 = service.begin(&p.request("n"), NOW).unwrap();
    service
        .complete(&c2.consent_id, c2.otp.expose(), NOW + 179)
        .unwrap();
    let err = service
        .complete(&c.consent_id, c.otp.expose(), NOW + 180)
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::ConsentExpired);
    let err = service
        .complete(&c.consent_id, c.otp.expose(), NOW + 181)
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::ConsentNotFound);
}

#[test]
fn wrong_otp_then_right_one() {
    let service = service();
    let p = person_with(Ok(VaccinationStatus::PartiallyVaccinated));
    let c = service.begin(&p.request("n"), NOW).unwrap();
    let err = service
        .complete(&c.consent_id, &wrong(c.otp.expose()), NOW)
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::OtpMismatch);
    assert!(!err.detail().contains(c.otp.expose()));
    let err = service.complete(&c.consent_id, "", NOW).unwrap_err();
    assert_eq!(err.code(), ErrorCode::OtpMismatch);
    service
        .complete(&c.consent_id, c.otp.expose(), NOW)
        .unwrap();
}

#[test]
fn attempt_limit() {
    let service = service();
    let p = person_with(Ok(VaccinationStatus::FullyVaccinated));
    let c = service.begin(&p.request("n"), NOW).unwrap();
    let bad = wrong(c.otp.expose());
    let codes: Vec<_> = (0..3)
        .map(|i| {
            service
                .complete(&c.consent_id, &bad, NOW + i)
                .unwrap_err()
                .code()
        })
        .collect();
    assert_eq!(
        codes,
        [
            ErrorCode::OtpMismatch,
            ErrorCode::OtpMismatch,
            ErrorCode::AttemptsExhausted
        ]
    );
    // The consent is dead: even the right OTP no longer works.
    let err = service
        .complete(&c.consent_id, c.otp.expose(), NOW + 4)
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::ConsentNotFound);
}

#[test]
fn rate_limit_per_normalised_mobile_per_rolling_hour() {
    let service = service();
    let p = person_with(Ok(VaccinationStatus::FullyVaccinated));
    let spellings = [
        p.mobile.clone(),
        format!("+91{}", p.mobile),
        format!("0{}", p.mobile),
        format!("{} {}", &p.mobile[..5], &p.mobile[5..]),
        format!("+91-{}", p.mobile),
    ];
    for (i, m) in spellings.iter().enumerate() {
        service
            .begin(
                &ConsentRequest {
                    mobile: m,
                    name: &p.name,
                    audience: AUDIENCE,
                    nonce: "n",
                },
                NOW + i as u64,
            )
            .unwrap();
    }
    let err = service.begin(&p.request("n"), NOW + 100).unwrap_err();
    assert_eq!(err.code(), ErrorCode::RateLimited);
    // A wrong name on the same mobile is limited the same way (it is the same mobile).
    let err = service
        .begin(
            &ConsentRequest {
                mobile: &p.mobile,
                name: "Nobody Here",
                audience: AUDIENCE,
                nonce: "n",
            },
            NOW + 100,
        )
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::RateLimited);
    // Other mobiles are not affected.
    let q = people().into_iter().find(|q| q.mobile != p.mobile).unwrap();
    service
        .begin(
            &ConsentRequest {
                mobile: &q.mobile,
                name: &q.name,
                audience: AUDIENCE,
                nonce: "n",
            },
            NOW + 100,
        )
        .unwrap();
    // One hour after the first begin, its slot is free again (refused begins were not
    // counted), and only that one.
    let c = service.begin(&p.request("n"), NOW + 3_600).unwrap();
    service
        .complete(&c.consent_id, c.otp.expose(), NOW + 3_600)
        .unwrap();
    let err = service.begin(&p.request("n"), NOW + 3_600).unwrap_err();
    assert_eq!(err.code(), ErrorCode::RateLimited);
    service.begin(&p.request("n"), NOW + 3_601).unwrap();
}

/// Everything a caller can observe of one begin + three wrong completes: error codes and
/// details, and the shape of the challenge.
fn observe(service: &IssuanceService, mobile: &str, name: &str, t: u64) -> Vec<String> {
    let c = service
        .begin(
            &ConsentRequest {
                mobile,
                name,
                audience: AUDIENCE,
                nonce: "n",
            },
            t,
        )
        .unwrap();
    let mut seen = vec![format!(
        "id:{} otp:{} exp:{}",
        c.consent_id.len(),
        c.otp.expose().len(),
        c.expires_at - t
    )];
    // The OTP the host "delivers" is typed back correctly, then a wrong one twice.
    for typed in [
        c.otp.expose().to_owned(),
        wrong(c.otp.expose()),
        wrong(c.otp.expose()),
    ] {
        match service.complete(&c.consent_id, &typed, t + 1) {
            Ok(_) => seen.push("token".into()),
            Err(e) => seen.push(e.to_string()),
        }
    }
    seen
}

#[test]
fn unknown_mobile_and_wrong_name_are_indistinguishable() {
    let service = service();
    let p = person_with(Ok(VaccinationStatus::FullyVaccinated));
    let unknown_mobile = observe(&service, "6000000001", &p.name, NOW);
    let wrong_name = observe(&service, &p.mobile, "Nobody Here", NOW);
    assert_eq!(unknown_mobile, wrong_name);
    assert_eq!(
        unknown_mobile[1..],
        [
            "otp_mismatch: the OTP does not match",
            "otp_mismatch: the OTP does not match",
            "attempts_exhausted: too many wrong OTPs; the consent is closed, begin again",
        ]
    );
    // A real person typing wrong OTPs sees exactly the same answers.
    let c = service.begin(&p.request("n"), NOW).unwrap();
    let real: Vec<String> = (0..3)
        .map(|_| {
            service
                .complete(&c.consent_id, &wrong(c.otp.expose()), NOW + 1)
                .unwrap_err()
                .to_string()
        })
        .collect();
    assert_eq!(real, unknown_mobile[1..]);
    assert_eq!(unknown_mobile[0], wrong_name[0]);
}

#[test]
fn two_concurrent_completes_give_exactly_one_token() {
    let service = Arc::new(service());
    let p = person_with(Ok(VaccinationStatus::FullyVaccinated));
    for round in 0..20u64 {
        let c = service.begin(&p.request("n"), NOW + round * 3_600).unwrap();
        let barrier = Arc::new(std::sync::Barrier::new(8));
        let handles: Vec<_> = (0..8)
            .map(|_| {
                let service = Arc::clone(&service);
                let barrier = Arc::clone(&barrier);
                let id = c.consent_id.clone();
                let otp = c.otp.expose().to_owned();
                std::thread::spawn(move || {
                    barrier.wait();
                    service.complete(&id, &otp, NOW + round * 3_600 + 1)
                })
            })
            .collect();
        let results: Vec<_> = handles.into_iter().map(|h| h.join().unwrap()).collect();
        assert_eq!(
            results.iter().filter(|r| r.is_ok()).count(),
            1,
            "round {round}"
        );
        for r in results.iter().filter_map(|r| r.as_ref().err()) {
            assert_eq!(r.code(), ErrorCode::ConsentNotFound);
        }
    }
}

#[test]
fn each_hand_checked_person_gets_the_outcome_worked_out_by_hand() {
    let service = service();
    let verifier = verifier();
    for (i, p) in people().iter().enumerate() {
        let t = NOW + i as u64;
        let c = service.begin(&p.request("PNR-1"), t).unwrap();
        let got = service
            .complete(&c.consent_id, c.otp.expose(), t)
            .map(|token| verifier.verify(&token, "PNR-1", t).unwrap().status())
            .map_err(|e| e.code());
        assert_eq!(got, p.status, "{}", p.id);
    }
}

#[test]
fn bounded_store() {
    let service = builder()
        .consent_store(Arc::new(MemoryConsentStore::with_capacity(3, 100)))
        .build()
        .unwrap();
    let all = people();
    for (i, p) in all.iter().take(3).enumerate() {
        service.begin(&p.request("n"), NOW + i as u64).unwrap();
    }
    let p = &all[3];
    let err = service.begin(&p.request("n"), NOW + 10).unwrap_err();
    assert_eq!(err.code(), ErrorCode::ConsentStoreFull);
    // After the first consents expire there is room again.
    service.begin(&p.request("n"), NOW + 180).unwrap();
}

#[test]
fn records_without_a_status_fail_after_the_otp() {
    let service = service();
    let p = person_with(Err(ErrorCode::UnknownProduct));
    let c = service.begin(&p.request("n"), NOW).unwrap();
    let err = service
        .complete(&c.consent_id, c.otp.expose(), NOW)
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::UnknownProduct);
}

#[test]
fn argument_errors() {
    let service = service();
    let p = person_with(Ok(VaccinationStatus::FullyVaccinated));
    let code = |m: &str, n: &str, a: &str, nonce: &str, now: u64| {
        service
            .begin(
                &ConsentRequest {
                    mobile: m,
                    name: n,
                    audience: a,
                    nonce,
                },
                now,
            )
            .unwrap_err()
            .code()
    };
    assert_eq!(
        code("12345", &p.name, AUDIENCE, "n", NOW),
        ErrorCode::InvalidMobile
    );
    assert_eq!(
        code(&p.mobile, " ", AUDIENCE, "n", NOW),
        ErrorCode::InvalidArgument
    );
    assert_eq!(
        code(&p.mobile, &p.name, "", "n", NOW),
        ErrorCode::InvalidArgument
    );
    assert_eq!(
        code(&p.mobile, &p.name, "a b", "n", NOW),
        ErrorCode::InvalidArgument
    );
    assert_eq!(
        code(&p.mobile, &p.name, AUDIENCE, "", NOW),
        ErrorCode::InvalidArgument
    );
    assert_eq!(
        code(&p.mobile, &p.name, AUDIENCE, "n", u64::MAX),
        ErrorCode::InvalidArgument
    );
    for id in ["", "x", "AAAAAAAAAAAAAAAAAAAAAA", &"A".repeat(10_000)] {
        let err = service.complete(id, "123456", NOW).unwrap_err();
        assert_eq!(err.code(), ErrorCode::ConsentNotFound);
    }
}

#[test]
fn config_is_checked_and_applied() {
    let bad = [
        ConsentConfig {
            otp_ttl: 0,
            ..Default::default()
        },
        ConsentConfig {
            max_attempts: 0,
            ..Default::default()
        },
        ConsentConfig {
            rate_limit: 0,
            ..Default::default()
        },
        ConsentConfig {
            rate_window: 0,
            ..Default::default()
        },
        ConsentConfig {
            token_ttl: 86_401,
            ..Default::default()
        },
    ];
    for config in bad {
        assert_eq!(
            builder().config(config).build().unwrap_err().code(),
            ErrorCode::InvalidArgument
        );
    }
    let service = builder()
        .config(ConsentConfig {
            otp_ttl: 60,
            max_attempts: 1,
            rate_limit: 2,
            rate_window: 600,
            token_ttl: 120,
        })
        .build()
        .unwrap();
    let p = person_with(Ok(VaccinationStatus::FullyVaccinated));
    let c = service.begin(&p.request("n"), NOW).unwrap();
    assert_eq!(c.expires_at, NOW + 60);
    let err = service
        .complete(&c.consent_id, &wrong(c.otp.expose()), NOW)
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::AttemptsExhausted);
    let c = service.begin(&p.request("n"), NOW).unwrap();
    let token = service
        .complete(&c.consent_id, c.otp.expose(), NOW)
        .unwrap();
    let claims = inspect_unverified(&token).unwrap().claims;
    assert_eq!(claims["exp"].as_u64(), Some(NOW + 120));
    assert_eq!(
        service.begin(&p.request("n"), NOW).unwrap_err().code(),
        ErrorCode::RateLimited
    );
}

#[test]
fn service_is_send_and_sync() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<IssuanceService>();
    assert_send_sync::<JsonlRegistry>();
    assert_send_sync::<MemoryConsentStore>();
    assert_send_sync::<Issuer>();
}

#[test]
fn sides_built_from_one_builder_share_keys_and_store() {
    let b = builder();
    let starter = b.build_starter().unwrap();
    let completer = b.build_completer().unwrap();
    let p = person_with(Ok(VaccinationStatus::FullyVaccinated));
    let request = ConsentRequest {
        mobile: &p.mobile,
        name: &p.name,
        audience: AUDIENCE,
        nonce: "n",
    };
    let c = starter.begin(&request, NOW).unwrap();
    let token = completer
        .complete(&c.consent_id, c.otp.expose(), NOW + 1)
        .unwrap();
    let v = verifier().verify(&token, "n", NOW + 2).unwrap();
    assert_eq!(v.sub(), starter.subject(AUDIENCE, &p.id));
    // A side missing its part is a typed error, not a panic.
    let none = kycvs_core::IssuanceBuilder::new();
    assert_eq!(
        none.build_starter().unwrap_err().code(),
        ErrorCode::InvalidArgument
    );
    assert_eq!(
        none.build_completer().unwrap_err().code(),
        ErrorCode::InvalidArgument
    );
    // A separately built completer (its own random OTP key) completes nothing.
    let other = builder().build_completer().unwrap();
    let c = starter.begin(&request, NOW + 10).unwrap();
    assert_eq!(
        other
            .complete(&c.consent_id, c.otp.expose(), NOW + 11)
            .unwrap_err()
            .code(),
        ErrorCode::ConsentNotFound
    );
}

#[test]
fn refusals_are_classified_in_the_core() {
    let refusals: Vec<ErrorCode> = ErrorCode::ALL
        .into_iter()
        .filter(|c| c.is_consent_refusal())
        .collect();
    assert_eq!(
        refusals,
        [
            ErrorCode::UnknownProduct,
            ErrorCode::InvalidDoseRecords,
            ErrorCode::ConsentNotFound,
            ErrorCode::ConsentExpired,
            ErrorCode::OtpMismatch,
            ErrorCode::AttemptsExhausted,
            ErrorCode::RateLimited,
            ErrorCode::ConsentStoreFull,
        ]
    );
}

#[test]
fn a_consent_completes_only_for_its_own_audience() {
    let service = service();
    let p = person_with(Ok(VaccinationStatus::FullyVaccinated));
    let c = service.begin(&p.request("PNR-9"), NOW).unwrap();
    // Another client, even with the right OTP, finds nothing and spends no attempt.
    for _ in 0..5 {
        let err = service
            .complete_for_audience("other.example", &c.consent_id, c.otp.expose(), NOW + 1)
            .unwrap_err();
        assert_eq!(err.code(), ErrorCode::ConsentNotFound);
    }
    let err = service
        .complete_for_audience(AUDIENCE, &c.consent_id, &wrong(c.otp.expose()), NOW + 2)
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::OtpMismatch);
    let token = service
        .complete_for_audience(AUDIENCE, &c.consent_id, c.otp.expose(), NOW + 3)
        .unwrap();
    let v = verifier().verify(&token, "PNR-9", NOW + 4).unwrap();
    assert_eq!(v.aud(), AUDIENCE);
    assert_eq!(v.status(), VaccinationStatus::FullyVaccinated);
}

#[test]
fn limit_keys_agree_across_instances_and_name_neither_scope_nor_value() {
    let starter = |otp_key: &[u8]| {
        kycvs_core::ConsentStarter::builder(Arc::new(kycvs_core::JsonlRegistry::sample()))
            .otp_key(otp_key)
            .build_starter()
            .unwrap()
    };
    let (one, two, other) = (starter(&[7; 32]), starter(&[7; 32]), starter(&[8; 32]));
    let key = one.limit_key("ip", b"127.0.0.1");
    assert_eq!(key, two.limit_key("ip", b"127.0.0.1"));
    assert_ne!(key, other.limit_key("ip", b"127.0.0.1"));
    assert_ne!(key, one.limit_key("client", b"127.0.0.1"));
    assert_ne!(key, one.limit_key("ip", b"127.0.0.2"));
    // The scope and value are length-prefixed: moving a byte across them changes the key.
    assert_ne!(one.limit_key("ip1", b"27.0.0.1"), key);
}
