//! Reading and writing JSON frames on a WebSocket, whatever carries it: sessions are generic
//! over `Sink`/`Stream` of messages, so tests can also drive them through channels.

use axum::extract::ws::Message;
use futures_util::{Sink, SinkExt, Stream, StreamExt};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use tandem_protocol::{ErrorCode, MAX_FRAME_BYTES};

use crate::service::Failure;
use crate::store::StoreError;

/// One step of reading a client.
pub enum Incoming<T> {
    Frame(T),
    /// A frame was refused; the connection stays usable. What it named is told back with the
    /// refusal, so that a client knows which of its sends will never be stored.
    Invalid(ErrorCode, String, Named),
    /// A ping or a pong: the client is there.
    Alive,
    Closed,
}

/// The message and conversation a refused frame named, as far as it could be read.
#[derive(Debug, Default, serde::Deserialize)]
pub(crate) struct Named {
    pub client_id: Option<tandem_protocol::ClientMessageId>,
    pub conversation_id: Option<tandem_protocol::ConversationId>,
}

/// How often a session pings its client, and how long a silent client is kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LiveTiming {
    pub ping_every: std::time::Duration,
    /// Nothing at all from the client (no frame, no pong) for this long ends the session:
    /// a peer gone without a close does not hold a socket for ever.
    pub idle_after: std::time::Duration,
    /// How often waiting chats are checked for customers gone longer than their merchant's
    /// `abandon_after_secs` (so a chat is abandoned up to this much later).
    pub sweep_every: std::time::Duration,
}

impl Default for LiveTiming {
    fn default() -> Self {
        Self {
            ping_every: std::time::Duration::from_secs(25),
            idle_after: std::time::Duration::from_secs(60),
            sweep_every: std::time::Duration::from_secs(5),
        }
    }
}

/// What a session's heartbeat asks of it.
pub enum Beat {
    Ping,
    Silent,
}

/// A session's pings, and the time it last heard from its client.
pub struct Heartbeat {
    ping: tokio::time::Interval,
    heard: tokio::time::Instant,
    idle_after: std::time::Duration,
}

impl Heartbeat {
    pub fn new(timing: LiveTiming) -> Self {
        let now = tokio::time::Instant::now();
        let ping = tokio::time::interval_at(now + timing.ping_every, timing.ping_every);
        Self { ping, heard: now, idle_after: timing.idle_after }
    }

    /// The client was heard from (any frame, a pong).
    pub fn heard(&mut self) {
        self.heard = tokio::time::Instant::now();
    }

    /// When a ping is due, or the client has been silent too long.
    pub async fn beat(&mut self) -> Beat {
        tokio::select! {
            _ = self.ping.tick() => Beat::Ping,
            () = tokio::time::sleep_until(self.heard + self.idle_after) => Beat::Silent,
        }
    }
}

/// What a session does with what its client sends.
pub(crate) trait Handles<T> {
    /// A frame read.
    async fn frame(&mut self, frame: T) -> Step;
    /// A frame refused (unreadable, too large): the client is told, and the session goes on.
    async fn refused(&mut self, code: ErrorCode, message: &str, named: Named) -> Step;
}

/// One read from the client, whatever it is: the client was heard from, then the frame goes to
/// the session, a refusal is answered, and a close ends it.
pub(crate) async fn receive<T>(
    session: &mut impl Handles<T>,
    heartbeat: &mut Heartbeat,
    incoming: Incoming<T>,
) -> Step {
    heartbeat.heard();
    match incoming {
        Incoming::Frame(frame) => session.frame(frame).await,
        Incoming::Invalid(code, message, named) => session.refused(code, &message, named).await,
        Incoming::Alive => Ok(()),
        Incoming::Closed => Err(Stop::Closed),
    }
}

/// Answers a heartbeat: a ping sent, or the end of a silent client's session.
pub async fn on_beat<W>(tx: &mut W, beat: Beat) -> Step
where
    W: Sink<Message> + Unpin,
{
    match beat {
        Beat::Ping => tx.send(Message::Ping(axum::body::Bytes::new())).await.map_err(|_| Stop::Closed),
        Beat::Silent => Err(Stop::Closed),
    }
}

