//! Conformance validation of a parsed message against its NIST profile: the header checks that
//! reject a message (type, event, version, processing id), the segment structure with its groups
//! (usage and cardinality of segments), and per field and component: usage (R/RE/C/X/O, C through
//! the profile's predicates), cardinality, lengths, value sets, date and number formats, and the
//! segment and datatype conformance statements. Each problem becomes an [`Issue`] (one ERR).
//!
//! Not evaluated (they never fail a message): group- and message-level conformance statements
//! (paths across segments, e.g. "RXA-20 CP or PA implies RXA-9"), and the constraint operators
//! `PathValue`, `SetID`, `FORALL`, `ValueSet`, plugins: the store's own checks (issue 16 item 5)
//! cover what matters of them.

use crate::er7::{Component, Message, Repetition, Segment};
use crate::issue::{AppErrorCode as App, Hl7ErrorCode as Code, Issue, Location, Severity};
use crate::profile::{Element, Expr, Instance, Operator, Path, Profile, StructNode, Usage};
use regex::Regex;
use std::sync::OnceLock;

/// MSA-1 of the acknowledgement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AckCode {
    /// AA: accepted (warnings and information allowed).
    Accept,
    /// AE: processed, with errors.
    Error,
    /// AR: rejected (the header is unusable or unsupported).
    Reject,
}

impl AckCode {
    pub fn code(self) -> &'static str {
        match self {
            AckCode::Accept => "AA",
            AckCode::Error => "AE",
            AckCode::Reject => "AR",
        }
    }
}

/// The outcome of validating one message.
#[derive(Debug, Clone)]
pub struct Validation {
    /// The profile the message claims and was checked against (none when rejected before).
    pub profile: Option<&'static Profile>,
    pub issues: Vec<Issue>,
    pub rejected: bool,
    /// Indices (into `Message::segments`) of segments the structure does not allow where they
    /// stand; they were reported and must be ignored by the caller.
    pub ignored_segments: Vec<usize>,
}

impl Validation {
    pub fn ack_code(&self) -> AckCode {
        if self.rejected {
            AckCode::Reject
        } else if self.issues.iter().any(|i| i.severity == Severity::Error) {
            AckCode::Error
        } else {
            AckCode::Accept
        }
    }

    /// A text that is not a message at all: rejected with one ERR saying why.
    pub fn unparseable(err: &crate::er7::ParseError) -> Self {
        use crate::er7::ParseError as P;
        let issue = match err {
            P::Empty | P::MissingMsh => Issue::new(
                Location::segment("MSH", 1),
                Code::SegmentSequenceError,
                Severity::Error,
                Some(App::RequiredDataMissing),
                "The message does not begin with an MSH segment",
            ),
            P::BadEncodingCharacters => Issue::new(
                Location::field("MSH", 1, 2),
                Code::DataTypeError,
                Severity::Error,
                Some(App::InvalidValue),
                "MSH-1/MSH-2 do not declare five distinct delimiters",
            ),
            P::BadSegmentName { line } => Issue::new(
                Location::default(),
                Code::SegmentSequenceError,
                Severity::Error,
                Some(App::InvalidValue),
                format!("Segment {line} has no valid segment name"),
            ),
        };
        Validation {
            profile: None,
            issues: vec![issue],
            rejected: true,
            ignored_segments: Vec::new(),
        }
    }
}

