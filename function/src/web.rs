//! The page that watches a stream, and the browser client it runs on, as
//! files compiled into the binary from the repository's `web/` folder:
//! nothing to build or upload, and the page always matches the function.
//!
//! Mount them with [`crate::Router::watch_page`]. They are plain ES modules;
//! a page of your own can load `sse-client.js` from the function the same way.

use bytes::Bytes;
use http::{HeaderMap, HeaderValue, header};
use sha2::{Digest, Sha256};
use std::sync::LazyLock;

/// One file the function serves as it is.
#[derive(Debug)]
pub struct Asset {
    /// Where it is served, from the function's root.
    pub path: &'static str,
    /// Its `content-type`.
    pub content_type: &'static str,
    /// Its text.
    pub body: &'static str,
}

macro_rules! web_file {
    ($name:literal) => {
        include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/../web/", $name))
    };
}

/// The page (`/`), its script, the client and its parser.
pub const ASSETS: [Asset; 4] = [
    Asset {
        path: "/",
        content_type: "text/html; charset=utf-8",
        body: web_file!("index.html"),
    },
    Asset {
        path: "/page.js",
        content_type: "text/javascript; charset=utf-8",
        body: web_file!("page.js"),
    },
    Asset {
        path: "/sse-client.js",
        content_type: "text/javascript; charset=utf-8",
        body: web_file!("sse-client.js"),
    },
    Asset {
        path: "/sse-parser.js",
        content_type: "text/javascript; charset=utf-8",
        body: web_file!("sse-parser.js"),
    },
];

impl Asset {
    /// The headers it is served with: revalidated on every load (a deploy
    /// changes it at the same URL), never sniffed, and for the page a
    /// Content-Security-Policy that lets it run only its own scripts and
    /// talk only to its own origin.
    pub(crate) fn headers(&self) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static(self.content_type),
        );
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
        headers.insert(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        );
        if self.content_type.starts_with("text/html") {
            headers.insert(header::CONTENT_SECURITY_POLICY, PAGE_POLICY.clone());
            headers.insert(
                header::REFERRER_POLICY,
                HeaderValue::from_static("no-referrer"),
            );
        }
        headers
    }

    pub(crate) fn bytes(&self) -> Bytes {
        Bytes::from_static(self.body.as_bytes())
    }
}

/// The page's policy. Its inline `<script>` and `<style>` are allowed by
/// their hashes, computed from the page itself so that an edit can never
/// leave a stale hash behind.
static PAGE_POLICY: LazyLock<HeaderValue> = LazyLock::new(|| {
    let page = ASSETS[0].body;
    let script = inline_hashes(page, "script");
    let style = inline_hashes(page, "style");
    let policy = format!(
        "default-src 'none'; script-src 'self'{script}; style-src 'self'{style}; \
         connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; \
         frame-ancestors 'none'"
    );
    HeaderValue::from_str(&policy).expect("hashes are base64")
});

/// `'sha256-…'` for the text of each `<tag>` element of `page` that has no
/// `src`, each with a leading space.
fn inline_hashes(page: &str, tag: &str) -> String {
    let open = format!("<{tag}");
    let close = format!("</{tag}>");
    let mut hashes = String::new();
    let mut rest = page;
    while let Some(start) = rest.find(&open) {
        let after = &rest[start + open.len()..];
        let Some(end_of_tag) = after.find('>') else {
            break;
        };
        let attributes = &after[..end_of_tag];
        let body = &after[end_of_tag + 1..];
        let Some(end) = body.find(&close) else {
            break;
        };
        if !attributes.split_whitespace().any(|a| a.starts_with("src=")) {
            use base64::Engine as _;
            // A browser hashes the element's text after turning CRLF and CR
            // into LF (a checkout with CRLF line ends must still match).
            let text = body[..end].replace("\r\n", "\n").replace('\r', "\n");
            let digest = Sha256::digest(text.as_bytes());
            let encoded = base64::engine::general_purpose::STANDARD.encode(digest);
            hashes.push_str(&format!(" 'sha256-{encoded}'"));
        }
        rest = &body[end + close.len()..];
    }
    hashes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inline_elements_are_hashed_and_sourced_ones_are_not() {
        let page =
            "<style>a{}</style><script src=\"x.js\"></script><script type=\"module\">go()</script>";
        assert_eq!(
            inline_hashes(page, "script"),
            // printf 'go()' | openssl dgst -sha256 -binary | base64
            " 'sha256-5KYv+PUboo5h+0+YAtGRPbwv5d/QxzHslP4YGnUaxRw='"
        );
        assert_eq!(
            // printf 'a{}' | openssl dgst -sha256 -binary | base64
            inline_hashes(page, "style"),
            " 'sha256-X1RutGBrXCt9KkSaXMK7tHftWiRscFHOhxsS8tv8hBk='"
        );
    }

    /// The value of `attribute` in the page's `<input id="{id}" ...>`.
    fn input_attribute(id: &str, attribute: &str) -> String {
        let page = ASSETS[0].body;
        let start = page
            .find(&format!("<input id=\"{id}\""))
            .unwrap_or_else(|| panic!("no input #{id}"));
        let tag = &page[start..start + page[start..].find('>').unwrap()];
        let value = tag
            .split_once(&format!(" {attribute}=\""))
            .and_then(|(_, rest)| rest.split_once('"'))
            .unwrap_or_else(|| panic!("#{id} has no {attribute}: {tag}"));
        value.0.to_owned()
    }

    /// The form offers exactly what the job accepts (one source of truth:
    /// the job's ranges).
    #[test]
    fn the_forms_limits_are_the_jobs() {
        use crate::sources::job::{INTERVAL_MS, STEPS};
        for (id, range) in [("steps", STEPS), ("interval-ms", INTERVAL_MS)] {
            assert_eq!(
                input_attribute(id, "min"),
                range.start().to_string(),
                "#{id}"
            );
            assert_eq!(input_attribute(id, "max"), range.end().to_string(), "#{id}");
        }
    }

    #[test]
    fn crlf_is_hashed_as_the_browser_sees_it_and_data_src_is_not_a_source() {
        let lf = inline_hashes("<script>a\nb</script>", "script");
        assert_eq!(inline_hashes("<script>a\r\nb</script>", "script"), lf);
        assert_eq!(inline_hashes("<script>a\rb</script>", "script"), lf);
        assert_eq!(
            inline_hashes("<script data-src=\"x\">a\nb</script>", "script"),
            lf
        );
    }

    /// The page's one inline script and one inline style are both allowed,
    /// and nothing else inline.
    #[test]
    fn the_page_has_one_inline_script_and_one_inline_style() {
        for tag in ["script", "style"] {
            let hashes = inline_hashes(ASSETS[0].body, tag);
            assert_eq!(hashes.matches("'sha256-").count(), 1, "{tag}: {hashes}");
            assert!(PAGE_POLICY.to_str().unwrap().contains(&hashes), "{tag}");
        }
    }

    #[test]
    fn the_page_has_a_policy_and_the_scripts_do_not() {
        let page = ASSETS[0].headers();
        let policy = page[header::CONTENT_SECURITY_POLICY].to_str().unwrap();
        assert!(
            policy.starts_with("default-src 'none'; script-src 'self'"),
            "{policy}"
        );
        assert!(
            !ASSETS[1]
                .headers()
                .contains_key(header::CONTENT_SECURITY_POLICY)
        );
        for asset in &ASSETS {
            assert_eq!(asset.headers()[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
            assert!(!asset.body.is_empty(), "{}", asset.path);
        }
    }
}
