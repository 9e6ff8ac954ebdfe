//! Cursor pagination shared by users and wallets: rows carry a `seq`, a cursor names an item
//! whose `seq` bounds the page, and a page reads one row more than it returns to learn
//! whether more follow.

use latchkey_core::store::{Cursor, Order, Page, PageQuery};

/// The id the cursor names, if any.
pub(crate) fn cursor_id(page: &PageQuery) -> Option<&str> {
    match &page.cursor {
        Cursor::None => None,
        Cursor::After(id) | Cursor::Before(id) => Some(id),
    }
}

/// The seq comparison and ORDER BY direction of a page query: a `Before` cursor reads
/// against the requested order (and [`finish_page`] turns the rows back).
pub(crate) fn page_direction(page: &PageQuery) -> (&'static str, &'static str) {
    let backwards = matches!(page.cursor, Cursor::Before(_));
    if (page.order == Order::Asc) != backwards {
        (">", "ASC")
    } else {
        ("<", "DESC")
    }
}

/// Turns `size + 1` rows read by [`page_direction`] into a page in the requested order,
/// with whether pages follow and precede it.
pub(crate) fn finish_page<T>(mut items: Vec<T>, page: &PageQuery) -> Page<T> {
    let more = items.len() > page.size as usize;
    items.truncate(page.size as usize);
    if matches!(page.cursor, Cursor::Before(_)) {
        items.reverse();
    }
    let (has_next, has_prev) = match page.cursor {
        Cursor::None => (more, false),
        Cursor::After(_) => (more, true),
        Cursor::Before(_) => (true, more),
    };
    Page {
        items,
        has_next,
        has_prev,
    }
}
