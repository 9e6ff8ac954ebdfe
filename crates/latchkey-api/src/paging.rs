//! Circle's cursor pagination: query parameters in, `Link` header out.

use axum::http::HeaderMap;
use latchkey_core::clock::Timestamp;
use latchkey_core::error::codes;
use latchkey_core::store::{Cursor, Order, PageQuery};
use latchkey_core::ApiError;

/// Largest page; larger requests are clamped (Circle's behaviour).
pub const MAX_PAGE_SIZE: u32 = 50;
/// Default page.
pub const DEFAULT_PAGE_SIZE: u32 = 10;

/// `order`: newest first (`DESC`, the default) or oldest first (documentation of the values
/// [`page_query`] accepts).
#[derive(Debug, Clone, Copy, utoipa::ToSchema)]
#[schema(rename_all = "UPPERCASE")]
pub enum SortOrder {
    /// Oldest first.
    Asc,
    /// Newest first.
    Desc,
}

/// Query pairs, in order.
pub type Pairs = Vec<(String, String)>;

/// Parses a raw query string (every route reads its query through here); malformed encoding
/// is a code-2 error, and so is a name or value holding U+0000 (`%00`), naming the parameter.
pub fn parse_query(raw: Option<&str>) -> Result<Pairs, ApiError> {
    let pairs = serde_urlencoded::from_str::<Pairs>(raw.unwrap_or("")).map_err(|_| {
        ApiError::invalid_field("query", "invalid", "the query string is malformed")
    })?;
    if let Some((name, _)) = pairs
        .iter()
        .find(|(k, v)| k.contains('\0') || v.contains('\0'))
    {
        let location = if name.contains('\0') { "query" } else { name };
        return Err(crate::extract::nul_refused(location));
    }
    Ok(pairs)
}

/// The last value of `name`, if any (empty counts as absent): for free-text filters, where
/// the document puts no constraint on the value.
pub fn get<'a>(pairs: &'a Pairs, name: &str) -> Option<&'a str> {
    pairs
        .iter()
        .rev()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
        .filter(|v| !v.is_empty())
}

/// The last value of `name`, if any, for a parameter whose values the document constrains
/// (an enum, a number, a date, a cursor): an empty value is none of them, so it is refused
/// with code 2 rather than read as "absent" (the document would not admit it).
pub fn constrained<'a>(pairs: &'a Pairs, name: &str) -> Result<Option<&'a str>, ApiError> {
    match pairs.iter().rev().find(|(k, _)| k == name) {
        None => Ok(None),
        Some((_, v)) if v.is_empty() => Err(ApiError::invalid_field(
            name,
            "invalid",
            format!("{name} must not be empty"),
        )),
        Some((_, v)) => Ok(Some(v.as_str())),
    }
}

fn time_param(pairs: &Pairs, name: &str) -> Result<Option<Timestamp>, ApiError> {
    constrained(pairs, name)?
        .map(|v| {
            Timestamp::parse_iso(v).ok_or_else(|| {
                ApiError::invalid_field(
                    name,
                    "invalid",
                    format!("{name} must be an ISO-8601 date-time such as 2024-01-01T00:00:00Z"),
                )
            })
        })
        .transpose()
}

/// Builds a [`PageQuery`]; `check_cursor` validates cursor syntax (ids differ per resource).
pub fn page_query(pairs: &Pairs, check_cursor: fn(&str) -> bool) -> Result<PageQuery, ApiError> {
    page_query_sized(pairs, check_cursor, DEFAULT_PAGE_SIZE)
}

