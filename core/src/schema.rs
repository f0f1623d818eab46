//! The JSON Schema subset that the core's input files are written in
//! (`core/schemas/registry.schema.json`, `core/schemas/schedule.schema.json`), checked by a
//! small validator of its own instead of a general JSON Schema engine and its regular
//! expression engines (most of the C library's size).
//!
//! The subset: `type`, `const`, `enum`, `properties`, `required`,
//! `additionalProperties: false`, `items`, `minItems`/`maxItems`, `minLength`/`maxLength`
//! (in code points), `minimum`/`maximum`, and `pattern`s made of `^`, `$`, bracket classes
//! with ranges, `\S` and literal characters, each with an optional `{n}` or `{m,n}`. The
//! annotations `$schema`, `$id`, `title` and `description` are ignored. A built-in schema
//! that used anything else would fail to compile, and every built-in schema is compiled by
//! the tests; there, the same instances are also judged by a full JSON Schema validator
//! (the `jsonschema` crate), which must agree.

use crate::jose::json::truncate;
use serde_json::{Map, Value};

/// A compiled schema (one level of it).
#[derive(Debug, Default)]
pub(crate) struct Schema {
    kind: Option<Kind>,
    constant: Option<Value>,
    one_of_values: Option<Vec<Value>>,
    properties: Vec<(String, Schema)>,
    required: Vec<String>,
    closed: bool,
    items: Option<Box<Schema>>,
    min_items: Option<usize>,
    max_items: Option<usize>,
    min_length: Option<usize>,
    max_length: Option<usize>,
    minimum: Option<f64>,
    maximum: Option<f64>,
    pattern: Option<Pattern>,
}

/// A JSON Schema `type`.
#[derive(Debug, Clone, Copy)]
enum Kind {
    Object,
    Array,
    String,
    Integer,
    Number,
    Boolean,
    Null,
}

impl Kind {
    fn of(name: &str) -> Kind {
        match name {
            "object" => Kind::Object,
            "array" => Kind::Array,
            "string" => Kind::String,
            "integer" => Kind::Integer,
            "number" => Kind::Number,
            "boolean" => Kind::Boolean,
            "null" => Kind::Null,
            other => panic!("schema: unknown type {other:?}"),
        }
    }

    fn admits(self, value: &Value) -> bool {
        match (self, value) {
            (Kind::Object, Value::Object(_))
            | (Kind::Array, Value::Array(_))
            | (Kind::String, Value::String(_))
            | (Kind::Number, Value::Number(_))
            | (Kind::Boolean, Value::Bool(_))
            | (Kind::Null, Value::Null) => true,
            // As JSON Schema says: a number with a zero fraction is an integer.
            (Kind::Integer, Value::Number(n)) => {
                n.is_i64() || n.is_u64() || n.as_f64().is_some_and(|f| f.fract() == 0.0)
            }
            _ => false,
        }
    }
}

impl Schema {
    /// Compiles a built-in schema's text. Panics on anything outside the subset (the
    /// built-in schemas are compiled by the tests).
    pub(crate) fn compile(text: &str) -> Schema {
        let value: Value = serde_json::from_str(text).expect("a built-in schema is JSON");
        Schema::from_value(&value)
    }

