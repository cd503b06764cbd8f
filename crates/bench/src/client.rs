//! Clients as a browser would be: one source address each, WebSockets with an `Origin`, and the
//! processes under test (started, their address read, their memory measured, stopped).

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::process::Stdio;
use std::time::Instant;

use futures_util::stream::{SplitSink, SplitStream};
use futures_util::{SinkExt, StreamExt};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::net::{TcpSocket, TcpStream};
use tokio::process::{Child, Command};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::{WebSocketStream, client_async};

pub type Ws = WebSocketStream<TcpStream>;
pub type Sender = SplitSink<Ws, Message>;
pub type Receiver = SplitStream<Ws>;

/// The `index`-th client's own loopback address (127.0.1.1, 127.0.1.2, …).
pub fn source(index: u32) -> IpAddr {
    let [_, _, high, low] = (index / 250 + 1).to_be_bytes();
    let host = u8::try_from(index % 250 + 1).unwrap_or(1);
    IpAddr::V4(Ipv4Addr::new(127, high.max(1), low, host))
}

/// A WebSocket to `url` from `from`, with the given headers.
pub async fn connect(
    server: SocketAddr,
    url: &str,
    from: IpAddr,
    headers: &[(&str, &str)],
) -> Result<Ws, String> {
    let socket = TcpSocket::new_v4().map_err(|e| e.to_string())?;
    socket.bind(SocketAddr::new(from, 0)).map_err(|e| format!("bind {from}: {e}"))?;
    let stream = socket.connect(server).await.map_err(|e| format!("connect: {e}"))?;
    let mut request = url.into_client_request().map_err(|e| e.to_string())?;
    for (name, value) in headers {
        let name: tokio_tungstenite::tungstenite::http::HeaderName =
            name.parse().map_err(|_| format!("bad header name {name}"))?;
        let value = value.parse().map_err(|_| format!("bad header value {value}"))?;
        request.headers_mut().insert(name, value);
    }
    let (ws, _) = client_async(request, stream).await.map_err(|e| format!("upgrade {url}: {e}"))?;
    Ok(ws)
}

pub async fn send_json(tx: &mut Sender, value: &serde_json::Value) -> Result<(), String> {
    tx.send(Message::Text(value.to_string().into())).await.map_err(|e| e.to_string())
}

/// The next JSON text frame, with when it arrived.
pub async fn next_json(rx: &mut Receiver) -> Option<(serde_json::Value, Instant)> {
    while let Some(frame) = rx.next().await {
        if let Ok(Message::Text(text)) = frame {
            return serde_json::from_str(text.as_str()).ok().map(|v| (v, Instant::now()));
        }
        frame.ok()?;
    }
    None
}

/// A process under test, stopped on drop.
pub struct Process {
    child: Child,
}

impl Process {
    /// Starts `program` and waits for the stdout line starting with `marker`; returns the rest.
    pub async fn start(mut command: Command, marker: &str) -> Result<(Self, String), String> {
        let mut child = command
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| format!("cannot start {command:?}: {e}"))?;
        let stdout = child.stdout.take().ok_or("no stdout")?;
        let mut lines = BufReader::new(stdout).lines();
        while let Ok(Some(line)) = lines.next_line().await {
            if let Some(rest) = line.strip_prefix(marker) {
                let rest = rest.trim().to_owned();
                // Keep reading its output, so that it never blocks on a full pipe.
                tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
                return Ok((Self { child }, rest));
            }
        }
        Err(format!("{command:?} did not print {marker:?}"))
    }

    /// Resident memory, in bytes.
    pub fn rss(&self) -> u64 {
        let Some(pid) = self.child.id() else { return 0 };
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
        let kb = status
            .lines()
            .find_map(|line| line.strip_prefix("VmRSS:"))
            .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
            .unwrap_or(0);
        kb * 1024
    }
}
