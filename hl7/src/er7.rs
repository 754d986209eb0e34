//! The ER7 ("pipe and hat") encoding: a message tree with decoded values, parsed from text and
//! written back to text.
//!
//! Why not the `hl7-parser` crate (0.3.0, evaluated for this crate): its parser stops silently at
//! the first segment it cannot read and returns the segments before it as a whole message (a
//! `\n`-terminated message parsed strictly is one MSH and nothing else), so a validator built on it
//! would acknowledge data it never saw; its escape decoder slices bytes with character indices
//! (wrong or panicking on non-ASCII text before an escape, e.g. `é\F\`) and only knows `\X0A\` and
//! `\X0D\` of the hex sequences; its repetition display joins components with the repetition
//! separator; its builder keeps components in hash maps. The splitting itself is a few dozen
//! lines, so the crate owns it and reports every unreadable line instead.

use crate::escape;
use thiserror::Error;

/// The five delimiters a message declares in MSH-1 and MSH-2.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Separators {
    pub field: char,
    pub component: char,
    pub repetition: char,
    pub escape: char,
    pub subcomponent: char,
}

impl Default for Separators {
    fn default() -> Self {
        Self {
            field: '|',
            component: '^',
            repetition: '~',
            escape: '\\',
            subcomponent: '&',
        }
    }
}

impl Separators {
    /// MSH-2 as written: component, repetition, escape, subcomponent.
    pub fn encoding_characters(&self) -> String {
        [
            self.component,
            self.repetition,
            self.escape,
            self.subcomponent,
        ]
        .iter()
        .collect()
    }
}

/// Why a text is not an ER7 message at all (answered with MSA AR).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ParseError {
    #[error("the message is empty")]
    Empty,
    #[error("the message does not begin with an MSH segment")]
    MissingMsh,
    #[error("MSH-1/MSH-2 do not declare five distinct, non-alphanumeric delimiters")]
    BadEncodingCharacters,
    #[error("segment {line} has no valid three-character segment name")]
    BadSegmentName { line: usize },
}

/// One component: its subcomponents, decoded.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Component {
    pub subcomponents: Vec<String>,
}

/// One repetition of a field: its components.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Repetition {
    pub components: Vec<Component>,
}

/// One field: its repetitions (none when the field is empty).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Field {
    pub repetitions: Vec<Repetition>,
}

/// One segment; `fields[0]` is field 1 (for MSH, MSH-1 the field separator).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Segment {
    pub name: String,
    pub fields: Vec<Field>,
}

/// A whole message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub separators: Separators,
    pub segments: Vec<Segment>,
}

impl Component {
    pub fn value(&self) -> &str {
        self.sub(1)
    }
    /// Subcomponent `n` (1-based), empty when absent.
    pub fn sub(&self, n: usize) -> &str {
        n.checked_sub(1)
            .and_then(|i| self.subcomponents.get(i))
            .map_or("", String::as_str)
    }
    pub fn is_empty(&self) -> bool {
        self.subcomponents.iter().all(String::is_empty)
    }
    pub fn from_value(v: impl Into<String>) -> Self {
        Self {
            subcomponents: vec![v.into()],
        }
    }
}

impl Repetition {
    /// Component `n` (1-based).
    pub fn component(&self, n: usize) -> Option<&Component> {
        n.checked_sub(1).and_then(|i| self.components.get(i))
    }
    /// Component `n`, subcomponent 1; empty when absent.
    pub fn get(&self, n: usize) -> &str {
        self.component(n).map_or("", Component::value)
    }
    pub fn is_empty(&self) -> bool {
        self.components.iter().all(Component::is_empty)
    }
    /// A repetition from its components' (unescaped) values.
    pub fn from_values<S: AsRef<str>>(values: &[S]) -> Self {
        Self {
            components: values
                .iter()
                .map(|v| Component::from_value(v.as_ref()))
                .collect(),
        }
    }
}

