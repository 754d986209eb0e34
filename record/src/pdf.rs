//! The official immunization record as a PDF (US Letter), typeset with `printpdf` and the
//! DejaVu fonts of `assets/fonts/` embedded (subset), so it prints the same everywhere and
//! `pdftotext` reads it back.
//!
//! Layout is a column of lines: a heading, the person's identity, each vaccine group's valid
//! doses (date, vaccine, administering organization), the school-entry requirement status,
//! immunity and exemptions, and the SMART Health Card's QR code. A second page is started
//! when the first is full.

use printpdf::{
    Color, Mm, Op, PaintMode, ParsedFont, PdfDocument, PdfFontHandle, PdfPage, PdfSaveOptions,
    Point, Pt, Rect, Rgb, TextItem, WindingOrder,
};

use crate::OfficialRecord;

const REGULAR: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");
const BOLD: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans-Bold.ttf");

const PAGE_W: f32 = 215.9;
const PAGE_H: f32 = 279.4;
const MARGIN: f32 = 18.0;
/// Side of the printed QR code: the SMART Health Cards guide asks for a code a phone camera
/// reads at arm's length; a version-22 code at this size has modules of about 0.5 mm.
const QR_MM: f32 = 58.0;

#[derive(Debug, thiserror::Error)]
pub enum PdfError {
    #[error("the embedded font could not be parsed")]
    Font,
    #[error("the card is too long for one QR code: {0}")]
    Qr(String),
}

/// Typesets `record`; the bytes of a complete PDF file.
pub fn render(record: &OfficialRecord) -> Result<Vec<u8>, PdfError> {
    let mut warnings = Vec::new();
    let regular = ParsedFont::from_bytes(REGULAR, 0, &mut warnings).ok_or(PdfError::Font)?;
    let bold = ParsedFont::from_bytes(BOLD, 0, &mut warnings).ok_or(PdfError::Font)?;
    let mut doc = PdfDocument::new(&format!(
        "Official immunization record: {}",
        record.person.full_name()
    ));
    let fonts = Fonts {
        regular: PdfFontHandle::External(doc.add_font(&regular)),
        bold: PdfFontHandle::External(doc.add_font(&bold)),
    };
    let mut w = Writer::new(fonts, record);
    w.heading(record);
    w.identity(record);
    if let Some(qr) = &record.card_qr {
        w.qr(qr)?;
    }
    w.doses(record);
    w.school(record);
    w.findings(record);
    let pages = w.finish(record);
    let mut save_warnings = Vec::new();
    Ok(doc
        .with_pages(pages)
        .save(&PdfSaveOptions::default(), &mut save_warnings))
}

struct Fonts {
    regular: PdfFontHandle,
    bold: PdfFontHandle,
}

/// Lines from the top down; `y` is the next baseline in millimetres from the bottom.
struct Writer {
    fonts: Fonts,
    pages: Vec<Vec<Op>>,
    ops: Vec<Op>,
    y: f32,
    footer: String,
}

fn black() -> Color {
    Color::Rgb(Rgb {
        r: 0.0,
        g: 0.0,
        b: 0.0,
        icc_profile: None,
    })
}

fn grey() -> Color {
    Color::Rgb(Rgb {
        r: 0.35,
        g: 0.35,
        b: 0.35,
        icc_profile: None,
    })
}

impl Writer {
    fn new(fonts: Fonts, record: &OfficialRecord) -> Self {
        Writer {
            fonts,
            pages: Vec::new(),
            ops: Vec::new(),
            y: PAGE_H - MARGIN,
            footer: format!(
                "Issued {} by {} · record {}",
                record.issued_on.format("%B %-d, %Y"),
                record.registry,
                record.person.record_id
            ),
        }
    }

