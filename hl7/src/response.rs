//! Acknowledgements (ACK^V04, profile Z23) and query responses (RSP^K11: Z32 one match, Z31
//! candidates, Z33 none or error, Z42 evaluated history and forecast).

use crate::er7::{Field, Message, Repetition, Segment, Separators};
use crate::issue::Issue;
use crate::segments::{Msh, Qpd};
use crate::validate::AckCode;

/// What the registry says about itself in the response header. The time is the caller's (this
/// crate has no clock): an HL7 TS with its zone, e.g. `20261203151500-0500`.
#[derive(Debug, Clone)]
pub struct ResponseHeader {
    /// MSH-3 of the response, e.g. `["IZGRAPH"]`.
    pub application: Vec<String>,
    /// MSH-4 of the response.
    pub facility: Vec<String>,
    /// MSH-7.
    pub time: String,
    /// MSH-10: unique per response.
    pub control_id: String,
}

/// MSH-10 of a text that may not parse (so that even a rejection names the message it rejects):
/// the tenth field of the first line when it begins with `MSH`.
pub fn salvage_control_id(text: &str) -> Option<String> {
    let text = text.trim_start_matches(['\u{0b}', '\u{feff}', '\r', '\n']);
    let line = text.split(['\r', '\n']).next()?;
    let rest = line.strip_prefix("MSH")?;
    let sep = rest.chars().next()?;
    if sep.is_alphanumeric() {
        return None;
    }
    let id = rest.split(sep).nth(9)?.trim();
    (!id.is_empty() && id.len() <= 199).then(|| id.to_owned())
}

/// The MSH of a response to `incoming`: sender and receiver swapped, MSH-22/23 swapped (the
/// responsible organizations, per the guide), acknowledgment types NE/NE.
fn response_msh(
    incoming: Option<&Message>,
    header: &ResponseHeader,
    kind: [&str; 3],
    profile: &str,
) -> Segment {
    let mut msh = Segment::new("MSH");
    let seps = Separators::default();
    msh.set_value(1, seps.field.to_string())
        .set_value(2, seps.encoding_characters());
    msh.set_components(3, &header.application)
        .set_components(4, &header.facility);
    if let Some(m) = incoming.and_then(|m| m.segments.first()) {
        for (to, from) in [(5, 3), (6, 4), (22, 23), (23, 22)] {
            if let Some(f) = m.field(from) {
                msh.set(to, f.clone());
            }
        }
    }
    msh.set_value(7, header.time.clone())
        .set_components(9, &kind)
        .set_value(10, header.control_id.clone())
        .set_value(
            11,
            incoming
                .and_then(|m| m.segments.first())
                .map_or("P", |s| match s.value(11) {
                    p @ ("P" | "T" | "D") => p,
                    _ => "P",
                }),
        )
        .set_value(12, "2.5.1")
        .set_value(15, "NE")
        .set_value(16, "NE")
        .set_components(21, &[profile, "CDCPHINVS"]);
    msh
}

fn msa(code: AckCode, control_id: &str) -> Segment {
    let mut s = Segment::new("MSA");
    s.set_value(1, code.code()).set_value(2, control_id);
    s
}

/// ACK^V04 (Z23) for a VXU: MSA-1 from `code`, one ERR per issue in the order given.
/// `incoming` is `None` when the text did not parse; `control_id` is then what
/// [`salvage_control_id`] found.
pub fn ack(
    incoming: Option<&Message>,
    control_id: &str,
    code: AckCode,
    issues: &[Issue],
    header: &ResponseHeader,
) -> Message {
    let mut segments = vec![
        response_msh(incoming, header, ["ACK", "V04", "ACK"], "Z23"),
        msa(code, control_id),
    ];
    segments.extend(issues.iter().map(Issue::to_segment));
    Message {
        separators: Separators::default(),
        segments,
    }
}

/// The response profile of an RSP^K11.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RspProfile {
    /// Z32: complete immunization history of the one match.
    Z32,
    /// Z31: list of candidates.
    Z31,
    /// Z33: no match, too many, or an error.
    Z33,
    /// Z42: evaluated immunization history and forecast.
    Z42,
}

impl RspProfile {
    pub fn code(self) -> &'static str {
        match self {
            RspProfile::Z32 => "Z32",
            RspProfile::Z31 => "Z31",
            RspProfile::Z33 => "Z33",
            RspProfile::Z42 => "Z42",
        }
    }
}

