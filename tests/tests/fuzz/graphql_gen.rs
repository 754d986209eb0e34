//! GraphQL documents from a small grammar over the served schema, driven by a *choice
//! sequence*: every decision (which field, whether an alias, which value…) reads the next
//! number of a `Vec<u16>` that proptest generates. Zero always means "the simplest option"
//! and a used-up sequence reads as zeros, so when proptest shrinks the vector (shorter,
//! smaller numbers) the document shrinks with it: fewer fields, valid values, no extras.
//!
//! What comes out: real fields with real and wrong arguments, aliases, inline fragments,
//! named fragments (also undefined and cyclic ones), `@include`/`@skip`/unknown directives,
//! nesting past the depth limit, lists from empty to 20 000 items, variables declared with
//! the right and the wrong types, introspection, `_entities` representations, unicode and
//! control characters, and now and then a document cut or spliced into invalid syntax.

use async_graphql::parser::types::{BaseType, Type};
use base64::Engine as _;
use serde_json::{Map, Value};

use crate::model::{named, InputDef, Model, TypeDef};
use crate::world::World;

/// Reads decisions from a choice sequence.
pub struct Chooser<'a> {
    choices: &'a [u16],
    at: usize,
}

impl<'a> Chooser<'a> {
    pub fn new(choices: &'a [u16]) -> Self {
        Chooser { choices, at: 0 }
    }

    pub fn raw(&mut self) -> u16 {
        let v = self.choices.get(self.at).copied().unwrap_or(0);
        self.at += 1;
        v
    }

    /// `0..n` (0 when the sequence is used up).
    pub fn below(&mut self, n: usize) -> usize {
        if n <= 1 {
            self.at += 1;
            return 0;
        }
        usize::from(self.raw()) % n
    }

    /// True about `percent` % of the time; never for a zero.
    pub fn chance(&mut self, percent: u16) -> bool {
        let v = self.raw();
        v != 0 && v % 100 < percent
    }

    /// An index into `weights`, each picked in proportion to its weight; 0 for a zero.
    pub fn weighted(&mut self, weights: &[u32]) -> usize {
        let total: u32 = weights.iter().sum();
        let mut v = u32::from(self.raw()) % total.max(1);
        for (i, w) in weights.iter().enumerate() {
            if v < *w {
                return i;
            }
            v -= w;
        }
        0
    }

    pub fn pick<'b, T>(&mut self, items: &'b [T]) -> &'b T {
        &items[self.below(items.len())]
    }
}

/// A generated value: rendered as a GraphQL literal or as JSON (for variables).
#[derive(Debug, Clone)]
pub enum Val {
    Null,
    /// A number literal as written (may not fit any integer type, may be invalid).
    Num(String),
    Str(String),
    Bool(bool),
    Enum(String),
    List(Vec<Val>),
    Obj(Vec<(String, Val)>),
    Var(String),
}

