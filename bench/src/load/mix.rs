//! The operation mix: what each simulated caller asks, as whom, about whom.
//!
//! Every request is one a real caller of that role may make under the access policy, so any
//! error the run reports is the gateway's, not the benchmark's: providers read, search and
//! write their own patients (children with doses they administered, unlocked or locked to
//! them), schools read their own enrolled students, the auditor reads the access log.

use chrono::{Days, NaiveDate};
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use serde_json::{json, Value};
use uuid::Uuid;

/// One kind of request of the mix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Read,
    Search,
    Write,
    Roster,
    Audit,
    Compliance,
    Consent,
}

impl Op {
    pub const ALL: [Op; 7] = [
        Op::Read,
        Op::Search,
        Op::Write,
        Op::Roster,
        Op::Audit,
        Op::Compliance,
        Op::Consent,
    ];

    /// The name used by `--mix` and in the report.
    pub fn key(self) -> &'static str {
        match self {
            Op::Read => "read",
            Op::Search => "search",
            Op::Write => "write",
            Op::Roster => "roster",
            Op::Audit => "audit",
            Op::Compliance => "compliance",
            Op::Consent => "consent",
        }
    }

    pub fn describe(self) -> &'static str {
        match self {
            Op::Read => "provider: person(id) with doses, forecast, guardians, contraindications",
            Op::Search => "provider: persons(filter) by name and/or date of birth, first 10",
            Op::Write => "provider: recordDose for a patient",
            Op::Roster => "school: roster(organizationId, grade, first: 50)",
            Op::Audit => "auditor: accessLog by person or by organization's writes, first 20",
            Op::Compliance => "school: person(id).schoolCompliance of a student",
            Op::Consent => "provider: person(id).consent with its history",
        }
    }

    pub fn index(self) -> usize {
        self as usize
    }
}

/// The default mix, in percent: mostly clinical reads, as a registry sees from EHRs and portals.
pub const DEFAULT_MIX: &str = "read=55,search=15,write=15,roster=5,audit=5,compliance=3,consent=2";

#[derive(Debug, thiserror::Error)]
pub enum MixError {
    #[error("`{0}` is not `operation=weight` (operations: read, search, write, roster, audit, compliance, consent)")]
    Malformed(String),
    #[error("the mix gives no operation a weight")]
    Empty,
}

/// Relative weights of the operations.
#[derive(Debug, Clone)]
pub struct Mix {
    /// Cumulative weights in [`Op::ALL`] order.
    cumulative: [u32; Op::ALL.len()],
}

impl Mix {
    /// Parses `read=55,search=15,…`; operations left out get no weight.
    pub fn parse(text: &str) -> Result<Mix, MixError> {
        let mut weights = [0u32; Op::ALL.len()];
        for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (name, weight) = part
                .split_once('=')
                .ok_or_else(|| MixError::Malformed(part.to_owned()))?;
            let op = Op::ALL
                .into_iter()
                .find(|o| o.key() == name.trim())
                .ok_or_else(|| MixError::Malformed(part.to_owned()))?;
            weights[op.index()] = weight
                .trim()
                .parse()
                .map_err(|_| MixError::Malformed(part.to_owned()))?;
        }
        let mut cumulative = [0u32; Op::ALL.len()];
        let mut sum = 0;
        for (c, w) in cumulative.iter_mut().zip(weights) {
            sum += w;
            *c = sum;
        }
        if sum == 0 {
            return Err(MixError::Empty);
        }
        Ok(Mix { cumulative })
    }

    fn total(&self) -> u32 {
        self.cumulative[Op::ALL.len() - 1]
    }

    /// The share of `op`, in percent.
    pub fn percent(&self, op: Op) -> f64 {
        let i = op.index();
        let below = if i == 0 { 0 } else { self.cumulative[i - 1] };
        f64::from(self.cumulative[i] - below) * 100.0 / f64::from(self.total())
    }

    fn pick(&self, rng: &mut StdRng) -> Op {
        let roll = rng.gen_range(0..self.total());
        let i = self.cumulative.partition_point(|&c| c <= roll);
        Op::ALL[i]
    }
}

/// Zipf-distributed ranks (exponent 1): over a provider's ~1,600 patients the busiest fifth
/// draw ~80% of the requests, so the record cache sees the reuse a real practice gives it
/// rather than the all-hits of one hot record or the all-misses of uniform ids.
#[derive(Debug, Clone)]
pub struct Zipf {
    cumulative: Vec<f64>,
}

impl Zipf {
    pub fn new(n: usize) -> Zipf {
        let mut sum = 0.0;
        let cumulative = (1..=n)
            .map(|rank| {
                sum += 1.0 / rank as f64;
                sum
            })
            .collect();
        Zipf { cumulative }
    }

