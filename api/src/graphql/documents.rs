//! Parsed documents kept by their text. Clients send the same documents again and again with other variables
//! (a dashboard's queries, an SDMX query's shape, a BI tool's generated queries), and parsing is a tenth of the
//! server's work on a short request: a document's text parsed once is served parsed afterwards. Only documents
//! that parse and are at most `MAX_KEPT_TEXT` long are kept (a parsed document takes about twenty times its text, so
//! long documents, such as floods of aliases, would weigh most); the cache is bounded by the bytes of the texts it
//! holds, and TinyLFU decides what stays.

use async_graphql::ServerError;
use async_graphql::parser::types::ExecutableDocument;
use std::sync::Arc;

/// Bytes of document text kept: about 2,000 ordinary documents, their parsed forms some 40 MiB at most.
const MAX_TEXT_BYTES: u64 = 2 * 1024 * 1024;

/// The longest document kept (an ordinary one is under 2 KiB); longer ones are parsed each time.
const MAX_KEPT_TEXT: usize = 16 * 1024;

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
        if request.query.len() <= MAX_KEPT_TEXT {
            self.0.insert(request.query.clone(), document.clone());
        }
        Ok(document)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use async_graphql::Request;

    #[test]
    fn a_document_is_parsed_once_a_long_one_each_time_and_a_broken_one_never_kept() {
        let documents = Documents::default();
        let first = documents.parse(&mut Request::new("{ a b }")).unwrap();
        let mut again = Request::new("{ a b }");
        let second = documents.parse(&mut again).unwrap();
        assert!(
            Arc::ptr_eq(&first, &second),
            "the second request is served the kept document"
        );
        assert_eq!(
            format!("{:?}", again.parsed_query().unwrap()),
            format!("{second:?}"),
            "and the request carries it, not to be parsed again"
        );

        let long: String = format!("{{ {} }}", (0..3_000).map(|i| format!("a{i}: a ")).collect::<String>());
        assert!(long.len() > MAX_KEPT_TEXT);
        let one = documents.parse(&mut Request::new(long.clone())).unwrap();
        let other = documents.parse(&mut Request::new(long)).unwrap();
        assert!(
            !Arc::ptr_eq(&one, &other),
            "a document over {MAX_KEPT_TEXT} bytes is not kept"
        );

        assert!(documents.parse(&mut Request::new("{ a")).is_err());
        assert!(documents.0.get("{ a").is_none());
    }
}
