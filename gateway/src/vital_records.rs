//! `izgraph import births FILE` and `izgraph import deaths FILE`: vital records' files
//! (issue 15).
//!
//! Births, a CSV file with a header line and these columns (any order; names as below):
//! `child_first, child_middle, child_last, birth_date (YYYY-MM-DD), sex (F/M/U),
//! multiple_birth (Y/N, blank), birth_order (blank or 1..12), mother_first, mother_last,
//! mother_maiden, mother_birth_date, street, city, state, zip, certificate`.
//! Each child goes through matching (created, linked, or created and sent to review); the mother
//! too (her maiden name kept as a previous name), and she is recorded as the child's verified
//! guardian (`verified_by` = `birth-record`).
//!
//! Deaths: `first, middle, last, birth_date, sex, death_date, certificate`. The person must be
//! matched to exactly one person (`Match`); anything less is rejected with its reason (vital
//! records never create a person from a death).
//!
//! Every line is checked whole before anything of it is written; a line that fails is reported
//! with its number and reason and the import goes on.

use std::collections::HashMap;
use std::path::Path;

use anyhow::Context as _;
use chrono::NaiveDate;
use entities::codes::{Gender, IdentifierKind, PersonStatus, SubmissionSource};
use entities::repo::persons::{Contact, NewPerson};
use entities::repo::resolve::{IdentifierInput, NameInput, Origin, Resolution, Submission};
use entities::{Access, Store};
use policies::{Principal, Role};

/// The authority vital-records certificate numbers are filed under.
const VITAL_RECORDS: &str = "VITAL-RECORDS";

/// What an import did.
#[derive(Debug, Default)]
pub struct ImportSummary {
    pub created: u64,
    pub matched: u64,
    pub review: u64,
    /// (line number, reason)
    pub rejected: Vec<(u64, String)>,
}

impl std::fmt::Display for ImportSummary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (line, reason) in &self.rejected {
            writeln!(f, "line {line}: rejected: {reason}")?;
        }
        write!(
            f,
            "{} created, {} matched, {} sent to review, {} rejected",
            self.created,
            self.matched,
            self.review,
            self.rejected.len()
        )
    }
}

/// The registry's own principal for vital-records imports: registry staff, subject
/// `birth-record` / `death-record` (which the access log and verified links show).
#[allow(
    clippy::disallowed_methods,
    reason = "a CLI import acts as the registry itself, not for a token's holder"
)]
fn registry_access(subject: &str, today: NaiveDate) -> anyhow::Result<Access> {
    let principal = Principal::from_claims(subject, Role::RegistryAdmin, None, None, None, None)?;
    Ok(Access::new(
        principal,
        today,
        format!("import-{}", uuid::Uuid::now_v7()),
    ))
}

struct Line<'a> {
    number: u64,
    fields: HashMap<&'a str, String>,
}

impl Line<'_> {
    fn get(&self, name: &str) -> Option<String> {
        self.fields
            .get(name)
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
    }

    fn required(&self, name: &str) -> Result<String, String> {
        self.get(name).ok_or_else(|| format!("{name} is missing"))
    }

    fn date(&self, name: &str) -> Result<NaiveDate, String> {
        let v = self.required(name)?;
        NaiveDate::parse_from_str(&v, "%Y-%m-%d")
            .map_err(|_| format!("{name} `{v}` is not a date (YYYY-MM-DD)"))
    }

    fn sex(&self, name: &str) -> Result<Gender, String> {
        match self
            .get(name)
            .as_deref()
            .map(str::to_ascii_uppercase)
            .as_deref()
        {
            Some("F") => Ok(Gender::Female),
            Some("M") => Ok(Gender::Male),
            Some("U") | Some("X") | None => Ok(Gender::Unknown),
            Some(other) => Err(format!("{name} `{other}` is not F, M or U")),
        }
    }
}

/// A file's lines by line number: the fields, or why the line could not be read.
type Lines = Vec<(u64, Result<Vec<String>, String>)>;

