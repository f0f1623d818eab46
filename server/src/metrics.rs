//! Prometheus metrics in the text exposition format. Every label value is a route template,
//! a method, a status, a code name, a sender kind or an outcome word: never anything a caller
//! sent.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::time::Duration;

/// Upper bounds of the latency histogram's buckets, in seconds.
pub const LATENCY_BUCKETS: [f64; 12] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0,
];

#[derive(Default)]
struct Histogram {
    buckets: [u64; LATENCY_BUCKETS.len()],
    count: u64,
    sum: f64,
}

#[derive(Default)]
struct Tables {
    requests: BTreeMap<(&'static str, &'static str, u16), u64>,
    latency: BTreeMap<&'static str, Histogram>,
    outcomes: BTreeMap<(&'static str, &'static str), u64>,
    deliveries: BTreeMap<(&'static str, &'static str), u64>,
}

/// The service's counters and histograms.
#[derive(Default)]
pub struct Metrics {
    tables: Mutex<Tables>,
}

impl Metrics {
    fn tables(&self) -> std::sync::MutexGuard<'_, Tables> {
        self.tables.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Counts one answered request on `route` (a route template) and its latency.
    pub fn request(&self, route: &'static str, method: &'static str, status: u16, took: Duration) {
        let mut tables = self.tables();
        *tables.requests.entry((route, method, status)).or_default() += 1;
        let histogram = tables.latency.entry(route).or_default();
        let seconds = took.as_secs_f64();
        for (bucket, bound) in histogram.buckets.iter_mut().zip(LATENCY_BUCKETS) {
            if seconds <= bound {
                *bucket += 1;
            }
        }
        histogram.count += 1;
        histogram.sum += seconds;
    }

    /// Counts the outcome of a consent operation (`begin`, `complete`): `ok` or a code name.
    pub fn outcome(&self, operation: &'static str, outcome: &'static str) {
        *self
            .tables()
            .outcomes
            .entry((operation, outcome))
            .or_default() += 1;
    }

    /// Counts one OTP delivery by sender kind: `ok` or `failed`.
    pub fn delivery(&self, sender: &'static str, result: &'static str) {
        *self
            .tables()
            .deliveries
            .entry((sender, result))
            .or_default() += 1;
    }

    /// The metrics in Prometheus' text format.
    pub fn render(&self) -> String {
        let tables = self.tables();
        let mut out = String::new();
        out.push_str(
            "# HELP kycvs_http_requests_total Requests answered, by route, method and status.\n",
        );
        out.push_str("# TYPE kycvs_http_requests_total counter\n");
        for ((route, method, status), n) in &tables.requests {
            let _ = writeln!(
                out,
                "kycvs_http_requests_total{{route=\"{route}\",method=\"{method}\",status=\"{status}\"}} {n}"
            );
        }
        out.push_str(
            "# HELP kycvs_http_request_duration_seconds Time to answer a request, by route.\n",
        );
        out.push_str("# TYPE kycvs_http_request_duration_seconds histogram\n");
        for (route, h) in &tables.latency {
            for (bound, n) in LATENCY_BUCKETS.iter().zip(h.buckets) {
                let _ = writeln!(
                    out,
                    "kycvs_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"{bound}\"}} {n}"
                );
            }
            let _ = writeln!(
                out,
                "kycvs_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"+Inf\"}} {}",
                h.count
            );
            let _ = writeln!(
                out,
                "kycvs_http_request_duration_seconds_sum{{route=\"{route}\"}} {}",
                h.sum
            );
            let _ = writeln!(
                out,
                "kycvs_http_request_duration_seconds_count{{route=\"{route}\"}} {}",
                h.count
            );
        }
        out.push_str("# HELP kycvs_consent_outcomes_total Consent operations, by operation and outcome (ok or the error code).\n");
        out.push_str("# TYPE kycvs_consent_outcomes_total counter\n");
        for ((operation, outcome), n) in &tables.outcomes {
            let _ = writeln!(
                out,
                "kycvs_consent_outcomes_total{{operation=\"{operation}\",outcome=\"{outcome}\"}} {n}"
            );
        }
        out.push_str("# HELP kycvs_otp_deliveries_total OTP SMS handed to the sender, by sender and result.\n");
        out.push_str("# TYPE kycvs_otp_deliveries_total counter\n");
        for ((sender, result), n) in &tables.deliveries {
            let _ = writeln!(
                out,
                "kycvs_otp_deliveries_total{{sender=\"{sender}\",result=\"{result}\"}} {n}"
            );
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_buckets_are_cumulative() {
        let m = Metrics::default();
        m.request("/v1/consents", "POST", 201, Duration::from_millis(3));
        m.request("/v1/consents", "POST", 201, Duration::from_millis(30));
        let text = m.render();
        assert!(text.contains(
            "kycvs_http_requests_total{route=\"/v1/consents\",method=\"POST\",status=\"201\"} 2"
        ));
        assert!(text.contains("le=\"0.001\"} 0"));
        assert!(text.contains("le=\"0.005\"} 1"));
        assert!(text.contains("le=\"0.05\"} 2"));
        assert!(text.contains("le=\"+Inf\"} 2"));
    }
}