/// QAK-2, query response status (table 0208).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QueryStatus {
    /// OK: data found.
    Ok,
    /// NF: no data found.
    NotFound,
    /// TM: too many candidates.
    TooMany,
    /// PD: protected data (Z31 candidates are a partial list, per the guide).
    Protected,
    /// AE: application error.
    Error,
    /// AR: application reject.
    Reject,
}

impl QueryStatus {
    pub fn code(self) -> &'static str {
        match self {
            QueryStatus::Ok => "OK",
            QueryStatus::NotFound => "NF",
            QueryStatus::TooMany => "TM",
            QueryStatus::Protected => "PD",
            QueryStatus::Error => "AE",
            QueryStatus::Reject => "AR",
        }
    }
}

/// Builds an RSP^K11: MSH, MSA, ERR*, QAK, the QPD echoed, then the patient and order segments
/// the store adds, with their set ids numbered as the profiles require.
#[derive(Debug, Clone)]
pub struct RspBuilder {
    msh: Segment,
    msa: Segment,
    errors: Vec<Segment>,
    qak: Segment,
    qpd: Segment,
    body: Vec<Segment>,
    patients: usize,
}

impl RspBuilder {
    /// A response to `query` (a parsed QBP^Q11) under `profile` with QAK-2 `status`.
    pub fn new(
        query: &Message,
        header: &ResponseHeader,
        profile: RspProfile,
        status: QueryStatus,
    ) -> Self {
        let qpd = query
            .segment("QPD")
            .cloned()
            .unwrap_or_else(|| Segment::new("QPD"));
        let control_id = query
            .segments
            .first()
            .and_then(Msh::of)
            .map_or("", |m| m.control_id());
        let code = match status {
            QueryStatus::Error => AckCode::Error,
            QueryStatus::Reject => AckCode::Reject,
            _ => AckCode::Accept,
        };
        let mut qak = Segment::new("QAK");
        let view = Qpd(&qpd);
        qak.set_value(1, view.query_tag())
            .set_value(2, status.code());
        if let Some(f) = qpd.field(1) {
            qak.set(3, f.clone());
        }
        RspBuilder {
            msh: response_msh(
                Some(query),
                header,
                ["RSP", "K11", "RSP_K11"],
                profile.code(),
            ),
            msa: msa(code, control_id),
            errors: Vec::new(),
            qak,
            qpd,
            body: Vec::new(),
            patients: 0,
        }
    }

    /// One ERR after the MSA.
    pub fn error(&mut self, issue: &Issue) -> &mut Self {
        self.errors.push(issue.to_segment());
        self
    }

    /// A patient (Z32/Z42: the one match; Z31: each candidate): PID with PID-1 numbered, then PD1
    /// and the NK1s (NK1-1 numbered from 1 per patient).
    pub fn patient(
        &mut self,
        mut pid: Segment,
        pd1: Option<Segment>,
        nk1: Vec<Segment>,
    ) -> &mut Self {
        self.patients += 1;
        pid.name = "PID".into();
        pid.set_value(1, self.patients.to_string());
        self.body.push(pid);
        self.body.extend(pd1);
        for (i, mut n) in nk1.into_iter().enumerate() {
            n.set_value(1, (i + 1).to_string());
            self.body.push(n);
        }
        self
    }

    /// One ORDER group: ORC, RXA, RXR, then the OBXs with OBX-1 numbered from 1 within the
    /// group (the profiles' IZSetID constraint).
    pub fn order(
        &mut self,
        orc: Segment,
        rxa: Segment,
        rxr: Option<Segment>,
        obx: Vec<Segment>,
    ) -> &mut Self {
        self.body.push(orc);
        self.body.push(rxa);
        self.body.extend(rxr);
        for (i, mut o) in obx.into_iter().enumerate() {
            o.set_value(1, (i + 1).to_string());
            self.body.push(o);
        }
        self
    }

    pub fn build(self) -> Message {
        let mut segments = vec![self.msh, self.msa];
        segments.extend(self.errors);
        segments.push(self.qak);
        segments.push(self.qpd);
        segments.extend(self.body);
        Message {
            separators: Separators::default(),
            segments,
        }
    }
}

/// A field holding one coded value, for builders of RXA/OBX in the store.
pub fn coded_field(c: &crate::datatypes::Coded) -> Field {
    Field {
        repetitions: vec![c.to_repetition()],
    }
}

/// A field of one repetition from component values.
pub fn components(values: &[&str]) -> Field {
    Field {
        repetitions: vec![Repetition::from_values(values)],
    }
}
