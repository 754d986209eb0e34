//! Reminder letters: one page per household (US Letter), addressed to the guardian of a minor
//! (or the person), listing each person of the household with the vaccines due or overdue.

use chrono::NaiveDate;
use printpdf::{
    Color, Mm, Op, ParsedFont, PdfDocument, PdfFontHandle, PdfPage, PdfSaveOptions, Point, Pt, Rgb,
    TextItem,
};

const REGULAR: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");
const BOLD: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans-Bold.ttf");

const PAGE_W: f32 = 215.9;
const PAGE_H: f32 = 279.4;
const MARGIN: f32 = 22.0;

#[derive(Debug, thiserror::Error)]
pub enum PdfError {
    #[error("the embedded font could not be parsed")]
    Font,
}

/// One vaccine line of a letter.
#[derive(Debug, Clone)]
pub struct LetterLine {
    pub vaccine_group: String,
    /// `true`: past due (recall); `false`: due (reminder).
    pub overdue: bool,
    pub due_date: Option<NaiveDate>,
}

#[derive(Debug, Clone)]
pub struct LetterPerson {
    pub name: String,
    pub date_of_birth: NaiveDate,
    pub lines: Vec<LetterLine>,
}

/// One household's letter.
#[derive(Debug, Clone)]
pub struct Letter {
    /// "Parent or guardian of …" or the person's own name.
    pub addressee: String,
    pub address_lines: Vec<String>,
    pub persons: Vec<LetterPerson>,
}

fn black() -> Color {
    Color::Rgb(Rgb {
        r: 0.0,
        g: 0.0,
        b: 0.0,
        icc_profile: None,
    })
}

fn text(ops: &mut Vec<Op>, font: &PdfFontHandle, x: f32, y: f32, size: f32, s: &str) {
    ops.extend([
        Op::StartTextSection,
        Op::SetFillColor { col: black() },
        Op::SetFont {
            font: font.clone(),
            size: Pt(size),
        },
        Op::SetTextCursor {
            pos: Point::new(Mm(x), Mm(y)),
        },
        Op::ShowText {
            items: vec![TextItem::Text(s.to_owned())],
        },
        Op::EndTextSection,
    ]);
}

/// The letters of a reminder/recall run, one page each, dated `date` and signed by `registry`.
pub fn letters_pdf(
    registry: &str,
    date: NaiveDate,
    letters: &[Letter],
) -> Result<Vec<u8>, PdfError> {
    let mut warnings = Vec::new();
    let regular = ParsedFont::from_bytes(REGULAR, 0, &mut warnings).ok_or(PdfError::Font)?;
    let bold = ParsedFont::from_bytes(BOLD, 0, &mut warnings).ok_or(PdfError::Font)?;
    let mut doc = PdfDocument::new("Immunization reminders");
    let regular = PdfFontHandle::External(doc.add_font(&regular));
    let bold = PdfFontHandle::External(doc.add_font(&bold));
    let mut pages = Vec::with_capacity(letters.len());
    for letter in letters {
        let mut ops = Vec::new();
        let mut y = PAGE_H - MARGIN;
        let line = |ops: &mut Vec<Op>, font: &PdfFontHandle, size: f32, s: &str, y: &mut f32| {
            *y -= size * 0.3528 * 1.5;
            // A long household runs off the page rather than over the footer.
            if *y > MARGIN {
                text(ops, font, MARGIN, *y, size, s);
            }
        };
        line(&mut ops, &bold, 14.0, registry, &mut y);
        line(
            &mut ops,
            &regular,
            10.0,
            &date.format("%B %-d, %Y").to_string(),
            &mut y,
        );
        y -= 10.0;
        line(&mut ops, &regular, 11.0, &letter.addressee, &mut y);
        for a in &letter.address_lines {
            line(&mut ops, &regular, 11.0, a, &mut y);
        }
        y -= 12.0;
        line(&mut ops, &bold, 12.0, "Immunization reminder", &mut y);
        y -= 2.0;
        line(
            &mut ops,
            &regular,
            10.0,
            "Our records show that the vaccines below are due or past due. Please contact",
            &mut y,
        );
        line(
            &mut ops,
            &regular,
            10.0,
            "your health care provider to schedule a visit, or let us know if they were given.",
            &mut y,
        );
        for p in &letter.persons {
            y -= 4.0;
            line(
                &mut ops,
                &bold,
                11.0,
                &format!("{} (born {})", p.name, p.date_of_birth.format("%Y-%m-%d")),
                &mut y,
            );
            for l in &p.lines {
                let when = l
                    .due_date
                    .map(|d| d.format("%Y-%m-%d").to_string())
                    .unwrap_or_default();
                let what = if l.overdue { "past due since" } else { "due" };
                line(
                    &mut ops,
                    &regular,
                    10.0,
                    &format!("    {}: {} {}", l.vaccine_group, what, when),
                    &mut y,
                );
            }
        }
        text(
            &mut ops,
            &regular,
            MARGIN,
            MARGIN - 8.0,
            7.5,
            "You receive this letter because reminders are on for this record. To stop them, contact the registry.",
        );
        pages.push(PdfPage::new(Mm(PAGE_W), Mm(PAGE_H), ops));
    }
    if pages.is_empty() {
        let mut ops = Vec::new();
        text(
            &mut ops,
            &regular,
            MARGIN,
            PAGE_H - MARGIN - 10.0,
            11.0,
            "No letters in this run.",
        );
        pages.push(PdfPage::new(Mm(PAGE_W), Mm(PAGE_H), ops));
    }
    let mut save_warnings = Vec::new();
    Ok(doc
        .with_pages(pages)
        .save(&PdfSaveOptions::default(), &mut save_warnings))
}