/// The profile a message claims by MSH-9 (and MSH-21 / QPD-1 for queries), or the issue that
/// rejects it.
fn profile_for(msg: &Message) -> Result<&'static Profile, Issue> {
    let msh = &msg.segments[0];
    let reject = |field, code: Code, text: &str| {
        Err(Issue::new(
            Location::field("MSH", 1, field),
            code,
            Severity::Error,
            Some(App::InvalidValue),
            text,
        ))
    };
    let version = msh.value(12);
    if version != "2.5.1" {
        return reject(
            12,
            Code::UnsupportedVersionId,
            "Only HL7 version 2.5.1 is supported (MSH-12)",
        );
    }
    let processing = msh.value(11);
    if !matches!(processing, "P" | "T" | "D") {
        return reject(
            11,
            Code::UnsupportedProcessingId,
            "MSH-11 must be P, T or D",
        );
    }
    let (kind, event) = (msh.get(9, 1), msh.get(9, 2));
    match (kind, event) {
        ("VXU", "V04") => Ok(Profile::z22()),
        ("QBP", "Q11") => {
            let claimed = msh
                .field(21)
                .into_iter()
                .flat_map(|f| f.present())
                .map(|r| r.get(1));
            let qpd = msg.segment("QPD").map(|q| q.get(1, 1));
            match claimed.chain(qpd).find(|p| matches!(*p, "Z34" | "Z44")) {
                Some("Z44") => Ok(Profile::z44()),
                Some(_) => Ok(Profile::z34()),
                None => reject(
                    21,
                    Code::UnknownKeyIdentifier,
                    "The query profile (MSH-21, QPD-1) must be Z34 or Z44",
                ),
            }
        }
        ("VXU", _) | ("QBP", _) => reject(
            9,
            Code::UnsupportedEventCode,
            "Only VXU^V04 and QBP^Q11 are supported",
        ),
        _ => reject(
            9,
            Code::UnsupportedMessageType,
            "Only VXU^V04 and QBP^Q11 are supported",
        ),
    }
}

/// Validates a parsed message against the profile it claims.
pub fn validate(msg: &Message) -> Validation {
    let profile = match profile_for(msg) {
        Ok(p) => p,
        Err(issue) => {
            return Validation {
                profile: None,
                issues: vec![issue],
                rejected: true,
                ignored_segments: Vec::new(),
            }
        }
    };
    validate_with(msg, profile)
}

/// Validates a message against a given profile, whatever its header claims (the header checks
/// of [`validate`] are skipped).
pub fn validate_with(msg: &Message, profile: &'static Profile) -> Validation {
    let occurrence = occurrences(&msg.segments);
    let (bound, mut issues, ignored) = match_structure(profile, &msg.segments, &occurrence);
    for (i, def) in bound.iter().enumerate() {
        if let Some(def_id) = def {
            let v = SegmentValidator {
                profile,
                seg: &msg.segments[i],
                index: i,
                occ: occurrence[i],
                issues: &mut issues,
            };
            v.run(def_id);
        }
    }
    Validation {
        profile: Some(profile),
        issues,
        rejected: false,
        ignored_segments: ignored,
    }
}

/// 1-based occurrence of each segment among segments of its name (ERL's segment sequence).
fn occurrences(segs: &[Segment]) -> Vec<usize> {
    let mut seen = std::collections::HashMap::<&str, usize>::new();
    segs.iter()
        .map(|s| {
            let n = seen.entry(s.name.as_str()).or_default();
            *n += 1;
            *n
        })
        .collect()
}

struct Matcher<'a> {
    names: Vec<(usize, &'a str)>,
    pos: usize,
    bound: Vec<Option<String>>,
    issues: Vec<Issue>,
    seen: std::collections::HashMap<&'a str, usize>,
}

impl<'a> Matcher<'a> {
    fn run(&mut self, nodes: &'a [StructNode]) {
        for node in nodes {
            let (usage, min, max) = match node {
                StructNode::Segment {
                    usage, min, max, ..
                }
                | StructNode::Group {
                    usage, min, max, ..
                } => (*usage, *min, *max),
            };
            let mut count = 0;
            while max.is_none_or(|m| count < m)
                && self
                    .names
                    .get(self.pos)
                    .is_some_and(|(_, n)| *n == node.anchor())
            {
                match node {
                    StructNode::Segment {
                        reference, name, ..
                    } => {
                        let (idx, _) = self.names[self.pos];
                        self.bound[idx] = Some(reference.clone());
                        *self.seen.entry(name.as_str()).or_default() += 1;
                        self.pos += 1;
                    }
                    StructNode::Group { children, .. } => self.run(children),
                }
                count += 1;
            }
            if usage == Usage::Required && count < min.max(1) {
                let name = node.anchor();
                let seq = self.seen.get(name).copied().unwrap_or(0) + 1;
                let what = match node {
                    StructNode::Group { name: g, .. } => {
                        format!("Required segment {name} (group {g}) is missing")
                    }
                    StructNode::Segment { .. } => format!("Required segment {name} is missing"),
                };
                self.issues.push(Issue::new(
                    Location::segment(name, seq),
                    Code::SegmentSequenceError,
                    Severity::Error,
                    Some(App::RequiredDataMissing),
                    what,
                ));
            }
        }
    }
}