impl Field {
    pub fn first(&self) -> Option<&Repetition> {
        self.repetitions.first()
    }
    /// Component `n` of the first repetition.
    pub fn get(&self, n: usize) -> &str {
        self.first().map_or("", |r| r.get(n))
    }
    pub fn value(&self) -> &str {
        self.get(1)
    }
    /// The repetitions that carry a value.
    pub fn present(&self) -> impl Iterator<Item = &Repetition> {
        self.repetitions.iter().filter(|r| !r.is_empty())
    }
    pub fn is_empty(&self) -> bool {
        self.present().next().is_none()
    }
    pub fn from_value(v: impl Into<String>) -> Self {
        Self {
            repetitions: vec![Repetition {
                components: vec![Component::from_value(v)],
            }],
        }
    }
    pub fn from_components<S: AsRef<str>>(values: &[S]) -> Self {
        Self {
            repetitions: vec![Repetition::from_values(values)],
        }
    }
}

impl Segment {
    pub fn new(name: &str) -> Self {
        Self {
            name: name.to_owned(),
            fields: Vec::new(),
        }
    }
    /// Field `n` (1-based).
    pub fn field(&self, n: usize) -> Option<&Field> {
        n.checked_sub(1).and_then(|i| self.fields.get(i))
    }
    /// Field `n`, first repetition, component 1, subcomponent 1.
    pub fn value(&self, n: usize) -> &str {
        self.field(n).map_or("", Field::value)
    }
    /// Field `n`, first repetition, component `c`.
    pub fn get(&self, n: usize, c: usize) -> &str {
        self.field(n).map_or("", |f| f.get(c))
    }
    /// Sets field `n` (1-based), padding with empty fields.
    pub fn set(&mut self, n: usize, field: Field) -> &mut Self {
        if n == 0 {
            return self;
        }
        if self.fields.len() < n {
            self.fields.resize(n, Field::default());
        }
        self.fields[n - 1] = field;
        self
    }
    pub fn set_value(&mut self, n: usize, v: impl Into<String>) -> &mut Self {
        self.set(n, Field::from_value(v))
    }
    pub fn set_components<S: AsRef<str>>(&mut self, n: usize, values: &[S]) -> &mut Self {
        self.set(n, Field::from_components(values))
    }
}

/// Splits on any of `\r\n`, `\n`, `\r` (files and some interface engines use the first two).
fn lines(text: &str) -> impl Iterator<Item = &str> {
    text.split(['\r', '\n']).filter(|l| !l.trim().is_empty())
}

impl Message {
    /// Parses an ER7 message. Segment terminators may be `\r`, `\n` or `\r\n`; blank lines are
    /// ignored; an MLLP frame (`0x0B` … `0x1C`) around the text is tolerated.
    pub fn parse(text: &str) -> Result<Self, ParseError> {
        let text = text.trim_matches(['\u{0b}', '\u{1c}', '\u{feff}', '\r', '\n']);
        let mut lines = lines(text);
        let msh = lines.next().ok_or(ParseError::Empty)?;
        let seps = Self::separators(msh)?;
        let mut segments = vec![parse_msh(msh, &seps)];
        for (i, line) in lines.enumerate() {
            let name: String = line.chars().take(3).collect();
            let rest = &line[name.len()..];
            let named = name.len() == 3
                && name
                    .chars()
                    .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
                && (rest.is_empty() || rest.starts_with(seps.field));
            if !named {
                return Err(ParseError::BadSegmentName { line: i + 2 });
            }
            let fields = if rest.is_empty() {
                Vec::new()
            } else {
                rest[seps.field.len_utf8()..]
                    .split(seps.field)
                    .map(|f| parse_field(f, &seps))
                    .collect()
            };
            let mut fields = fields;
            truncate_empty(&mut fields, Field::is_empty);
            segments.push(Segment { name, fields });
        }
        Ok(Message {
            separators: seps,
            segments,
        })
    }

