//! Files in a chat, for the widget and the console alike: sending one with its progress, and
//! fetching one to show (`docs/api.md#attachments`).

use tandem_protocol::ChatMessage;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

use crate::from_json;

/// Why a file was not sent, as the server's status says it (the widget and the console each
/// say it in their words).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotSent {
    /// Not a PNG, JPEG, WebP or PDF by its bytes (415).
    Unsupported,
    /// Over 5 MB (413).
    TooLarge,
    /// The conversation's files for the hour are used up, or too many at once (429).
    TooMany,
    /// Anything else: the network, the conversation ended, a refused token.
    Failed,
}

/// Sends `file` as the body of a `POST` to `url` (which names its `client_id` and `name`), with
/// the customer's token when one is given (the console's cookie rides along on its own), and
/// tells `progress` the share sent so far, 0 to 100. The stored message is the answer.
/// `XMLHttpRequest`, because `fetch` says nothing of an upload's progress.
pub async fn send_file(
    url: &str,
    bearer: Option<&str>,
    file: &web_sys::File,
    progress: impl Fn(u32) + 'static,
) -> Result<ChatMessage, NotSent> {
    let failed = |_| NotSent::Failed;
    let xhr = web_sys::XmlHttpRequest::new().map_err(failed)?;
    xhr.open("POST", url).map_err(failed)?;
    if let Some(token) = bearer {
        xhr.set_request_header("authorization", &format!("Bearer {token}")).map_err(failed)?;
    }
    let on_progress = Closure::<dyn Fn(web_sys::ProgressEvent)>::new(move |event: web_sys::ProgressEvent| {
        if event.length_computable() && event.total() > 0.0 {
            #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss, reason = "0 to 100")]
            progress((event.loaded() / event.total() * 100.0) as u32);
        }
    });
    xhr.upload().map_err(failed)?.set_onprogress(Some(on_progress.as_ref().unchecked_ref()));
    let done = js_sys::Promise::new(&mut |resolve, _| xhr.set_onloadend(Some(&resolve)));
    xhr.send_with_opt_blob(Some(file)).map_err(failed)?;
    let _ = JsFuture::from(done).await;
    drop(on_progress);
    match xhr.status().unwrap_or(0) {
        201 => xhr.response_text().ok().flatten().and_then(|text| from_json(&text)).ok_or(NotSent::Failed),
        415 => Err(NotSent::Unsupported),
        413 => Err(NotSent::TooLarge),
        429 => Err(NotSent::TooMany),
        _ => Err(NotSent::Failed),
    }
}

/// The file at `url` in the browser's memory, as a `blob:` URL to show or download, fetched
/// with the customer's token (never in a URL). The caller revokes it when done
/// ([`forget_file`]).
pub async fn fetch_file(url: &str, bearer: &str) -> Option<String> {
    let request = gloo_net::http::Request::get(url).header("authorization", &format!("Bearer {bearer}"));
    let response = request.send().await.ok().filter(gloo_net::http::Response::ok)?;
    let blob = JsFuture::from(web_sys::Response::from(response).blob().ok()?).await.ok()?;
    web_sys::Url::create_object_url_with_blob(blob.unchecked_ref()).ok()
}

/// Lets the browser free a file [`fetch_file`] held.
pub fn forget_file(blob_url: &str) {
    let _ = web_sys::Url::revoke_object_url(blob_url);
}

/// A file size as people read it: `980 B`, `14 KB`, `2.4 MB`.
pub fn size_text(bytes: u64) -> String {
    match bytes {
        0..1_000 => format!("{bytes} B"),
        1_000..1_000_000 => format!("{} KB", bytes.div_ceil(1_000)),
        _ => format!("{}.{} MB", bytes / 1_000_000, bytes % 1_000_000 / 100_000),
    }
}

/// The files a file input holds now.
pub fn chosen_files(input: &web_sys::HtmlInputElement) -> Vec<web_sys::File> {
    let Some(list) = input.files() else { return Vec::new() };
    (0..list.length()).filter_map(|index| list.get(index)).collect()
}
