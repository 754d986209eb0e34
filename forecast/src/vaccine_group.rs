//! Vaccine groups: the stable public identifiers, their canonical names and the
//! spellings found in test cases and other systems.

use serde::{Deserialize, Serialize};

macro_rules! groups {
    ($($v:ident => $name:literal),* $(,)?) => {
        /// A CDSi vaccine group (the unit a forecast is given for).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        pub enum VaccineGroup { $($v),* }

        impl VaccineGroup {
            /// Every group, in canonical order.
            pub const ALL: &'static [VaccineGroup] = &[$(VaccineGroup::$v),*];

            /// The canonical name (as in the CDC's ScheduleSupportingData).
            pub fn name(self) -> &'static str {
                match self { $(VaccineGroup::$v => $name),* }
            }
        }
    };
}

groups! {
    Chikungunya => "Chikungunya",
    Cholera => "Cholera",
    Covid19 => "COVID-19",
    Dengue => "Dengue",
    DtapTdapTd => "DTaP/Tdap/Td",
    Ebola => "Ebola",
    HepA => "HepA",
    HepB => "HepB",
    Hib => "Hib",
    Hpv => "HPV",
    Influenza => "Influenza",
    JapaneseEncephalitis => "Japanese Encephalitis",
    Meningococcal => "Meningococcal",
    MeningococcalB => "Meningococcal B",
    Mmr => "MMR",
    Orthopoxvirus => "Orthopoxvirus",
    Pneumococcal => "Pneumococcal",
    Polio => "Polio",
    Rabies => "Rabies",
    Rotavirus => "Rotavirus",
    Rsv => "RSV",
    Tbe => "TBE",
    Typhoid => "Typhoid",
    Varicella => "Varicella",
    YellowFever => "Yellow Fever",
    Zoster => "Zoster",
}

impl VaccineGroup {
    /// Maps a name as found in CDSi test cases and common usage (case-insensitive:
    /// `DTAP`, `POL`, `IPOL`, `HIB`, `VAR`, `MCV`, `MENB`, `ROTA`, `PCV`, `FLU`,
    /// `ZOSTER`, `Meningococcal B`, `Pneumococcal`, ...) to its group.
    pub fn from_name(name: &str) -> Option<VaccineGroup> {
        let key: String = name
            .chars()
            .filter(|c| c.is_ascii_alphanumeric())
            .map(|c| c.to_ascii_lowercase())
            .collect();
        let g = match key.as_str() {
            "chikungunya" | "chik" => VaccineGroup::Chikungunya,
            "cholera" => VaccineGroup::Cholera,
            "covid19" | "covid" | "sarscov2" => VaccineGroup::Covid19,
            "dengue" => VaccineGroup::Dengue,
            "dtap" | "dtaptdaptd" | "tdap" | "td" | "dtp" => VaccineGroup::DtapTdapTd,
            "ebola" => VaccineGroup::Ebola,
            "hepa" | "hepatitisa" => VaccineGroup::HepA,
            "hepb" | "hepatitisb" => VaccineGroup::HepB,
            "hib" => VaccineGroup::Hib,
            "hpv" => VaccineGroup::Hpv,
            "flu" | "influenza" => VaccineGroup::Influenza,
            "japaneseencephalitis" | "je" => VaccineGroup::JapaneseEncephalitis,
            "mcv" | "mening" | "meningococcal" | "menacwy" | "mcv4" => VaccineGroup::Meningococcal,
            "menb" | "meningococcalb" => VaccineGroup::MeningococcalB,
            "mmr" => VaccineGroup::Mmr,
            "orthopoxvirus" | "mpox" | "smallpox" => VaccineGroup::Orthopoxvirus,
            "pcv" | "pneumo" | "pneumococcal" | "ppsv" => VaccineGroup::Pneumococcal,
            "pol" | "polio" | "ipol" | "ipv" => VaccineGroup::Polio,
            "rabies" => VaccineGroup::Rabies,
            "rota" | "rotavirus" => VaccineGroup::Rotavirus,
            "rsv" => VaccineGroup::Rsv,
            "tbe" => VaccineGroup::Tbe,
            "typhoid" => VaccineGroup::Typhoid,
            "var" | "varicella" | "vzv" => VaccineGroup::Varicella,
            "yellowfever" | "yf" => VaccineGroup::YellowFever,
            "zoster" | "shingles" => VaccineGroup::Zoster,
            _ => return None,
        };
        Some(g)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vaccine_group_names_from_case_files() {
        assert_eq!(
            VaccineGroup::from_name("DTAP"),
            Some(VaccineGroup::DtapTdapTd)
        );
        assert_eq!(VaccineGroup::from_name("IPOL"), Some(VaccineGroup::Polio));
        assert_eq!(
            VaccineGroup::from_name("Meningococcal B"),
            Some(VaccineGroup::MeningococcalB)
        );
        assert_eq!(
            VaccineGroup::from_name("MCV"),
            Some(VaccineGroup::Meningococcal)
        );
        assert_eq!(
            VaccineGroup::from_name("COVID-19"),
            Some(VaccineGroup::Covid19)
        );
        for g in VaccineGroup::ALL {
            assert_eq!(VaccineGroup::from_name(g.name()), Some(*g));
        }
    }
}
