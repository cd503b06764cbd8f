//! Reading and writing JSON frames on a WebSocket, whatever carries it: sessions are generic
//! over `Sink`/`Stream` of messages, so tests can also drive them through channels.

use axum::extract::ws::Message;
use futures_util::{Sink, SinkExt, Stream, StreamExt};
use serde::Serialize;
use serde::de::DeserializeOwned;
use tandem_protocol::{ErrorCode, MAX_FRAME_BYTES};

/// One step of reading a client.
pub enum Incoming<T> {
    Frame(T),
    /// A frame was refused; the connection stays usable.
    Invalid(ErrorCode, String),
    Closed,
}

pub async fn next_frame<R, T>(rx: &mut R) -> Incoming<T>
where
    R: Stream<Item = Result<Message, axum::Error>> + Unpin,
    T: DeserializeOwned,
{
    loop {
        return match rx.next().await {
            None | Some(Err(_)) | Some(Ok(Message::Close(_))) => Incoming::Closed,
            Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
            Some(Ok(Message::Binary(_))) => {
                Incoming::Invalid(ErrorCode::MalformedFrame, "frames are JSON text, not binary".into())
            }
            Some(Ok(Message::Text(text))) if text.len() > MAX_FRAME_BYTES => Incoming::Invalid(
                ErrorCode::FrameTooLarge,
                format!("a frame has at most {MAX_FRAME_BYTES} bytes; this one has {}", text.len()),
            ),
            Some(Ok(Message::Text(text))) => match serde_json::from_str(text.as_str()) {
                Ok(frame) => Incoming::Frame(frame),
                Err(error) => {
                    Incoming::Invalid(ErrorCode::MalformedFrame, format!("unreadable frame: {error}"))
                }
            },
        };
    }
}

/// Sends one JSON frame; `false` when the peer is gone.
pub async fn send<W, T>(tx: &mut W, value: &T) -> bool
where
    W: Sink<Message> + Unpin,
    T: Serialize,
{
    match serde_json::to_string(value) {
        Ok(json) => tx.send(Message::Text(json.into())).await.is_ok(),
        Err(_) => false,
    }
}

/// Sends a frame serialised once for many sessions.
pub async fn send_text<W>(tx: &mut W, text: axum::extract::ws::Utf8Bytes) -> bool
where
    W: Sink<Message> + Unpin,
{
    tx.send(Message::Text(text)).await.is_ok()
}

pub async fn close<W>(tx: &mut W)
where
    W: Sink<Message> + Unpin,
{
    let _ = tx.send(Message::Close(None)).await;
}
