//! The shipped model and thresholds (`src/defaults.rs`) are what the calibration gives on the
//! development files: EM over the four files' pairs (no labels), thresholds for the most
//! agreement within the false-merge floor. Run with `IDENTITY_PRINT_DEFAULTS=1` and
//! `--nocapture` to print the values to paste after changing a comparator.

mod support;

use identity::{Field, MatchConfig};

#[test]
fn shipped_model_and_thresholds_are_the_calibration_of_the_development_files() {
    let loaded = support::load_all(&support::FILES);
    let (model, thresholds) = support::calibrate(&loaded);
    if std::env::var("IDENTITY_PRINT_DEFAULTS").is_ok() {
        println!("prior {:.4} thresholds {thresholds:?}", model.prior);
        for p in &model.fields {
            let list = |v: &[f64]| {
                v.iter()
                    .map(|x| format!("{x:.6}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            println!(
                "        (Field::{:?}, &[{}], &[{}]),",
                p.field,
                list(&p.m),
                list(&p.u)
            );
        }
    }
    let shipped = MatchConfig::default();
    for (estimated, configured) in model.fields.iter().zip(&shipped.model.fields) {
        assert_eq!(estimated.field, configured.field);
        for (level, (e, c)) in estimated
            .m
            .iter()
            .zip(&configured.m)
            .chain(estimated.u.iter().zip(&configured.u))
            .enumerate()
        {
            assert!(
                (e - c).abs() < 1e-4,
                "{:?} level {level}: estimated {e}, shipped {c}",
                estimated.field
            );
        }
    }
    assert_eq!(shipped.model.fields.len(), Field::ALL.len());
    // The shipped thresholds separate the development pairs as the calibrated ones do.
    for (c, p) in loaded.comparisons.iter().zip(&loaded.pairs) {
        let s = shipped.model.score(c);
        assert_eq!(
            s >= shipped.thresholds.match_at,
            s >= thresholds.match_at,
            "{}: score {s} against match thresholds {} / {}",
            p.test,
            shipped.thresholds.match_at,
            thresholds.match_at
        );
        assert_eq!(
            s >= shipped.thresholds.possible_at,
            s >= thresholds.possible_at,
            "{}: score {s} against possible thresholds {} / {}",
            p.test,
            shipped.thresholds.possible_at,
            thresholds.possible_at
        );
    }
}
