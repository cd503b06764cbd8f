//! The baseline: the least a WebSocket server can do, built with the same stack (axum, tokio,
//! the same buffer sizes as the customer channel). A text frame is echoed back, except
//! `broadcast`, which goes to every socket.

use axum::Router;
use axum::extract::State;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::response::Response;
use axum::routing::get;
use futures_util::{SinkExt, StreamExt};
use tokio::sync::broadcast;

pub async fn serve() -> Result<(), String> {
    let (everyone, _) = broadcast::channel::<String>(64);
    let app = Router::new().route("/ws", get(upgrade)).with_state(everyone);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.map_err(|e| e.to_string())?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    println!("relay listening on {addr}");
    axum::serve(listener, app).await.map_err(|e| e.to_string())
}

async fn upgrade(State(everyone): State<broadcast::Sender<String>>, ws: WebSocketUpgrade) -> Response {
    ws.read_buffer_size(4 * 1024)
        .write_buffer_size(4 * 1024)
        .on_upgrade(move |socket| relay(socket, everyone))
}

async fn relay(socket: WebSocket, everyone: broadcast::Sender<String>) {
    let (mut tx, mut rx) = socket.split();
    let mut heard = everyone.subscribe();
    loop {
        tokio::select! {
            frame = rx.next() => match frame {
                Some(Ok(Message::Text(text))) if text.as_str() == "broadcast" => {
                    let _ = everyone.send(text.as_str().to_owned());
                }
                Some(Ok(Message::Text(text))) => {
                    if tx.send(Message::Text(text)).await.is_err() {
                        return;
                    }
                }
                Some(Ok(_)) => {}
                _ => return,
            },
            Ok(text) = heard.recv() => {
                if tx.send(Message::Text(text.into())).await.is_err() {
                    return;
                }
            }
        }
    }
}
