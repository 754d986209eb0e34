//! Parsed documents kept by their text, so a client sending the same operation again (as
//! every client does, with new variables) is not parsed again: the warm path's parse was one
//! of its per-request costs that need not be. Validation still runs on every request (it
//! depends on the variables), and so do the limits, the policy and the access log.
//!
//! Bounded in bytes (the texts' lengths, least recently used dropped first). The texts are
//! held in memory only, as the persisted-query store holds them; a document's inline literals
//! may name a person, so nothing here is logged.

use std::sync::Arc;

use async_graphql::parser::types::ExecutableDocument;

/// Bytes of document text kept.
const MAX_BYTES: u64 = 8 * 1024 * 1024;

/// Documents this process has parsed, by text.
#[derive(Clone)]
pub struct Documents {
    parsed: moka::sync::Cache<Arc<str>, Arc<ExecutableDocument>>,
}

impl Default for Documents {
    fn default() -> Self {
        Documents::with_capacity(MAX_BYTES)
    }
}

impl Documents {
    /// A store keeping at most `bytes` of document text.
    pub fn with_capacity(bytes: u64) -> Documents {
        Documents {
            parsed: moka::sync::Cache::builder()
                .max_capacity(bytes)
                // Text and tree: the tree is about the text's size again.
                .weigher(|text: &Arc<str>, _| u32::try_from(text.len() * 2).unwrap_or(u32::MAX))
                .build(),
        }
    }

    /// Gives `request` its parsed document: the kept one for a text seen before, else parsed
    /// now (and kept when it parses). Parse errors are left for the request to report.
    pub fn attach(&self, request: &mut async_graphql::Request) {
        if let Some(doc) = self.parsed.get(request.query.as_str()) {
            request.set_parsed_query((*doc).clone());
            return;
        }
        if let Ok(doc) = request.parsed_query() {
            let doc = Arc::new(doc.clone());
            self.parsed.insert(Arc::from(request.query.as_str()), doc);
        }
    }

    #[cfg(test)]
    fn len(&self) -> u64 {
        self.parsed.run_pending_tasks();
        self.parsed.entry_count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(text: &str) -> async_graphql::Request {
        async_graphql::Request::new(text)
    }

    #[test]
    fn a_text_is_parsed_once_and_its_document_reused() {
        let docs = Documents::default();
        let text = "query($id: ID!) { person(id: $id) { id } }";
        let mut first = request(text);
        docs.attach(&mut first);
        let mut again = request(text);
        docs.attach(&mut again);
        assert_eq!(docs.len(), 1);
        let a = format!("{:?}", first.parsed_query().expect("parsed"));
        let b = format!("{:?}", again.parsed_query().expect("kept"));
        assert_eq!(a, b);
    }

    #[test]
    fn parse_errors_are_not_kept_and_stay_errors() {
        let docs = Documents::default();
        let mut bad = request("{ person(id: ");
        docs.attach(&mut bad);
        assert_eq!(docs.len(), 0);
        assert!(bad.parsed_query().is_err());
    }

    #[test]
    fn the_store_is_bounded_in_bytes() {
        let docs = Documents::with_capacity(4096);
        for i in 0..500 {
            docs.attach(&mut request(&format!("{{ q{i}: __typename }}")));
        }
        assert!(docs.len() < 500, "{} documents kept", docs.len());
    }
}
