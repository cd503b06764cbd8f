//! The one vocabulary spoken between Tandem's widget, server and agent console.
//!
//! Everything here is plain data with serde derives, so that it builds for wasm32 and native
//! alike and no side can drift from another. See `docs/protocol.md` and `docs/api.md`.

mod attachment;
mod canned;
mod card;
mod chat;
mod merchant;
mod names;
mod problem;
mod team;

pub use attachment::{
    Attachment, FileKind, MAX_ATTACHMENT_BYTES, MAX_ATTACHMENTS_PER_HOUR, MAX_FILE_NAME_CHARS,
    clean_file_name, file_name_for,
};
pub use canned::{CannedResponse, CannedResponseBody, CannedText, MAX_CANNED_RESPONSES, fill_canned};
pub use card::{mask_card_numbers, mask_card_numbers_in_place, mask_card_numbers_in_transcript};
pub use chat::*;
pub use merchant::{AskEmail, InvalidMerchantId, MerchantId, WidgetConfig};
pub use names::UnknownName;
pub use problem::{Problem, ProblemCode};
pub use team::*;

/// Path of the widget configuration for a merchant, relative to the server origin.
///
/// The widget builds this URL and the server routes it; keeping it here keeps the two in step.
pub fn widget_config_path(merchant: &MerchantId) -> String {
    format!("/v1/merchants/{merchant}/widget-config")
}
