//! The one mapping from errors to HTTP responses: a status and a JSON body
//! `{"error": code, "detail": text}` whose `code` is one of the core's stable names or one of
//! the service's own ([`ServiceCode`]). No handler builds an error response itself.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use kycvs_core::ErrorCode;
use std::borrow::Cow;

/// The service's own error codes: the HTTP side of things the core does not know about.
/// Their names never collide with a core code's (a test pins it).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ServiceCode {
    /// Missing, malformed or wrong client credentials.
    Unauthorized,
    /// The request body is not the JSON object this route takes.
    MalformedRequest,
    /// The request body is longer than the configured limit.
    PayloadTooLarge,
    /// The request body is not `application/json`.
    UnsupportedMediaType,
    /// No route has this path.
    NotFound,
    /// The route exists but not with this method.
    MethodNotAllowed,
    /// The SMS with the OTP could not be handed to the gateway; no consent was kept.
    OtpDeliveryFailed,
    /// The request took longer than the configured timeout.
    Timeout,
    /// The client or the address it calls from has sent too many requests.
    TooManyRequests,
    /// Something failed inside the service (the log says what, without personal data).
    Internal,
    /// No consent session has this id.
    SessionNotFound,
    /// The consent session has ended.
    SessionExpired,
    /// The consent session's page was already opened, or its token already collected.
    SessionUsed,
    /// The person has not consented in this session yet.
    ConsentPending,
    /// The origin is not one the client registered, or a page request came from elsewhere.
    OriginNotAllowed,
}

impl ServiceCode {
    /// Every service code.
    pub const ALL: [ServiceCode; 15] = [
        ServiceCode::Unauthorized,
        ServiceCode::MalformedRequest,
        ServiceCode::PayloadTooLarge,
        ServiceCode::UnsupportedMediaType,
        ServiceCode::NotFound,
        ServiceCode::MethodNotAllowed,
        ServiceCode::OtpDeliveryFailed,
        ServiceCode::Timeout,
        ServiceCode::TooManyRequests,
        ServiceCode::Internal,
        ServiceCode::SessionNotFound,
        ServiceCode::SessionExpired,
        ServiceCode::SessionUsed,
        ServiceCode::ConsentPending,
        ServiceCode::OriginNotAllowed,
    ];

    /// The stable snake_case name.
    pub const fn as_str(self) -> &'static str {
        match self {
            ServiceCode::Unauthorized => "unauthorized",
            ServiceCode::MalformedRequest => "malformed_request",
            ServiceCode::PayloadTooLarge => "payload_too_large",
            ServiceCode::UnsupportedMediaType => "unsupported_media_type",
            ServiceCode::NotFound => "not_found",
            ServiceCode::MethodNotAllowed => "method_not_allowed",
            ServiceCode::OtpDeliveryFailed => "otp_delivery_failed",
            ServiceCode::Timeout => "timeout",
            ServiceCode::TooManyRequests => "too_many_requests",
            ServiceCode::Internal => "internal",
            ServiceCode::SessionNotFound => "session_not_found",
            ServiceCode::SessionExpired => "session_expired",
            ServiceCode::SessionUsed => "session_used",
            ServiceCode::ConsentPending => "consent_pending",
            ServiceCode::OriginNotAllowed => "origin_not_allowed",
        }
    }
}

/// Any code the API answers with: a core code or a service code.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Code {
    /// A code of the kycvs core (`kycvs_core::ErrorCode`).
    Core(ErrorCode),
    /// A code of the service itself.
    Service(ServiceCode),
}

