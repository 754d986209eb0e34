//! A job's output as files: the list as CSV, reminder letters as a PDF (one page per
//! household), coverage as a chart (SVG or PNG). Each export is authorized like a list read
//! and logged as one `EXPORT` entry naming every person in the file; a letter run is also
//! written to the notification log, which the frequency cap reads.

use std::collections::BTreeMap;

use entities::repo::population::ResultRow;
use entities::Store;
use policies::PopulationKind;
use reports::{Bar, Letter, LetterLine, LetterPerson};
use uuid::Uuid;

use super::graphql::{coverage_rows, readable_job};
use crate::context::{store_err, RequestContext};
use crate::ApiError;

/// The export formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFormat {
    Csv,
    LettersPdf,
    ChartSvg,
    ChartPng,
}

impl ExportFormat {
    /// From the file name's ending (`results.csv`, `letters.pdf`, `chart.svg`, `chart.png`).
    pub fn from_file(name: &str) -> Option<ExportFormat> {
        match name {
            "results.csv" => Some(ExportFormat::Csv),
            "letters.pdf" => Some(ExportFormat::LettersPdf),
            "chart.svg" => Some(ExportFormat::ChartSvg),
            "chart.png" => Some(ExportFormat::ChartPng),
            _ => None,
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            ExportFormat::Csv => "text/csv; charset=utf-8",
            ExportFormat::LettersPdf => "application/pdf",
            ExportFormat::ChartSvg => "image/svg+xml",
            ExportFormat::ChartPng => "image/png",
        }
    }
}

/// Rows read per statement while exporting.
const PAGE: u64 = 5000;

fn internal(rc: &RequestContext) -> ApiError {
    ApiError::Internal {
        request_id: rc.access.request_id.clone(),
    }
}

async fn all_rows(
    rc: &RequestContext,
    store: &Store,
    job: Uuid,
) -> Result<Vec<(Uuid, String, String, ResultRow)>, ApiError> {
    let mut out = Vec::new();
    let mut after = None;
    loop {
        let page = store
            .population_results(job, None, after, PAGE)
            .await
            .map_err(store_err(rc))?;
        let last = page.last().map(|r| r.person_id);
        let n = page.len() as u64;
        for r in page {
            let row: ResultRow = serde_json::from_str(&r.row).map_err(|_| internal(rc))?;
            out.push((r.person_id, r.category, r.household, row));
        }
        if n < PAGE {
            return Ok(out);
        }
        after = last;
    }
}

