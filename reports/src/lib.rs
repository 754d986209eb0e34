//! Population outputs (issue 17), pure: reminder letters as a PDF (`printpdf`, the DejaVu
//! fonts of `assets/fonts/` embedded), lists as CSV, coverage charts as SVG and PNG.
//!
//! The inputs are this crate's own plain types: the gateway maps a job's output rows into
//! them, so nothing here knows about storage or policy.

mod chart;
mod letters;

pub use chart::{coverage_png, coverage_svg, Bar, ChartError};
pub use letters::{letters_pdf, Letter, LetterLine, LetterPerson, PdfError};

/// A CSV file (every cell quoted) from a header and rows.
pub fn csv(
    header: &[&str],
    rows: impl IntoIterator<Item = Vec<String>>,
) -> Result<Vec<u8>, csv::Error> {
    let mut w = csv::WriterBuilder::new()
        .quote_style(csv::QuoteStyle::Always)
        .from_writer(Vec::new());
    w.write_record(header)?;
    for r in rows {
        w.write_record(&r)?;
    }
    w.into_inner().map_err(|e| csv::Error::from(e.into_error()))
}
