//! Relay cursor pagination: page arguments, opaque cursors, pages, and the
//! macro that declares a connection type for each node type.
//!
//! Lists are ordered by the rows' internal key; a cursor is the URL-safe
//! base64 of `<list kind>:<key>`, so that a cursor from one list is refused by
//! another with a clear error.

use crate::error::{ApiError, ApiResult};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// Page size when `first` is not given.
pub const DEFAULT_PAGE_SIZE: u64 = 50;
/// Largest page a client may ask for.
pub const MAX_PAGE_SIZE: u64 = 500;

/// Validated pagination arguments.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PageArgs {
    pub first: u64,
    pub after: Option<i64>,
}

impl PageArgs {
    pub fn new(kind: &str, first: Option<i32>, after: Option<&str>) -> ApiResult<Self> {
        let first = match first {
            None => DEFAULT_PAGE_SIZE,
            Some(n) if n >= 0 && n as u64 <= MAX_PAGE_SIZE => n as u64,
            Some(n) => {
                return Err(ApiError::bad_input(format!(
                    "`first` must be between 0 and {MAX_PAGE_SIZE}, got {n}; follow `pageInfo.endCursor` for more"
                )));
            }
        };
        let after = after.map(|cursor| decode_cursor(kind, cursor)).transpose()?;
        Ok(PageArgs { first, after })
    }
}

pub fn encode_cursor(kind: &str, key: i64) -> String {
    URL_SAFE_NO_PAD.encode(format!("{kind}:{key}"))
}

pub fn decode_cursor(kind: &str, cursor: &str) -> ApiResult<i64> {
    let malformed = || {
        ApiError::bad_input(format!(
            "cursor '{cursor}' is not a cursor of this list: pass a `cursor` or `endCursor` returned by the same list"
        ))
    };
    let bytes = URL_SAFE_NO_PAD.decode(cursor).map_err(|_| malformed())?;
    let text = String::from_utf8(bytes).map_err(|_| malformed())?;
    let (cursor_kind, key) = text.split_once(':').ok_or_else(malformed)?;
    if cursor_kind != kind {
        return Err(malformed());
    }
    key.parse().map_err(|_| malformed())
}

/// One page of rows and what is known around it.
#[derive(Debug, Clone)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub has_next: bool,
    pub has_previous: bool,
    /// Rows matching the filter across all pages, when it was asked for.
    pub total: Option<u64>,
}

impl<T> Default for Page<T> {
    fn default() -> Self {
        Page {
            items: Vec::new(),
            has_next: false,
            has_previous: false,
            total: Some(0),
        }
    }
}

impl<T> Page<T> {
    /// Builds a page from up to `first + 1` rows read in key order.
    pub fn from_rows(mut rows: Vec<T>, args: &PageArgs, total: Option<u64>) -> Self {
        let has_next = rows.len() as u64 > args.first;
        rows.truncate(args.first as usize);
        Page {
            items: rows,
            has_next,
            has_previous: args.after.is_some(),
            total,
        }
    }

    /// The same page with each item joined to what it is shown with (items `f` gives nothing for are left out).
    pub fn filter_map<U>(self, f: impl FnMut(T) -> Option<U>) -> Page<U> {
        Page {
            items: self.items.into_iter().filter_map(f).collect(),
            has_next: self.has_next,
            has_previous: self.has_previous,
            total: self.total,
        }
    }

    pub fn empty(args: &PageArgs) -> Self {
        Page {
            items: Vec::new(),
            has_next: false,
            has_previous: args.after.is_some(),
            total: Some(0),
        }
    }
}

/// Information about the page of a connection.
#[derive(async_graphql::SimpleObject, Debug, Clone)]
pub struct PageInfo {
    /// True when more items follow this page (pass `endCursor` as `after`).
    pub has_next_page: bool,
    /// True when this page was asked for with `after` (items precede it).
    pub has_previous_page: bool,
    /// Cursor of the first item of the page, null when the page is empty.
    pub start_cursor: Option<String>,
    /// Cursor of the last item of the page, null when the page is empty.
    pub end_cursor: Option<String>,
}

/// Declares `<Node>Connection` and `<Node>Edge` for a node type that wraps an
/// entity model and implements `crate::pagination::Node`.
macro_rules! connection {
    ($connection:ident, $edge:ident, $node:ident, $connection_doc:literal, $edge_doc:literal) => {
        #[doc = $connection_doc]
        pub struct $connection(pub $crate::pagination::Page<<$node as $crate::pagination::Node>::Model>);

        #[doc = $connection_doc]
        #[async_graphql::Object]
        impl $connection {
            /// Number of items matching the filter across all pages.
            async fn total_count(&self) -> u64 {
                self.0.total.unwrap_or(self.0.items.len() as u64)
            }

            /// Where this page sits in the whole list.
            async fn page_info(&self) -> $crate::pagination::PageInfo {
                let cursor = |m: &<$node as $crate::pagination::Node>::Model| {
                    $crate::pagination::encode_cursor(
                        <$node as $crate::pagination::Node>::KIND,
                        <$node as $crate::pagination::Node>::key(m),
                    )
                };
                $crate::pagination::PageInfo {
                    has_next_page: self.0.has_next,
                    has_previous_page: self.0.has_previous,
                    start_cursor: self.0.items.first().map(cursor),
                    end_cursor: self.0.items.last().map(cursor),
                }
            }

            /// The items of this page with their cursors.
            async fn edges(&self) -> Vec<$edge> {
                self.0.items.iter().cloned().map($edge).collect()
            }

            /// The items of this page.
            async fn nodes(&self) -> Vec<$node> {
                self.0.items.iter().cloned().map($node).collect()
            }
        }

        #[doc = $edge_doc]
        pub struct $edge(pub <$node as $crate::pagination::Node>::Model);

        #[doc = $edge_doc]
        #[async_graphql::Object]
        impl $edge {
            /// Opaque cursor of this item: pass it as `after` to read the items that follow.
            async fn cursor(&self) -> String {
                $crate::pagination::encode_cursor(
                    <$node as $crate::pagination::Node>::KIND,
                    <$node as $crate::pagination::Node>::key(&self.0),
                )
            }

            /// The item.
            async fn node(&self) -> $node {
                $node(self.0.clone())
            }
        }
    };
}
pub(crate) use connection;

/// A GraphQL node type backed by an entity model.
pub trait Node {
    type Model: Clone + Send + Sync + 'static;
    /// Name of the list, written into cursors.
    const KIND: &'static str;
    /// The internal key the list is ordered by.
    fn key(model: &Self::Model) -> i64;
}
