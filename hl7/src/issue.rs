//! One problem found in a message, as the ERR segment of the acknowledgement reports it
//! (CDC IG 1.5, ERR segment): location (ERR-2), HL7 error code (table 0357, ERR-3), severity
//! (table 0516, ERR-4), application error code (CDC table 0533, ERR-5) and a user message (ERR-8).

use crate::er7::{Field, Segment};

/// ERR-2 (ERL): segment id, its occurrence in the message, and the position inside it.
/// Zero means "not applicable" and is left empty when written.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Location {
    pub segment: String,
    /// 1-based occurrence of this segment id in the message (the second RXA is 2).
    pub sequence: usize,
    pub field: usize,
    pub repetition: usize,
    pub component: usize,
    pub subcomponent: usize,
}

impl Location {
    pub fn segment(name: &str, sequence: usize) -> Self {
        Self {
            segment: name.to_owned(),
            sequence,
            ..Self::default()
        }
    }
    pub fn field(name: &str, sequence: usize, field: usize) -> Self {
        Self {
            field,
            repetition: 1,
            ..Self::segment(name, sequence)
        }
    }
    /// `PID^1^3^1^4` style text (empty positions trimmed), as in ERR-2.
    pub fn to_er7_components(&self) -> Vec<String> {
        let nums = [
            self.sequence,
            self.field,
            self.repetition,
            self.component,
            self.subcomponent,
        ];
        let mut v = vec![self.segment.clone()];
        v.extend(nums.iter().map(|n| {
            if *n == 0 {
                String::new()
            } else {
                n.to_string()
            }
        }));
        v
    }
}

impl std::fmt::Display for Location {
    /// `PID^1^11^1^11`: ERR-2 as written, without trailing empty positions.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let parts = self.to_er7_components();
        let n = parts
            .iter()
            .rposition(|p| !p.is_empty())
            .map_or(0, |i| i + 1);
        write!(f, "{}", parts[..n].join("^"))
    }
}

/// HL7 table 0357 (message error condition codes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Hl7ErrorCode {
    Accepted,
    SegmentSequenceError,
    RequiredFieldMissing,
    DataTypeError,
    TableValueNotFound,
    UnsupportedMessageType,
    UnsupportedEventCode,
    UnsupportedProcessingId,
    UnsupportedVersionId,
    UnknownKeyIdentifier,
    DuplicateKeyIdentifier,
    ApplicationRecordLocked,
    ApplicationInternalError,
}

impl Hl7ErrorCode {
    pub fn code(self) -> &'static str {
        use Hl7ErrorCode::*;
        match self {
            Accepted => "0",
            SegmentSequenceError => "100",
            RequiredFieldMissing => "101",
            DataTypeError => "102",
            TableValueNotFound => "103",
            UnsupportedMessageType => "200",
            UnsupportedEventCode => "201",
            UnsupportedProcessingId => "202",
            UnsupportedVersionId => "203",
            UnknownKeyIdentifier => "204",
            DuplicateKeyIdentifier => "205",
            ApplicationRecordLocked => "206",
            ApplicationInternalError => "207",
        }
    }
    pub fn text(self) -> &'static str {
        use Hl7ErrorCode::*;
        match self {
            Accepted => "Message accepted",
            SegmentSequenceError => "Segment sequence error",
            RequiredFieldMissing => "Required field missing",
            DataTypeError => "Data type error",
            TableValueNotFound => "Table value not found",
            UnsupportedMessageType => "Unsupported message type",
            UnsupportedEventCode => "Unsupported event code",
            UnsupportedProcessingId => "Unsupported processing id",
            UnsupportedVersionId => "Unsupported version id",
            UnknownKeyIdentifier => "Unknown key identifier",
            DuplicateKeyIdentifier => "Duplicate key identifier",
            ApplicationRecordLocked => "Application record locked",
            ApplicationInternalError => "Application internal error",
        }
    }
}

/// HL7 table 0516 (error severity), ERR-4.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    Information,
    Warning,
    Error,
}

impl Severity {
    pub fn code(self) -> &'static str {
        match self {
            Severity::Error => "E",
            Severity::Warning => "W",
            Severity::Information => "I",
        }
    }
}

/// CDC table 0533 (application error codes), ERR-5.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AppErrorCode {
    IllogicalDate,
    InvalidDate,
    IllogicalValue,
    InvalidValue,
    TableValueNotFound,
    RequiredObservationMissing,
    RequiredDataMissing,
    DataIgnored,
}

impl AppErrorCode {
    pub fn code(self) -> &'static str {
        use AppErrorCode::*;
        match self {
            IllogicalDate => "1",
            InvalidDate => "2",
            IllogicalValue => "3",
            InvalidValue => "4",
            TableValueNotFound => "5",
            RequiredObservationMissing => "6",
            RequiredDataMissing => "7",
            DataIgnored => "8",
        }
    }
    pub fn text(self) -> &'static str {
        use AppErrorCode::*;
        match self {
            IllogicalDate => "Illogical Date error",
            InvalidDate => "Invalid Date",
            IllogicalValue => "Illogical Value error",
            InvalidValue => "Invalid value",
            TableValueNotFound => "Table value not found",
            RequiredObservationMissing => "Required observation missing",
            RequiredDataMissing => "Required data missing",
            DataIgnored => "Data was ignored",
        }
    }
}

/// One problem: everything an ERR segment carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Issue {
    pub location: Location,
    pub code: Hl7ErrorCode,
    pub severity: Severity,
    pub app_code: Option<AppErrorCode>,
    /// ERR-8, for a person reading the ACK. Never echoes a value of the message (no PHI in
    /// acknowledgements or logs).
    pub message: String,
    /// Index into `Message::segments` of the segment concerned, when it exists (a missing
    /// segment has none): lets the store refuse just the ORDER group in error.
    pub segment_index: Option<usize>,
}

impl Issue {
    pub fn new(
        location: Location,
        code: Hl7ErrorCode,
        severity: Severity,
        app_code: Option<AppErrorCode>,
        message: impl Into<String>,
    ) -> Self {
        Self {
            location,
            code,
            severity,
            app_code,
            message: message.into(),
            segment_index: None,
        }
    }

    /// The same issue, tied to segment `index` of the message.
    pub fn at_segment(mut self, index: usize) -> Self {
        self.segment_index = Some(index);
        self
    }

    /// The ERR segment (ERR-1 is X in the CDC profile and stays empty).
    pub fn to_segment(&self) -> Segment {
        let mut err = Segment::new("ERR");
        if !self.location.segment.is_empty() {
            err.set_components(2, &self.location.to_er7_components());
        }
        err.set_components(3, &[self.code.code(), self.code.text(), "HL70357"]);
        err.set_value(4, self.severity.code());
        if let Some(app) = self.app_code {
            err.set_components(5, &[app.code(), app.text(), "HL70533"]);
        }
        if !self.message.is_empty() {
            err.set(8, Field::from_value(self.message.clone()));
        }
        err
    }
}
