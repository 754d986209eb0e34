//! The NIST conformance profiles of the CDC guide (message structure, segment and datatype
//! definitions, value-set libraries, predicates and conformance statements), loaded from the XML
//! files shipped in `hl7/profiles/` (Apache-2.0, from immregistries/IIS-Sandbox; see the license
//! file there). Parsed once per process with `roxmltree` (read-only DOM, no unsafe, no
//! dependencies: exactly what loading a few hundred kilobytes of XML at start needs).

use regex::Regex;
use roxmltree::{Document, Node};
use std::collections::{HashMap, HashSet};
use std::sync::OnceLock;
use thiserror::Error;

#[derive(Debug, Error)]
pub enum ProfileError {
    #[error("profile XML: {0}")]
    Xml(#[from] roxmltree::Error),
    #[error("profile has no <Message>")]
    NoMessage,
    #[error("bad regular expression in constraint {id}: {source}")]
    Regex { id: String, source: regex::Error },
}

/// Usage of an element (R, RE, C, X, O). C is resolved through the profile's predicate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Usage {
    Required,
    RequiredOrEmpty,
    Conditional,
    NotSupported,
    Optional,
}

impl Usage {
    fn parse(s: &str) -> Self {
        match s {
            "R" => Usage::Required,
            "RE" => Usage::RequiredOrEmpty,
            "C" | "CE" => Usage::Conditional,
            "X" => Usage::NotSupported,
            _ => Usage::Optional,
        }
    }
}

/// A field of a segment or a component of a datatype.
#[derive(Debug, Clone)]
pub struct Element {
    pub name: String,
    pub usage: Usage,
    pub min: u32,
    /// `None`: unbounded (`*`).
    pub max: Option<u32>,
    pub datatype: String,
    pub min_length: Option<usize>,
    pub max_length: Option<usize>,
    /// Value sets (a `Binding` may list several, separated by `:`).
    pub bindings: Vec<String>,
    /// Component holding the code for coded datatypes (`BindingLocation`), 1 when unspecified.
    pub binding_location: usize,
}

#[derive(Debug, Clone)]
pub struct SegmentDef {
    pub id: String,
    pub name: String,
    pub fields: Vec<Element>,
}

#[derive(Debug, Clone)]
pub struct DatatypeDef {
    pub id: String,
    pub name: String,
    pub components: Vec<Element>,
}

/// A node of the message structure: a segment reference or a group.
#[derive(Debug, Clone)]
pub enum StructNode {
    Segment {
        reference: String,
        name: String,
        usage: Usage,
        min: u32,
        max: Option<u32>,
    },
    Group {
        name: String,
        usage: Usage,
        min: u32,
        max: Option<u32>,
        children: Vec<StructNode>,
    },
}

impl StructNode {
    /// The segment name that opens this node (a group opens with its first child).
    pub fn anchor(&self) -> &str {
        match self {
            StructNode::Segment { name, .. } => name,
            StructNode::Group { children, .. } => children.first().map_or("", StructNode::anchor),
        }
    }
}

/// Which occurrences a path step selects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Instance {
    Nth(usize),
    All,
}

/// `9[1].1[1]` relative to a segment or a datatype instance.
pub type Path = Vec<(usize, Instance)>;