    fn separators(msh: &str) -> Result<Separators, ParseError> {
        if !msh.starts_with("MSH") {
            return Err(ParseError::MissingMsh);
        }
        let chars: Vec<char> = msh.chars().skip(3).take(6).collect();
        if chars.len() < 5 {
            return Err(ParseError::BadEncodingCharacters);
        }
        let seps = Separators {
            field: chars[0],
            component: chars[1],
            repetition: chars[2],
            escape: chars[3],
            subcomponent: chars[4],
        };
        let all = [
            seps.field,
            seps.component,
            seps.repetition,
            seps.escape,
            seps.subcomponent,
        ];
        let distinct = all.iter().enumerate().all(|(i, c)| !all[..i].contains(c));
        // MSH-2 is exactly four characters: the one after them must be the field separator.
        let terminated = chars.get(5).is_none_or(|c| *c == seps.field);
        if !distinct || !terminated || all.iter().any(|c| c.is_alphanumeric() || c.is_whitespace())
        {
            return Err(ParseError::BadEncodingCharacters);
        }
        Ok(seps)
    }

    /// The first segment named `name`.
    pub fn segment(&self, name: &str) -> Option<&Segment> {
        self.segments.iter().find(|s| s.name == name)
    }

    /// Writes the message as ER7 with `\r` terminators (the standard's), escaping every value.
    pub fn encode(&self) -> String {
        let mut out = String::new();
        for seg in &self.segments {
            encode_segment(seg, &self.separators, &mut out);
            out.push('\r');
        }
        out
    }
}

fn parse_msh(line: &str, seps: &Separators) -> Segment {
    // "MSH" + field separator + MSH-2 (4 chars) then fields from MSH-3 on.
    let mut fields = vec![
        Field::from_value(seps.field.to_string()),
        Field::from_value(seps.encoding_characters()),
    ];
    let after: String = line.chars().skip(8).collect();
    if let Some(rest) = after.strip_prefix(seps.field) {
        fields.extend(rest.split(seps.field).map(|f| parse_field(f, seps)));
    }
    truncate_empty(&mut fields, Field::is_empty);
    Segment {
        name: "MSH".into(),
        fields,
    }
}

/// Parses one field. The tree is canonical: no trailing empty repetitions, components or
/// subcomponents (`A^^` and `A` are the same value), so that parse -> write -> parse is the
/// identity.
fn parse_field(raw: &str, seps: &Separators) -> Field {
    let mut repetitions: Vec<Repetition> = raw
        .split(seps.repetition)
        .map(|r| {
            let mut components: Vec<Component> = r
                .split(seps.component)
                .map(|c| {
                    let mut subcomponents: Vec<String> = c
                        .split(seps.subcomponent)
                        .map(|s| escape::decode(s, seps))
                        .collect();
                    truncate_empty(&mut subcomponents, String::is_empty);
                    Component { subcomponents }
                })
                .collect();
            truncate_empty(&mut components, Component::is_empty);
            Repetition { components }
        })
        .collect();
    truncate_empty(&mut repetitions, Repetition::is_empty);
    Field { repetitions }
}

fn truncate_empty<T>(items: &mut Vec<T>, empty: impl Fn(&T) -> bool) {
    let n = items.iter().rposition(|x| !empty(x)).map_or(0, |i| i + 1);
    items.truncate(n);
}

/// Drops trailing empty elements so that the written text has no `^^^` tails.
fn trimmed<T>(items: &[T], empty: impl Fn(&T) -> bool) -> &[T] {
    let n = items.iter().rposition(|x| !empty(x)).map_or(0, |i| i + 1);
    &items[..n]
}

fn encode_segment(seg: &Segment, seps: &Separators, out: &mut String) {
    out.push_str(&seg.name);
    let fields: &[Field] = if seg.name == "MSH" {
        out.push(seps.field);
        out.push_str(&seps.encoding_characters());
        seg.fields.get(2..).unwrap_or(&[])
    } else {
        &seg.fields
    };
    for f in trimmed(fields, Field::is_empty) {
        out.push(seps.field);
        encode_field(f, seps, out);
    }
}

