//! Coded values stored as strings. They are enums here so that nothing above this crate ever
//! compares a code as a string; the stored spelling is the GraphQL enum value.

use sea_orm::entity::prelude::*;

macro_rules! stored_enum {
    ($(#[$meta:meta])* $name:ident { $($variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(
            Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum,
            serde::Serialize, serde::Deserialize,
        )]
        #[sea_orm(rs_type = "String", db_type = "String(StringLen::N(32))")]
        pub enum $name {
            $(#[sea_orm(string_value = $text)] $variant,)+
        }

        impl $name {
            /// The stored and GraphQL spelling.
            pub fn as_str(self) -> &'static str {
                match self { $(Self::$variant => $text,)+ }
            }

            /// Parses the stored spelling.
            pub fn parse(s: &str) -> Option<Self> {
                match s { $($text => Some(Self::$variant),)+ _ => None }
            }
        }
    };
}

stored_enum!(
    /// What an organization is; it decides which roles its staff may hold.
    OrganizationKind {
        Clinic = "CLINIC",
        Hospital = "HOSPITAL",
        Pharmacy = "PHARMACY",
        PublicHealthAgency = "PUBLIC_HEALTH_AGENCY",
        School = "SCHOOL",
        ChildCare = "CHILD_CARE",
        HealthPlan = "HEALTH_PLAN",
        Registry = "REGISTRY",
    }
);

stored_enum!(
    /// HL7 administrative sex.
    Gender {
        Female = "FEMALE",
        Male = "MALE",
        Nonbinary = "NONBINARY",
        Unknown = "UNKNOWN",
    }
);

stored_enum!(
    /// Whether the person takes part in the registry.
    Participation {
        Participating = "PARTICIPATING",
        OptedOut = "OPTED_OUT",
    }
);

stored_enum!(
    ContraindicationKind {
        Contraindication = "CONTRAINDICATION",
        Precaution = "PRECAUTION",
        Immunity = "IMMUNITY",
        MedicalExemption = "MEDICAL_EXEMPTION",
        NonMedicalExemption = "NON_MEDICAL_EXEMPTION",
    }
);

stored_enum!(
    /// Who documented a recorded immunity (a history of disease or laboratory evidence).
    ImmunityDocumenter {
        Provider = "PROVIDER",
        Parent = "PARENT",
        Laboratory = "LABORATORY",
    }
);

stored_enum!(
    AccessAction {
        Read = "READ",
        Search = "SEARCH",
        Roster = "ROSTER",
        Write = "WRITE",
        Export = "EXPORT",
        Consent = "CONSENT",
        Denied = "DENIED",
        Merge = "MERGE",
    }
);

stored_enum!(
    AccessOutcome {
        Allowed = "ALLOWED",
        Denied = "DENIED",
    }
);

stored_enum!(
    /// How a consent change reached the registry.
    ConsentChannel {
        Portal = "PORTAL",
        Phone = "PHONE",
        Form = "FORM",
        Provider = "PROVIDER",
    }
);

stored_enum!(
    /// A person's registry status (issue 15). Only `ACTIVE` persons are in a population: a
    /// reminder/recall run, a coverage figure or a roster job leaves the others out.
    /// `INACTIVE` covers HL7 PD1-16 `I`, `L` (lost to follow-up) and `P` (permanently
    /// inactive); `MOVED` is `M` (moved or gone elsewhere); `DECEASED` comes from a death
    /// record (vital records) or PID-30.
    PersonStatus {
        Active = "ACTIVE",
        Inactive = "INACTIVE",
        Moved = "MOVED",
        Deceased = "DECEASED",
    }
);

impl PersonStatus {
    /// The status an HL7 v2 PD1-16 (Immunization Registry Status, table 0441) code stands
    /// for; `None` for `U` (unknown) and anything else, which leaves the status as it is.
    pub fn from_hl7(code: &str) -> Option<Self> {
        match code.trim().to_ascii_uppercase().as_str() {
            "A" => Some(Self::Active),
            "I" | "L" | "P" => Some(Self::Inactive),
            "M" => Some(Self::Moved),
            _ => None,
        }
    }

    /// Whether persons of this status belong in population jobs (reminders, coverage).
    pub fn in_population(self) -> bool {
        self == Self::Active
    }
}

stored_enum!(
    /// What kind of identifier from another system a `person_identifiers` row holds
    /// (`SSN_HASH`: an HMAC of a Social Security number under the registry's key, never the
    /// number).
    IdentifierKind {
        Mrn = "MRN",
        Medicaid = "MEDICAID",
        SsnHash = "SSN_HASH",
        Other = "OTHER",
    }
);

stored_enum!(
    /// Why a `person_names` row is kept: another name the person goes by (`ALIAS`, also a
    /// name a linked submission used), or the record's name before a change (`PREVIOUS`).
    NameKind {
        Alias = "ALIAS",
        Previous = "PREVIOUS",
    }
);

stored_enum!(
    /// Where a submission about a person came from.
    SubmissionSource {
        Graphql = "GRAPHQL",
        Hl7 = "HL7",
        BirthRecord = "BIRTH_RECORD",
        DeathRecord = "DEATH_RECORD",
    }
);

stored_enum!(
    /// A review-queue item's state: open, merged by staff, or dismissed (two people).
    ReviewState {
        Open = "OPEN",
        Merged = "MERGED",
        Dismissed = "DISMISSED",
    }
);
