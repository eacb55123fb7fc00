//! The API browser at `GET /docs`: Swagger UI over `/openapi.json`, every asset served by this
//! binary, so it works offline and behind a firewall (no CDN).
//!
//! Swagger UI's files come from the `utoipa-swagger-ui-vendored` crate, which ships the
//! release archive of Swagger UI (a zip) and nothing else. The few files the page needs are
//! read out of that archive on the first request and kept in memory; the page and its start-up
//! script are this module's own, pointed at `/openapi.json`. (`utoipa-swagger-ui` would do the
//! same with about thirty more crates: an embedding macro, a zip writer and reader, regex, a URL
//! parser; reading a stored zip's central directory and inflating four entries is a few lines.)

use std::collections::HashMap;
use std::sync::OnceLock;

use actix_web::http::header::{self, ContentType};
use actix_web::{web, HttpResponse};

use crate::routes::ApiError;

/// The folder of the archive that holds Swagger UI's built files.
const DIST: &str = "swagger-ui-5.17.14/dist/";

/// The page: Swagger UI's stylesheet and bundle, and the script that starts it.
const PAGE: &str = r#"<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>usergroups API</title>
  <link rel="stylesheet" href="/docs/swagger-ui.css">
  <link rel="icon" type="image/png" href="/docs/favicon-32x32.png" sizes="32x32">
  <link rel="icon" type="image/png" href="/docs/favicon-16x16.png" sizes="16x16">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="/docs/swagger-ui-bundle.js"></script>
  <script src="/docs/start.js"></script>
</body>
</html>
"#;

/// Starts Swagger UI on the served document. A separate file rather than an inline script, so
/// a Content-Security-Policy without `unsafe-inline` in front of the service still allows it.
const START: &str = r##"window.ui = SwaggerUIBundle({
  url: "/openapi.json",
  dom_id: "#swagger-ui",
  deepLinking: true,
  tryItOutEnabled: false,
});
"##;

/// The assets taken from the archive, with their content types.
const ASSETS: &[(&str, &str)] = &[
    ("swagger-ui-bundle.js", "text/javascript; charset=utf-8"),
    ("swagger-ui.css", "text/css; charset=utf-8"),
    ("favicon-32x32.png", "image/png"),
    ("favicon-16x16.png", "image/png"),
];

/// The page's Content-Security-Policy: its scripts, styles and images come from this origin
/// only, it talks only to this origin (the document, "Try it out", the token endpoint), and no
/// other site may frame it (clickjacking an authorized browser into a delete). Swagger UI sets
/// `style` attributes and draws its icons as `data:` images, hence those two allowances; no
/// script runs inline.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; \
    style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; \
    font-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

/// `GET /docs`: the API browser's page (200, `text/html`), with [`CONTENT_SECURITY_POLICY`] and
/// `X-Frame-Options: DENY` (for browsers that predate `frame-ancestors`).
pub async fn get_docs() -> HttpResponse {
    HttpResponse::Ok()
        .content_type(ContentType::html())
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .insert_header((header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY))
        .insert_header((header::X_FRAME_OPTIONS, "DENY"))
        .insert_header((header::REFERRER_POLICY, "no-referrer"))
        .body(PAGE)
}

/// `GET /`: a browser's way in, redirected (302) to `/docs`.
pub async fn get_root() -> HttpResponse {
    HttpResponse::Found()
        .insert_header((header::LOCATION, "/docs"))
        .finish()
}

/// `GET /docs/{file}`: one of the page's assets (200), or the 404 of an unknown route.
pub async fn get_asset(file: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let file = file.into_inner();
    let (bytes, content_type) = if file == "start.js" {
        (START.as_bytes().to_vec(), "text/javascript; charset=utf-8")
    } else {
        let content_type = ASSETS
            .iter()
            .find(|(name, _)| *name == file)
            .map(|(_, content_type)| *content_type)
            .ok_or(ApiError::RouteNotFound)?;
        let bytes = assets()?
            .get(file.as_str())
            .cloned()
            .ok_or_else(|| ApiError::internal(format!("{file} is missing from Swagger UI")))?;
        (bytes, content_type)
    };
    Ok(HttpResponse::Ok()
        .content_type(content_type)
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        // The files change only with the binary.
        .insert_header((header::CACHE_CONTROL, "public, max-age=3600"))
        .body(bytes))
}

