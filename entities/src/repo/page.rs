//! Keyset pagination. Cursors are opaque to clients but are plain keys here: paging never uses
//! OFFSET, so a page costs the same at row ten and at row ten million.

use base64::Engine as _;

/// One page of results.
#[derive(Debug, Clone)]
pub struct Page<T> {
    pub items: Vec<(Cursor, T)>,
    pub has_next_page: bool,
}

impl<T> Page<T> {
    pub fn end_cursor(&self) -> Option<&Cursor> {
        self.items.last().map(|(c, _)| c)
    }
}

/// An opaque position in a result list (URL-safe base64 of its key).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor(pub String);

impl Cursor {
    pub(crate) fn encode(parts: &[&str]) -> Cursor {
        let joined = parts.join("\u{1f}");
        Cursor(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(joined))
    }

    /// The key parts, or `None` for a cursor this server did not make.
    pub(crate) fn decode(&self, parts: usize) -> Option<Vec<String>> {
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(&self.0)
            .ok()?;
        let text = String::from_utf8(bytes).ok()?;
        let fields: Vec<String> = text.split('\u{1f}').map(str::to_owned).collect();
        (fields.len() == parts).then_some(fields)
    }
}