/// The header and the lines of a CSV file.
fn read(path: &Path) -> anyhow::Result<(Vec<String>, Lines)> {
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .from_path(path)
        .with_context(|| format!("reading {}", path.display()))?;
    let header: Vec<String> = reader
        .headers()
        .with_context(|| format!("{}: no header line", path.display()))?
        .iter()
        .map(|h| h.trim().to_ascii_lowercase())
        .collect();
    let mut rows = Vec::new();
    for (i, record) in reader.records().enumerate() {
        let number = i as u64 + 2;
        rows.push((
            number,
            record
                .map(|r| r.iter().map(str::to_owned).collect())
                .map_err(|e| format!("unreadable: {e}")),
        ));
    }
    Ok((header, rows))
}

fn line<'a>(header: &'a [String], number: u64, values: Vec<String>) -> Result<Line<'a>, String> {
    if values.len() != header.len() {
        return Err(format!(
            "{} fields where the header has {}",
            values.len(),
            header.len()
        ));
    }
    Ok(Line {
        number,
        fields: header.iter().map(String::as_str).zip(values).collect(),
    })
}

fn check_columns(header: &[String], needed: &[&str]) -> anyhow::Result<()> {
    let missing: Vec<&str> = needed
        .iter()
        .copied()
        .filter(|c| !header.iter().any(|h| h == c))
        .collect();
    if missing.is_empty() {
        Ok(())
    } else {
        anyhow::bail!("the header lacks {}", missing.join(", "))
    }
}

const BIRTH_COLUMNS: &[&str] = &[
    "child_first",
    "child_middle",
    "child_last",
    "birth_date",
    "sex",
    "multiple_birth",
    "birth_order",
    "mother_first",
    "mother_last",
    "mother_maiden",
    "mother_birth_date",
    "street",
    "city",
    "state",
    "zip",
    "certificate",
];

const DEATH_COLUMNS: &[&str] = &[
    "first",
    "middle",
    "last",
    "birth_date",
    "sex",
    "death_date",
    "certificate",
];

/// A birth line as the two submissions it makes (child, mother), checked whole.
fn birth(l: &Line<'_>, today: NaiveDate) -> Result<(Submission, Submission), String> {
    let dob = l.date("birth_date")?;
    if dob > today {
        return Err("birth_date is in the future".into());
    }
    let mother_dob = l.date("mother_birth_date")?;
    if mother_dob >= dob {
        return Err("mother_birth_date is not before the child's birth date".into());
    }
    let multiple = match l
        .get("multiple_birth")
        .map(|v| v.to_ascii_uppercase())
        .as_deref()
    {
        Some("Y") => Some(true),
        Some("N") => Some(false),
        None => None,
        Some(v) => return Err(format!("multiple_birth `{v}` is not Y or N")),
    };
    let order = match l.get("birth_order") {
        None => None,
        Some(v) => match v.parse::<i16>() {
            Ok(o) if (1..=12).contains(&o) => Some(o),
            _ => return Err(format!("birth_order `{v}` is not 1 to 12")),
        },
    };
    let contact = Contact {
        address_line1: l.get("street"),
        city: l.get("city"),
        state: l.get("state"),
        postal_code: l.get("zip"),
        ..Contact::default()
    };
    let (mother_first, mother_last) = (l.required("mother_first")?, l.required("mother_last")?);
    let maiden = l.get("mother_maiden");
    let mut child = Submission::of(NewPerson {
        first_name: l.required("child_first")?,
        middle_name: l.get("child_middle"),
        last_name: l.required("child_last")?,
        date_of_birth: dob,
        gender: l.sex("sex")?,
        contact: Some(contact.clone()),
    });
    child.mother_maiden_name = maiden.clone();
    child.multiple_birth = multiple.or(order.map(|o| o > 1));
    child.birth_order = order;
    child.guardians.push(NameInput {
        first_name: Some(mother_first.clone()),
        last_name: Some(mother_last.clone()),
        ..NameInput::default()
    });
    if let Some(cert) = l.get("certificate") {
        child.identifiers.push(IdentifierInput {
            kind: IdentifierKind::Other,
            authority: VITAL_RECORDS.into(),
            value: cert,
        });
    }
    let mut mother = Submission::of(NewPerson {
        first_name: mother_first,
        middle_name: None,
        last_name: mother_last,
        date_of_birth: mother_dob,
        gender: Gender::Female,
        contact: Some(contact),
    });
    if let Some(m) = maiden {
        mother.aliases.push(NameInput {
            last_name: Some(m),
            ..NameInput::default()
        });
    }
    Ok((child, mother))
}