/// The assets, read out of the vendored archive once per process.
fn assets() -> Result<&'static HashMap<&'static str, Vec<u8>>, ApiError> {
    static ASSET_FILES: OnceLock<Result<HashMap<&'static str, Vec<u8>>, String>> = OnceLock::new();
    ASSET_FILES
        .get_or_init(|| {
            let archive = Zip::new(utoipa_swagger_ui_vendored::SWAGGER_UI_VENDORED)?;
            ASSETS
                .iter()
                .map(|(name, _)| Ok((*name, archive.read(&format!("{DIST}{name}"))?)))
                .collect()
        })
        .as_ref()
        .map_err(|e| ApiError::internal(format!("reading Swagger UI's archive: {e}")))
}

/// A zip archive in memory, read just enough to take out stored or deflated entries by name.
struct Zip<'a> {
    bytes: &'a [u8],
    /// Each entry's name, compression method, compressed size and local header offset.
    entries: Vec<(&'a [u8], u16, usize, usize)>,
}

/// A little-endian `u16` at `at`.
fn u16_at(bytes: &[u8], at: usize) -> Result<u16, String> {
    bytes
        .get(at..at + 2)
        .map(|b| u16::from_le_bytes([b[0], b[1]]))
        .ok_or_else(|| format!("the archive ends before offset {at}"))
}

/// A little-endian `u32` at `at`, as a size or an offset.
fn u32_at(bytes: &[u8], at: usize) -> Result<usize, String> {
    bytes
        .get(at..at + 4)
        .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize)
        .ok_or_else(|| format!("the archive ends before offset {at}"))
}

impl<'a> Zip<'a> {
    /// Reads the central directory, found through the end-of-central-directory record.
    fn new(bytes: &'a [u8]) -> Result<Zip<'a>, String> {
        const END: &[u8] = b"PK\x05\x06";
        const ENTRY: &[u8] = b"PK\x01\x02";
        let end = bytes
            .windows(4)
            .rposition(|w| w == END)
            .ok_or("no end of central directory")?;
        let count = u16_at(bytes, end + 10)?;
        let mut at = u32_at(bytes, end + 16)?;
        let mut entries = Vec::with_capacity(count.into());
        for _ in 0..count {
            if bytes.get(at..at + 4) != Some(ENTRY) {
                return Err(format!("no central directory entry at {at}"));
            }
            let method = u16_at(bytes, at + 10)?;
            let compressed = u32_at(bytes, at + 20)?;
            let name_len = usize::from(u16_at(bytes, at + 28)?);
            let extra_len = usize::from(u16_at(bytes, at + 30)?);
            let comment_len = usize::from(u16_at(bytes, at + 32)?);
            let local = u32_at(bytes, at + 42)?;
            let name = bytes
                .get(at + 46..at + 46 + name_len)
                .ok_or("an entry's name runs past the end")?;
            entries.push((name, method, compressed, local));
            at += 46 + name_len + extra_len + comment_len;
        }
        Ok(Zip { bytes, entries })
    }

    /// The contents of the entry `name`.
    fn read(&self, name: &str) -> Result<Vec<u8>, String> {
        let &(_, method, compressed, local) = self
            .entries
            .iter()
            .find(|(entry, ..)| *entry == name.as_bytes())
            .ok_or_else(|| format!("no {name} in the archive"))?;
        let start = local
            + 30
            + usize::from(u16_at(self.bytes, local + 26)?)
            + usize::from(u16_at(self.bytes, local + 28)?);
        let data = self
            .bytes
            .get(start..start + compressed)
            .ok_or_else(|| format!("{name} runs past the end of the archive"))?;
        match method {
            0 => Ok(data.to_vec()),
            8 => miniz_oxide::inflate::decompress_to_vec(data)
                .map_err(|e| format!("{name} does not inflate: {e:?}")),
            other => Err(format!("{name} uses compression method {other}")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_asset_the_page_links_is_in_the_vendored_archive() {
        let assets = assets().expect("the archive reads");

        for (name, _) in ASSETS {
            assert!(PAGE.contains(&format!("/docs/{name}")), "{name} is unused");
            assert!(!assets[name].is_empty(), "{name} is empty");
        }
        assert!(PAGE.contains("/docs/start.js"));
        let bundle = String::from_utf8_lossy(&assets["swagger-ui-bundle.js"]);
        assert!(
            bundle.contains("SwaggerUIBundle"),
            "not Swagger UI's bundle"
        );
    }

    #[test]
    fn the_page_and_its_script_load_nothing_from_another_host() {
        for text in [PAGE, START] {
            assert!(!text.contains("//"), "an absolute URL in: {text}");
        }
    }
}