    pub fn sample(&self, rng: &mut StdRng) -> usize {
        let total = self.cumulative.last().copied().unwrap_or(0.0);
        let u = rng.gen::<f64>() * total;
        self.cumulative
            .partition_point(|&c| c < u)
            .min(self.cumulative.len().saturating_sub(1))
    }
}

/// A person a request names, with what a search for them would type.
#[derive(Debug, Clone)]
pub struct Patient {
    pub id: Uuid,
    pub first_name: String,
    pub last_name: String,
    pub date_of_birth: NaiveDate,
}

/// A provider organization's caller and its patients, most requested first.
#[derive(Debug)]
pub struct Provider {
    pub org: Uuid,
    pub token: String,
    pub patients: Vec<Patient>,
    pub zipf: Zipf,
}

/// A school's caller, its grades and its readable students.
#[derive(Debug)]
pub struct School {
    pub org: Uuid,
    pub token: String,
    pub grades: Vec<String>,
    pub students: Vec<Uuid>,
}

/// Everything the workers draw requests from.
#[derive(Debug)]
pub struct Plan {
    pub mix: Mix,
    pub providers: Vec<Provider>,
    pub schools: Vec<School>,
    pub auditor: String,
    /// The latest date a dose may be given: a day before today in UTC, so never in the
    /// registry's future whatever its time zone.
    pub latest_dose_date: NaiveDate,
}

/// One request to send.
pub struct Request<'a> {
    pub op: Op,
    pub token: &'a str,
    pub body: Value,
}

const READ: &str = "query PersonRecord($id: ID!) {
  person(id: $id) {
    id firstName middleName lastName dateOfBirth gender
    contact { addressLine1 city state postalCode phone }
    guardians { relationship person { id firstName lastName contact { phone } } }
    doses {
      id vaccine { cvx name vaccineGroups } dateGiven manufacturer lotNumber site route
      administeredBy { id name } evaluation { status reason }
    }
    recommendations {
      vaccineGroup status doseNumber earliestDate recommendedDate pastDueDate
      vaccines { cvx name }
    }
    contraindications { kind vaccineGroup reason expiresOn }
  }
}";

const SEARCH: &str = "query FindPatient($filter: PersonFilter!) {
  persons(filter: $filter, first: 10) {
    edges { node { id firstName lastName dateOfBirth gender contact { city postalCode } } }
    pageInfo { hasNextPage endCursor }
  }
}";

const WRITE: &str = "mutation RecordDose($input: DoseInput!) {
  recordDose(input: $input) { stored duplicateOf dose { id vaccine { cvx } dateGiven } }
}";

const ROSTER: &str = "query SchoolRoster($org: ID!, $grade: String) {
  roster(organizationId: $org, grade: $grade, first: 50) {
    totals { compliant inProgress exempt notCompliant }
    hiddenCount
    pageInfo { hasNextPage endCursor }
    edges { node {
      grade
      person { id firstName lastName dateOfBirth }
      compliance { status requirements { vaccineGroup dosesCounted dosesRequired status exemption nextDueDate } }
    } }
  }
}";

const AUDIT: &str = "query AccessHistory($filter: AccessLogFilter) {
  accessLog(filter: $filter, first: 20) {
    edges { node {
      id at subject role organizationId purpose action personIds fields requestId outcome reason
    } }
    pageInfo { hasNextPage endCursor }
  }
}";

const COMPLIANCE: &str = "query StudentCompliance($id: ID!, $org: ID!) {
  person(id: $id) {
    id firstName lastName dateOfBirth
    schoolCompliance(organizationId: $org) {
      status requirements { vaccineGroup dosesCounted dosesRequired status exemption nextDueDate }
    }
  }
}";

const CONSENT: &str = "query PatientConsent($id: ID!) {
  person(id: $id) {
    id
    consent {
      participation reminders lockedTo { id name }
      history { at changedBy channel participation lockedToId reminders }
    }
  }
}";

/// Vaccines a clinic records for a school-age or younger patient outside the routine
/// schedule (influenza, COVID-19), so a write rarely duplicates a seeded dose.
const WRITE_CVX: [&str; 5] = ["150", "158", "171", "208", "309"];
const MVX: [&str; 4] = ["SKB", "PMC", "SEQ", "PFR"];

fn body(query: &str, variables: Value) -> Value {
    json!({ "query": query, "variables": variables })
}

impl Plan {
    /// A generator of requests for one worker, deterministic for `seed`.
    pub fn rng(seed: u64) -> StdRng {
        StdRng::seed_from_u64(seed)
    }

