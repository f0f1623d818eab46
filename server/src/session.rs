//! Consent sessions: what lets a booking site embed the consent page without ever seeing the
//! person's mobile number. The booking backend opens a session for its nonce and one of its
//! registered origins; the page (served for that session only, once) runs the consent; the
//! token goes to the embedding page by `postMessage` and to the backend on request.

use kycvs_core::{Error, ErrorCode, Result, StoreAction};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::Mutex;
use zeroize::Zeroize;

/// How long a session may be used, in seconds.
pub const SESSION_TTL: u64 = 900;
/// The most sessions the memory store holds.
pub const MEMORY_SESSION_CAPACITY: usize = 65_536;

/// A language of the consent page.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    /// English.
    En,
    /// Hindi.
    Hi,
}

impl Lang {
    /// The language tag.
    pub fn tag(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Hi => "hi",
        }
    }

    /// Parses `en` or `hi`.
    pub fn parse(tag: &str) -> Option<Lang> {
        match tag {
            "en" => Some(Lang::En),
            "hi" => Some(Lang::Hi),
            _ => None,
        }
    }

    /// The first of `en` / `hi` in an `Accept-Language` header, by order (weights ignored
    /// beyond that), or English.
    pub fn from_accept_language(header: Option<&str>) -> Lang {
        header
            .unwrap_or("")
            .split(',')
            .filter_map(|part| {
                let tag = part.split(';').next()?.trim().to_ascii_lowercase();
                Lang::parse(tag.split('-').next()?)
            })
            .next()
            .unwrap_or(Lang::En)
    }
}

/// Where a session is in its life.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "step", rename_all = "snake_case")]
pub enum Step {
    /// Made by the booking backend; the page has not been opened.
    Created,
    /// The page has been served once; no code sent yet (or the last consent ended).
    Opened,
    /// A code was sent for this consent.
    CodeSent {
        /// The consent begun for the session.
        consent_id: String,
    },
    /// The person consented; the token waits for the backend.
    Done {
        /// The signed token.
        token: String,
    },
    /// The backend has collected the token: nothing more can happen.
    Collected,
}

/// One consent session. Holds no mobile number, name or OTP.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Session {
    /// The client (booking system) that opened it: the token's audience.
    pub client_id: String,
    /// The booking reference: the token's nonce.
    pub nonce: String,
    /// The registered origin that embeds the page and receives the token.
    pub origin: String,
    /// The page's language, when the backend chose one.
    pub lang: Option<Lang>,
    /// When the session ends (Unix seconds).
    pub expires_at: u64,
    /// Wrong codes typed for the current consent.
    pub wrong_codes: u32,
    /// Where it is.
    pub step: Step,
}

impl Drop for Session {
    fn drop(&mut self) {
        if let Step::Done { token } = &mut self.step {
            token.zeroize();
        }
    }
}

impl Session {
    /// The stored form.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("plain structs serialize")
    }

    /// Reads the stored form. Error: `consent_store_unavailable`.
    pub fn from_json(bytes: &[u8]) -> Result<Session> {
        serde_json::from_slice(bytes)
            .map_err(|_| Error::new(ErrorCode::ConsentStoreUnavailable, "not a stored session"))
    }
}

/// Where sessions are kept: beside the consents, with the same atomicity.
pub trait SessionStore: Send + Sync {
    /// Stores a new session at `now`. Error: `consent_store_full` when there is no room
    /// after dropping expired sessions; `consent_store_unavailable`.
    fn insert_session(&self, id: &str, session: &Session, now: u64) -> Result<()>;

    /// Runs `f` on the session `id` and keeps or removes it as `f` answers, in one atomic
    /// step; `Ok(false)` when there is none. Error: `consent_store_unavailable`.
    fn update_session(
        &self,
        id: &str,
        f: &mut dyn FnMut(&mut Session) -> StoreAction,
    ) -> Result<bool>;
}

/// Sessions in process memory (bounded; expired ones are dropped first).
#[derive(Default)]
pub struct MemorySessionStore {
    sessions: Mutex<HashMap<String, Session>>,
}

impl SessionStore for MemorySessionStore {
    fn insert_session(&self, id: &str, session: &Session, now: u64) -> Result<()> {
        let mut sessions = self.sessions.lock().unwrap_or_else(|e| e.into_inner());
        if sessions.len() >= MEMORY_SESSION_CAPACITY {
            sessions.retain(|_, s| s.expires_at > now);
        }
        if sessions.len() >= MEMORY_SESSION_CAPACITY {
            return Err(Error::new(
                ErrorCode::ConsentStoreFull,
                "the session store is full of live sessions",
            ));
        }
        sessions.insert(id.to_owned(), session.clone());
        Ok(())
    }

    fn update_session(
        &self,
        id: &str,
        f: &mut dyn FnMut(&mut Session) -> StoreAction,
    ) -> Result<bool> {
        let mut sessions = self.sessions.lock().unwrap_or_else(|e| e.into_inner());
        let Some(session) = sessions.get_mut(id) else {
            return Ok(false);
        };
        if f(session) == StoreAction::Remove {
            sessions.remove(id);
        }
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_language_picks_the_first_known_language() {
        assert_eq!(
            Lang::from_accept_language(Some("hi-IN,hi;q=0.9,en;q=0.8")),
            Lang::Hi
        );
        assert_eq!(
            Lang::from_accept_language(Some("fr, en-GB;q=0.5, hi")),
            Lang::En
        );
        assert_eq!(Lang::from_accept_language(Some("fr")), Lang::En);
        assert_eq!(Lang::from_accept_language(None), Lang::En);
    }

    #[test]
    fn a_session_round_trips_and_bad_text_is_unavailable() {
        let s = Session {
            client_id: "irctc.example".into(),
            nonce: "PNR-1".into(),
            origin: "https://irctc.example".into(),
            lang: Some(Lang::Hi),
            expires_at: 10,
            wrong_codes: 0,
            step: Step::CodeSent {
                consent_id: "abc".into(),
            },
        };
        assert_eq!(Session::from_json(s.to_json().as_bytes()).unwrap(), s);
        let err = Session::from_json(b"{}").unwrap_err();
        assert_eq!(err.code(), ErrorCode::ConsentStoreUnavailable);
    }
}