fn count(summary: &mut ImportSummary, r: &Resolution) {
    match r {
        Resolution::Created { .. } => summary.created += 1,
        Resolution::Matched { .. } => summary.matched += 1,
        Resolution::Review { .. } => summary.review += 1,
    }
}

/// Imports a birth file; `progress` gets the lines done.
pub async fn import_births(
    store: &Store,
    path: &Path,
    today: NaiveDate,
    progress: impl Fn(u64, u64),
) -> anyhow::Result<ImportSummary> {
    let (header, rows) = read(path)?;
    check_columns(&header, BIRTH_COLUMNS)?;
    let access = registry_access("birth-record", today)?;
    let origin = Origin {
        source: SubmissionSource::BirthRecord,
        organization: None,
    };
    let mut summary = ImportSummary::default();
    let total = rows.len() as u64;
    for (done, (number, values)) in rows.into_iter().enumerate() {
        progress(done as u64, total);
        let parsed = values
            .and_then(|v| line(&header, number, v))
            .and_then(|l| birth(&l, today).map(|s| (l.number, s)));
        let (number, (child, mother)) = match parsed {
            Ok(p) => p,
            Err(reason) => {
                summary.rejected.push((number, reason));
                continue;
            }
        };
        // The child first: a child linked to an opted-out record gets nothing more.
        let outcome = async {
            let c = store.resolve_person(&access, origin, child).await?;
            if matches!(c, Resolution::Matched { stored: false, .. }) {
                return Ok::<_, entities::StoreError>(c);
            }
            let m = store.resolve_person(&access, origin, mother).await?;
            store
                .add_guardian(&access, c.person(), m.person(), "mother")
                .await?;
            Ok(c)
        }
        .await;
        match outcome {
            Ok(c) => count(&mut summary, &c),
            Err(e) => summary.rejected.push((number, e.to_string())),
        }
    }
    progress(total, total);
    Ok(summary)
}

/// Imports a death file: each person matched to exactly one is marked deceased.
pub async fn import_deaths(
    store: &Store,
    path: &Path,
    today: NaiveDate,
    progress: impl Fn(u64, u64),
) -> anyhow::Result<ImportSummary> {
    let (header, rows) = read(path)?;
    check_columns(&header, DEATH_COLUMNS)?;
    let access = registry_access("death-record", today)?;
    let mut summary = ImportSummary::default();
    let total = rows.len() as u64;
    for (done, (number, values)) in rows.into_iter().enumerate() {
        progress(done as u64, total);
        let parsed = values.and_then(|v| line(&header, number, v)).and_then(|l| {
            let death = l.date("death_date")?;
            let dob = l.date("birth_date")?;
            if death > today || death < dob {
                return Err("death_date is in the future or before the birth date".into());
            }
            let mut sub = Submission::of(NewPerson {
                first_name: l.required("first")?,
                middle_name: l.get("middle"),
                last_name: l.required("last")?,
                date_of_birth: dob,
                gender: l.sex("sex")?,
                contact: None,
            });
            if let Some(cert) = l.get("certificate") {
                sub.identifiers.push(IdentifierInput {
                    kind: IdentifierKind::Other,
                    authority: VITAL_RECORDS.into(),
                    value: cert,
                });
            }
            Ok((sub, death))
        });
        let (sub, death) = match parsed {
            Ok(p) => p,
            Err(reason) => {
                summary.rejected.push((number, reason));
                continue;
            }
        };
        let candidates = store.match_candidates(&access, &sub, 5).await?;
        let matches: Vec<_> = candidates
            .iter()
            .filter(|c| c.decision == identity::Decision::Match)
            .collect();
        match matches.as_slice() {
            [only] => {
                match store
                    .set_person_status(&access, only.person.id, PersonStatus::Deceased, Some(death))
                    .await
                {
                    Ok(_) => summary.matched += 1,
                    Err(e) => summary.rejected.push((number, e.to_string())),
                }
            }
            [] if candidates.is_empty() => summary
                .rejected
                .push((number, "no person in the registry matches".into())),
            [] => summary.rejected.push((
                number,
                format!(
                    "only possible matches ({}): not marked, staff decide",
                    candidates.len()
                ),
            )),
            _ => summary
                .rejected
                .push((number, "more than one person matches: staff decide".into())),
        }
    }
    progress(total, total);
    Ok(summary)
}
