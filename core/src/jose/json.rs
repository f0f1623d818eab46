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
    /// most 127 levels: serde_json's recursion limit of 128 refuses the 128th; no duplicate
    /// member names).
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

/// One member value of a flat object read in a single pass (the token's claims): strings and
/// numbers are kept, anything else only by its JSON type name, after being read strictly
/// (duplicate member names at any depth are still refused).
#[derive(Debug)]
pub(crate) enum Scalar {
    String(String),
    Number(serde_json::Number),
    Other(&'static str),
}

impl Scalar {
    pub(crate) fn type_name(&self) -> &'static str {
        match self {
            Scalar::String(_) => "string",
            Scalar::Number(_) => "number",
            Scalar::Other(name) => name,
        }
    }
}

impl<'de> Deserialize<'de> for Scalar {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Scalar, D::Error> {
        deserializer.deserialize_any(ScalarVisitor)
    }
}

struct ScalarVisitor;

impl<'de> Visitor<'de> for ScalarVisitor {
    type Value = Scalar;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_unit<E>(self) -> Result<Scalar, E> {
        Ok(Scalar::Other("null"))
    }
    fn visit_bool<E>(self, _: bool) -> Result<Scalar, E> {
        Ok(Scalar::Other("boolean"))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Scalar, E> {
        Ok(Scalar::Number(v.into()))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Scalar, E> {
        Ok(Scalar::Number(v.into()))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Scalar, E> {
        serde_json::Number::from_f64(v)
            .map(Scalar::Number)
            .ok_or_else(|| E::custom("non-finite number"))
    }
    fn visit_str<E>(self, v: &str) -> Result<Scalar, E> {
        Ok(Scalar::String(v.to_owned()))
    }
    fn visit_string<E>(self, v: String) -> Result<Scalar, E> {
        Ok(Scalar::String(v))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Scalar, A::Error> {
        JsonVisitor
            .visit_seq(seq)
            .map(|j| Scalar::Other(j.type_name()))
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Scalar, A::Error> {
        JsonVisitor
            .visit_map(map)
            .map(|j| Scalar::Other(j.type_name()))
    }
}

/// A member name, borrowed from the input when it has no escapes.
struct Name<'de>(std::borrow::Cow<'de, str>);

impl<'de> Deserialize<'de> for Name<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Name<'de>, D::Error> {
        struct NameVisitor;
        impl<'de> Visitor<'de> for NameVisitor {
            type Value = Name<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a member name")
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Name<'de>, E> {
                Ok(Name(std::borrow::Cow::Borrowed(v)))
            }
            fn visit_str<E>(self, v: &str) -> Result<Name<'de>, E> {
                Ok(Name(std::borrow::Cow::Owned(v.to_owned())))
            }
            fn visit_string<E>(self, v: String) -> Result<Name<'de>, E> {
                Ok(Name(std::borrow::Cow::Owned(v)))
            }
        }
        deserializer.deserialize_str(NameVisitor)
    }
}

/// An object with the `N` member names in `names` read in one pass: each known member's
/// value, and the first member whose name is not known (its value read strictly and dropped).
pub(crate) struct KnownMembers<const N: usize> {
    pub(crate) values: [Option<Scalar>; N],
    pub(crate) first_unknown: Option<String>,
}

impl<const N: usize> KnownMembers<N> {
    /// Parses `bytes` as one strict JSON document that must be an object; `Err` carries the
    /// same texts as [`Json::parse`] and, for a non-object, the value's type name.
    pub(crate) fn parse(bytes: &[u8], names: &[&str; N]) -> Result<Self, ObjectError> {
        let mut de = serde_json::Deserializer::from_slice(bytes);
        let members = de
            .deserialize_any(KnownVisitor { names })
            .map_err(|e| ObjectError::Syntax(e.to_string()))?;
        de.end().map_err(|e| ObjectError::Syntax(e.to_string()))?;
        members
    }
}

/// Why [`KnownMembers::parse`] failed.
pub(crate) enum ObjectError {
    /// Not strict JSON; the parser's message.
    Syntax(String),
    /// Strict JSON, but not an object: its type name.
    NotAnObject(&'static str),
}

struct KnownVisitor<'n, const N: usize> {
    names: &'n [&'n str; N],
}

impl<'de, const N: usize> Visitor<'de> for KnownVisitor<'_, N> {
    // A non-object is not a syntax error: it is reported after the whole document parsed.
    type Value = Result<KnownMembers<N>, ObjectError>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(Err(ObjectError::NotAnObject("null")))
    }
    fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
        Ok(Err(ObjectError::NotAnObject("boolean")))
    }
    fn visit_i64<E>(self, _: i64) -> Result<Self::Value, E> {
        Ok(Err(ObjectError::NotAnObject("number")))
    }
    fn visit_u64<E>(self, _: u64) -> Result<Self::Value, E> {
        Ok(Err(ObjectError::NotAnObject("number")))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
        JsonVisitor
            .visit_f64(v)
            .map(|_| Err(ObjectError::NotAnObject("number")))
    }
    fn visit_str<E>(self, _: &str) -> Result<Self::Value, E> {
        Ok(Err(ObjectError::NotAnObject("string")))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
        JsonVisitor
            .visit_seq(seq)
            .map(|_| Err(ObjectError::NotAnObject("array")))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut values: [Option<Scalar>; N] = std::array::from_fn(|_| None);
        let mut first_unknown = None;
        let mut unknown: Vec<String> = Vec::new();
        while let Some(Name(key)) = map.next_key::<Name<'de>>()? {
            let duplicate =
                || de::Error::custom(format_args!("duplicate member name {:?}", truncate(&key)));
            match self.names.iter().position(|n| *n == key) {
                Some(i) if values[i].is_some() => return Err(duplicate()),
                Some(i) => values[i] = Some(map.next_value()?),
                None if unknown.iter().any(|k| *k == key) => return Err(duplicate()),
                None => {
                    map.next_value::<Json>()?;
                    let key = key.into_owned();
                    if first_unknown.is_none() {
                        first_unknown = Some(key.clone());
                    }
                    unknown.push(key);
                }
            }
        }
        Ok(Ok(KnownMembers {
            values,
            first_unknown,
        }))
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
