//! Which manufacturers (MVX) make which vaccines (CVX), for the CVX/MVX consistency warning of
//! the data-quality checks. From the CDC's "Product name, CVX and MVX" table, for the vaccines
//! US providers report most; a CVX not listed here is not checked (no false warnings).

/// Manufacturers of each listed CVX.
const PRODUCTS: &[(&str, &[&str])] = &[
    ("03", &["MSD", "SKB"]),
    ("08", &["MSD", "SKB"]),
    ("10", &["PMC"]),
    ("20", &["PMC", "SKB"]),
    ("21", &["MSD"]),
    ("24", &["EMB", "MIP"]),
    ("33", &["MSD"]),
    ("43", &["MSD", "SKB"]),
    ("49", &["MSD"]),
    ("52", &["MSD", "SKB"]),
    ("62", &["MSD"]),
    ("83", &["MSD", "SKB"]),
    ("94", &["MSD"]),
    ("100", &["WAL", "PFR"]),
    ("104", &["SKB"]),
    ("106", &["PMC"]),
    ("110", &["SKB"]),
    ("113", &["PMC", "MBL"]),
    ("114", &["PMC"]),
    ("115", &["PMC", "SKB"]),
    ("116", &["MSD"]),
    ("119", &["SKB"]),
    ("120", &["PMC"]),
    ("121", &["MSD"]),
    ("130", &["PMC"]),
    ("133", &["PFR"]),
    ("136", &["NOV", "GSK"]),
    ("148", &["SKB"]),
    ("150", &["PMC", "SKB", "IDB", "SEQ", "NOV"]),
    ("158", &["SEQ", "NOV"]),
    ("165", &["MSD"]),
    ("171", &["SEQ", "NOV"]),
    ("187", &["SKB"]),
    ("189", &["DVX"]),
    ("207", &["MOD"]),
    ("208", &["PFR"]),
    ("210", &["ASZ"]),
    ("211", &["NVX"]),
    ("212", &["JSN"]),
    ("215", &["PFR"]),
    ("216", &["PFR"]),
    ("217", &["PFR"]),
    ("218", &["PFR"]),
    ("219", &["PFR"]),
    ("221", &["MOD"]),
    ("228", &["MOD"]),
    ("229", &["MOD"]),
    ("230", &["MOD"]),
    ("300", &["PFR"]),
    ("301", &["PFR"]),
    ("302", &["MOD"]),
    ("303", &["MOD"]),
];

/// Whether `mvx` makes `cvx`, as far as the table knows (an unlisted CVX is not judged).
pub(crate) fn made_by(cvx: &str, mvx: &str) -> bool {
    PRODUCTS
        .iter()
        .find(|(c, _)| *c == cvx)
        .is_none_or(|(_, makers)| makers.contains(&mvx))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_products_are_checked_and_unknown_ones_pass() {
        assert!(made_by("208", "PFR"));
        assert!(!made_by("208", "MOD"));
        assert!(!made_by("08", "PFR"));
        assert!(made_by("999", "XYZ"));
    }
}