    fn from_value(value: &Value) -> Schema {
        let object = value.as_object().expect("schema: a schema is an object");
        let mut schema = Schema::default();
        for (keyword, arg) in object {
            match keyword.as_str() {
                "$schema" | "$id" | "title" | "description" => {}
                "type" => schema.kind = Some(Kind::of(arg.as_str().expect("schema: type"))),
                "const" => schema.constant = Some(arg.clone()),
                "enum" => schema.one_of_values = Some(arg.as_array().expect("enum").clone()),
                "properties" => {
                    schema.properties = (arg.as_object().expect("schema: properties").iter())
                        .map(|(name, sub)| (name.clone(), Schema::from_value(sub)))
                        .collect();
                }
                "required" => {
                    schema.required = (arg.as_array().expect("schema: required").iter())
                        .map(|name| name.as_str().expect("required").to_owned())
                        .collect();
                }
                "additionalProperties" => {
                    assert_eq!(
                        arg,
                        &Value::Bool(false),
                        "schema: only additionalProperties: false"
                    );
                    schema.closed = true;
                }
                "items" => schema.items = Some(Box::new(Schema::from_value(arg))),
                "minItems" => schema.min_items = Some(count(arg)),
                "maxItems" => schema.max_items = Some(count(arg)),
                "minLength" => schema.min_length = Some(count(arg)),
                "maxLength" => schema.max_length = Some(count(arg)),
                "minimum" => schema.minimum = Some(arg.as_f64().expect("schema: minimum")),
                "maximum" => schema.maximum = Some(arg.as_f64().expect("schema: maximum")),
                "pattern" => {
                    schema.pattern = Some(Pattern::compile(arg.as_str().expect("pattern")));
                }
                other => panic!("schema: keyword {other:?} is outside the supported subset"),
            }
        }
        schema
    }

    /// The first violation of `value`, as `"{JSON pointer}: {what}"`, naming where it is and
    /// which rule failed, never the value itself (which may be a phone number or a name).
    pub(crate) fn violation(&self, value: &Value) -> Option<String> {
        let mut path = String::new();
        self.check(value, &mut path)
            .map(|what| format!("{}: {what}", if path.is_empty() { "/" } else { &path }))
    }

    /// Checks `value` at `path`; on a violation, leaves `path` pointing at it.
    fn check(&self, value: &Value, path: &mut String) -> Option<String> {
        let fails = |keyword: &str| Some(format!("fails \"{keyword}\""));
        if self.kind.is_some_and(|kind| !kind.admits(value)) {
            return Some("wrong type".to_owned());
        }
        if self.constant.as_ref().is_some_and(|c| !same(c, value)) {
            return fails("const");
        }
        if (self.one_of_values.as_ref()).is_some_and(|all| !all.iter().any(|v| same(v, value))) {
            return fails("enum");
        }
        match value {
            Value::Object(members) => self.check_object(members, path),
            Value::Array(items) => {
                if self.min_items.is_some_and(|min| items.len() < min) {
                    return fails("minItems");
                }
                if self.max_items.is_some_and(|max| items.len() > max) {
                    return fails("maxItems");
                }
                let schema = self.items.as_deref()?;
                (items.iter().enumerate())
                    .find_map(|(i, item)| schema.check_under(item, &i.to_string(), path))
            }
            Value::String(s) => {
                let chars = s.chars().count();
                if self.min_length.is_some_and(|min| chars < min) {
                    return fails("minLength");
                }
                if self.max_length.is_some_and(|max| chars > max) {
                    return fails("maxLength");
                }
                if self.pattern.as_ref().is_some_and(|p| !p.is_found_in(s)) {
                    return fails("pattern");
                }
                None
            }
            Value::Number(n) => {
                let n = n.as_f64()?;
                if self.minimum.is_some_and(|min| n < min) {
                    return fails("minimum");
                }
                if self.maximum.is_some_and(|max| n > max) {
                    return fails("maximum");
                }
                None
            }
            Value::Bool(_) | Value::Null => None,
        }
    }

    fn check_object(&self, members: &Map<String, Value>, path: &mut String) -> Option<String> {
        if let Some(missing) = self.required.iter().find(|m| !members.contains_key(*m)) {
            return Some(format!("missing required member {missing}"));
        }
        if self.closed
            && let Some(extra) = (members.keys())
                .find(|name| !self.properties.iter().any(|(known, _)| known == *name))
        {
            return Some(format!("unexpected member {:?}", truncate(extra)));
        }
        self.properties.iter().find_map(|(name, schema)| {
            let segment = name.replace('~', "~0").replace('/', "~1");
            schema.check_under(members.get(name)?, &segment, path)
        })
    }