fn encode_field(f: &Field, seps: &Separators, out: &mut String) {
    for (i, r) in trimmed(&f.repetitions, Repetition::is_empty)
        .iter()
        .enumerate()
    {
        if i > 0 {
            out.push(seps.repetition);
        }
        for (j, c) in trimmed(&r.components, Component::is_empty)
            .iter()
            .enumerate()
        {
            if j > 0 {
                out.push(seps.component);
            }
            for (k, s) in trimmed(&c.subcomponents, String::is_empty)
                .iter()
                .enumerate()
            {
                if k > 0 {
                    out.push(seps.subcomponent);
                }
                out.push_str(&escape::encode(s, seps));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MSG: &str = "MSH|^~\\&|APP|FAC^1.2.3^ISO||RCV|20240101120000-0500||VXU^V04^VXU_V04|42|P|2.5.1\r\
PID|1||123^^^AA^MR~456^^^BB^SR||Doe^Jane^Q|Smith^Ann^^^^^M|20200101|F\r\
RXA|0|1|20240101||08^HepB^CVX|0.5|mL^^UCUM||00^New^NIP001||||||L1\\T\\2|20250101|MSD^Merck^MVX|||CP|A\r";

    #[test]
    fn parses_repetitions_components_subcomponents_escapes() {
        let m = Message::parse(MSG).expect("parses");
        assert_eq!(m.segments.len(), 3);
        let msh = &m.segments[0];
        assert_eq!(msh.value(1), "|");
        assert_eq!(msh.value(2), "^~\\&");
        assert_eq!(msh.get(4, 2), "1.2.3");
        assert_eq!(msh.get(9, 2), "V04");
        assert_eq!(msh.value(12), "2.5.1");
        let pid = &m.segments[1];
        let ids = pid.field(3).expect("PID-3");
        assert_eq!(ids.repetitions.len(), 2);
        assert_eq!(ids.repetitions[1].get(4), "BB");
        assert_eq!(pid.get(6, 7), "M");
        assert_eq!(m.segments[2].value(15), "L1&2");
    }

    #[test]
    fn tolerates_lf_crlf_and_mllp_frames() {
        let lf = MSG.replace('\r', "\n");
        let crlf = MSG.replace('\r', "\r\n");
        let framed = format!("\u{0b}{MSG}\u{1c}\r");
        let base = Message::parse(MSG).expect("cr");
        for t in [lf, crlf, framed] {
            assert_eq!(Message::parse(&t).expect("variant"), base);
        }
    }

    #[test]
    fn custom_delimiters_are_honoured() {
        let m = Message::parse("MSH#*@!%#A*B@C*D\rPID#1##x%y*z").expect("parses");
        assert_eq!(m.segments[0].get(3, 2), "B");
        assert_eq!(m.segments[0].field(3).expect("f").repetitions.len(), 2);
        assert_eq!(
            m.segments[1].field(3).expect("f").repetitions[0].components[0].sub(2),
            "y"
        );
        let again = Message::parse(&m.encode()).expect("round trip");
        assert_eq!(again, m);
    }

    #[test]
    fn malformed_headers_are_rejected() {
        assert_eq!(Message::parse(""), Err(ParseError::Empty));
        assert_eq!(
            Message::parse("PID|1\rMSH|^~\\&"),
            Err(ParseError::MissingMsh)
        );
        assert_eq!(
            Message::parse("MSH|^~\\"),
            Err(ParseError::BadEncodingCharacters)
        );
        assert_eq!(
            Message::parse("MSH|^^\\&|A"),
            Err(ParseError::BadEncodingCharacters)
        );
        assert_eq!(
            Message::parse("MSH|^~\\&X|A"),
            Err(ParseError::BadEncodingCharacters)
        );
        assert_eq!(
            Message::parse("MSH|^~\\&|A\rpid|1"),
            Err(ParseError::BadSegmentName { line: 2 })
        );
    }
}
