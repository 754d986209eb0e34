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
            // The alias lets a record aggregated to JSON by the database (stored spellings)
            // decode with the same `Deserialize` the cache uses (variant names).
            $(#[sea_orm(string_value = $text)] #[serde(alias = $text)] $variant,)+
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
