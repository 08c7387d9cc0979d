//! Parsed documents kept by their text. Clients send the same documents again and again with other variables
//! (a dashboard's queries, an SDMX query's shape, a BI tool's generated queries), and parsing is a tenth of the
//! server's work on a short request: a document's text parsed once is served parsed afterwards. Only documents
//! that parse are kept; the cache is bounded by the bytes of the texts it holds (and TinyLFU decides what stays).

use async_graphql::ServerError;
use async_graphql::parser::types::ExecutableDocument;
use std::sync::Arc;

/// Bytes of document text kept: a parsed document takes several times its text, so this bounds about 64 MiB.
const MAX_TEXT_BYTES: u64 = 8 * 1024 * 1024;

/// Parsed documents by their text.
pub struct Documents(moka::sync::Cache<String, Arc<ExecutableDocument>>);

impl Default for Documents {
    fn default() -> Self {
        Documents(
            moka::sync::Cache::builder()
                .max_capacity(MAX_TEXT_BYTES)
                .weigher(|text: &String, _: &Arc<ExecutableDocument>| u32::try_from(text.len()).unwrap_or(u32::MAX))
                .build(),
        )
    }
}

impl Documents {
    /// The request's document, parsed, and set into the request so that the engine does not parse it again.
    pub fn parse(&self, request: &mut async_graphql::Request) -> Result<Arc<ExecutableDocument>, ServerError> {
        if let Some(document) = self.0.get(request.query.as_str()) {
            request.set_parsed_query(ExecutableDocument::clone(&document));
            return Ok(document);
        }
        let document = Arc::new(request.parsed_query()?.clone());
        self.0.insert(request.query.clone(), document.clone());
        Ok(document)
    }
}