    /// The next request of the mix.
    pub fn next(&self, rng: &mut StdRng) -> Request<'_> {
        let op = self.mix.pick(rng);
        match op {
            Op::Read | Op::Consent => {
                let (provider, patient) = self.patient(rng);
                let query = if op == Op::Read { READ } else { CONSENT };
                Request {
                    op,
                    token: &provider.token,
                    body: body(query, json!({ "id": patient.id })),
                }
            }
            Op::Search => {
                let (provider, patient) = self.patient(rng);
                // What a front desk types: surname and birth date from a card, a name
                // prefix and first name on the phone, or everything.
                let filter = match rng.gen_range(0..10) {
                    0..=4 => {
                        json!({ "lastName": patient.last_name, "dateOfBirth": patient.date_of_birth })
                    }
                    5..=7 => json!({
                        "lastName": patient.last_name.chars().take(3).collect::<String>(),
                        "firstName": patient.first_name,
                    }),
                    _ => json!({
                        "lastName": patient.last_name,
                        "firstName": patient.first_name,
                        "dateOfBirth": patient.date_of_birth,
                    }),
                };
                Request {
                    op,
                    token: &provider.token,
                    body: body(SEARCH, json!({ "filter": filter })),
                }
            }
            Op::Write => {
                let (provider, patient) = self.patient(rng);
                let back = Days::new(rng.gen_range(0..60));
                let given = self
                    .latest_dose_date
                    .checked_sub_days(back)
                    .unwrap_or(self.latest_dose_date)
                    .max(patient.date_of_birth);
                let cvx = WRITE_CVX.choose(rng).copied().unwrap_or("150");
                let mvx = MVX.choose(rng).copied().unwrap_or("SKB");
                let input = json!({
                    "personId": patient.id,
                    "cvx": cvx,
                    "dateGiven": given,
                    "manufacturer": mvx,
                    "lotNumber": format!("LD{:06}", rng.gen_range(0..1_000_000)),
                    "site": "LA",
                    "route": "IM",
                });
                Request {
                    op,
                    token: &provider.token,
                    body: body(WRITE, json!({ "input": input })),
                }
            }
            Op::Roster => {
                let school = self.school(rng);
                let grade = school.grades.choose(rng);
                Request {
                    op,
                    token: &school.token,
                    body: body(ROSTER, json!({ "org": school.org, "grade": grade })),
                }
            }
            Op::Compliance => {
                let school = self.school(rng);
                let student = school.students.choose(rng).copied().unwrap_or_default();
                Request {
                    op,
                    token: &school.token,
                    body: body(COMPLIANCE, json!({ "id": student, "org": school.org })),
                }
            }
            Op::Audit => {
                // Who looked at this patient (a complaint), or what this clinic wrote.
                let filter = if rng.gen_bool(0.6) {
                    json!({ "personId": self.patient(rng).1.id })
                } else {
                    json!({ "organizationId": self.provider(rng).org, "action": "WRITE" })
                };
                Request {
                    op,
                    token: &self.auditor,
                    body: body(AUDIT, json!({ "filter": filter })),
                }
            }
        }
    }

    fn provider(&self, rng: &mut StdRng) -> &Provider {
        &self.providers[rng.gen_range(0..self.providers.len())]
    }

    fn patient(&self, rng: &mut StdRng) -> (&Provider, &Patient) {
        let provider = self.provider(rng);
        let patient = &provider.patients[provider.zipf.sample(rng)];
        (provider, patient)
    }

    fn school(&self, rng: &mut StdRng) -> &School {
        &self.schools[rng.gen_range(0..self.schools.len())]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_mix_adds_up_to_one_hundred() {
        let mix = Mix::parse(DEFAULT_MIX).expect("mix");
        let sum: f64 = Op::ALL.into_iter().map(|o| mix.percent(o)).sum();
        assert!((sum - 100.0).abs() < 1e-9);
        assert!((mix.percent(Op::Read) - 55.0).abs() < 1e-9);
    }

    #[test]
    fn a_mix_picks_only_weighted_operations() {
        let mix = Mix::parse("search=1, audit=3").expect("mix");
        let mut rng = Plan::rng(7);
        let picks: Vec<Op> = (0..1000).map(|_| mix.pick(&mut rng)).collect();
        assert!(picks.iter().all(|o| matches!(o, Op::Search | Op::Audit)));
        let audits = picks.iter().filter(|o| **o == Op::Audit).count();
        assert!((650..850).contains(&audits), "{audits}");
        assert!(Mix::parse("read=x").is_err());
        assert!(Mix::parse("reads=1").is_err());
        assert!(Mix::parse("read=0").is_err());
    }

    #[test]
    fn zipf_ranks_favour_the_head() {
        let z = Zipf::new(1600);
        let mut rng = Plan::rng(1);
        let head = (0..10_000).filter(|_| z.sample(&mut rng) < 320).count();
        assert!((7_500..8_500).contains(&head), "{head}");
    }
}
