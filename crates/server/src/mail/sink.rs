//! A mail server that keeps what it is sent, on this machine: for the demo (`tandem serve
//! --demo` without `--smtp-url` prints what it would have mailed) and for tests. It speaks just enough SMTP for a client
//! such as lettre, over plain TCP on loopback; it is never a relay.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Notify;

/// One mail as the sink received it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Received {
    /// The envelope's sender and recipients.
    pub from: String,
    pub to: Vec<String>,
    /// The message itself: headers and body, as sent.
    pub data: String,
}

impl Received {
    /// The body after the headers, quoted-printable decoded (soft line breaks joined, `=XX`
    /// as its byte), so that a test reads the words as written.
    pub fn body(&self) -> String {
        let body = self.data.split_once("\r\n\r\n").map_or("", |(_, body)| body).replace("=\r\n", "");
        let mut bytes = Vec::with_capacity(body.len());
        let mut rest = body.as_bytes();
        while let Some((&first, tail)) = rest.split_first() {
            let hex = tail.get(..2).and_then(|pair| std::str::from_utf8(pair).ok());
            match hex.and_then(|pair| u8::from_str_radix(pair, 16).ok()) {
                Some(byte) if first == b'=' => {
                    bytes.push(byte);
                    rest = &tail[2..];
                }
                _ => {
                    bytes.push(first);
                    rest = tail;
                }
            }
        }
        String::from_utf8_lossy(&bytes).into_owned()
    }

    /// The value of header `name` (the first, unfolded), if the mail has it.
    pub fn header(&self, name: &str) -> Option<String> {
        let head = self.data.split("\r\n\r\n").next().unwrap_or_default();
        let mut value: Option<String> = None;
        for line in head.split("\r\n") {
            if let Some(found) = value.as_mut() {
                if line.starts_with([' ', '\t']) {
                    found.push_str(line.trim_start());
                    continue;
                }
                break;
            }
            if let Some((key, rest)) = line.split_once(':')
                && key.eq_ignore_ascii_case(name)
            {
                value = Some(rest.trim().to_owned());
            }
        }
        value
    }
}

#[derive(Default)]
struct Inbox {
    mails: Mutex<Vec<Received>>,
    arrived: Notify,
}

/// A running sink; it stops when dropped.
pub struct Sink {
    addr: SocketAddr,
    inbox: Arc<Inbox>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Sink {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Sink {
    /// A sink on a free loopback port.
    pub async fn start() -> std::io::Result<Self> {
        Self::start_on("127.0.0.1:0".parse().expect("a loopback address")).await
    }

    /// A sink on `addr` (a port a server was told of before the sink was up).
    pub async fn start_on(addr: SocketAddr) -> std::io::Result<Self> {
        let listener = TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let inbox = Arc::new(Inbox::default());
        let keeping = inbox.clone();
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                tokio::spawn(session(stream, keeping.clone()));
            }
        });
        Ok(Self { addr, inbox, task })
    }

    /// What `--smtp-url` is for this sink.
    pub fn url(&self) -> String {
        format!("smtp://{}", self.addr)
    }

    pub fn received(&self) -> Vec<Received> {
        self.inbox.mails.lock().expect("the inbox").clone()
    }

    /// Every mail received, once there are at least `count`; `None` after `within`.
    pub async fn wait_for(&self, count: usize, within: Duration) -> Option<Vec<Received>> {
        tokio::time::timeout(within, async {
            loop {
                let arrived = self.inbox.arrived.notified();
                let mails = self.received();
                if mails.len() >= count {
                    return mails;
                }
                arrived.await;
            }
        })
        .await
        .ok()
    }
}

/// One client's connection: greeting, envelope, data, until QUIT.
async fn session(stream: TcpStream, inbox: Arc<Inbox>) -> std::io::Result<()> {
    let (read, mut write) = stream.into_split();
    let mut lines = BufReader::new(read).lines();
    write.write_all(b"220 tandem-sink ESMTP\r\n").await?;
    let (mut from, mut to) = (String::new(), Vec::new());
    while let Some(line) = lines.next_line().await? {
        let upper = line.to_ascii_uppercase();
        let reply: &[u8] = if upper.starts_with("EHLO") || upper.starts_with("HELO") {
            b"250-tandem-sink\r\n250 8BITMIME\r\n"
        } else if upper.starts_with("MAIL FROM:") {
            from = address(&line["MAIL FROM:".len()..]);
            b"250 OK\r\n"
        } else if upper.starts_with("RCPT TO:") {
            to.push(address(&line["RCPT TO:".len()..]));
            b"250 OK\r\n"
        } else if upper == "DATA" {
            write.write_all(b"354 end with <CRLF>.<CRLF>\r\n").await?;
            let mut data = String::new();
            while let Some(line) = lines.next_line().await? {
                if line == "." {
                    break;
                }
                data.push_str(line.strip_prefix('.').unwrap_or(&line));
                data.push_str("\r\n");
            }
            let mail = Received { from: std::mem::take(&mut from), to: std::mem::take(&mut to), data };
            inbox.mails.lock().expect("the inbox").push(mail);
            inbox.arrived.notify_waiters();
            b"250 OK queued\r\n"
        } else if upper == "RSET" || upper == "NOOP" {
            b"250 OK\r\n"
        } else if upper == "QUIT" {
            write.write_all(b"221 bye\r\n").await?;
            return Ok(());
        } else {
            b"502 not implemented\r\n"
        };
        write.write_all(reply).await?;
    }
    Ok(())
}

/// `<a@b>` (with any parameters after it) as `a@b`.
fn address(text: &str) -> String {
    let text = text.trim();
    let inner = text.strip_prefix('<').and_then(|rest| rest.split_once('>')).map(|(inner, _)| inner);
    inner.unwrap_or(text).to_owned()
}
