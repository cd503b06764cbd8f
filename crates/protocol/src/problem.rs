use serde::{Deserialize, Serialize};

/// Stable machine-readable error codes. Clients branch on these, never on the human text,
/// so a code is never renamed or reused once shipped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema, schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum ProblemCode {
    NotFound,
    InvalidMerchantId,
    InvalidRequest,
    PayloadTooLarge,
    OriginNotAllowed,
    Unauthorized,
    Forbidden,
    RateLimited,
    Internal,
    /// `Tandem.identify` was given a hash that is not the merchant's signature of the id.
    IdentityUnverified,
    /// `Tandem.identify` was signed longer ago than the merchant accepts (or in the future):
    /// sign it again when the page is rendered.
    IdentityExpired,
    /// The merchant has as many customers waiting as it takes: leave a message instead.
    TooBusy,
    /// The request does not fit the resource's current state (e.g. rating a chat still going on).
    Conflict,
    /// The path exists, but not with this method; the `Allow` header lists those it has.
    MethodNotAllowed,
    /// This instance cannot serve now (it does not hear the other instances); another may.
    Unavailable,
    /// A file sent in a chat is not a PNG, JPEG or WebP image or a PDF (read from its bytes).
    UnsupportedFileType,
}

/// An HTTP error body in the shape of RFC 9457 ("problem details"),
/// served as `application/problem+json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema, schemars::JsonSchema))]
pub struct Problem {
    /// Short, stable summary of the problem kind.
    pub title: String,
    pub status: u16,
    /// What went wrong this time, and how to fix it when the caller can.
    pub detail: String,
    pub code: ProblemCode,
}
