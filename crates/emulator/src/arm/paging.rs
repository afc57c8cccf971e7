//! ARM list paging, shared by every list the emulator serves: `$top` (the page size) and
//! `$skiptoken` (where the previous page ended) read from a request, with a typed 400 for a bad
//! value, and one page of a list answered as `{"value": [...], "nextLink": ...}`.
//!
//! Every item of a list carries a sort key, unique within the list; a page holds the first
//! `$top` items in key order after the skiptoken's key, and its `nextLink` (an absolute URL on
//! the emulator's ARM base, the request's query kept) names the last key it holds. A client that
//! follows `nextLink` to its end sees every item exactly once, even when items are added or
//! removed between pages (those may or may not appear, as in Azure).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use http::StatusCode;
use serde_json::{Map, Value, json};

use super::error::{ArmError, ArmResult};
use crate::context::Ctx;
use crate::reply;

/// Error code of a `$top` that is not a positive integer (ARM's `Invalid…InQueryString` family).
pub const INVALID_TOP: &str = "InvalidTopInQueryString";
/// Error code of a `$skiptoken` the emulator did not issue.
pub const INVALID_SKIP_TOKEN: &str = "InvalidSkipToken";

/// The page a request asks for: its size and where the previous page ended.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PageRequest {
    /// `$top`: at most this many items (`None`: the whole rest of the list).
    pub top: Option<usize>,
    /// The sort key of the last item of the previous page (from `$skiptoken`).
    pub after: Option<String>,
}

impl PageRequest {
    /// Reads `$top` and `$skiptoken` (400 `InvalidTopInQueryString` / `InvalidSkipToken`).
    pub fn from_ctx(ctx: &Ctx) -> Result<Self, ArmError> {
        let top = ctx.q("$top").map(parse_top).transpose()?;
        let after = ctx.q("$skiptoken").map(decode_token).transpose()?;
        Ok(Self { top, after })
    }
}

/// `$top` as a positive integer.
fn parse_top(t: &str) -> Result<usize, ArmError> {
    match t.trim().parse::<usize>() {
        Ok(n) if n > 0 => Ok(n),
        _ => Err(ArmError::bad(
            INVALID_TOP,
            format!(
                "Invalid $top '{t}' specified in the query string: it must be a positive integer."
            ),
        )),
    }
}

fn decode_token(t: &str) -> Result<String, ArmError> {
    URL_SAFE_NO_PAD
        .decode(t.trim())
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .ok_or_else(|| {
            ArmError::bad(
                INVALID_SKIP_TOKEN,
                format!("The $skiptoken '{t}' is invalid: use the nextLink of the previous page."),
            )
        })
}

fn encode_token(key: &str) -> String {
    URL_SAFE_NO_PAD.encode(key.as_bytes())
}

/// One page of a list.
#[derive(Debug)]
pub struct Page<T> {
    /// The page's items, in key order.
    pub items: Vec<T>,
    /// The sort key of its last item, when more items follow.
    pub more_after: Option<String>,
}

/// Sorts `items` by `key` and cuts the page `req` asks for.
pub fn cut<T>(req: &PageRequest, items: Vec<T>, key: impl Fn(&T) -> String) -> Page<T> {
    let mut keyed: Vec<(String, T)> = items.into_iter().map(|t| (key(&t), t)).collect();
    keyed.sort_by(|a, b| a.0.cmp(&b.0));
    let start = match &req.after {
        Some(after) => keyed.partition_point(|(k, _)| k <= after),
        None => 0,
    };
    let rest = keyed.len() - start;
    let take = req.top.unwrap_or(rest).min(rest);
    let page: Vec<(String, T)> = keyed.into_iter().skip(start).take(take).collect();
    let more_after = (take < rest)
        .then(|| page.last().map(|(k, _)| k.clone()))
        .flatten();
    Page {
        items: page.into_iter().map(|(_, t)| t).collect(),
        more_after,
    }
}

/// The page `req` asks for of `rows` that are already in the list's key order and start after
/// the request's skiptoken (a table scanned with [`crate::store::Table::after`], when the
/// table's keys are the list's): only the page's rows are cloned, so a page costs its own size,
/// not the whole list's.
pub fn cut_ordered<'a, T: Clone + 'a>(
    req: &PageRequest,
    rows: impl Iterator<Item = (&'a String, &'a T)>,
) -> Page<T> {
    let top = req.top.unwrap_or(usize::MAX);
    let mut items = Vec::new();
    let mut last_key: Option<&String> = None;
    let mut more = false;
    for (key, row) in rows {
        if items.len() == top {
            more = true;
            break;
        }
        items.push(row.clone());
        last_key = Some(key);
    }
    Page {
        items,
        more_after: more.then(|| last_key.cloned()).flatten(),
    }
}

