//! The contract's `PageInfo` and page-size rules.

use async_graphql::SimpleObject;

use crate::ApiError;

#[derive(SimpleObject, Debug, Clone)]
pub struct PageInfo {
    pub has_next_page: bool,
    pub end_cursor: Option<String>,
}

/// The largest page a client may ask for.
pub(crate) const MAX_PAGE: i32 = 200;

/// Checks `first`: 1 to [`MAX_PAGE`].
pub(crate) fn page_size(first: i32) -> Result<u64, ApiError> {
    if (1..=MAX_PAGE).contains(&first) {
        Ok(first as u64)
    } else {
        Err(ApiError::BadInput(format!(
            "first must be between 1 and {MAX_PAGE}"
        )))
    }
}

pub(crate) fn page_info<T>(page: &entities::repo::Page<T>) -> PageInfo {
    PageInfo {
        has_next_page: page.has_next_page,
        end_cursor: page.end_cursor().map(|c| c.0.clone()),
    }
}
