//! The dashboard: a page served at `/_emulator/` that shows, live, what the JSON routes
//! show (the apps, the clock, faults, connections and the state store; LinkV users and their
//! coins; the journal; the requests, with what was expected of each refused signature; Polyv's
//! donate settings and rate limit) and drives what they drive (faults, the clock, bans, a
//! reset), asking to confirm each change.
//!
//! The page is plain HTML, CSS and JavaScript built into the binary (`assets/`, included with
//! `include_str!`), loads nothing from elsewhere (its `Content-Security-Policy` allows this
//! origin alone), and polls the views of `views` every second. Its controls call the
//! documented JSON routes of `inspect`, so there is one way to change the emulator.
//!
//! `GET /_emulator/dashboard` is the page whatever the request's `Accept`; `GET /_emulator/`
//! is the page for a browser (an `Accept` naming `text/html`) and the list of routes for
//! anything else, as it always was.

mod views;

use http::HeaderMap;
use http::header::ACCEPT;

use crate::http::connections::Connections;
use crate::http::reply::Reply;
use crate::shared::Shared;

/// The page's path, whatever the request's `Accept`.
pub(crate) const PAGE: &str = "/_emulator/dashboard";

const INDEX_HTML: &str = include_str!("assets/index.html");
const APP_JS: &str = include_str!("assets/app.js");
const STYLE_CSS: &str = include_str!("assets/style.css");

/// Headers of the page and its files: nothing but this origin may be loaded or called (the
/// page works offline and never reaches a CDN), nothing is cached across emulator versions,
/// and no type is guessed.
const HEADERS: &[(&str, &str)] = &[
    (
        "content-security-policy",
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
         connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
    ),
    ("cache-control", "no-cache"),
    ("x-content-type-options", "nosniff"),
    ("referrer-policy", "no-referrer"),
];

/// The routes of the dashboard, for the inspection API's list.
pub(crate) const ROUTES: &[(&str, &str)] = &[
    (
        "GET /_emulator/dashboard",
        "the dashboard page (also GET /_emulator/ from a browser)",
    ),
    (
        "GET /_emulator/dashboard/overview",
        "the dashboard's overview: apps, clock, faults, connections, state store, counts",
    ),
    (
        "GET /_emulator/dashboard/users?q=ID&limit=N",
        "LinkV users whose ids contain q, with balances and coins by expiry",
    ),
    (
        "GET /_emulator/dashboard/journal?user=ID&request_id=ID&limit=N",
        "applied coin changes, newest first, filtered by user and request id",
    ),
    (
        "GET /_emulator/dashboard/requests?limit=N&refused=1",
        "recent requests, newest first, with their answers and refused signatures explained",
    ),
    (
        "GET /_emulator/dashboard/polyv",
        "Polyv donate settings per channel, where each part comes from, the rate limit",
    ),
];

/// Whether a request for `/_emulator/` comes from a browser, which asks for HTML.
pub(crate) fn wants_page(headers: &HeaderMap) -> bool {
    headers
        .get_all(ACCEPT)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .any(|value| value.contains("text/html"))
}

/// The page.
pub(crate) fn page() -> Reply {
    Reply::file("text/html; charset=utf-8", INDEX_HTML, HEADERS)
}

/// Answers a `GET` of one of the dashboard's paths, or `None` for any other path.
pub(crate) fn get(
    shared: &Shared,
    conns: &Connections,
    path: &str,
    query: Option<&str>,
) -> Option<Reply> {
    let view = |value| Some(Reply::plain(http::StatusCode::OK, &value));
    let query = views::Query::parse(query);
    match path.strip_prefix(PAGE)? {
        "" => Some(page()),
        "/app.js" => Some(Reply::file(
            "text/javascript; charset=utf-8",
            APP_JS,
            HEADERS,
        )),
        "/style.css" => Some(Reply::file("text/css; charset=utf-8", STYLE_CSS, HEADERS)),
        "/overview" => view(views::overview(shared, conns)),
        "/users" => view(views::users(shared, &query)),
        "/journal" => view(views::journal(shared, &query)),
        "/requests" => view(views::requests(shared, &query)),
        "/polyv" => view(views::polyv(shared)),
        _ => None,
    }
}
