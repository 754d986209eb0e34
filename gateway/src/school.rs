//! The jurisdiction's school requirements, loaded and validated once at start-up: a bad file
//! stops the gateway with a message naming the rule, rather than misjudging students later.

use std::path::PathBuf;

use school::{Requirements, RequirementsError};

use crate::config::Settings;

#[derive(Debug, thiserror::Error)]
pub enum RequirementsLoadError {
    #[error("cannot read IZGRAPH_REQUIREMENTS_FILE {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(transparent)]
    Invalid(#[from] RequirementsError),
}

/// The requirements file named by the settings (`IZGRAPH_REQUIREMENTS_FILE`), or the built-in
/// file of `IZGRAPH_JURISDICTION`, checked against the forecasting schedule.
pub fn load_requirements(
    settings: &Settings,
    schedule: &forecast::Schedule,
) -> Result<Requirements, RequirementsLoadError> {
    match &settings.requirements_file {
        Some(path) => {
            let text =
                std::fs::read_to_string(path).map_err(|source| RequirementsLoadError::Read {
                    path: path.clone(),
                    source,
                })?;
            Ok(Requirements::parse(
                &text,
                &path.display().to_string(),
                schedule,
            )?)
        }
        None => Ok(Requirements::embedded(&settings.jurisdiction, schedule)?),
    }
}
