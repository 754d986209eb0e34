//! Debug helper: `cargo run -p forecast --example case -- FILE ID...` prints a
//! case, the engine's result for its vaccine group and the differences.

use forecast::cases::{check_case, Case};
use forecast::{forecast_with_dates, Schedule, VaccineGroup};

fn main() {
    let mut args = std::env::args().skip(1);
    let file = args.next().expect("usage: case FILE ID...");
    let cases: Vec<Case> =
        serde_json::from_str(&std::fs::read_to_string(file).expect("read")).expect("parse");
    let schedule = Schedule::embedded().expect("schedule");
    for id in args {
        let Some(c) = cases.iter().find(|c| c.id == id) else {
            continue;
        };
        println!(
            "== {} [{}] {}",
            c.id,
            c.vaccine_group,
            c.name.as_deref().unwrap_or("")
        );
        println!(
            "   dob {} {} assess {} obs {:?}",
            c.dob,
            c.gender,
            c.assessment_date,
            c.observations.iter().map(|o| &o.code).collect::<Vec<_>>()
        );
        let g = VaccineGroup::from_name(&c.vaccine_group).expect("group");
        let r = forecast_with_dates(
            schedule,
            &c.patient(),
            &c.observation_dates(),
            c.assessment_date,
        );
        for (d, e) in c.doses.iter().zip(&r.doses) {
            let per: Vec<String> = e
                .per_antigen
                .iter()
                .filter(|(a, _, _)| schedule.antigen_group(*a) == Some(g))
                .map(|(a, s, why)| {
                    format!(
                        "{}:{}{}",
                        schedule.antigen_name(*a),
                        s.as_str(),
                        why.as_deref().map(|w| format!("({w})")).unwrap_or_default()
                    )
                })
                .collect();
            println!(
                "   {} cvx {:>3} exp {:<10} got {}",
                d.date_administered,
                d.cvx,
                d.evaluation_status,
                per.join(" ")
            );
        }
        let names: Vec<String> = schedule
            .group_antigens(g)
            .iter()
            .map(|a| schedule.antigen_name(*a).to_string())
            .collect();
        for line in forecast::debug_antigens(
            schedule,
            &c.patient(),
            &c.observation_dates(),
            c.assessment_date,
        ) {
            if names.iter().any(|n| line.starts_with(&format!("{n}:"))) {
                println!("   {line}");
            }
        }
        let f = r.group(g).expect("group forecast");
        println!(
            "   exp {} #{:?} {:?} {:?} {:?}",
            c.expected.series_status,
            c.expected.forecast_number,
            c.expected.earliest_date,
            c.expected.recommended_date,
            c.expected.past_due_date
        );
        println!(
            "   got {} #{:?} {:?} {:?} {:?} latest {:?} via {:?}",
            f.status.as_str(),
            f.dose_number,
            f.earliest_date,
            f.recommended_date,
            f.past_due_date,
            f.latest_date,
            f.reason
        );
        for d in check_case(schedule, c).differences {
            println!("   ! {d}");
        }
    }
}
