//! No phone number or name of the sample registry appears in any token, error or `Debug`
//! output of the whole issuer-side flow, errors included.

mod issuance_support;

use base64::Engine as _;
use issuance_support::*;
use kycvs_core::{
    ConsentRequest, ErrorCode, IssuanceService, JsonlRegistry, MemoryConsentStore, Mobile, NameKey,
    Registry, VaccinationStatus, normalize_name,
};

/// Everything the flow let out: text to search.
#[derive(Default)]
struct Transcript(Vec<String>);

impl Transcript {
    fn error(&mut self, e: &kycvs_core::Error) {
        self.0.push(e.to_string());
        self.0.push(format!("{e:?}"));
        self.0.push(e.detail().to_owned());
    }

    fn token(&mut self, token: &str) {
        self.0.push(token.to_owned());
        for segment in token.split('.') {
            let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(segment)
                .unwrap();
            self.0.push(String::from_utf8_lossy(&bytes).into_owned());
        }
    }

    fn debug(&mut self, value: &dyn std::fmt::Debug) {
        self.0.push(format!("{value:?}"));
        self.0.push(format!("{value:#?}"));
    }

    fn result<T: std::fmt::Debug>(&mut self, r: &kycvs_core::Result<T>) {
        self.debug(r);
        if let Err(e) = r {
            self.error(e);
        }
    }
}

fn wrong(otp: &str) -> String {
    let n: u32 = otp.parse().unwrap();
    format!("{:06}", (n + 1) % 1_000_000)
}

