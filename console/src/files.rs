//! Files in a chat, on the agent's side: a picture or PDF sent to the customer, and those the
//! customer sent, shown (`docs/api.md#attachments`). The console's own origin serves them with
//! the agent's session cookie, so a picture is a plain `<img>` of its URL.

use leptos::html;
use leptos::prelude::*;
use leptos::task::spawn_local;
use tandem_browser::{NotSent, chosen_files, send_file, size_text};
use tandem_protocol::{Attachment, ConversationId, MAX_ATTACHMENT_BYTES};

use crate::desk::Live;

/// A file of chat `chat`: a link that downloads it, with a preview of a picture.
pub fn file_link(chat: &ConversationId, file: &Attachment) -> impl IntoView + use<> {
    let url = format!("/v1/agent/conversations/{chat}/attachments/{}", file.id);
    let preview = file.kind.is_image().then(|| view! { <img class="file-preview" alt="" src=url.clone()/> });
    view! {
        <a class="file" data-testid="file" href=url download=file.name.clone()>
            {preview}
            <span>{format!("{} ({})", file.name, size_text(file.size))}</span>
        </a>
    }
}

/// "Attach a file": the browser's file picker behind a labelled button, and how far the file
/// being sent has gone. A refused file is told in the desk's notice, saying why.
#[component]
pub fn SendFiles(id: StoredValue<ConversationId>, live: Live) -> impl IntoView {
    let picker = NodeRef::<html::Input>::new();
    let sending = RwSignal::new(None::<(String, u32)>);
    let chosen = move |_| {
        let Some(input) = picker.get() else { return };
        let files = chosen_files(&input);
        input.set_value("");
        spawn_local(async move {
            for file in files {
                send_one(id.get_value(), live, sending, file).await;
            }
        });
    };
    view! {
        <div class="send-files">
            <input
                type="file"
                hidden
                multiple
                accept="image/png,image/jpeg,image/webp,application/pdf"
                node_ref=picker
                data-testid="agent-file-input"
                on:change=chosen
            />
            <button type="button" data-testid="agent-attach" on:click=move |_| {
                if let Some(input) = picker.get() {
                    input.click();
                }
            }>"Attach a file"</button>
            {move || sending.get().map(|(name, percent)| view! {
                <label role="status" data-testid="agent-upload">
                    {format!("Sending {name} ")}
                    <progress max="100" value=percent.to_string()></progress>
                </label>
            })}
        </div>
    }
}

async fn send_one(
    chat: ConversationId,
    live: Live,
    sending: RwSignal<Option<(String, u32)>>,
    file: web_sys::File,
) {
    let name = file.name();
    if file.size() > MAX_ATTACHMENT_BYTES as f64 {
        live.notice.set(Some(format!("{name} was not sent: a file can be at most 5 MB.")));
        return;
    }
    let url = format!(
        "/v1/agent/conversations/{chat}/attachments?client_id={}&name={}",
        tandem_browser::client_id(),
        js_sys::encode_uri_component(&name),
    );
    sending.set(Some((name.clone(), 0)));
    let shown = name.clone();
    let sent = send_file(&url, None, &file, move |percent| sending.set(Some((shown.clone(), percent)))).await;
    sending.set(None);
    let why = match sent {
        Ok(message) => return live.on_message(&chat, message),
        Err(NotSent::Unsupported) => "only images (PNG, JPEG, WebP) and PDF files can be sent",
        Err(NotSent::TooLarge) => "a file can be at most 5 MB",
        Err(NotSent::TooMany) => "at most 10 files can be sent in a conversation within an hour",
        Err(NotSent::Failed) => "it could not be sent; try again",
    };
    live.notice.set(Some(format!("{name} was not sent: {why}.")));
}