/// [`page_query`] with another page size when `pageSize` is absent.
pub fn page_query_sized(
    pairs: &Pairs,
    check_cursor: fn(&str) -> bool,
    default_size: u32,
) -> Result<PageQuery, ApiError> {
    let size = match constrained(pairs, "pageSize")? {
        None => default_size,
        Some(v) => match v.parse::<i64>() {
            Ok(n) if n >= 1 => {
                u32::try_from(n.min(i64::from(MAX_PAGE_SIZE))).unwrap_or(MAX_PAGE_SIZE)
            }
            _ => {
                return Err(ApiError::invalid_field(
                    "pageSize",
                    "min",
                    "pageSize must be a whole number from 1 to 50",
                ))
            }
        },
    };
    // Exactly Circle's enum values, as the document says.
    let order = match constrained(pairs, "order")? {
        None => Order::Desc,
        Some("DESC") => Order::Desc,
        Some("ASC") => Order::Asc,
        Some(_) => {
            return Err(ApiError::invalid_field(
                "order",
                "invalid",
                "order must be ASC or DESC",
            ))
        }
    };
    let before = constrained(pairs, "pageBefore")?;
    let after = constrained(pairs, "pageAfter")?;
    let cursor = match (before, after) {
        (Some(_), Some(_)) => {
            return Err(codes::PAGE_PARAMS_INVALID
                .with_message("pageBefore and pageAfter are mutually exclusive."))
        }
        (Some(b), None) if check_cursor(b) => Cursor::Before(b.to_string()),
        (None, Some(a)) if check_cursor(a) => Cursor::After(a.to_string()),
        (None, None) => Cursor::None,
        _ => return Err(codes::PAGE_PARAMS_INVALID),
    };
    let from = time_param(pairs, "from")?;
    // Dates are shown to the second: `to` at a whole second includes that whole second.
    // `from` after `to` is a well-formed request for an empty range: an empty page, as the
    // document (which cannot relate two parameters) admits it.
    let to = time_param(pairs, "to")?.map(|t| if t.0 % 1000 == 0 { t.plus_ms(999) } else { t });
    Ok(PageQuery {
        size,
        cursor,
        order,
        from,
        to,
    })
}

/// The `Link` header: `self`, `first`, and `next` / `prev` where there is such a page.
pub fn link_header(
    base: &str,
    path: &str,
    pairs: &Pairs,
    first_id: Option<&str>,
    last_id: Option<&str>,
    has_next: bool,
    has_prev: bool,
) -> String {
    let keep: Pairs = pairs
        .iter()
        .filter(|(k, _)| k != "pageBefore" && k != "pageAfter")
        .cloned()
        .collect();
    let url = |extra: Option<(&str, &str)>| {
        let mut q = keep.clone();
        if let Some((k, v)) = extra {
            q.push((k.to_string(), v.to_string()));
        }
        let qs = serde_urlencoded::to_string(&q).unwrap_or_default();
        if qs.is_empty() {
            format!("{base}{path}")
        } else {
            format!("{base}{path}?{qs}")
        }
    };
    let self_qs = serde_urlencoded::to_string(pairs).unwrap_or_default();
    let self_url = if self_qs.is_empty() {
        format!("{base}{path}")
    } else {
        format!("{base}{path}?{self_qs}")
    };
    let mut links = vec![
        format!("<{self_url}>; rel=\"self\""),
        format!("<{}>; rel=\"first\"", url(None)),
    ];
    if let (true, Some(id)) = (has_next, last_id) {
        links.push(format!("<{}>; rel=\"next\"", url(Some(("pageAfter", id)))));
    }
    if let (true, Some(id)) = (has_prev, first_id) {
        links.push(format!("<{}>; rel=\"prev\"", url(Some(("pageBefore", id)))));
    }
    links.join(", ")
}

/// The externally visible base URL: the configured one, else from the Host header.
pub fn base_url(configured: Option<&str>, headers: &HeaderMap) -> String {
    if let Some(c) = configured {
        return c.trim_end_matches('/').to_string();
    }
    let host = headers
        .get("host")
        .and_then(|h| h.to_str().ok())
        .filter(|h| {
            h.chars()
                .all(|c| c.is_ascii_alphanumeric() || ".-:[]".contains(c))
        })
        .unwrap_or("localhost");
    format!("http://{host}")
}

/// The document's schema for a `blockchain` query value: one of Circle's
/// names, so a generated request never carries a name the handlers refuse.
pub fn blockchain_names() -> utoipa::openapi::schema::Object {
    use utoipa::openapi::schema::{ObjectBuilder, Type};
    let names: Vec<&str> = latchkey_chains::Blockchain::ALL
        .iter()
        .map(|b| b.as_str())
        .collect();
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(names))
        .build()
}