/// After this many misplaced segments the matcher stops re-matching and ignores every segment
/// it cannot place from there on (each re-match is linear in the message, so a hostile message
/// of misplaced segments would otherwise cost quadratic time).
const MAX_REMATCHES: usize = 64;

/// Places every segment in the profile's structure. A segment the profile does not know is
/// reported and left out first; a known one that cannot stand where it is (out of order, over its
/// cardinality) is reported and left out, and the rest is matched again without it.
fn match_structure(
    profile: &Profile,
    segs: &[Segment],
    occ: &[usize],
) -> (Vec<Option<String>>, Vec<Issue>, Vec<usize>) {
    let mut skip = vec![false; segs.len()];
    let mut ignored = Vec::new();
    let mut ignored_issues = Vec::new();
    let mut leave_out = |idx: usize, name: &str, skip: &mut Vec<bool>, known: bool| {
        skip[idx] = true;
        ignored.push(idx);
        // A segment of the profile out of place loses data the sender meant (a dose without its
        // ORC): an error. A segment the profile does not know (Z segments): a warning.
        let severity = if known {
            Severity::Error
        } else {
            Severity::Warning
        };
        ignored_issues.push(
            Issue::new(
                Location::segment(name, occ[idx]),
                Code::SegmentSequenceError,
                severity,
                Some(App::DataIgnored),
                format!("Segment {name} is not expected here and was ignored"),
            )
            .at_segment(idx),
        );
    };
    for (i, s) in segs.iter().enumerate() {
        if !in_structure(&profile.structure, &s.name) {
            leave_out(i, &s.name, &mut skip, false);
        }
    }
    let mut rematches = 0;
    loop {
        let names = segs
            .iter()
            .enumerate()
            .filter(|(i, _)| !skip[*i])
            .map(|(i, s)| (i, s.name.as_str()))
            .collect();
        let mut m = Matcher {
            names,
            pos: 0,
            bound: vec![None; segs.len()],
            issues: Vec::new(),
            seen: Default::default(),
        };
        m.run(&profile.structure);
        if m.pos >= m.names.len() {
            let mut issues = ignored_issues;
            issues.extend(m.issues);
            ignored.sort_unstable();
            return (m.bound, issues, ignored);
        }
        rematches += 1;
        let rest: Vec<(usize, &str)> = if rematches > MAX_REMATCHES {
            m.names[m.pos..].to_vec()
        } else {
            vec![m.names[m.pos]]
        };
        for (idx, name) in rest {
            leave_out(idx, name, &mut skip, true);
        }
    }
}

fn in_structure(nodes: &[StructNode], name: &str) -> bool {
    nodes.iter().any(|n| match n {
        StructNode::Segment { name: s, .. } => s == name,
        StructNode::Group { children, .. } => in_structure(children, name),
    })
}