fn parse_path(s: &str) -> Option<Path> {
    s.split('.')
        .map(|step| {
            let (pos, inst) = step.split_once('[')?;
            let inst = inst.strip_suffix(']')?;
            let inst = if inst == "*" {
                Instance::All
            } else {
                Instance::Nth(inst.parse().ok()?)
            };
            Some((pos.parse().ok()?, inst))
        })
        .collect()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operator {
    Eq,
    Ne,
    Gt,
    Ge,
    Lt,
    Le,
}

/// An assertion or condition of the NIST constraint language (the subset this crate evaluates;
/// the rest is `Unsupported` and never fails a message).
#[derive(Debug, Clone)]
pub enum Expr {
    Presence(Path),
    PlainText {
        path: Path,
        text: String,
        ignore_case: bool,
    },
    StringList {
        path: Path,
        values: Vec<String>,
        ignore_case: bool,
    },
    Format {
        path: Path,
        regex: Regex,
    },
    Number {
        path: Path,
        op: Operator,
        value: f64,
    },
    And(Vec<Expr>),
    Or(Vec<Expr>),
    Not(Box<Expr>),
    Imply(Box<Expr>, Box<Expr>),
    Unsupported(String),
}

/// A conformance statement on a segment or datatype.
#[derive(Debug, Clone)]
pub struct Constraint {
    pub id: String,
    pub target: Path,
    pub description: String,
    pub assertion: Expr,
}

/// A predicate giving the usage of a conditional (C) element.
#[derive(Debug, Clone)]
pub struct Predicate {
    pub target: Path,
    pub true_usage: Usage,
    pub false_usage: Usage,
    pub condition: Expr,
}

/// The codes of one value set. Table 0396 (coding systems) lists families of codes as patterns
/// (`99zzz` local codes, `X12DEnnnn`, `NCPDPnnnnsss`): `n` a digit, `z`/`s` a letter or digit.
#[derive(Debug, Default)]
pub struct ValueSet {
    pub codes: HashSet<String>,
    pub patterns: Vec<Regex>,
}

impl ValueSet {
    pub fn contains(&self, code: &str) -> bool {
        self.codes.contains(code) || self.patterns.iter().any(|p| p.is_match(code))
    }

    fn add(&mut self, value: &str) {
        let lower = value.chars().filter(|c| c.is_ascii_lowercase()).count();
        let placeholders = value
            .chars()
            .filter(|c| matches!(c, 'n' | 'z' | 's'))
            .count();
        if lower >= 3 && lower == placeholders {
            let re: String = value
                .chars()
                .map(|c| match c {
                    'n' => "[0-9]".to_owned(),
                    'z' | 's' => "[A-Za-z0-9]".to_owned(),
                    c => regex::escape(&c.to_string()),
                })
                .collect();
            if let Ok(r) = Regex::new(&format!("^{re}$")) {
                self.patterns.push(r);
                return;
            }
        }
        self.codes.insert(value.to_owned());
    }
}

/// One message profile with its constraints and value sets.
#[derive(Debug)]
pub struct Profile {
    /// `Z22`, `Z34`, `Z44`, `Z23`.
    pub identifier: String,
    pub message_type: String,
    pub event: String,
    pub structure: Vec<StructNode>,
    pub segments: HashMap<String, SegmentDef>,
    pub datatypes: HashMap<String, DatatypeDef>,
    pub value_sets: HashMap<String, ValueSet>,
    pub unvalidated_value_sets: HashSet<String>,
    pub segment_constraints: HashMap<String, Vec<Constraint>>,
    pub datatype_constraints: HashMap<String, Vec<Constraint>>,
    pub segment_predicates: HashMap<String, Vec<Predicate>>,
    pub datatype_predicates: HashMap<String, Vec<Predicate>>,
}

fn attr<'a>(n: &Node<'a, '_>, name: &str) -> &'a str {
    n.attribute(name).unwrap_or("")
}

fn max_of(s: &str) -> Option<u32> {
    if s == "*" {
        None
    } else {
        Some(s.parse().unwrap_or(1))
    }
}

fn element(n: &Node) -> Element {
    let len = |a: &str| attr(n, a).parse().ok();
    Element {
        name: attr(n, "Name").to_owned(),
        usage: Usage::parse(attr(n, "Usage")),
        min: attr(n, "Min").parse().unwrap_or(0),
        max: max_of(n.attribute("Max").unwrap_or("1")),
        datatype: attr(n, "Datatype").to_owned(),
        min_length: len("MinLength"),
        max_length: len("MaxLength").filter(|_| attr(n, "MaxLength") != "*"),
        bindings: attr(n, "Binding")
            .split(':')
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect(),
        binding_location: attr(n, "BindingLocation")
            .split(':')
            .next()
            .and_then(|s| s.parse().ok())
            .unwrap_or(1),
    }
}

fn structure(n: Node) -> Vec<StructNode> {
    n.children()
        .filter(Node::is_element)
        .filter_map(|c| {
            let usage = Usage::parse(attr(&c, "Usage"));
            let min = attr(&c, "Min").parse().unwrap_or(0);
            let max = max_of(c.attribute("Max").unwrap_or("1"));
            match c.tag_name().name() {
                "Segment" => {
                    let reference = attr(&c, "Ref").to_owned();
                    Some(StructNode::Segment {
                        name: String::new(),
                        reference,
                        usage,
                        min,
                        max,
                    })
                }
                "Group" => Some(StructNode::Group {
                    name: attr(&c, "Name").to_owned(),
                    usage,
                    min,
                    max,
                    children: structure(c),
                }),
                _ => None,
            }
        })
        .collect()
}

fn name_segments(nodes: &mut [StructNode], defs: &HashMap<String, SegmentDef>) {
    for n in nodes {
        match n {
            StructNode::Segment {
                reference, name, ..
            } => {
                *name = defs.get(reference).map_or_else(
                    || reference[..3.min(reference.len())].to_owned(),
                    |d| d.name.clone(),
                );
            }
            StructNode::Group { children, .. } => name_segments(children, defs),
        }
    }
}

fn expr(n: Node, id: &str) -> Result<Expr, ProfileError> {
    let path = || parse_path(attr(&n, "Path"));
    let kids = || -> Result<Vec<Expr>, ProfileError> {
        n.children()
            .filter(Node::is_element)
            .map(|c| expr(c, id))
            .collect()
    };
    let unsupported = || Ok(Expr::Unsupported(n.tag_name().name().to_owned()));
    let ignore_case = attr(&n, "IgnoreCase") == "true";
    match n.tag_name().name() {
        "Presence" => path().map_or_else(unsupported, |p| Ok(Expr::Presence(p))),
        "PlainText" => path().map_or_else(unsupported, |p| {
            Ok(Expr::PlainText {
                path: p,
                text: attr(&n, "Text").to_owned(),
                ignore_case,
            })
        }),
        "StringList" => path().map_or_else(unsupported, |p| {
            let values = attr(&n, "CSV").split(',').map(str::to_owned).collect();
            Ok(Expr::StringList {
                path: p,
                values,
                ignore_case,
            })
        }),
        "Format" => path().map_or_else(unsupported, |p| {
            let regex = Regex::new(&format!("^(?:{})$", attr(&n, "Regex"))).map_err(|source| {
                ProfileError::Regex {
                    id: id.to_owned(),
                    source,
                }
            })?;
            Ok(Expr::Format { path: p, regex })
        }),
        "SimpleValue" if attr(&n, "Type") == "Number" => {
            let op = match attr(&n, "Operator") {
                "EQ" => Operator::Eq,
                "NE" => Operator::Ne,
                "GT" => Operator::Gt,
                "GE" => Operator::Ge,
                "LT" => Operator::Lt,
                _ => Operator::Le,
            };
            match (path(), attr(&n, "Value").parse()) {
                (Some(path), Ok(value)) => Ok(Expr::Number { path, op, value }),
                _ => unsupported(),
            }
        }
        "AND" => Ok(Expr::And(kids()?)),
        "OR" => Ok(Expr::Or(kids()?)),
        "NOT" => {
            let mut k = kids()?;
            Ok(k.pop()
                .map_or(Expr::Unsupported("NOT".into()), |e| Expr::Not(Box::new(e))))
        }
        "IMPLY" => {
            let mut k = kids()?.into_iter();
            match (k.next(), k.next()) {
                (Some(a), Some(b)) => Ok(Expr::Imply(Box::new(a), Box::new(b))),
                _ => unsupported(),
            }
        }
        _ => unsupported(),
    }
}

/// The single expression child of an `<Assertion>` or `<Condition>`.
fn body(n: Node, tag: &str, id: &str) -> Result<Option<Expr>, ProfileError> {
    let Some(holder) = n.children().find(|c| c.has_tag_name(tag)) else {
        return Ok(None);
    };
    holder
        .children()
        .find(Node::is_element)
        .map(|e| expr(e, id))
        .transpose()
}

type ByIdRules<T> = (HashMap<String, Vec<T>>, HashMap<String, Vec<T>>);

/// Reads `<Section><Datatype|Segment><ByID ID>items…` into (datatype, segment) maps.
fn by_id<T>(
    section: Option<Node>,
    item: &str,
    mut read: impl FnMut(Node) -> Result<Option<T>, ProfileError>,
) -> Result<ByIdRules<T>, ProfileError> {
    let (mut dts, mut segs) = (HashMap::new(), HashMap::new());
    let Some(section) = section else {
        return Ok((dts, segs));
    };
    for level in section.children().filter(Node::is_element) {
        let map: &mut HashMap<String, Vec<T>> = match level.tag_name().name() {
            "Datatype" => &mut dts,
            "Segment" => &mut segs,
            _ => continue,
        };
        for by in level.children().filter(|c| c.has_tag_name("ByID")) {
            let list = map.entry(attr(&by, "ID").to_owned()).or_default();
            for it in by.children().filter(|c| c.has_tag_name(item)) {
                if let Some(t) = read(it)? {
                    list.push(t);
                }
            }
        }
    }
    Ok((dts, segs))
}

impl Profile {
    /// Builds a profile from the three NIST files (profile, constraints, value-set library).
    pub fn from_xml(
        profile: &str,
        constraints: &str,
        value_sets: &str,
    ) -> Result<Self, ProfileError> {
        let doc = Document::parse(profile)?;
        let root = doc.root_element();
        let message = root
            .descendants()
            .find(|n| n.has_tag_name("Message"))
            .ok_or(ProfileError::NoMessage)?;
        let segments: HashMap<String, SegmentDef> = root
            .descendants()
            .filter(|n| n.has_tag_name("Segment") && n.attribute("ID").is_some())
            .map(|s| {
                let def = SegmentDef {
                    id: attr(&s, "ID").to_owned(),
                    name: attr(&s, "Name").to_owned(),
                    fields: s
                        .children()
                        .filter(|c| c.has_tag_name("Field"))
                        .map(|c| element(&c))
                        .collect(),
                };
                (def.id.clone(), def)
            })
            .collect();
        let datatypes = root
            .descendants()
            .filter(|n| n.has_tag_name("Datatype") && n.attribute("ID").is_some())
            .map(|d| {
                let def = DatatypeDef {
                    id: attr(&d, "ID").to_owned(),
                    name: attr(&d, "Name").to_owned(),
                    components: d
                        .children()
                        .filter(|c| c.has_tag_name("Component"))
                        .map(|c| element(&c))
                        .collect(),
                };
                (def.id.clone(), def)
            })
            .collect();
        let mut structure = structure(message);
        name_segments(&mut structure, &segments);

        let vs_doc = Document::parse(value_sets)?;
        let mut sets: HashMap<String, ValueSet> = HashMap::new();
        for d in vs_doc
            .descendants()
            .filter(|n| n.has_tag_name("ValueSetDefinition"))
        {
            let id = attr(&d, "BindingIdentifier");
            let set = sets.entry(id.to_owned()).or_default();
            for v in d.children().filter(|c| c.has_tag_name("ValueElement")) {
                set.add(attr(&v, "Value"));
            }
            // HL7 2.5.1 table 0396 has `HL7nnnn` (the HL7 table nnnn, e.g. HL70163 for body
            // sites, the guide's own examples use them); the NIST libraries leave it out.
            if id.starts_with("HL70396") {
                set.add("HL7nnnn");
            }
        }
        let unvalidated = vs_doc
            .descendants()
            .filter(|n| n.has_tag_name("BindingIdentifier"))
            .filter_map(|n| n.text().map(str::to_owned))
            .collect();

        let c_doc = Document::parse(constraints)?;
        let croot = c_doc.root_element();
        let section = |tag: &str| croot.children().find(|c| c.has_tag_name(tag));
        let (dt_c, seg_c) = by_id(section("Constraints"), "Constraint", |c| {
            let id = attr(&c, "ID").to_owned();
            let Some(assertion) = body(c, "Assertion", &id)? else {
                return Ok(None);
            };
            let Some(target) = parse_path(attr(&c, "Target")) else {
                return Ok(None);
            };
            let description = c
                .children()
                .find(|d| d.has_tag_name("Description"))
                .and_then(|d| d.text())
                .map(|t| t.split_whitespace().collect::<Vec<_>>().join(" "))
                .unwrap_or_default();
            Ok(Some(Constraint {
                id,
                target,
                description,
                assertion,
            }))
        })?;
        let (dt_p, seg_p) = by_id(section("Predicates"), "Predicate", |p| {
            let id = attr(&p, "ID").to_owned();
            let Some(condition) = body(p, "Condition", &id)? else {
                return Ok(None);
            };
            let Some(target) = parse_path(attr(&p, "Target")) else {
                return Ok(None);
            };
            Ok(Some(Predicate {
                target,
                true_usage: Usage::parse(attr(&p, "TrueUsage")),
                false_usage: Usage::parse(attr(&p, "FalseUsage")),
                condition,
            }))
        })?;

        Ok(Profile {
            identifier: attr(&message, "Identifier").to_owned(),
            message_type: attr(&message, "Type").to_owned(),
            event: attr(&message, "Event").to_owned(),
            structure,
            segments,
            datatypes,
            value_sets: sets,
            unvalidated_value_sets: unvalidated,
            segment_constraints: seg_c,
            datatype_constraints: dt_c,
            segment_predicates: seg_p,
            datatype_predicates: dt_p,
        })
    }

    /// VXU^V04, profile Z22.
    pub fn z22() -> &'static Profile {
        static P: OnceLock<Profile> = OnceLock::new();
        P.get_or_init(|| {
            Profile::from_xml(
                include_str!("../profiles/VXU-Z22_Profile.xml"),
                include_str!("../profiles/VXU-Z22_Constraints.xml"),
                include_str!("../profiles/VXU-Z22_ValueSetLibrary.xml"),
            )
            .expect("the shipped Z22 profile loads (tested)")
        })
    }

    /// QBP^Q11, profile Z34 (request complete immunization history).
    pub fn z34() -> &'static Profile {
        static P: OnceLock<Profile> = OnceLock::new();
        P.get_or_init(|| {
            Profile::from_xml(
                include_str!("../profiles/QBP-Z34_Profile.xml"),
                include_str!("../profiles/QBP-Z34_Constraints.xml"),
                include_str!("../profiles/QBP-Z34_ValueSetLibrary.xml"),
            )
            .expect("the shipped Z34 profile loads (tested)")
        })
    }

    /// ACK^V04, profile Z23: the structure of our own acknowledgements (NIST ships no
    /// constraints or value sets for it), used to check what this crate builds.
    pub fn z23() -> &'static Profile {
        static P: OnceLock<Profile> = OnceLock::new();
        P.get_or_init(|| {
            Profile::from_xml(
                include_str!("../profiles/ACK-Z23_Profile.xml"),
                "<ConformanceContext/>",
                "<ValueSetLibrary/>",
            )
            .expect("the shipped Z23 profile loads (tested)")
        })
    }

    /// QBP^Q11, profile Z44 (request evaluated history and forecast).
    pub fn z44() -> &'static Profile {
        static P: OnceLock<Profile> = OnceLock::new();
        P.get_or_init(|| {
            Profile::from_xml(
                include_str!("../profiles/QBP-Z44_Profile.xml"),
                include_str!("../profiles/QBP-Z44_Constraints.xml"),
                include_str!("../profiles/QBP-Z44_ValueSetLibrary.xml"),
            )
            .expect("the shipped Z44 profile loads (tested)")
        })
    }

    /// Whether `code` is in any of `bindings`; `None` when none of them can be checked (unknown
    /// or marked "no validation" in the library).
    pub fn in_value_set(&self, bindings: &[String], code: &str) -> Option<bool> {
        let mut checked = false;
        for b in bindings {
            if self.unvalidated_value_sets.contains(b) {
                continue;
            }
            if let Some(set) = self.value_sets.get(b) {
                if set.contains(code) {
                    return Some(true);
                }
                checked = true;
            }
        }
        checked.then_some(false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_profiles_load_with_their_rules() {
        let z22 = Profile::z22();
        assert_eq!(
            (
                z22.identifier.as_str(),
                z22.message_type.as_str(),
                z22.event.as_str()
            ),
            ("Z22", "VXU", "V04")
        );
        assert_eq!(z22.structure[0].anchor(), "MSH");
        let rxa = z22.segments.get("RXA_IZ 1_5_Z22").expect("RXA");
        assert_eq!(rxa.fields[4].bindings, ["CVX", "NDC_Use", "NDC_Sale"]);
        assert!(z22.value_sets["CVX"].contains("08"));
        let systems = &z22.value_sets["HL70396_IZ"];
        assert!(
            systems.contains("HL70163") && systems.contains("99ABC") && systems.contains("CVX")
        );
        assert!(!systems.contains("HL7016") && !systems.contains("99AB!"));
        assert!(z22
            .segment_constraints
            .get("MSH_IZ 1_5_Z22")
            .is_some_and(|c| c.len() > 3));
        assert!(z22.datatype_predicates.contains_key("XCN_IZ"));
        for p in [Profile::z34(), Profile::z44()] {
            assert_eq!((p.message_type.as_str(), p.event.as_str()), ("QBP", "Q11"));
        }
        assert_eq!(Profile::z34().identifier, "Z34");
        assert_eq!(Profile::z44().identifier, "Z44");
    }
}