#[test]
fn no_phone_number_or_name_leaks() {
    let people = people();
    let service = service();
    let verifier = verifier();
    let mut out = Transcript::default();
    out.debug(&service);
    out.debug(&JsonlRegistry::sample());

    // Several people of each status, and the one whose records give no status.
    let mut chosen = Vec::new();
    for status in [
        Ok(VaccinationStatus::NotVaccinated),
        Ok(VaccinationStatus::PartiallyVaccinated),
        Ok(VaccinationStatus::FullyVaccinated),
        Err(ErrorCode::UnknownProduct),
    ] {
        chosen.extend(
            people
                .iter()
                .filter(|p| p.status == status)
                .take(4)
                .cloned(),
        );
    }
    let mut t = NOW;
    for p in &chosen {
        t += 1;
        let spelled = format!("+91 {} {}", &p.mobile[..5], &p.mobile[5..]);
        let c = service.begin(
            &ConsentRequest {
                mobile: &spelled,
                name: &p.name,
                audience: AUDIENCE,
                nonce: "PNR-9",
            },
            t,
        );
        out.result(&c);
        let c = c.unwrap();
        let r = service.complete(&c.consent_id, &wrong(c.otp.expose()), t);
        out.result(&r);
        let r = service.complete(&c.consent_id, c.otp.expose(), t + 1);
        out.result(&r);
        if let Ok(token) = &r {
            out.token(token);
            let v = verifier.verify(token, "PNR-9", t + 2);
            out.result(&v);
            assert!(v.is_ok());
        }
        // The registry's own outputs.
        let b = JsonlRegistry::sample().find(
            &Mobile::parse(&p.mobile).unwrap(),
            &NameKey::new(&p.name).unwrap(),
        );
        out.result(&b);
        out.debug(&Mobile::parse(&p.mobile).unwrap());
        out.debug(&NameKey::new(&p.name).unwrap());
    }

    let p = &chosen[8];
    // Invalid mobile numbers: the person's own number mangled.
    for bad in [
        format!("{}0", p.mobile),
        format!("+1{}", p.mobile),
        format!("5{}", &p.mobile[1..]),
    ] {
        out.result(&service.begin(
            &ConsentRequest {
                mobile: &bad,
                name: &p.name,
                audience: AUDIENCE,
                nonce: "n",
            },
            t,
        ));
    }
    // Wrong name, unknown mobile, then the OTP typed back, wrong OTPs, exhaustion.
    for (m, n) in [
        (p.mobile.as_str(), "Someone Else"),
        ("6000000001", p.name.as_str()),
    ] {
        let c = service.begin(
            &ConsentRequest {
                mobile: m,
                name: n,
                audience: AUDIENCE,
                nonce: "n",
            },
            t,
        );
        out.result(&c);
        let c = c.unwrap();
        for otp in [
            c.otp.expose().to_owned(),
            wrong(c.otp.expose()),
            wrong(c.otp.expose()),
        ] {
            out.result(&service.complete(&c.consent_id, &otp, t));
        }
        out.result(&service.complete(&c.consent_id, c.otp.expose(), t));
    }
    // Bad name argument.
    out.result(&service.begin(
        &ConsentRequest {
            mobile: &p.mobile,
            name: "",
            audience: AUDIENCE,
            nonce: "n",
        },
        t,
    ));
    // Expiry.
    let c = service.begin(&p.request("n"), t).unwrap();
    out.result(&service.complete(&c.consent_id, c.otp.expose(), t + 180));
    out.result(&service.complete(&c.consent_id, c.otp.expose(), t + 181));
    // Rate limit.
    for _ in 0..6 {
        out.result(&service.begin(&p.request("n"), t));
    }
    // A full store.
    let small = issuance_support::builder()
        .consent_store(std::sync::Arc::new(MemoryConsentStore::with_capacity(
            1, 10,
        )))
        .build()
        .unwrap();
    out.result(&small.begin(
        &ConsentRequest {
            mobile: &chosen[0].mobile,
            name: &chosen[0].name,
            audience: AUDIENCE,
            nonce: "n",
        },
        t,
    ));
    out.result(&small.begin(
        &ConsentRequest {
            mobile: &chosen[1].mobile,
            name: &chosen[1].name,
            audience: AUDIENCE,
            nonce: "n",
        },
        t,
    ));
    out.debug(&small);
    // Registry load errors over a line of the sample.
    let sample_line = kycvs_core::SAMPLE_REGISTRY_JSONL.lines().next().unwrap();
    for broken in [
        sample_line.replace("\"mobile\":\"", "\"mobile\":\"x"),
        sample_line.replace("\"name\":\"", "\"name\":1,\"x\":\""),
        format!("{sample_line}\n{sample_line}"),
        sample_line.replace("\"doses\":", "\"doses\":7,\"d\":"),
    ] {
        out.result(&JsonlRegistry::from_jsonl(&broken).map(|_| ()));
    }
    out.debug(
        &IssuanceService::builder(
            kycvs_core::Issuer::new(signing_key(), ISSUER).unwrap(),
            std::sync::Arc::new(JsonlRegistry::sample()),
        )
        .build(),
    );

    let text = out.0.join("\n");
    let folded = normalize_name(&text);
    assert!(text.contains("otp_mismatch") && text.contains("rate_limited"));
    assert!(text.contains("consent_expired") && text.contains("attempts_exhausted"));
    assert!(text.contains("invalid_mobile") && text.contains("unknown_product"));
    assert!(text.contains("consent_store_full") && text.contains("invalid_registry"));
    let mut searched = 0;
    for person in &everyone() {
        let m = &person.mobile;
        for needle in [
            m.clone(),
            format!("+91{m}"),
            format!("0{m}"),
            format!("{} {}", &m[..5], &m[5..]),
            m[..5].to_owned() + "-" + &m[5..],
        ] {
            assert!(!text.contains(&needle), "mobile of {} leaked", person.id);
            searched += 1;
        }
        assert!(!text.contains(&person.name), "name of {} leaked", person.id);
        // Debug escapes some Indic combining marks: search for that spelling too.
        let escaped = format!("{:?}", person.name);
        assert!(
            !text.contains(escaped.trim_matches('"')),
            "name of {} leaked",
            person.id
        );
        assert!(
            !folded.contains(&normalize_name(&person.name)),
            "name of {} leaked",
            person.id
        );
        for word in person
            .name
            .split_whitespace()
            .filter(|w| w.chars().count() > 4)
        {
            assert!(
                !text.contains(word),
                "part of the name of {} leaked",
                person.id
            );
        }
        searched += 2;
    }
    assert!(searched > 2_000);
}