/// A place in a segment the constraint language can point at.
#[derive(Clone, Copy)]
enum Ctx<'a> {
    Seg(&'a Segment),
    Rep(&'a Repetition),
    Comp(&'a Component),
    Text(&'a str),
}

impl<'a> Ctx<'a> {
    fn child(self, pos: usize, inst: Instance) -> Vec<Ctx<'a>> {
        let pick = |k: usize| match inst {
            Instance::All => true,
            Instance::Nth(n) => n == k + 1,
        };
        match self {
            Ctx::Seg(s) => s
                .field(pos)
                .map(|f| {
                    f.repetitions
                        .iter()
                        .enumerate()
                        .filter(|(k, _)| pick(*k))
                        .map(|(_, r)| Ctx::Rep(r))
                        .collect()
                })
                .unwrap_or_default(),
            Ctx::Rep(r) if pick(0) => r.component(pos).map(Ctx::Comp).into_iter().collect(),
            Ctx::Comp(c) if pick(0) => pos
                .checked_sub(1)
                .and_then(|i| c.subcomponents.get(i))
                .map(|s| Ctx::Text(s))
                .into_iter()
                .collect(),
            _ => Vec::new(),
        }
    }

    fn text(self) -> String {
        match self {
            Ctx::Seg(_) => String::new(),
            Ctx::Rep(r) => {
                let n = r
                    .components
                    .iter()
                    .rposition(|c| !c.is_empty())
                    .map_or(0, |i| i + 1);
                r.components[..n]
                    .iter()
                    .map(|c| c.subcomponents.join("&"))
                    .collect::<Vec<_>>()
                    .join("^")
            }
            Ctx::Comp(c) => {
                let n = c
                    .subcomponents
                    .iter()
                    .rposition(|s| !s.is_empty())
                    .map_or(0, |i| i + 1);
                c.subcomponents[..n].join("&")
            }
            Ctx::Text(t) => t.to_owned(),
        }
    }

    fn values(self, path: &Path) -> Vec<String> {
        let mut cur = vec![self];
        for (pos, inst) in path {
            cur = cur.into_iter().flat_map(|c| c.child(*pos, *inst)).collect();
        }
        cur.into_iter()
            .map(Ctx::text)
            .filter(|t| !t.is_empty())
            .collect()
    }
}

fn has_presence(e: &Expr) -> bool {
    match e {
        Expr::Presence(_) => true,
        Expr::And(v) | Expr::Or(v) => v.iter().any(has_presence),
        Expr::Not(a) => has_presence(a),
        Expr::Imply(a, b) => has_presence(a) || has_presence(b),
        _ => false,
    }
}

/// Three-valued: `None` when the expression uses something this crate does not evaluate.
fn eval(e: &Expr, ctx: Ctx) -> Option<bool> {
    let all = |path: &Path, f: &dyn Fn(&str) -> bool| {
        let v = ctx.values(path);
        Some(!v.is_empty() && v.iter().all(|s| f(s)))
    };
    match e {
        Expr::Presence(p) => Some(!ctx.values(p).is_empty()),
        Expr::PlainText {
            path,
            text,
            ignore_case,
        } => all(path, &|s| {
            if *ignore_case {
                s.eq_ignore_ascii_case(text)
            } else {
                s == text
            }
        }),
        Expr::StringList {
            path,
            values,
            ignore_case,
        } => all(path, &|s| {
            values.iter().any(|v| {
                if *ignore_case {
                    s.eq_ignore_ascii_case(v)
                } else {
                    s == v
                }
            })
        }),
        Expr::Format { path, regex } => all(path, &|s| regex.is_match(s)),
        Expr::Number { path, op, value } => all(path, &|s| {
            s.trim().parse::<f64>().is_ok_and(|x| match op {
                Operator::Eq => x == *value,
                Operator::Ne => x != *value,
                Operator::Gt => x > *value,
                Operator::Ge => x >= *value,
                Operator::Lt => x < *value,
                Operator::Le => x <= *value,
            })
        }),
        Expr::And(v) => {
            let r: Vec<_> = v.iter().map(|x| eval(x, ctx)).collect();
            if r.contains(&Some(false)) {
                Some(false)
            } else if r.contains(&None) {
                None
            } else {
                Some(true)
            }
        }
        Expr::Or(v) => {
            let r: Vec<_> = v.iter().map(|x| eval(x, ctx)).collect();
            if r.contains(&Some(true)) {
                Some(true)
            } else if r.contains(&None) {
                None
            } else {
                Some(false)
            }
        }
        Expr::Not(a) => eval(a, ctx).map(|b| !b),
        Expr::Imply(a, b) => match eval(a, ctx)? {
            false => Some(true),
            true => eval(b, ctx),
        },
        Expr::Unsupported(_) => None,
    }
}

fn date_regex() -> &'static Regex {
    static R: OnceLock<Regex> = OnceLock::new();
    R.get_or_init(|| {
        Regex::new(r"^\d{4}((0[1-9]|1[0-2])((0[1-9]|[12]\d|3[01])(([01]\d|2[0-3])([0-5]\d([0-5]\d(\.\d{1,4})?)?)?)?)?)?([+-]\d{4})?$")
            .expect("static regex")
    })
}

fn number_regex() -> &'static Regex {
    static R: OnceLock<Regex> = OnceLock::new();
    R.get_or_init(|| Regex::new(r"^[+-]?(\d+(\.\d*)?|\.\d+)$").expect("static regex"))
}

