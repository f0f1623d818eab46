//! Strict JSON: a value tree that keeps object members in order and refuses duplicate member
//! names at any depth (RFC 8259 leaves duplicates undefined; JOSE parsers have disagreed on
//! which copy wins, so kycvs accepts neither).

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use std::fmt;

/// A parsed JSON value whose objects had unique member names.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Json {
    Null,
    Bool(bool),
    Number(serde_json::Number),
    String(String),
    Array(Vec<Json>),
    Object(Vec<(String, Json)>),
}

impl Json {
    /// Parses `bytes` as one strict JSON document (UTF-8, no BOM, no trailing data, nesting at
    /// most serde_json's limit of 128, no duplicate member names).
    pub(crate) fn parse(bytes: &[u8]) -> Result<Json, String> {
        let mut de = serde_json::Deserializer::from_slice(bytes);
        let value = Json::deserialize(&mut de).map_err(|e| e.to_string())?;
        de.end().map_err(|e| e.to_string())?;
        Ok(value)
    }

    /// The JSON type name, for error details.
    pub(crate) fn type_name(&self) -> &'static str {
        match self {
            Json::Null => "null",
            Json::Bool(_) => "boolean",
            Json::Number(_) => "number",
            Json::String(_) => "string",
            Json::Array(_) => "array",
            Json::Object(_) => "object",
        }
    }

    pub(crate) fn as_str(&self) -> Option<&str> {
        match self {
            Json::String(s) => Some(s),
            _ => None,
        }
    }

    /// Converts to a `serde_json::Value` (for display and schema checks).
    pub(crate) fn into_value(self) -> serde_json::Value {
        use serde_json::Value;
        match self {
            Json::Null => Value::Null,
            Json::Bool(b) => Value::Bool(b),
            Json::Number(n) => Value::Number(n),
            Json::String(s) => Value::String(s),
            Json::Array(a) => Value::Array(a.into_iter().map(Json::into_value).collect()),
            Json::Object(m) => {
                Value::Object(m.into_iter().map(|(k, v)| (k, v.into_value())).collect())
            }
        }
    }
}

impl<'de> Deserialize<'de> for Json {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Json, D::Error> {
        deserializer.deserialize_any(JsonVisitor)
    }
}

struct JsonVisitor;

impl<'de> Visitor<'de> for JsonVisitor {
    type Value = Json;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_unit<E>(self) -> Result<Json, E> {
        Ok(Json::Null)
    }
    fn visit_bool<E>(self, v: bool) -> Result<Json, E> {
        Ok(Json::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Json, E> {
        Ok(Json::Number(v.into()))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Json, E> {
        Ok(Json::Number(v.into()))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Json, E> {
        serde_json::Number::from_f64(v)
            .map(Json::Number)
            .ok_or_else(|| E::custom("non-finite number"))
    }
    fn visit_str<E>(self, v: &str) -> Result<Json, E> {
        Ok(Json::String(v.to_owned()))
    }
    fn visit_string<E>(self, v: String) -> Result<Json, E> {
        Ok(Json::String(v))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Json, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(Json::Array(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Json, A::Error> {
        let mut members: Vec<(String, Json)> = Vec::new();
        while let Some(key) = map.next_key::<String>()? {
            // Objects in tokens are small: a linear scan beats hashing here.
            if members.iter().any(|(k, _)| *k == key) {
                return Err(de::Error::custom(format_args!(
                    "duplicate member name {:?}",
                    truncate(&key)
                )));
            }
            let value = map.next_value()?;
            members.push((key, value));
        }
        Ok(Json::Object(members))
    }
}

/// Shortens attacker-controlled text before it goes into an error detail.
pub(crate) fn truncate(s: &str) -> &str {
    const MAX: usize = 64;
    if s.len() <= MAX {
        return s;
    }
    let mut end = MAX;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_duplicates_at_any_depth() {
        assert!(Json::parse(br#"{"a":1,"a":2}"#).is_err());
        assert!(Json::parse(br#"{"a":{"b":1,"b":1}}"#).is_err());
        assert!(Json::parse(br#"[{"b":1,"b":1}]"#).is_err());
        // Escaped and unescaped spellings of one name are the same name.
        assert!(Json::parse(br#"{"a":1,"\u0061":2}"#).is_err());
        assert!(Json::parse(br#"{"a":1,"b":{"a":2}}"#).is_ok());
    }

    #[test]
    fn rejects_trailing_data_bom_and_deep_nesting() {
        assert!(Json::parse(b"{} {}").is_err());
        assert!(Json::parse(b"\xef\xbb\xbf{}").is_err());
        let deep = "[".repeat(10_000) + &"]".repeat(10_000);
        assert!(Json::parse(deep.as_bytes()).is_err());
        assert!(Json::parse(b"{\"a\":\"\xff\"}").is_err());
    }

    #[test]
    fn keeps_number_kinds_apart() {
        let Json::Object(m) = Json::parse(br#"{"i":1,"f":1.0,"e":1e0}"#).unwrap() else {
            panic!("not an object")
        };
        let kinds: Vec<_> = m
            .iter()
            .map(|(_, v)| match v {
                Json::Number(n) => n.is_u64(),
                _ => panic!("not a number"),
            })
            .collect();
        assert_eq!(kinds, [true, false, false]);
    }

    #[test]
    fn truncate_respects_char_boundaries() {
        let s = "é".repeat(40);
        let t = truncate(&s);
        assert!(t.len() <= 64 && s.starts_with(t));
    }
}