impl Code {
    /// The stable name, as sent in the body's `error` field.
    pub const fn as_str(self) -> &'static str {
        match self {
            Code::Core(code) => code.as_str(),
            Code::Service(code) => code.as_str(),
        }
    }

    /// The HTTP status this code is answered with: the one place that decides it.
    pub fn status(self) -> StatusCode {
        use ErrorCode as E;
        use ServiceCode as S;
        match self {
            Code::Core(E::InvalidMobile | E::InvalidArgument) => StatusCode::BAD_REQUEST,
            Code::Core(E::ConsentNotFound) => StatusCode::NOT_FOUND,
            Code::Core(E::ConsentExpired | E::AttemptsExhausted) => StatusCode::GONE,
            Code::Core(E::OtpMismatch | E::UnknownProduct | E::InvalidDoseRecords) => {
                StatusCode::UNPROCESSABLE_ENTITY
            }
            Code::Core(E::RateLimited) | Code::Service(S::TooManyRequests) => {
                StatusCode::TOO_MANY_REQUESTS
            }
            Code::Core(E::ConsentStoreFull | E::ConsentStoreUnavailable) => {
                StatusCode::SERVICE_UNAVAILABLE
            }
            Code::Core(_) => StatusCode::INTERNAL_SERVER_ERROR,
            Code::Service(S::Unauthorized) => StatusCode::UNAUTHORIZED,
            Code::Service(S::MalformedRequest) => StatusCode::BAD_REQUEST,
            Code::Service(S::PayloadTooLarge) => StatusCode::PAYLOAD_TOO_LARGE,
            Code::Service(S::UnsupportedMediaType) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Code::Service(S::NotFound) => StatusCode::NOT_FOUND,
            Code::Service(S::MethodNotAllowed) => StatusCode::METHOD_NOT_ALLOWED,
            Code::Service(S::OtpDeliveryFailed) => StatusCode::BAD_GATEWAY,
            Code::Service(S::Timeout) => StatusCode::SERVICE_UNAVAILABLE,
            Code::Service(S::Internal) => StatusCode::INTERNAL_SERVER_ERROR,
            Code::Service(S::SessionNotFound) => StatusCode::NOT_FOUND,
            Code::Service(S::SessionExpired) => StatusCode::GONE,
            Code::Service(S::SessionUsed | S::ConsentPending) => StatusCode::CONFLICT,
            Code::Service(S::OriginNotAllowed) => StatusCode::FORBIDDEN,
        }
    }

    /// Every code the API can answer with, core codes first.
    pub fn all() -> impl Iterator<Item = Code> {
        ErrorCode::ALL
            .into_iter()
            .map(Code::Core)
            .chain(ServiceCode::ALL.into_iter().map(Code::Service))
    }
}

/// An error answered to an API caller. Its detail is the core's detail or a fixed text: it
/// never quotes a request body.
#[derive(Debug)]
pub struct ApiError {
    code: Code,
    detail: Cow<'static, str>,
    attempts_left: Option<u32>,
}

impl ApiError {
    /// An error with a service code.
    pub fn service(code: ServiceCode, detail: impl Into<Cow<'static, str>>) -> ApiError {
        ApiError {
            code: Code::Service(code),
            detail: detail.into(),
            attempts_left: None,
        }
    }

    /// The same error, saying how many wrong codes the consent still allows (the page's
    /// `otp_mismatch` answer).
    pub fn with_attempts_left(mut self, attempts_left: u32) -> ApiError {
        self.attempts_left = Some(attempts_left);
        self
    }

    /// The code answered.
    pub fn code(&self) -> Code {
        self.code
    }
}

impl From<kycvs_core::Error> for ApiError {
    fn from(error: kycvs_core::Error) -> ApiError {
        ApiError {
            code: Code::Core(error.code()),
            detail: Cow::Owned(error.detail().to_owned()),
            attempts_left: None,
        }
    }
}

/// The code of an error response, kept on the response for the request log and the metrics.
#[derive(Clone, Copy, Debug)]
pub struct AnsweredCode(pub Code);

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.code.status();
        let mut body = serde_json::json!({"error": self.code.as_str(), "detail": self.detail});
        if let Some(n) = self.attempts_left {
            body["attempts_left"] = n.into();
        }
        let mut response = (status, Json(body)).into_response();
        if status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Basic realm=\"kycvs\""),
            );
        }
        if status == StatusCode::PAYLOAD_TOO_LARGE {
            // The rest of the body is never read, so the connection cannot carry another
            // request: say so, or a client reuses it and its next request fails.
            response
                .headers_mut()
                .insert(header::CONNECTION, HeaderValue::from_static("close"));
        }
        response.extensions_mut().insert(AnsweredCode(self.code));
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn names_are_unique_across_core_and_service() {
        let names: Vec<&str> = Code::all().map(Code::as_str).collect();
        let unique: HashSet<&str> = names.iter().copied().collect();
        assert_eq!(names.len(), unique.len(), "{names:?}");
    }

    #[test]
    fn consent_refusals_are_client_errors_and_store_failures_are_not() {
        for code in ErrorCode::ALL {
            let status = Code::Core(code).status();
            if code.is_consent_refusal() && code != ErrorCode::ConsentStoreFull {
                assert!(status.is_client_error(), "{code:?} → {status}");
            }
        }
        assert_eq!(
            Code::Core(ErrorCode::ConsentStoreUnavailable).status(),
            StatusCode::SERVICE_UNAVAILABLE
        );
        assert_eq!(
            Code::Service(ServiceCode::OtpDeliveryFailed).status(),
            StatusCode::BAD_GATEWAY
        );
    }
}