/// The `nextLink` after `key`: this request's URL on the ARM base, its query kept (api-version,
/// `$top`, `$filter`, …) with the `$skiptoken` replaced.
pub fn next_link(ctx: &Ctx, key: &str) -> String {
    let base = ctx.shared.config.base();
    let mut url = match url::Url::parse(&base) {
        Ok(u) => u,
        Err(_) => return String::new(),
    };
    url.set_path(&ctx.path);
    {
        let mut q = url.query_pairs_mut();
        for (k, v) in &ctx.query {
            if !k.eq_ignore_ascii_case("$skiptoken") {
                q.append_pair(k, v);
            }
        }
        q.append_pair("$skiptoken", &encode_token(key));
    }
    url.to_string()
}

/// The page's body: `{"value": [...]}`, with `nextLink` when more items follow.
pub fn body<T>(ctx: &Ctx, page: Page<T>, render: impl FnMut(&T) -> Value) -> Map<String, Value> {
    let mut body = Map::new();
    body.insert(
        "value".to_owned(),
        Value::Array(page.items.iter().map(render).collect()),
    );
    if let Some(k) = &page.more_after {
        body.insert("nextLink".to_owned(), json!(next_link(ctx, k)));
    }
    body
}

/// Answers the page of `items` a request asks for: 200 `{"value": [...], "nextLink"?}`, items
/// sorted by `key` (unique within the list) and rendered with `render` (only the page's).
pub fn list_reply<T>(
    ctx: &Ctx,
    items: Vec<T>,
    key: impl Fn(&T) -> String,
    render: impl FnMut(&T) -> Value,
) -> ArmResult {
    let req = PageRequest::from_ctx(ctx)?;
    let page = cut(&req, items, key);
    Ok(reply::json(
        StatusCode::OK,
        Value::Object(body(ctx, page, render)),
    ))
}

/// A key that sorts by descending `n` (newest first for a time), then by `tie`.
pub fn descending_key(n: i64, tie: &str) -> String {
    // i64::MAX - n is non-negative for every n >= 0; negative times sort last.
    let inv = i64::MAX.saturating_sub(n.max(0));
    format!("{inv:019}/{}", tie.to_ascii_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(top: Option<usize>, after: Option<&str>) -> PageRequest {
        PageRequest {
            top,
            after: after.map(str::to_owned),
        }
    }

    #[test]
    fn ordered_rows_page_like_a_sorted_list_and_clone_only_the_page() {
        let rows: std::collections::BTreeMap<String, u32> =
            (0..7u32).map(|i| (format!("k{i}"), i)).collect();
        let mut seen = Vec::new();
        let mut after: Option<String> = None;
        loop {
            let range = rows
                .range::<String, _>((
                    after
                        .clone()
                        .map_or(std::ops::Bound::Unbounded, std::ops::Bound::Excluded),
                    std::ops::Bound::Unbounded,
                ))
                .filter(|(_, v)| **v != 3);
            let p = cut_ordered(&req(Some(2), None), range);
            assert!(p.items.len() <= 2);
            seen.extend(p.items);
            match p.more_after {
                Some(k) => after = Some(k),
                None => break,
            }
        }
        assert_eq!(seen, [0, 1, 2, 4, 5, 6]);
        let whole = cut_ordered(&req(None, None), rows.iter());
        assert_eq!(whole.items.len(), 7);
        assert_eq!(whole.more_after, None);
    }

    #[test]
    fn pages_cover_every_item_once() {
        let items: Vec<String> = ["d", "a", "c", "b", "e"].map(String::from).to_vec();
        let mut seen = Vec::new();
        let mut after = None;
        loop {
            let p = cut(&req(Some(2), after.as_deref()), items.clone(), Clone::clone);
            seen.extend(p.items);
            match p.more_after {
                Some(k) => after = Some(k),
                None => break,
            }
        }
        assert_eq!(seen, ["a", "b", "c", "d", "e"]);
    }

    #[test]
    fn the_last_full_page_has_no_next() {
        let items: Vec<String> = ["a", "b"].map(String::from).to_vec();
        let p = cut(&req(Some(2), None), items.clone(), Clone::clone);
        assert_eq!(p.items.len(), 2);
        assert!(p.more_after.is_none());
        let p = cut(&req(None, Some("a")), items, Clone::clone);
        assert_eq!(p.items, ["b"]);
    }

    #[test]
    fn top_must_be_a_positive_integer() {
        for bad in ["0", "-1", "x", "1.5", "", "99999999999999999999999"] {
            assert_eq!(
                parse_top(bad).expect_err("refused").code,
                INVALID_TOP,
                "{bad}"
            );
        }
        assert_eq!(parse_top("3").ok(), Some(3));
    }

    #[test]
    fn tokens_round_trip_and_refuse_garbage() {
        let k = descending_key(5, "Name");
        assert_eq!(decode_token(&encode_token(&k)).ok(), Some(k));
        assert_eq!(
            decode_token("@@@").expect_err("refused").code,
            INVALID_SKIP_TOKEN
        );
        assert!(descending_key(10, "a") < descending_key(5, "a"));
    }
}