pub async fn next_frame<R, T>(rx: &mut R) -> Incoming<T>
where
    R: Stream<Item = Result<Message, axum::Error>> + Unpin,
    T: DeserializeOwned,
{
    match rx.next().await {
        None | Some(Err(_)) | Some(Ok(Message::Close(_))) => Incoming::Closed,
        Some(Ok(Message::Ping(_) | Message::Pong(_))) => Incoming::Alive,
        Some(Ok(Message::Binary(_))) => Incoming::Invalid(
            ErrorCode::MalformedFrame,
            "frames are JSON text, not binary".into(),
            Named::default(),
        ),
        Some(Ok(Message::Text(text))) if text.len() > MAX_FRAME_BYTES => Incoming::Invalid(
            ErrorCode::FrameTooLarge,
            format!("a frame has at most {MAX_FRAME_BYTES} bytes; this one has {}", text.len()),
            Named::default(),
        ),
        Some(Ok(Message::Text(text))) => match serde_json::from_str::<serde_json::Value>(text.as_str()) {
            Ok(value) => {
                let named = || Named::deserialize(&value).unwrap_or_default();
                if crate::error::holds_nul(&value) {
                    return Incoming::Invalid(
                        ErrorCode::InvalidMessage,
                        crate::error::NUL_REFUSED.into(),
                        named(),
                    );
                }
                match T::deserialize(&value) {
                    Ok(frame) => Incoming::Frame(frame),
                    Err(error) => Incoming::Invalid(
                        ErrorCode::MalformedFrame,
                        format!("unreadable frame: {error}"),
                        named(),
                    ),
                }
            }
            Err(error) => Incoming::Invalid(
                ErrorCode::MalformedFrame,
                format!("unreadable frame: {error}"),
                Named::default(),
            ),
        },
    }
}

/// Why a session stops.
#[derive(Debug)]
pub enum Stop {
    /// The peer left or the server shuts down: nothing more to say.
    Closed,
    /// The session may not go on; the client is told why.
    Refused(ErrorCode, String),
    /// Storage failed: logged, and the client is told to reconnect.
    Fault(StoreError),
}

impl From<StoreError> for Stop {
    fn from(error: StoreError) -> Self {
        Self::Fault(error)
    }
}

impl From<Failure> for Stop {
    fn from(failure: Failure) -> Self {
        match failure {
            Failure::Refused(code, message) => Self::Refused(code, message.to_owned()),
            Failure::Store(error) => Self::Fault(error),
        }
    }
}

/// One step of a session: carry on, or stop.
pub type Step = Result<(), Stop>;

/// A refusal the session answers with an error frame and carries on after; a fault stops it.
pub fn answerable(failure: Failure) -> Result<(ErrorCode, &'static str), Stop> {
    match failure {
        Failure::Refused(code, message) => Ok((code, message)),
        Failure::Store(error) => Err(Stop::Fault(error)),
    }
}

/// Ends a session: tells the client why, where there is something to tell, then closes.
pub async fn finish<W, T>(tx: &mut W, stop: Stop, error_frame: impl FnOnce(ErrorCode, String) -> T)
where
    W: Sink<Message> + Unpin,
    T: Serialize,
{
    let said = match stop {
        Stop::Closed => None,
        Stop::Refused(code, message) => Some(error_frame(code, message)),
        Stop::Fault(error) => {
            tracing::error!(%error, "live session failed");
            let message = "the server could not complete this; reconnect shortly".to_owned();
            Some(error_frame(ErrorCode::Internal, message))
        }
    };
    if let Some(frame) = said {
        let _ = send(tx, &frame).await;
    }
    close(tx).await;
}

/// Sends one JSON frame; [`Stop::Closed`] when the peer is gone.
pub async fn send<W, T>(tx: &mut W, value: &T) -> Step
where
    W: Sink<Message> + Unpin,
    T: Serialize,
{
    let json = serde_json::to_string(value).map_err(|_| Stop::Closed)?;
    send_text(tx, json.into()).await
}

/// Sends a frame serialised once for many sessions.
pub async fn send_text<W>(tx: &mut W, text: axum::extract::ws::Utf8Bytes) -> Step
where
    W: Sink<Message> + Unpin,
{
    tx.send(Message::Text(text)).await.map_err(|_| Stop::Closed)
}

pub async fn close<W>(tx: &mut W)
where
    W: Sink<Message> + Unpin,
{
    let _ = tx.send(Message::Close(None)).await;
}