/// The file's bytes, after the job is authorized for `rc`'s principal; the persons in it are
/// recorded on `rc` as exported (the caller flushes the access log before sending).
pub async fn export(
    rc: &RequestContext,
    store: &Store,
    job_id: Uuid,
    format: ExportFormat,
    registry: &str,
) -> Result<Vec<u8>, ApiError> {
    let job = readable_job(rc, store, job_id).await?;
    let kind = PopulationKind::parse(&job.kind).ok_or_else(|| internal(rc))?;
    match format {
        ExportFormat::ChartSvg | ExportFormat::ChartPng => {
            if kind != PopulationKind::Coverage {
                return Err(ApiError::BadInput(
                    "charts are drawn for coverage jobs".into(),
                ));
            }
            // Counts only: the chart names no one.
            let rows = store
                .population_summary(job.id)
                .await
                .map_err(store_err(rc))?;
            let bars: Vec<Bar> = coverage_rows(rows)
                .into_iter()
                .map(|r| Bar {
                    label: r.key,
                    share: r.share,
                    total: r.total,
                })
                .collect();
            let title = format!("Share up to date, as of {}", job.as_of.format("%Y-%m-%d"));
            let svg = reports::coverage_svg(&title, &bars).map_err(|e| {
                tracing::error!(error = %e, "coverage chart");
                internal(rc)
            })?;
            if format == ExportFormat::ChartSvg {
                return Ok(svg.into_bytes());
            }
            reports::coverage_png(&svg).map_err(|e| {
                tracing::error!(error = %e, "coverage chart");
                internal(rc)
            })
        }
        ExportFormat::Csv => {
            let rows = all_rows(rc, store, job.id).await?;
            rc.record_export();
            let csv_rows = rows.iter().map(|(id, category, _, r)| {
                rc.record_reveal(*id, "populationList");
                let c = r.contact.clone().unwrap_or_default();
                let groups = r
                    .groups
                    .iter()
                    .map(|g| {
                        format!(
                            "{} {}{}",
                            g.group,
                            g.status,
                            g.due_date.map(|d| format!(" {d}")).unwrap_or_default()
                        )
                    })
                    .collect::<Vec<_>>()
                    .join("; ");
                let doses = r
                    .doses
                    .iter()
                    .map(|d| {
                        format!(
                            "{} CVX {} lot {} by {}",
                            d.date_given,
                            d.cvx,
                            d.lot_number.as_deref().unwrap_or(""),
                            d.administered_by.map(|o| o.to_string()).unwrap_or_default()
                        )
                    })
                    .collect::<Vec<_>>()
                    .join("; ");
                vec![
                    id.to_string(),
                    category.clone(),
                    r.last_name.clone(),
                    r.first_name.clone(),
                    r.date_of_birth.to_string(),
                    r.county.clone().unwrap_or_default(),
                    c.address_line1.unwrap_or_default(),
                    c.city.unwrap_or_default(),
                    c.postal_code.unwrap_or_default(),
                    c.phone.unwrap_or_default(),
                    r.guardian.clone().unwrap_or_default(),
                    r.address_bad.to_string(),
                    groups,
                    doses,
                    r.key.clone().unwrap_or_default(),
                ]
            });
            reports::csv(
                &[
                    "person_id",
                    "category",
                    "last_name",
                    "first_name",
                    "date_of_birth",
                    "county",
                    "address_line1",
                    "city",
                    "postal_code",
                    "phone",
                    "guardian",
                    "address_bad",
                    "vaccine_groups",
                    "doses",
                    "group",
                ],
                csv_rows,
            )
            .map_err(|_| internal(rc))
        }
        ExportFormat::LettersPdf => {
            if kind != PopulationKind::ReminderRecall {
                return Err(ApiError::BadInput(
                    "letters are printed for reminder/recall jobs".into(),
                ));
            }
            let rows = all_rows(rc, store, job.id).await?;
            let mut households: BTreeMap<String, Vec<(Uuid, ResultRow)>> = BTreeMap::new();
            for (id, _, household, row) in rows {
                // No contact granted, no address, or mail came back from it: no letter.
                let Some(c) = &row.contact else {
                    return Err(ApiError::BadInput(
                        "this job's output carries no contact: no letters for this role".into(),
                    ));
                };
                if row.address_bad
                    || c.address_line1
                        .as_deref()
                        .is_none_or(|a| a.trim().is_empty())
                {
                    continue;
                }
                households.entry(household).or_default().push((id, row));
            }
            let mut letters = Vec::with_capacity(households.len());
            let mut sent = Vec::new();
            for members in households.values() {
                let Some((_, first)) = members.first() else {
                    continue;
                };
                let c = first.contact.clone().unwrap_or_default();
                let guardian = members.iter().find_map(|(_, r)| r.guardian.clone());
                let names: Vec<String> = members
                    .iter()
                    .map(|(_, r)| format!("{} {}", r.first_name, r.last_name))
                    .collect();
                let addressee = match guardian {
                    Some(g) => format!("{g}, parent or guardian of {}", names.join(", ")),
                    None => names.join(", "),
                };
                let mut address_lines = vec![c.address_line1.clone().unwrap_or_default()];
                if let Some(l2) = c.address_line2.clone().filter(|l| !l.trim().is_empty()) {
                    address_lines.push(l2);
                }
                address_lines.push(
                    [c.city.clone(), c.state.clone(), c.postal_code.clone()]
                        .into_iter()
                        .flatten()
                        .collect::<Vec<_>>()
                        .join(" "),
                );
                letters.push(Letter {
                    addressee,
                    address_lines,
                    persons: members
                        .iter()
                        .map(|(_, r)| LetterPerson {
                            name: format!("{} {}", r.first_name, r.last_name),
                            date_of_birth: r.date_of_birth,
                            lines: r
                                .groups
                                .iter()
                                .map(|g| LetterLine {
                                    vaccine_group: g.group.clone(),
                                    overdue: g.status == "OVERDUE",
                                    due_date: if g.status == "OVERDUE" {
                                        g.past_due_date
                                    } else {
                                        g.due_date
                                    },
                                })
                                .collect(),
                        })
                        .collect(),
                });
                for (id, r) in members {
                    rc.record_reveal(*id, "populationList");
                    let key = r.contact.as_ref().and_then(|c| c.address_key());
                    sent.push((*id, key));
                }
            }
            rc.record_export();
            let pdf = reports::letters_pdf(registry, rc.access.today, &letters).map_err(|e| {
                tracing::error!(error = %e, "reminder letters");
                internal(rc)
            })?;
            store
                .record_reminders_sent(&rc.access, job.id, "MAIL", &sent)
                .await
                .map_err(store_err(rc))?;
            Ok(pdf)
        }
    }
}
