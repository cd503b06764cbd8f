//! Files sent in a chat: images and PDFs, in either direction.
//!
//! A file is uploaded over HTTP (a WebSocket frame is kept small) and stored as a message of
//! its own, so that it is ordered, acknowledged and caught up by `seq` like any text. Its
//! bytes are fetched separately, only by the conversation's customer and the merchant's
//! agents (see `docs/api.md#attachments`).

use serde::{Deserialize, Serialize};

/// Largest file, in bytes (5 MB).
pub const MAX_ATTACHMENT_BYTES: usize = 5 * 1024 * 1024;
/// Most files sent in one conversation (by both sides together) within an hour.
pub const MAX_ATTACHMENTS_PER_HOUR: u32 = 10;
/// Longest file name kept, in characters (a longer one is cut).
pub const MAX_FILE_NAME_CHARS: usize = 120;

/// What a file is, as read from its first bytes (never from its name or a declared type).
/// SVG, HTML and everything else that could carry script is not one of these.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema, schemars::JsonSchema))]
pub enum FileKind {
    #[serde(rename = "image/png")]
    Png,
    #[serde(rename = "image/jpeg")]
    Jpeg,
    #[serde(rename = "image/webp")]
    Webp,
    #[serde(rename = "application/pdf")]
    Pdf,
}

impl FileKind {
    /// The kind `bytes` start as, if it is one that may be sent.
    pub fn sniff(bytes: &[u8]) -> Option<Self> {
        if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
            Some(Self::Png)
        } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
            Some(Self::Jpeg)
        } else if bytes.len() >= 12 && bytes.starts_with(b"RIFF") && &bytes[8..12] == b"WEBP" {
            Some(Self::Webp)
        } else if bytes.starts_with(b"%PDF-") {
            Some(Self::Pdf)
        } else {
            None
        }
    }

    /// Its media type, as served.
    pub fn media_type(self) -> &'static str {
        match self {
            Self::Png => "image/png",
            Self::Jpeg => "image/jpeg",
            Self::Webp => "image/webp",
            Self::Pdf => "application/pdf",
        }
    }

    /// The kind with this media type (as [`Self::media_type`] writes it).
    pub fn from_media_type(media_type: &str) -> Option<Self> {
        [Self::Png, Self::Jpeg, Self::Webp, Self::Pdf]
            .into_iter()
            .find(|kind| kind.media_type() == media_type)
    }

    /// The file name endings of the kind, the first the one given to a name without any.
    pub fn extensions(self) -> &'static [&'static str] {
        match self {
            Self::Png => &[".png"],
            Self::Jpeg => &[".jpg", ".jpeg"],
            Self::Webp => &[".webp"],
            Self::Pdf => &[".pdf"],
        }
    }

    /// Shown as a picture in the chat (a PDF is a link to download).
    pub fn is_image(self) -> bool {
        !matches!(self, Self::Pdf)
    }
}

/// A file a message carries: what a client needs to show it and fetch its bytes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema, schemars::JsonSchema))]
pub struct Attachment {
    /// Random, URL-safe; names the file under its conversation.
    pub id: String,
    /// The sender's file name, cleaned: no path, no control characters, at most
    /// [`MAX_FILE_NAME_CHARS`].
    pub name: String,
    pub kind: FileKind,
    /// In bytes.
    pub size: u64,
}

/// The name a file of `kind` is kept under: the client's name cleaned ([`clean_file_name`]),
/// ending as its kind does (`receipt.html` of a PDF's bytes is `receipt.html.pdf`), so that a
/// download saved to disk opens as what it is, never as a page or a program.
pub fn file_name_for(raw: &str, kind: FileKind) -> String {
    let name = clean_file_name(raw);
    let lower = name.to_ascii_lowercase();
    if kind.extensions().iter().any(|ending| lower.ends_with(ending)) {
        return name;
    }
    let ending = kind.extensions()[0];
    let kept: String = name.chars().take(MAX_FILE_NAME_CHARS - ending.len()).collect();
    format!("{kept}{ending}")
}

/// The file name a client gave, made safe to show and to put in `Content-Disposition`: its last
/// path segment, without control characters or quotes, cut to [`MAX_FILE_NAME_CHARS`];
/// `file` when nothing is left.
pub fn clean_file_name(raw: &str) -> String {
    let last = raw.rsplit(['/', '\\']).next().unwrap_or(raw);
    let cleaned: String = last
        .chars()
        .filter(|c| !c.is_control() && !matches!(c, '"' | ';'))
        .take(MAX_FILE_NAME_CHARS)
        .collect();
    let cleaned = cleaned.trim();
    if cleaned.is_empty() || cleaned.chars().all(|c| c == '.') {
        "file".to_owned()
    } else {
        cleaned.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_is_known_by_its_bytes_alone() {
        assert_eq!(FileKind::sniff(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR"), Some(FileKind::Png));
        assert_eq!(FileKind::sniff(&[0xFF, 0xD8, 0xFF, 0xE0, 0, 0x10]), Some(FileKind::Jpeg));
        assert_eq!(FileKind::sniff(b"RIFF\x24\0\0\0WEBPVP8 "), Some(FileKind::Webp));
        assert_eq!(FileKind::sniff(b"%PDF-1.7\n"), Some(FileKind::Pdf));
        for refused in [
            &b"<html><script>alert(1)</script>"[..],
            b"<?xml version=\"1.0\"?><svg xmlns=\"http://www.w3.org/2000/svg\"/>",
            b"<svg onload=alert(1)>",
            b"RIFF\x24\0\0\0WAVEfmt ",
            b"\x89PNG",
            b"",
        ] {
            assert_eq!(FileKind::sniff(refused), None, "{:?}", String::from_utf8_lossy(refused));
        }
        assert_eq!(serde_json::to_string(&FileKind::Webp).expect("json"), r#""image/webp""#);
        assert!(FileKind::Png.is_image() && !FileKind::Pdf.is_image());
    }

    #[test]
    fn a_file_is_named_as_its_kind() {
        assert_eq!(file_name_for("shot.PNG", FileKind::Png), "shot.PNG");
        assert_eq!(file_name_for("photo.jpeg", FileKind::Jpeg), "photo.jpeg");
        assert_eq!(file_name_for("refund.html", FileKind::Pdf), "refund.html.pdf");
        assert_eq!(file_name_for("run.bat", FileKind::Jpeg), "run.bat.jpg");
        assert_eq!(file_name_for("", FileKind::Webp), "file.webp");
        let long = file_name_for(&"a".repeat(300), FileKind::Pdf);
        assert_eq!((long.chars().count(), long.ends_with(".pdf")), (MAX_FILE_NAME_CHARS, true));
    }

    #[test]
    fn file_names_lose_paths_quotes_and_control_characters() {
        assert_eq!(clean_file_name("C:\\Users\\me\\receipt.pdf"), "receipt.pdf");
        assert_eq!(clean_file_name("../../etc/passwd"), "passwd");
        assert_eq!(clean_file_name("a\"b;\r\nc.png"), "abc.png");
        assert_eq!(clean_file_name(" .. "), "file");
        assert_eq!(clean_file_name(""), "file");
        assert_eq!(clean_file_name(&"é".repeat(300)).chars().count(), MAX_FILE_NAME_CHARS);
    }
}