    /// Checks `value`, the member or item `segment` (a JSON pointer segment) of `path`;
    /// `path` is left pointing at a violation, and restored when there is none.
    fn check_under(&self, value: &Value, segment: &str, path: &mut String) -> Option<String> {
        let len = path.len();
        path.push('/');
        path.push_str(segment);
        let found = self.check(value, path);
        if found.is_none() {
            path.truncate(len);
        }
        found
    }
}

fn count(arg: &Value) -> usize {
    (arg.as_u64().and_then(|n| usize::try_from(n).ok())).expect("schema: a count")
}

/// JSON Schema equality: numbers by value (1 equals 1.0), everything else structurally.
fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        _ => a == b,
    }
}

/// A `pattern` of the subset: a sequence of character sets, each repeated `min..=max` times,
/// anchored at either end or found anywhere (JSON Schema patterns are not anchored).
#[derive(Debug)]
struct Pattern {
    anchored_start: bool,
    anchored_end: bool,
    pieces: Vec<Piece>,
}

#[derive(Debug)]
struct Piece {
    set: CharSet,
    min: usize,
    max: usize,
}

#[derive(Debug)]
enum CharSet {
    /// Inclusive ranges (a literal is a range of one).
    Ranges(Vec<(char, char)>),
    /// `\S`: not white space as ECMA-262 defines `\s`, the dialect JSON Schema patterns are
    /// written in (so U+FEFF is white space and U+0085 is not).
    NotSpace,
}

impl CharSet {
    fn has(&self, c: char) -> bool {
        match self {
            CharSet::Ranges(ranges) => ranges.iter().any(|&(lo, hi)| lo <= c && c <= hi),
            CharSet::NotSpace => !is_ecma_space(c),
        }
    }
}

/// ECMA-262's `\s`: its WhiteSpace (tab, vertical tab, form feed, U+FEFF and the Unicode
/// category Zs) and LineTerminator (LF, CR, U+2028, U+2029) code points.
fn is_ecma_space(c: char) -> bool {
    matches!(
        c,
        '\t' | '\n' | '\u{b}' | '\u{c}' | '\r' | ' ' | '\u{a0}' | '\u{1680}' | '\u{2000}'
            ..='\u{200a}'
                | '\u{2028}'
                | '\u{2029}'
                | '\u{202f}'
                | '\u{205f}'
                | '\u{3000}'
                | '\u{feff}'
    )
}

impl Pattern {
    fn compile(text: &str) -> Pattern {
        let unsupported = || -> ! { panic!("schema: pattern {text:?} is outside the subset") };
        let mut chars = text.chars().peekable();
        let anchored_start = chars.next_if_eq(&'^').is_some();
        let mut pieces = Vec::new();
        let mut anchored_end = false;
        while let Some(c) = chars.next() {
            let set = match c {
                '$' if chars.peek().is_none() => {
                    anchored_end = true;
                    break;
                }
                '\\' => match chars.next() {
                    Some('S') => CharSet::NotSpace,
                    _ => unsupported(),
                },
                '[' => {
                    let mut ranges = Vec::new();
                    loop {
                        match chars.next() {
                            Some(']') => break,
                            Some(lo) if lo.is_ascii_alphanumeric() || lo == '_' || lo == '-' => {
                                // `a-z` is a range; a `-` just before `]` is itself.
                                if chars.peek() == Some(&'-') {
                                    chars.next();
                                    if chars.peek() == Some(&']') {
                                        ranges.extend([(lo, lo), ('-', '-')]);
                                    } else {
                                        let hi = chars.next().unwrap_or_else(|| unsupported());
                                        ranges.push((lo, hi));
                                    }
                                } else {
                                    ranges.push((lo, lo));
                                }
                            }
                            _ => unsupported(),
                        }
                    }
                    CharSet::Ranges(ranges)
                }
                c if c.is_ascii_alphanumeric() || c == '-' || c == '_' => {
                    CharSet::Ranges(vec![(c, c)])
                }
                _ => unsupported(),
            };
            let (min, max) = if chars.next_if_eq(&'{').is_some() {
                let body: String = chars.by_ref().take_while(|&c| c != '}').collect();
                let number = |s: &str| s.parse::<usize>().unwrap_or_else(|_| unsupported());
                match body.split_once(',') {
                    Some((min, max)) => (number(min), number(max)),
                    None => (number(&body), number(&body)),
                }
            } else {
                (1, 1)
            };
            pieces.push(Piece { set, min, max });
        }
        Pattern {
            anchored_start,
            anchored_end,
            pieces,
        }
    }