struct SegmentValidator<'a, 'i> {
    profile: &'static Profile,
    seg: &'a Segment,
    index: usize,
    occ: usize,
    issues: &'i mut Vec<Issue>,
}

/// Where inside a field an element sits.
#[derive(Clone, Copy)]
struct Pos {
    field: usize,
    rep: usize,
    comp: usize,
    sub: usize,
}

impl SegmentValidator<'_, '_> {
    fn loc(&self, p: Pos) -> Location {
        Location {
            segment: self.seg.name.clone(),
            sequence: self.occ,
            field: p.field,
            repetition: p.rep,
            component: p.comp,
            subcomponent: p.sub,
        }
    }

    fn label(&self, p: Pos) -> String {
        let mut s = format!("{}-{}", self.seg.name, p.field);
        for n in [p.comp, p.sub] {
            if n > 0 {
                s.push_str(&format!(".{n}"));
            }
        }
        s
    }

    fn push(&mut self, p: Pos, code: Code, sev: Severity, app: App, msg: String) {
        let loc = self.loc(p);
        self.issues
            .push(Issue::new(loc, code, sev, Some(app), msg).at_segment(self.index));
    }

    /// The usage of a conditional element from the predicate on it (O when there is none).
    fn resolve(
        &self,
        usage: Usage,
        preds: Option<&Vec<crate::profile::Predicate>>,
        pos: usize,
        ctx: Ctx,
    ) -> Usage {
        if usage != Usage::Conditional {
            return usage;
        }
        let Some(p) = preds.and_then(|ps| {
            ps.iter()
                .find(|p| p.target.first().map(|t| t.0) == Some(pos))
        }) else {
            return Usage::Optional;
        };
        match eval(&p.condition, ctx) {
            Some(true) => p.true_usage,
            Some(false) => p.false_usage,
            None => Usage::Optional,
        }
    }