    fn text(&mut self, x: f32, y: f32, size: f32, bold: bool, colour: Color, s: &str) {
        let font = if bold {
            self.fonts.bold.clone()
        } else {
            self.fonts.regular.clone()
        };
        self.ops.extend([
            Op::StartTextSection,
            Op::SetFillColor { col: colour },
            Op::SetFont {
                font,
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

    /// Makes room for `mm` more, starting a new page when this one is full.
    fn need(&mut self, mm: f32) {
        if self.y - mm < MARGIN + 10.0 {
            self.pages.push(std::mem::take(&mut self.ops));
            self.y = PAGE_H - MARGIN;
        }
    }

    fn line(&mut self, x: f32, size: f32, bold: bool, s: &str) {
        let step = size * 0.3528 * 1.45;
        self.need(step);
        self.y -= step;
        self.text(x, self.y, size, bold, black(), s);
    }

    /// A row of cells at the given x positions (each cell cut to fit the next column).
    fn row(&mut self, cells: &[(f32, &str)], size: f32, bold: bool) {
        let step = size * 0.3528 * 1.45;
        self.need(step);
        self.y -= step;
        for (i, (x, s)) in cells.iter().enumerate() {
            let width = cells.get(i + 1).map_or(PAGE_W - MARGIN - x, |n| n.0 - x);
            let fitted = fit(s, width, size);
            self.text(*x, self.y, size, bold, black(), &fitted);
        }
    }

    fn gap(&mut self, mm: f32) {
        self.y -= mm;
    }

    fn rule(&mut self) {
        self.gap(1.5);
        self.ops.push(Op::SetFillColor { col: grey() });
        self.ops.push(Op::DrawRectangle {
            rectangle: filled(
                Mm(MARGIN).into(),
                Mm(self.y).into(),
                Mm(PAGE_W - 2.0 * MARGIN).into(),
                Pt(0.6),
            ),
        });
        self.gap(1.5);
    }

    fn heading(&mut self, record: &OfficialRecord) {
        self.line(MARGIN, 16.0, true, "Official Immunization Record");
        self.line(MARGIN, 10.0, false, &record.registry);
        self.rule();
    }

    fn identity(&mut self, record: &OfficialRecord) {
        let p = &record.person;
        self.line(MARGIN, 12.0, true, &p.full_name());
        self.line(
            MARGIN,
            10.0,
            false,
            &format!("Date of birth: {}", p.date_of_birth.format("%Y-%m-%d")),
        );
        if let Some(g) = &p.gender {
            self.line(MARGIN, 10.0, false, &format!("Gender: {g}"));
        }
        self.line(
            MARGIN,
            10.0,
            false,
            &format!("Registry record: {}", p.record_id),
        );
        self.line(
            MARGIN,
            10.0,
            false,
            &format!("Date issued: {}", record.issued_on.format("%Y-%m-%d")),
        );
    }

    /// The QR code at the top right of the first page, beside the identity block.
    fn qr(&mut self, text: &str) -> Result<(), PdfError> {
        let code = qrcode::QrCode::with_error_correction_level(text, qrcode::EcLevel::L)
            .map_err(|e| PdfError::Qr(e.to_string()))?;
        let width = code.width();
        let colors = code.to_colors();
        let quiet = 4.0;
        let module = QR_MM / (width as f32 + 2.0 * quiet);
        let left = PAGE_W - MARGIN - QR_MM + quiet * module;
        let top = PAGE_H - MARGIN - 14.0 - quiet * module;
        self.ops.push(Op::SetFillColor { col: black() });
        for (r, row) in colors.chunks(width).enumerate() {
            // One rectangle per run of dark modules.
            let mut c = 0;
            while c < width {
                if row[c] == qrcode::Color::Dark {
                    let start = c;
                    while c < width && row[c] == qrcode::Color::Dark {
                        c += 1;
                    }
                    let x = left + start as f32 * module;
                    let y = top - (r as f32 + 1.0) * module;
                    self.ops.push(Op::DrawRectangle {
                        rectangle: filled(
                            Mm(x).into(),
                            Mm(y).into(),
                            Mm((c - start) as f32 * module).into(),
                            Mm(module).into(),
                        ),
                    });
                } else {
                    c += 1;
                }
            }
        }
        let caption_y = PAGE_H - MARGIN - 14.0 - QR_MM - 3.0;
        self.text(
            PAGE_W - MARGIN - QR_MM,
            caption_y,
            7.5,
            false,
            grey(),
            "SMART Health Card: scan to verify",
        );
        // The identity block is shorter than the code: continue below it.
        self.y = self.y.min(caption_y - 2.0);
        Ok(())
    }

    fn doses(&mut self, record: &OfficialRecord) {
        self.gap(2.0);
        self.line(MARGIN, 12.0, true, "Valid doses by vaccine group");
        self.rule();
        if record.groups.is_empty() {
            self.line(MARGIN, 10.0, false, "No valid doses are recorded.");
        }
        let cols = [MARGIN + 4.0, MARGIN + 30.0, MARGIN + 112.0];
        for group in &record.groups {
            self.need(14.0);
            self.gap(1.0);
            self.line(MARGIN, 10.5, true, &group.group);
            for d in &group.doses {
                let date = d.date.format("%Y-%m-%d").to_string();
                let vaccine = format!("{} (CVX {})", d.vaccine, d.cvx);
                let org = d.organization.clone().unwrap_or_default();
                self.row(
                    &[(cols[0], &date), (cols[1], &vaccine), (cols[2], &org)],
                    9.0,
                    false,
                );
            }
        }
    }

    fn school(&mut self, record: &OfficialRecord) {
        self.need(20.0);
        self.gap(3.0);
        self.line(
            MARGIN,
            12.0,
            true,
            &format!(
                "School and child-care requirements ({})",
                record.jurisdiction
            ),
        );
        self.rule();
        let Some(s) = &record.school else {
            self.line(
                MARGIN,
                10.0,
                false,
                "No school or child-care requirement applies at this age.",
            );
            return;
        };
        self.line(
            MARGIN,
            10.0,
            false,
            &format!("Grade {}: {}", s.grade, words(&s.status)),
        );
        let cols = [MARGIN + 4.0, MARGIN + 40.0, MARGIN + 75.0];
        for r in &s.requirements {
            let doses = format!("{} of {} doses", r.doses_counted, r.doses_required);
            let status = words(&r.status);
            self.row(
                &[(cols[0], &r.vaccine), (cols[1], &doses), (cols[2], &status)],
                9.0,
                false,
            );
        }
    }

    fn findings(&mut self, record: &OfficialRecord) {
        for (title, list) in [
            ("Recorded immunity", &record.immunity),
            ("Exemptions", &record.exemptions),
        ] {
            self.need(16.0);
            self.gap(3.0);
            self.line(MARGIN, 12.0, true, title);
            self.rule();
            if list.is_empty() {
                self.line(MARGIN, 10.0, false, "None recorded.");
            }
            for f in list {
                let s = match &f.vaccine_group {
                    Some(g) => format!("{g}: {}", f.detail),
                    None => format!("All vaccines: {}", f.detail),
                };
                self.line(MARGIN + 4.0, 9.5, false, &s);
            }
        }
    }

    /// Closes the last page and puts the footer (issue date, registry, page n of m) on each.
    fn finish(mut self, _record: &OfficialRecord) -> Vec<PdfPage> {
        self.pages.push(std::mem::take(&mut self.ops));
        let total = self.pages.len();
        let pages = std::mem::take(&mut self.pages);
        pages
            .into_iter()
            .enumerate()
            .map(|(i, ops)| {
                self.ops = ops;
                let footer = format!("{} · page {} of {}", self.footer, i + 1, total);
                self.text(MARGIN, MARGIN - 6.0, 7.5, false, grey(), &footer);
                PdfPage::new(Mm(PAGE_W), Mm(PAGE_H), std::mem::take(&mut self.ops))
            })
            .collect()
    }
}

/// A filled rectangle (printpdf's default paint mode for a bare `Rect` draws nothing).
fn filled(x: Pt, y: Pt, w: Pt, h: Pt) -> Rect {
    let mut r = Rect::from_xywh(x, y, w, h);
    r.mode = Some(PaintMode::Fill);
    r.winding_order = Some(WindingOrder::NonZero);
    r
}

/// `NOT_COMPLIANT` → `Not compliant`.
fn words(code: &str) -> String {
    let lower = code.replace('_', " ").to_lowercase();
    let mut chars = lower.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// `s` cut (with an ellipsis) to about `width_mm` at `size` points: DejaVu Sans averages
/// about 0.55 em per character.
fn fit(s: &str, width_mm: f32, size: f32) -> String {
    let per_char = size * 0.3528 * 0.58;
    let max = ((width_mm - 2.0) / per_char).floor().max(1.0) as usize;
    if s.chars().count() <= max {
        return s.to_owned();
    }
    let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_read_as_words_and_long_cells_are_cut() {
        assert_eq!(words("NOT_COMPLIANT"), "Not compliant");
        assert_eq!(words(""), "");
        assert_eq!(fit("short", 50.0, 9.0), "short");
        let cut = fit(&"x".repeat(200), 20.0, 9.0);
        assert!(cut.ends_with('…') && cut.chars().count() < 20, "{cut}");
    }
}