    /// True when the pattern matches somewhere in `s` (at its start, with `^`).
    fn is_found_in(&self, s: &str) -> bool {
        let chars: Vec<char> = s.chars().collect();
        let starts = if self.anchored_start {
            0..1
        } else {
            0..chars.len() + 1
        };
        starts
            .into_iter()
            .any(|at| self.matches_at(&self.pieces, &chars, at))
    }

    fn matches_at(&self, pieces: &[Piece], chars: &[char], at: usize) -> bool {
        let Some((piece, rest)) = pieces.split_first() else {
            return !self.anchored_end || at == chars.len();
        };
        let run = chars[at..]
            .iter()
            .take(piece.max)
            .take_while(|&&c| piece.set.has(c))
            .count();
        (piece.min..=run)
            .rev()
            .any(|n| self.matches_at(rest, chars, at + n))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{REGISTRY_SCHEMA, SCHEDULE_SCHEMA};
    use serde_json::json;

    fn full_validator(text: &str) -> jsonschema::Validator {
        jsonschema::validator_for(&serde_json::from_str(text).unwrap()).unwrap()
    }

    /// Each instance judged by both validators: the same verdict, and for an instance with
    /// exactly one violation, the same place.
    fn agree(text: &str, instances: &[Value]) {
        let ours = Schema::compile(text);
        let full = full_validator(text);
        for instance in instances {
            let mine = ours.violation(instance);
            let theirs: Vec<_> = full.iter_errors(instance).collect();
            assert_eq!(
                mine.is_none(),
                theirs.is_empty(),
                "{instance}: ours {mine:?}, jsonschema {:?}",
                theirs.iter().map(|e| e.to_string()).collect::<Vec<_>>()
            );
            if let ([error], Some(mine)) = (theirs.as_slice(), &mine) {
                let path = error.instance_path().to_string();
                let path = if path.is_empty() {
                    "/".to_owned()
                } else {
                    path
                };
                assert!(
                    mine.starts_with(&format!("{path}: ")),
                    "{instance}: {mine} vs {path}"
                );
            }
        }
    }

    /// Values that probe every rule of a string, number or container member.
    fn probes() -> Vec<Value> {
        let mut v = vec![
            json!(null),
            json!(true),
            json!(0),
            json!(1),
            json!(1.0),
            json!(1.5),
            json!(-1),
            json!(5),
            json!(6),
            json!(16),
            json!(17),
            json!(-0.0),
            json!(""),
            json!(" "),
            json!("\u{a0}"),
            json!("\u{85}"),
            json!("\u{feff}"),
            json!("\u{3000}x"),
            json!("\t\n\r\u{b}\u{c}"),
            json!("\u{1680}\u{2000}\u{200a}\u{2028}\u{2029}\u{202f}\u{205f}\u{3000}"),
            json!("\u{200b}"),
            json!("\u{180e}"),
            json!("x"),
            json!("A-z_9"),
            json!("a b"),
            json!("é"),
            json!("9876543210"),
            json!("5876543210"),
            json!("98765432100"),
            json!("987654321"),
            json!("98765\u{0663}3210"),
            json!("2021-05-01"),
            json!("2021-5-01"),
            json!("2021-05-01x"),
            json!("x2021-05-01"),
            json!("primary"),
            json!("precaution"),
            json!("Primary"),
            json!([]),
            json!(["x"]),
            json!({}),
        ];
        for n in [63, 64, 65, 127, 128, 129] {
            v.push(json!("a".repeat(n)));
            v.push(json!("é".repeat(n)));
        }
        v.push(json!("a".repeat(64) + "-"));
        v
    }

    fn dose() -> Value {
        json!({"product": "Covishield", "dose": 1, "date": "2021-05-01", "kind": "primary"})
    }

    fn record() -> Value {
        json!({"id": "B1", "mobile": "9876543210", "name": "Priya", "doses": [dose()]})
    }

    /// `base` with each member in turn replaced by each probe, removed, and with an extra one.
    fn mutations(base: &Value, pointer: &str) -> Vec<Value> {
        let mut out = vec![base.clone()];
        let target = base.pointer(pointer).unwrap().as_object().unwrap().clone();
        for name in target.keys() {
            for probe in probes() {
                let mut m = base.clone();
                m.pointer_mut(pointer).unwrap()[name] = probe;
                out.push(m);
            }
            let mut m = base.clone();
            m.pointer_mut(pointer)
                .unwrap()
                .as_object_mut()
                .unwrap()
                .remove(name);
            out.push(m);
        }
        let mut m = base.clone();
        m.pointer_mut(pointer).unwrap()["extra"] = json!(1);
        out.push(m);
        out
    }

    #[test]
    fn the_registry_schema_agrees_with_a_full_validator() {
        let mut instances = mutations(&record(), "");
        instances.extend(mutations(&record(), "/doses/0"));
        instances.extend(probes());
        for n in [0, 1, 16, 17] {
            let mut r = record();
            r["doses"] = Value::Array(vec![dose(); n]);
            instances.push(r);
        }
        agree(REGISTRY_SCHEMA, &instances);
    }

    #[test]
    fn the_schedule_schema_agrees_with_a_full_validator() {
        let product = json!({"name": "Covishield", "primary_doses": 2, "aliases": ["AZD1222"]});
        let base = json!({"version": 1, "products": [product]});
        let mut instances = mutations(&base, "");
        instances.extend(mutations(&base, "/products/0"));
        instances.extend(probes());
        for n in [0, 1, 256, 257] {
            let mut s = base.clone();
            s["products"] = Value::Array(vec![product.clone(); n]);
            instances.push(s);
        }
        for aliases in [
            json!([]),
            json!(vec!["x"; 16]),
            json!(vec!["x"; 17]),
            json!([" "]),
        ] {
            let mut s = base.clone();
            s["products"][0]["aliases"] = aliases;
            instances.push(s);
        }
        for version in [json!(1.0), json!(2), json!("1")] {
            let mut s = base.clone();
            s["version"] = version;
            instances.push(s);
        }
        agree(SCHEDULE_SCHEMA, &instances);
    }

    #[test]
    fn violations_name_the_place_and_the_rule_never_the_value() {
        let schema = Schema::compile(REGISTRY_SCHEMA);
        let mut r = record();
        r["doses"][0]["date"] = json!("01-05-2021");
        assert_eq!(
            schema.violation(&r).unwrap(),
            "/doses/0/date: fails \"pattern\""
        );
        r = record();
        r.as_object_mut().unwrap().remove("mobile");
        assert_eq!(
            schema.violation(&r).unwrap(),
            "/: missing required member mobile"
        );
        r = record();
        r["extra"] = json!(1);
        assert_eq!(
            schema.violation(&r).unwrap(),
            "/: unexpected member \"extra\""
        );
        assert_eq!(schema.violation(&json!([1])).unwrap(), "/: wrong type");
        assert_eq!(schema.violation(&record()), None);
    }

    #[test]
    #[should_panic(expected = "outside the subset")]
    fn a_pattern_outside_the_subset_does_not_compile() {
        Schema::compile(r#"{"type": "string", "pattern": "^a+$"}"#);
    }

    #[test]
    #[should_panic(expected = "outside the supported subset")]
    fn a_keyword_outside_the_subset_does_not_compile() {
        Schema::compile(r#"{"oneOf": []}"#);
    }
}