    fn run(mut self, def_id: &str) {
        let Some(def) = self.profile.segments.get(def_id) else {
            return;
        };
        let preds = self.profile.segment_predicates.get(def_id);
        let seg = self.seg;
        for (i, fdef) in def.fields.iter().enumerate() {
            let pos = i + 1;
            if seg.name == "MSH" && pos <= 2 {
                continue; // the delimiters, checked by the parser
            }
            let usage = self.resolve(fdef.usage, preds, pos, Ctx::Seg(seg));
            let present: Vec<(usize, &Repetition)> = seg
                .field(pos)
                .map(|f| {
                    f.repetitions
                        .iter()
                        .enumerate()
                        .filter(|(_, r)| !r.is_empty())
                        .collect()
                })
                .unwrap_or_default();
            let at = Pos {
                field: pos,
                rep: 1,
                comp: 0,
                sub: 0,
            };
            let required = usage == Usage::Required;
            match usage {
                Usage::Required if present.is_empty() => {
                    let msg = format!(
                        "Required field {} ({}) is missing",
                        self.label(at),
                        fdef.name
                    );
                    self.push(
                        at,
                        Code::RequiredFieldMissing,
                        Severity::Error,
                        App::RequiredDataMissing,
                        msg,
                    );
                    continue;
                }
                Usage::NotSupported if !present.is_empty() => {
                    let msg = format!(
                        "Field {} ({}) is not supported and was ignored",
                        self.label(at),
                        fdef.name
                    );
                    self.push(
                        at,
                        Code::DataTypeError,
                        Severity::Warning,
                        App::DataIgnored,
                        msg,
                    );
                    continue;
                }
                _ => {}
            }
            if let Some(max) = fdef.max {
                if present.len() > max as usize {
                    let at = Pos {
                        rep: max as usize + 1,
                        ..at
                    };
                    let msg = format!(
                        "Field {} ({}) repeats {} times, at most {max} allowed; the rest was ignored",
                        self.label(at),
                        fdef.name,
                        present.len()
                    );
                    self.push(
                        at,
                        Code::DataTypeError,
                        Severity::Warning,
                        App::DataIgnored,
                        msg,
                    );
                }
            }
            for (k, rep) in present
                .iter()
                .take(fdef.max.map_or(usize::MAX, |m| m as usize))
            {
                let at = Pos { rep: k + 1, ..at };
                self.element(fdef, Ctx::Rep(rep), at, required, 0);
            }
        }
        if let Some(cs) = self.profile.segment_constraints.get(def_id) {
            self.constraints(
                cs,
                Ctx::Seg(seg),
                Pos {
                    field: 0,
                    rep: 0,
                    comp: 0,
                    sub: 0,
                },
                false,
                true,
            );
        }
    }

    /// Checks one value (a field repetition or a component) against its element definition:
    /// components of composite datatypes, lengths and formats of primitives, the value set, and
    /// the datatype's conformance statements. `depth` 0 = field, 1 = component.
    fn element(&mut self, el: &Element, ctx: Ctx, at: Pos, required: bool, depth: u8) {
        let sev = if required {
            Severity::Error
        } else {
            Severity::Warning
        };
        let dt = self.profile.datatypes.get(&el.datatype);
        let composite = dt.is_some_and(|d| !d.components.is_empty()) && depth < 2;
        if let (true, Some(dt)) = (composite, dt) {
            let preds = self.profile.datatype_predicates.get(&dt.id);
            for (j, cdef) in dt.components.iter().enumerate() {
                let n = j + 1;
                let child = ctx.child(n, Instance::Nth(1)).into_iter().next();
                let child_text = child.map(Ctx::text).unwrap_or_default();
                let cat = if depth == 0 {
                    Pos { comp: n, ..at }
                } else {
                    Pos { sub: n, ..at }
                };
                let usage = self.resolve(cdef.usage, preds, n, ctx);
                match usage {
                    Usage::Required if child_text.is_empty() => {
                        let msg = format!(
                            "Required component {} ({}) is missing",
                            self.label(cat),
                            cdef.name
                        );
                        self.push(
                            cat,
                            Code::RequiredFieldMissing,
                            sev,
                            App::RequiredDataMissing,
                            msg,
                        );
                    }
                    Usage::NotSupported if !child_text.is_empty() => {
                        let msg = format!(
                            "Component {} ({}) is not supported and was ignored",
                            self.label(cat),
                            cdef.name
                        );
                        self.push(
                            cat,
                            Code::DataTypeError,
                            Severity::Warning,
                            App::DataIgnored,
                            msg,
                        );
                    }
                    _ => {
                        if let Some(c) = child.filter(|_| !child_text.is_empty()) {
                            self.element(cdef, c, cat, required, depth + 1);
                        }
                    }
                }
            }
            if !el.bindings.is_empty() {
                let code = ctx
                    .child(el.binding_location, Instance::Nth(1))
                    .into_iter()
                    .next()
                    .map(Ctx::text);
                let cat = if depth == 0 {
                    Pos {
                        comp: el.binding_location,
                        ..at
                    }
                } else {
                    Pos {
                        sub: el.binding_location,
                        ..at
                    }
                };
                self.binding(el, code.as_deref().unwrap_or(""), cat, sev);
            }
            if let Some(cs) = self.profile.datatype_constraints.get(&dt.id) {
                self.constraints(cs, ctx, at, depth == 0, false);
            }
            return;
        }
        let value = match ctx {
            Ctx::Rep(r) => r.get(1).to_owned(),
            Ctx::Comp(c) => c.value().to_owned(),
            other => other.text(),
        };
        if value.is_empty() || value == "\"\"" {
            return; // `""` is the explicit null (delete this value), valid everywhere
        }
        let len = value.chars().count();
        if el.max_length.is_some_and(|m| len > m) || el.min_length.is_some_and(|m| len < m) {
            let msg = format!(
                "{} ({}) has {len} characters, allowed {}..{}",
                self.label(at),
                el.name,
                el.min_length.unwrap_or(0),
                el.max_length.map_or("*".to_owned(), |m| m.to_string())
            );
            // Kept as sent (the store may truncate): a warning even in a required field.
            self.push(
                at,
                Code::DataTypeError,
                Severity::Warning,
                App::InvalidValue,
                msg,
            );
        }
        let base = el.datatype.split('_').next().unwrap_or("");
        let (bad, app) = match base {
            "DT" | "DTM" => (!date_regex().is_match(&value), App::InvalidDate),
            "NM" | "SI" => (!number_regex().is_match(&value), App::InvalidValue),
            _ => (false, App::InvalidValue),
        };
        if bad {
            let msg = format!("{} ({}) is not a valid {base}", self.label(at), el.name);
            self.push(at, Code::DataTypeError, sev, app, msg);
        }
        if !el.bindings.is_empty() {
            self.binding(el, &value, at, sev);
        }
    }