/// GraphQL string literal (or block string).
pub fn gql_string(s: &str, block: bool) -> String {
    if block {
        return format!("\"\"\"{}\"\"\"", s.replace("\"\"\"", "\\\"\"\""));
    }
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for ch in s.chars() {
        match ch {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c if (c as u32) < 0x20 || c == '\u{7f}' => {
                out.push_str(&format!("\\u{:04x}", c as u32));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

impl Val {
    pub fn to_gql(&self, out: &mut String) {
        match self {
            Val::Null => out.push_str("null"),
            Val::Num(n) => out.push_str(n),
            Val::Str(s) => out.push_str(&gql_string(s, false)),
            Val::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Val::Enum(e) => out.push_str(e),
            Val::Var(v) => {
                out.push('$');
                out.push_str(v);
            }
            Val::List(items) => {
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    item.to_gql(out);
                }
                out.push(']');
            }
            Val::Obj(fields) => {
                out.push('{');
                for (i, (k, v)) in fields.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    out.push_str(k);
                    out.push_str(": ");
                    v.to_gql(out);
                }
                out.push('}');
            }
        }
    }

    pub fn to_json(&self) -> Value {
        match self {
            Val::Null => Value::Null,
            Val::Num(n) => serde_json::from_str::<Value>(n)
                .ok()
                .filter(Value::is_number)
                .or_else(|| {
                    n.parse::<f64>()
                        .ok()
                        .and_then(serde_json::Number::from_f64)
                        .map(Value::Number)
                })
                .unwrap_or_else(|| Value::String(n.clone())),
            Val::Str(s) | Val::Enum(s) => Value::String(s.clone()),
            Val::Bool(b) => Value::Bool(*b),
            Val::Var(v) => Value::String(format!("${v}")),
            Val::List(items) => Value::Array(items.iter().map(Val::to_json).collect()),
            Val::Obj(fields) => Value::Object(
                fields
                    .iter()
                    .map(|(k, v)| (k.clone(), v.to_json()))
                    .collect(),
            ),
        }
    }
}

/// A generated operation.
#[derive(Debug, Clone)]
pub struct Doc {
    pub text: String,
    pub variables: Map<String, Value>,
    pub operation_name: Option<String>,
}

const CHARS: &[&str] = &[
    "a",
    "Z",
    "0",
    "9",
    " ",
    "-",
    "_",
    "'",
    "\"",
    "\\",
    "/",
    "%",
    "$",
    "{",
    "}",
    "#",
    ",",
    ".",
    "\n",
    "\t",
    "\r",
    "\u{0}",
    "\u{1}",
    "\u{7f}",
    "é",
    "Ł",
    "\u{301}",
    "中",
    "测",
    "💉",
    "🧪",
    "\u{202e}",
    "\u{200d}",
    "\u{feff}",
    "\u{fffd}",
    "\u{fffe}",
    "\u{10ffff}",
    "\u{85}",
    "\u{2028}",
];

const STRINGS: &[&str] = &[
    "",
    "a",
    "Olson",
    "O'Brien",
    "Smith-Jones",
    "Łukasz",
    "Nguyễn",
    "测试",
    "💉🧪",
    "\u{0}",
    "a\u{0}b",
    "\u{202e}evil",
    "\u{feff}",
    " ",
    "%",
    "_",
    "%_%",
    "\\",
    "\"",
    "' OR 1=1 --",
    "'; DROP TABLE persons; --",
    "=HYPERLINK(\"http://x\")",
    "+1",
    "-1",
    "@SUM(A1)",
    "<script>alert(1)</script>",
    "../../etc/passwd",
    "null",
    "undefined",
    "NaN",
    "2020-01-01",
    "20",
    "K",
    "PORTAL",
    "\n\r\t",
    "${jndi:ldap://127.0.0.1/a}",
];

const NAME_STRINGS: &[&str] = &[
    "Olson",
    "Nguyen",
    "Patel",
    "O'Brien",
    "Ava",
    "Ben",
    "olson",
    "OLSON",
    "Ols",
    "",
    " ",
    "Ø",
    "Łukasz",
    "=HYPERLINK(\"x\")",
    "%",
    "_",
    "*",
    "\u{0}",
];

const INTS: &[&str] = &[
    "0",
    "1",
    "-1",
    "2",
    "5",
    "10",
    "20",
    "50",
    "199",
    "200",
    "201",
    "1000",
    "100000",
    "2147483647",
    "-2147483648",
    "2147483648",
    "-2147483649",
    "9007199254740993",
    "18446744073709551616",
    "99999999999999999999999999999999999999",
    "-0",
    "1.0",
    "1e3",
];

const FLOATS: &[&str] = &[
    "0.0",
    "1.5",
    "-1e10",
    "1e308",
    "1.7976931348623157e309",
    "1e-400",
    "3.14",
    "-0.0",
    "2",
];

const SCHOOL_YEARS: &[&str] = &[
    "2026-2027",
    "2025-2026",
    "2024-2025",
    "1999-2000",
    "2026",
    "2026-2025",
    "2026-2028",
    "abcd-efgh",
    "",
    "2026–2027",
    "99999-100000",
    "-1-0",
];

const GRADES: &[&str] = &[
    "K",
    "k",
    "PK",
    "1",
    "2",
    "6",
    "7",
    "11",
    "12",
    "13",
    "0",
    "-1",
    "",
    " K ",
    "Kindergarten",
];

const CHANNELS: &[&str] = &["PORTAL", "PHONE", "FORM", "PROVIDER", "portal", "", "FAX"];

const GROUPS: &[&str] = &[
    "MMR",
    "DTaP",
    "HepB",
    "Polio",
    "Varicella",
    "Tdap",
    "MenACWY",
    "HepA",
    "Hib",
    "PCV",
    "Influenza",
    "COVID-19",
    "mmr",
    "",
    "Nope",
];

const DATES: &[&str] = &[
    "2020-02-29",
    "2021-02-29",
    "2019-04-30",
    "1900-01-01",
    "0001-01-01",
    "9999-12-31",
    "+10000-01-01",
    "-0001-01-01",
    "2020-13-01",
    "2020-00-10",
    "2020-1-1",
    "20200101",
    "",
    "today",
    "2020-01-01T00:00:00Z",
    " 2020-01-01",
];

const DATETIMES: &[&str] = &[
    "2026-01-01T00:00:00Z",
    "2026-01-01T00:00:00.123456789+14:00",
    "2026-01-01T00:00:00-23:59",
    "1970-01-01T00:00:00Z",
    "0000-01-01T00:00:00Z",
    "9999-12-31T23:59:59Z",
    "2026-01-01",
    "2026-01-01 00:00:00",
    "2026-02-30T00:00:00Z",
    "2026-01-01T24:00:00Z",
    "",
];

const IDENTS: &[&str] = &[
    "nope",
    "id",
    "__typename",
    "__schema",
    "_entities",
    "person",
    "Person",
    "édouard",
    "a1",
    "_",
    "__foo",
];

const TOKENS: &[&str] = &[
    "{",
    "}",
    "(",
    ")",
    "[",
    "]",
    ":",
    "$",
    "@",
    "...",
    "\"",
    "\"\"\"",
    "#",
    "\n",
    "\u{0}",
    "\\u0000",
    " on ",
    " fragment ",
    "query ",
    "mutation ",
    "subscription ",
    "!",
    "=",
    "|",
    "&",
    ",",
    "💉",
    "\u{feff}",
    "\u{202e}",
    "1e999",
    "-",
    "\\",
];

/// The state of one document's generation.
pub struct Gen<'a> {
    pub c: Chooser<'a>,
    m: &'a Model,
    w: &'a World,
    vars: Vec<(String, String, Option<Value>)>,
    fragments: Vec<String>,
    /// Selections left before every set collapses to one field.
    budget: usize,
    /// List items left to generate (all lists together), so a document stays a few MiB.
    bulk: usize,
    /// Inside a long list: strings stay short and lists small.
    in_bulk: bool,
    /// How often deliberate mistakes are made: 0 (a valid document), 1 or 3.
    sloppy: u16,
    /// Fields with arguments selected so far (a valid document aliases a repeat, or the two
    /// would conflict).
    with_args: std::collections::HashSet<String>,
    /// Inside a variable's value: no variable references there.
    no_vars: bool,
    names: usize,
}

/// The type as written in a variable definition.
pub fn type_text(ty: &Type) -> String {
    let base = match &ty.base {
        BaseType::Named(n) => n.to_string(),
        BaseType::List(inner) => format!("[{}]", type_text(inner)),
    };
    if ty.nullable {
        base
    } else {
        format!("{base}!")
    }
}

impl<'a> Gen<'a> {
    pub fn new(m: &'a Model, w: &'a World, choices: &'a [u16]) -> Self {
        Gen {
            c: Chooser::new(choices),
            m,
            w,
            vars: Vec::new(),
            fragments: Vec::new(),
            budget: 400,
            bulk: 50_000,
            in_bulk: false,
            sloppy: 1,
            with_args: std::collections::HashSet::new(),
            no_vars: false,
            names: 0,
        }
    }

    /// A deliberate mistake, about `percent` % of the time times the sloppiness.
    fn oops(&mut self, percent: u16) -> bool {
        let v = self.c.raw();
        self.sloppy > 0 && v != 0 && v % 100 < percent * self.sloppy
    }

    fn fresh(&mut self, prefix: &str) -> String {
        self.names += 1;
        format!("{prefix}{}", self.names)
    }

    /// Text from the character palette, `len` characters (long ones repeat a short unit).
    pub fn random_text(&mut self, len: usize) -> String {
        let len = if self.in_bulk { len.min(40) } else { len };
        let unit = len.min(24);
        let mut s = String::new();
        for _ in 0..unit {
            let ch: &&str = self.c.pick(CHARS);
            s.push_str(ch);
        }
        if len > unit && !s.is_empty() {
            let times = len / unit.max(1);
            s = s.repeat(times);
        }
        s
    }

    pub fn string(&mut self, hint: &str) -> String {
        let hint = hint.to_ascii_lowercase();
        let domain: Option<Vec<String>> = if hint.contains("cvx") {
            Some(self.w.cvx_codes.clone())
        } else if hint.contains("schoolyear") {
            let mut v: Vec<String> = SCHOOL_YEARS.iter().map(|s| (*s).to_owned()).collect();
            v.insert(0, self.w.school_year.clone());
            Some(v)
        } else if hint.contains("grade") {
            Some(GRADES.iter().map(|s| (*s).to_owned()).collect())
        } else if hint.contains("channel") {
            Some(CHANNELS.iter().map(|s| (*s).to_owned()).collect())
        } else if hint.contains("group") {
            Some(GROUPS.iter().map(|s| (*s).to_owned()).collect())
        } else if hint.contains("name") && !hint.contains("type") {
            Some(NAME_STRINGS.iter().map(|s| (*s).to_owned()).collect())
        } else if hint.contains("relationship") {
            Some(
                ["mother", "father", "guardian", "self", ""]
                    .map(str::to_owned)
                    .to_vec(),
            )
        } else if hint == "after" {
            return self.cursor();
        } else {
            None
        };
        match (domain, self.c.weighted(&[60, 25, 15])) {
            (Some(d), 0) if !d.is_empty() => self.c.pick(&d).clone(),
            (_, 0 | 1) => (*self.c.pick(STRINGS)).to_owned(),
            _ => {
                let len = match self.c.weighted(&[50, 35, 10, 4, 1]) {
                    0 => self.c.below(8),
                    1 => 8 + self.c.below(32),
                    2 => 200,
                    3 => 5_000,
                    _ => 100_000,
                };
                self.random_text(len)
            }
        }
    }

    /// A real cursor, a corrupted one, a forged one (the server's own encoding of chosen
    /// key parts), or garbage.
    pub fn cursor(&mut self) -> String {
        let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        match self.c.weighted(&[30, 15, 35, 20]) {
            0 if !self.w.cursors.is_empty() => self.c.pick(&self.w.cursors).clone(),
            1 if !self.w.cursors.is_empty() => {
                let mut c = self.c.pick(&self.w.cursors).clone().into_bytes();
                let at = self.c.below(c.len().max(1));
                if let Some(b) = c.get_mut(at) {
                    *b = b"AZaz09-_!="[self.c.below(10)];
                }
                String::from_utf8_lossy(&c).into_owned()
            }
            2 => {
                let parts = 1 + self.c.below(4);
                let mut v = Vec::new();
                for _ in 0..parts {
                    let part = match self.c.weighted(&[30, 30, 40]) {
                        0 => self.c.pick(&self.w.person_ids).clone(),
                        1 => (*self.c.pick(STRINGS)).to_owned(),
                        _ => {
                            let n = self.c.below(12);
                            self.random_text(n)
                        }
                    };
                    v.push(part);
                }
                b64.encode(v.join("\u{1f}"))
            }
            _ => (*self
                .c
                .pick(&["", "!!!", "====", "YQ", "a b", "%00", "eyJ9"]))
            .to_owned(),
        }
    }

    pub fn id(&mut self, hint: &str) -> Val {
        let hint = hint.to_ascii_lowercase();
        let (wp, wo) = if hint.contains("person") || hint.contains("guardian") {
            (50, 8)
        } else if hint.contains("org") || hint.contains("administered") || hint.contains("locked") {
            (8, 50)
        } else {
            (30, 20)
        };
        let w = self.w;
        match self.c.weighted(&[wp, wo, 10, 8, 3, 5, 10, 4]) {
            0 => Val::Str(self.c.pick(&w.person_ids).clone()),
            1 => Val::Str(self.c.pick(&w.org_ids).clone()),
            2 if !w.dose_ids.is_empty() => Val::Str(self.c.pick(&w.dose_ids).clone()),
            3 => {
                let mut bytes = [0u8; 16];
                for chunk in bytes.chunks_mut(2) {
                    let v = self.c.raw().to_le_bytes();
                    chunk.copy_from_slice(&v);
                }
                Val::Str(
                    uuid::Builder::from_random_bytes(bytes)
                        .into_uuid()
                        .to_string(),
                )
            }
            4 => Val::Str("00000000-0000-0000-0000-000000000000".into()),
            5 => {
                let real = self.c.pick(&w.person_ids).clone();
                Val::Str(match self.c.below(4) {
                    0 => real.to_uppercase(),
                    1 => format!("{{{real}}}"),
                    2 => format!("urn:uuid:{real}"),
                    _ => real.replace('-', ""),
                })
            }
            6 => Val::Str(self.string("")),
            _ => Val::Num((*self.c.pick(INTS)).to_owned()),
        }
    }

    fn date(&mut self) -> String {
        let today = self.w.today;
        match self.c.weighted(&[30, 30, 40]) {
            0 => {
                let delta = i64::from(self.c.raw() % 40_000) - 20_000;
                (today + chrono::Duration::days(delta)).to_string()
            }
            1 => today.to_string(),
            _ => (*self.c.pick(DATES)).to_owned(),
        }
    }

    /// A value of `ty`, usually right, sometimes wrong, now and then a variable.
    pub fn value(&mut self, ty: &Type, hint: &str, depth: usize) -> Val {
        if self.c.chance(4) && !self.no_vars {
            return self.variable(ty, hint, depth);
        }
        if self.oops(3) {
            return match self.c.below(8) {
                0 => Val::Null,
                1 => Val::Num("5".into()),
                2 => Val::Str("x".into()),
                3 => Val::Bool(true),
                4 => Val::Enum("FOO".into()),
                5 => Val::List(Vec::new()),
                6 => Val::Obj(Vec::new()),
                _ => Val::Num("1.5".into()),
            };
        }
        if ty.nullable && self.c.chance(5) {
            return Val::Null;
        }
        match &ty.base {
            BaseType::List(inner) => {
                if self.c.chance(10) {
                    return self.value(inner, hint, depth);
                }
                let count = match self.c.weighted(&[15, 45, 20, 10, 5, 4, 1]) {
                    0 => 0,
                    1 => 1,
                    2 => 2,
                    3 => 3 + self.c.below(8),
                    _ if self.in_bulk => 3,
                    4 => 50,
                    5 => 1_000,
                    _ => 20_000,
                };
                let count = count.min(self.bulk);
                self.bulk -= count;
                let was_bulk = self.in_bulk;
                self.in_bulk = was_bulk || count > 10;
                let distinct: Vec<Val> = (0..count.min(3))
                    .map(|_| self.value(inner, hint, depth.saturating_sub(1)))
                    .collect();
                self.in_bulk = was_bulk;
                Val::List(
                    (0..count)
                        .map(|i| distinct[i % distinct.len().max(1)].clone())
                        .collect(),
                )
            }
            BaseType::Named(name) => self.named_value(name.as_str(), hint, depth),
        }
    }

    fn named_value(&mut self, name: &str, hint: &str, depth: usize) -> Val {
        match name {
            "ID" => self.id(hint),
            "String" => Val::Str(self.string(hint)),
            "Int" => Val::Num((*self.c.pick(INTS)).to_owned()),
            "Float" => Val::Num((*self.c.pick(FLOATS)).to_owned()),
            "Boolean" => Val::Bool(self.c.chance(50)),
            "Date" => Val::Str(self.date()),
            "DateTime" => Val::Str(match self.c.below(3) {
                0 => format!("{}T00:00:00Z", self.date()),
                _ => (*self.c.pick(DATETIMES)).to_owned(),
            }),
            "_Any" => {
                let typename = *self.c.pick(&[
                    "Person",
                    "Organization",
                    "Dose",
                    "Vaccine",
                    "Query",
                    "Nope",
                    "",
                ]);
                let mut fields = vec![("__typename".to_owned(), Val::Str(typename.into()))];
                if !self.oops(5) {
                    let id = self.id(typename);
                    fields.push(("id".into(), id));
                }
                if self.c.chance(10) {
                    let v = self.string("");
                    fields.push(("extra".into(), Val::Str(v)));
                }
                Val::Obj(fields)
            }
            _ => match self.m.types.get(name) {
                Some(TypeDef::Enum(values)) => {
                    if self.oops(6) {
                        Val::Enum((*self.c.pick(&["NOPE", "null", "true", "clinic", "_"])).into())
                    } else if self.oops(3) {
                        Val::Str(self.c.pick(values).clone())
                    } else {
                        Val::Enum(self.c.pick(values).clone())
                    }
                }
                Some(TypeDef::Input(fields)) => {
                    let fields = fields.clone();
                    self.input_object(&fields, depth)
                }
                _ => Val::Str(self.string(hint)),
            },
        }
    }

    fn input_object(&mut self, fields: &[InputDef], depth: usize) -> Val {
        let mut out = Vec::new();
        for f in fields {
            let required = !f.ty.nullable && !f.has_default;
            let include = if required {
                !self.oops(3)
            } else {
                depth > 0 && self.c.chance(40)
            };
            if include {
                let v = self.value(&f.ty, &f.name, depth.saturating_sub(1));
                out.push((f.name.clone(), v));
            }
        }
        if self.oops(3) {
            let v = self.string("");
            out.push(((*self.c.pick(IDENTS)).to_owned(), Val::Str(v)));
        }
        if self.oops(2) && !out.is_empty() {
            let dup = out[0].clone();
            out.push(dup);
        }
        Val::Obj(out)
    }

    /// Declares a variable of `ty` (sometimes declared with another type, sometimes left
    /// without a value or with a wrong one) and refers to it.
    fn variable(&mut self, ty: &Type, hint: &str, depth: usize) -> Val {
        let name = self.fresh("v");
        let declared = if self.oops(12) {
            (*self.c.pick(&[
                "String",
                "Int!",
                "ID",
                "[ID!]!",
                "Boolean",
                "PersonInput",
                "Nope",
                "String!",
            ]))
            .to_owned()
        } else {
            type_text(ty)
        };
        let wrong = if self.sloppy == 0 { 0 } else { 6 };
        let value = match self.c.weighted(&[80, wrong + 2, wrong, wrong]) {
            0 => Some(self.json_value(ty, hint, depth)),
            1 => None,
            2 => Some(Value::Null),
            _ => Some(crate::generators::json_of_choices(&mut self.c, 3)),
        };
        // An undeclared variable, now and then.
        if !self.oops(3) {
            self.vars.push((name.clone(), declared, value));
        }
        Val::Var(name)
    }

    /// A value for a variable (JSON, without variable references).
    fn json_value(&mut self, ty: &Type, hint: &str, depth: usize) -> Value {
        let was = std::mem::replace(&mut self.no_vars, true);
        let v = self.value(ty, hint, depth).to_json();
        self.no_vars = was;
        v
    }

    fn directive(&mut self) -> String {
        let n = if self.sloppy == 0 { 3 } else { 9 };
        match self.c.below(n) {
            0 => format!(" @include(if: {})", self.c.chance(50)),
            1 => format!(" @skip(if: {})", self.c.chance(50)),
            2 => {
                let v = self.fresh("b");
                let value = Value::Bool(self.c.chance(50));
                self.vars.push((v.clone(), "Boolean!".into(), Some(value)));
                format!(" @include(if: ${v})")
            }
            3 => " @skip(if: \"yes\")".into(),
            4 => " @include".into(),
            5 => " @deprecated".into(),
            6 => " @nope(x: 1)".into(),
            7 => " @skip(if: true) @skip(if: false)".into(),
            _ => " @requiresScopes(scopes: [[\"admin\"]])".into(),
        }
    }

    /// `{ … }` on `ty`.
    pub fn selection_set(&mut self, ty: &str, depth: usize) -> String {
        let n = if self.budget == 0 {
            1
        } else {
            match self.c.weighted(&[60, 20, 10, 7, 3]) {
                0 => 1,
                1 => 2,
                2 => 3,
                3 => 4 + self.c.below(4),
                _ => 25,
            }
        };
        let mut parts = Vec::new();
        for _ in 0..n {
            self.budget = self.budget.saturating_sub(1);
            parts.push(self.selection(ty, depth));
        }
        format!("{{ {} }}", parts.join(" "))
    }

    fn alias(&mut self) -> String {
        if self.c.chance(10) {
            let n = if self.sloppy == 0 { 0 } else { 2 };
            let a = match self.c.below(n + 2) {
                2 => "same".to_owned(),
                3 => "__typename".to_owned(),
                _ => self.fresh("a"),
            };
            format!("{a}: ")
        } else {
            String::new()
        }
    }

    fn selection(&mut self, ty: &str, depth: usize) -> String {
        let fields = self.m.fields(ty).to_vec();
        let choice = if fields.is_empty() {
            // Unions: fragments or `__typename` only.
            [1, 2, 3][self.c.below(3)]
        } else if self.budget == 0 {
            0
        } else {
            let bad = if self.sloppy == 0 { 0 } else { 2 };
            self.c.weighted(&[80, 6, 6, 4, bad, bad])
        };
        match choice {
            0 => {
                let f = self.c.pick(&fields).clone();
                let mut out = self.alias();
                if self.sloppy == 0
                    && !f.args.is_empty()
                    && out.is_empty()
                    && !self.with_args.insert(f.name.clone())
                {
                    out = format!("{}: ", self.fresh("a"));
                }
                out.push_str(&f.name);
                let mut args = Vec::new();
                for a in &f.args {
                    let required = !a.ty.nullable && !a.has_default;
                    let include = if required {
                        !self.oops(3)
                    } else {
                        self.c.chance(35)
                    };
                    if include {
                        let mut text = format!("{}: ", a.name);
                        self.value(&a.ty, &a.name, 3).to_gql(&mut text);
                        args.push(text);
                    }
                }
                if self.oops(3) {
                    let name = *self.c.pick(IDENTS);
                    let mut text = format!("{name}: ");
                    let v = self.value(&Type::new("String").expect("type"), "", 1);
                    v.to_gql(&mut text);
                    args.push(text);
                }
                if self.oops(1) && !args.is_empty() {
                    let dup = args[0].clone();
                    args.push(dup);
                }
                if !args.is_empty() {
                    out.push('(');
                    out.push_str(&args.join(", "));
                    out.push(')');
                }
                if self.c.chance(8) {
                    let d = self.directive();
                    out.push_str(&d);
                }
                let inner = named(&f.ty).to_owned();
                if self.m.is_composite(&inner) {
                    if depth == 0 {
                        if !self.oops(30) {
                            out.push_str(" { __typename }");
                        }
                    } else if !self.oops(2) {
                        out.push(' ');
                        let s = self.selection_set(&inner, depth - 1);
                        out.push_str(&s);
                    }
                } else if self.oops(2) {
                    out.push_str(" { id }");
                }
                out
            }
            1 => format!("{}__typename", self.alias()),
            2 => {
                let possible = self.m.possible(ty);
                let on = if !possible.is_empty() && !self.oops(20) {
                    format!(" on {}", self.c.pick(&possible))
                } else if self.sloppy > 0 && self.c.chance(50) {
                    let all = self.m.composite_names();
                    format!(" on {}", self.c.pick(&all))
                } else {
                    String::new()
                };
                let target = on.trim_start_matches(" on ").to_owned();
                let target = if target.is_empty() {
                    ty.to_owned()
                } else {
                    target
                };
                let d = if self.c.chance(10) {
                    self.directive()
                } else {
                    String::new()
                };
                let body = self.selection_set(&target, depth.saturating_sub(1));
                format!("...{on}{d} {body}")
            }
            3 => {
                let name = self.fresh("F");
                let bad = if self.sloppy == 0 { 0 } else { 8 };
                match self.c.weighted(&[85, bad, bad]) {
                    0 => {
                        let possible = self.m.possible(ty);
                        let on = if possible.is_empty() {
                            ty.to_owned()
                        } else {
                            self.c.pick(&possible).clone()
                        };
                        let body = self.selection_set(&on, depth.saturating_sub(1));
                        self.fragments
                            .push(format!("fragment {name} on {on} {body}"));
                    }
                    1 => self.fragments.push(format!(
                        "fragment {name} on {ty} {{ __typename ...{name} }}"
                    )),
                    _ => {}
                }
                let d = if self.c.chance(10) {
                    self.directive()
                } else {
                    String::new()
                };
                format!("...{name}{d}")
            }
            4 => (*self.c.pick(IDENTS)).to_owned(),
            _ => (*self.c.pick(TOKENS)).to_owned(),
        }
    }

    fn variable_definitions(&self) -> String {
        if self.vars.is_empty() {
            return String::new();
        }
        let defs: Vec<String> = self
            .vars
            .iter()
            .map(|(n, t, _)| format!("${n}: {t}"))
            .collect();
        format!("({})", defs.join(", "))
    }

    fn variables(&self) -> Map<String, Value> {
        self.vars
            .iter()
            .filter_map(|(n, _, v)| v.clone().map(|v| (n.clone(), v)))
            .collect()
    }

    /// Inserts, deletes, duplicates or cuts at random places: invalid syntax.
    pub fn mutate_text(&mut self, text: &mut String) {
        let ops = 1 + self.c.below(3);
        for _ in 0..ops {
            let mut at = self.c.below(text.len() + 1);
            while !text.is_char_boundary(at) {
                at -= 1;
            }
            match self.c.below(4) {
                0 => {
                    let mut end = (at + 1 + self.c.below(20)).min(text.len());
                    while !text.is_char_boundary(end) {
                        end -= 1;
                    }
                    text.replace_range(at..end, "");
                }
                1 => {
                    let t = *self.c.pick(TOKENS);
                    text.insert_str(at, t);
                }
                2 => {
                    let mut end = (at + 1 + self.c.below(40)).min(text.len());
                    while !text.is_char_boundary(end) {
                        end -= 1;
                    }
                    let dup = text[at..end].to_owned();
                    text.insert_str(at, &dup);
                }
                _ => text.truncate(at),
            }
        }
    }

    /// A whole document.
    pub fn document(mut self) -> Doc {
        self.sloppy = [0, 1, 3][self.c.weighted(&[60, 30, 10])];
        let bad = if self.sloppy == 0 { 0 } else { 2 };
        let kind = self.c.weighted(&[68, 24, 6, bad]);
        let name = if kind != 2 && self.c.chance(40) {
            let n = if self.sloppy == 0 { 3 } else { 6 };
            Some(match self.c.below(n) {
                0 => "Q".to_owned(),
                1 => "Fuzz".to_owned(),
                2 => "op_1".to_owned(),
                3 => "Ünïcödé".to_owned(),
                4 => "x".repeat(300),
                _ => self.fresh("Op"),
            })
        } else {
            None
        };
        let root = if kind == 1 {
            self.m.mutation.clone()
        } else {
            self.m.query.clone()
        };
        let depth = match self.c.weighted(&[40, 30, 15, 10, 5]) {
            0 => 3,
            1 => 5,
            2 => 8,
            3 => 13,
            _ => 30,
        };
        let body = self.selection_set(&root, depth);
        let op_directive = if self.oops(3) {
            self.directive()
        } else {
            String::new()
        };
        let mut text = match kind {
            2 => body,
            _ => format!(
                "{} {}{}{} {body}",
                ["query", "mutation", "query", "subscription"][kind],
                name.as_deref().unwrap_or(""),
                self.variable_definitions(),
                op_directive,
            ),
        };
        if self.c.chance(5) {
            text.push_str(match self.c.below(3) {
                0 => "\nquery Other { __typename }",
                1 => "\n{ me { role } }",
                _ => "\nmutation Other { __typename }",
            });
        }
        for f in std::mem::take(&mut self.fragments) {
            text.push('\n');
            text.push_str(&f);
        }
        if self.oops(8) {
            self.mutate_text(&mut text);
        }
        Doc {
            text,
            variables: self.variables(),
            operation_name: name,
        }
    }

    /// One mutation (recordDose most often) with every argument passed as a variable, and a
    /// generated selection on its result.
    pub fn mutation_call(mut self, field: Option<&str>) -> Doc {
        self.sloppy = [0, 1, 3][self.c.weighted(&[60, 30, 10])];
        let fields = self.m.fields(&self.m.mutation).to_vec();
        let f = match field.and_then(|n| fields.iter().find(|f| f.name == n)) {
            Some(f) => f.clone(),
            None => self.c.pick(&fields).clone(),
        };
        let mut args = Vec::new();
        for a in &f.args {
            let optional = a.ty.nullable || a.has_default;
            if optional && !self.c.chance(50) {
                continue;
            }
            if !self.c.chance(20) {
                let value = self.json_value(&a.ty, &a.name, 4);
                let name = format!("a_{}", a.name);
                self.vars
                    .push((name.clone(), type_text(&a.ty), Some(value)));
                args.push(format!("{}: ${name}", a.name));
            } else {
                let mut text = format!("{}: ", a.name);
                self.value(&a.ty, &a.name, 4).to_gql(&mut text);
                args.push(text);
            }
        }
        let inner = named(&f.ty).to_owned();
        let selection = self.selection_set(&inner, 3);
        let args = if args.is_empty() {
            String::new()
        } else {
            format!("({})", args.join(", "))
        };
        let mut text = format!(
            "mutation{} {{ {}{args} {selection} }}",
            self.variable_definitions(),
            f.name
        );
        for fr in std::mem::take(&mut self.fragments) {
            text.push('\n');
            text.push_str(&fr);
        }
        Doc {
            text,
            variables: self.variables(),
            operation_name: None,
        }
    }
}
