//! Cross-origin requests from web pages (a browser client of the server): the origins the
//! operator allows (`parla serve --cors-origin`, the config file's `server.cors_origins`;
//! none by default) get their preflight requests answered and `Access-Control-Allow-Origin`
//! on every REST answer. Other origins get no CORS headers, so browsers keep their pages
//! from reading the answers. The WebSocket needs none of this: browsers do not apply CORS
//! to it, and it authenticates with its token like any client.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::Response;

use super::AppState;

/// Methods and headers a page may use.
const METHODS: &str = "GET, POST, DELETE, OPTIONS";
const HEADERS: &str = "authorization, content-type, apikey";
/// How long a browser may keep a preflight's answer, in seconds.
const MAX_AGE: &str = "600";

/// An origin as a browser sends it (`scheme://host[:port]`), checked when the server
/// starts: no path, no trailing slash, no wildcard.
pub fn valid_origin(origin: &str) -> bool {
    let Some((scheme, rest)) = origin.split_once("://") else {
        return false;
    };
    matches!(scheme, "http" | "https")
        && !rest.is_empty()
        && !rest.contains(['/', '*', ' ', '?', '#'])
}

pub async fn layer(State(state): State<Arc<AppState>>, request: Request, next: Next) -> Response {
    let origin = request
        .headers()
        .get(header::ORIGIN)
        .and_then(|o| o.to_str().ok())
        .filter(|o| state.cors_origins.iter().any(|allowed| allowed == o))
        .and_then(|o| HeaderValue::from_str(o).ok());
    let Some(origin) = origin else {
        return next.run(request).await;
    };
    let preflight = request.method() == Method::OPTIONS
        && request
            .headers()
            .contains_key(header::ACCESS_CONTROL_REQUEST_METHOD);
    let mut response = if preflight {
        let mut r = Response::new(Body::empty());
        *r.status_mut() = StatusCode::NO_CONTENT;
        let h = r.headers_mut();
        h.insert(
            header::ACCESS_CONTROL_ALLOW_METHODS,
            HeaderValue::from_static(METHODS),
        );
        h.insert(
            header::ACCESS_CONTROL_ALLOW_HEADERS,
            HeaderValue::from_static(HEADERS),
        );
        h.insert(
            header::ACCESS_CONTROL_MAX_AGE,
            HeaderValue::from_static(MAX_AGE),
        );
        r
    } else {
        next.run(request).await
    };
    let h = response.headers_mut();
    h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
    h.insert(
        header::ACCESS_CONTROL_EXPOSE_HEADERS,
        HeaderValue::from_static("retry-after"),
    );
    h.append(header::VARY, HeaderValue::from_static("origin"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_are_scheme_and_host_only() {
        assert!(valid_origin("https://chat.example.org"));
        assert!(valid_origin("http://127.0.0.1:8080"));
        for bad in [
            "",
            "*",
            "chat.example.org",
            "https://",
            "https://chat.example.org/",
            "https://*.example.org",
            "ftp://example.org",
        ] {
            assert!(!valid_origin(bad), "{bad}");
        }
    }
}