    fn binding(&mut self, el: &Element, code: &str, at: Pos, sev: Severity) {
        if code.is_empty() || code == "\"\"" {
            return;
        }
        if self.profile.in_value_set(&el.bindings, code) == Some(false) {
            let msg = format!(
                "{} ({}): the code is not in value set {}",
                self.label(at),
                el.name,
                el.bindings.join(" or ")
            );
            self.push(
                at,
                Code::TableValueNotFound,
                sev,
                App::TableValueNotFound,
                msg,
            );
        }
    }

    /// Conformance statements on a segment (`in_segment`) or on a datatype instance at `at`.
    fn constraints(
        &mut self,
        cs: &[crate::profile::Constraint],
        ctx: Ctx,
        at: Pos,
        field_level: bool,
        in_segment: bool,
    ) {
        for c in cs {
            if ctx.values(&c.target).is_empty() && !has_presence(&c.assertion) {
                continue;
            }
            if eval(&c.assertion, ctx) == Some(false) {
                let n = c.target.first().map_or(0, |t| t.0);
                let cat = if in_segment {
                    Pos {
                        field: n,
                        rep: 1,
                        comp: 0,
                        sub: 0,
                    }
                } else if field_level {
                    Pos { comp: n, ..at }
                } else {
                    Pos { sub: n, ..at }
                };
                // One ERR per problem: a value already reported here (format, length, code) is
                // not reported again by the statement restating that rule.
                let loc = self.loc(cat);
                if self.issues.iter().any(|i| {
                    let l = &i.location;
                    (l.segment.as_str(), l.sequence, l.field, l.repetition)
                        == (
                            loc.segment.as_str(),
                            loc.sequence,
                            loc.field,
                            loc.repetition,
                        )
                }) {
                    continue;
                }
                let msg = format!("{} ({}): {}", self.label(cat), c.id, c.description);
                self.push(
                    cat,
                    Code::DataTypeError,
                    Severity::Warning,
                    App::InvalidValue,
                    msg,
                );
            }
        }
    }
}
