//! Preconditions of the HTTP handlers, as extractors: a handler that needs a signed-in agent
//! takes `SignedIn(agent)`, one of the console's state-changing routes takes `FromConsole`,
//! and so on. Each rule is written once, here, and a handler cannot forget it.

use std::marker::PhantomData;
use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequestParts, Path};
use axum::http::Method;
use axum::http::request::Parts;
use axum::http::{HeaderMap, header};
use axum_extra::TypedHeader;
use axum_extra::extract::CookieJar;
use axum_extra::headers::Authorization;
use axum_extra::headers::authorization::Bearer;
use tandem_protocol::{ConversationId, MerchantId};

use crate::AppState;
use crate::error::AppError;
use crate::limits::{Limits, SOCKETS_PER_NETWORK, Slot, SocketKey};
use crate::live::now_ms;
use crate::store::{Agent, Merchant};
use crate::tokens::hash_token;

/// The console's session cookie.
pub(crate) const SESSION_COOKIE: &str = "tandem_session";

/// The agent whose session cookie this request carries; 401 without one.
pub(crate) struct SignedIn(pub Agent);

impl FromRequestParts<AppState> for SignedIn {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        Ok(Self(Session::from_request_parts(parts, state).await?.agent))
    }
}

/// The signed-in agent and which of their sessions it is (by its stored token hash), for what
/// lasts beyond the request: a console's socket ends with its session.
pub(crate) struct Session {
    pub agent: Agent,
    pub token_hash: String,
}

impl FromRequestParts<AppState> for Session {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        let unauthorized = || AppError::Unauthorized("sign in first".into());
        let jar = CookieJar::from_headers(&parts.headers);
        let token_hash =
            jar.get(SESSION_COOKIE).map(|cookie| hash_token(cookie.value())).ok_or_else(unauthorized)?;
        let agent = state.store.session_agent(&token_hash, now_ms()).await?.ok_or_else(unauthorized)?;
        Ok(Self { agent, token_hash })
    }
}

/// A signed-in admin of their team; 403 for other agents.
pub(crate) struct Admin(pub Agent);

impl FromRequestParts<AppState> for Admin {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        let SignedIn(agent) = SignedIn::from_request_parts(parts, state).await?;
        if agent.is_admin() {
            Ok(Self(agent))
        } else {
            Err(AppError::Forbidden("only an admin of your team can do this".into()))
        }
    }
}

/// The CSRF defence: a browser's state-changing request must come from the console's origin.
pub(crate) struct FromConsole;

impl FromRequestParts<AppState> for FromConsole {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        match parts.headers.get(header::ORIGIN) {
            None => Err(AppError::OriginMissing),
            Some(origin) if !state.console_origins.iter().any(|o| o.as_bytes() == origin.as_bytes()) => {
                Err(AppError::OriginNotAllowed(String::from_utf8_lossy(origin.as_bytes()).into_owned()))
            }
            Some(_) => Ok(Self),
        }
    }
}

/// The client's address, when the server knows it (not in router tests without a socket).
pub(crate) struct ClientIp(pub Option<IpAddr>);

impl FromRequestParts<AppState> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        Ok(Self(client_ip(parts, &state.trusted_proxies)))
    }
}

/// The peer's address; behind a trusted proxy, the client its forwarding headers name: the
/// rightmost address in `X-Forwarded-For` (else `Forwarded: for=`) that is not itself one of
/// the trusted proxies, since everything left of it could be written by the client.
fn client_ip(parts: &Parts, trusted: &[ipnet::IpNet]) -> Option<IpAddr> {
    let peer = parts.extensions.get::<ConnectInfo<SocketAddr>>().map(|info| info.0.ip())?;
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|net| net.contains(ip));
    if !is_trusted(&peer) {
        return Some(peer);
    }
    let forwarded = forwarded_chain(&parts.headers);
    Some(forwarded.into_iter().rev().find(|ip| !is_trusted(ip)).unwrap_or(peer))
}

/// The addresses a request passed through, client first, from `X-Forwarded-For`, or from the
/// standard `Forwarded` header when there is none.
fn forwarded_chain(headers: &HeaderMap) -> Vec<IpAddr> {
    let values = |name| headers.get_all(name).iter().filter_map(|v| v.to_str().ok()).collect::<Vec<_>>();
    let x_forwarded = values("x-forwarded-for");
    if !x_forwarded.is_empty() {
        return x_forwarded
            .iter()
            .flat_map(|v| v.split(','))
            .filter_map(|ip| ip.trim().parse().ok())
            .collect();
    }
    values("forwarded")
        .iter()
        .flat_map(|v| v.split([',', ';']))
        .filter_map(|pair| pair.trim().strip_prefix("for=").or_else(|| pair.trim().strip_prefix("For=")))
        .filter_map(|node| forwarded_node(node.trim_matches('"')))
        .collect()
}

/// `192.0.2.1`, `192.0.2.1:4711`, `[2001:db8::1]` or `[2001:db8::1]:4711`.
fn forwarded_node(node: &str) -> Option<IpAddr> {
    if let Some(v6) = node.strip_prefix('[') {
        return v6.split(']').next()?.parse().ok();
    }
    node.split(':').next()?.parse().ok()
}

/// A place for one more live socket under each of `keys` (with the network of `ip` when
/// known), or 429 when one of them is full.
pub(crate) fn socket_slot(
    state: &AppState,
    ip: Option<IpAddr>,
    mut keys: Vec<(SocketKey, usize)>,
) -> Result<Slot, AppError> {
    if let Some(ip) = ip {
        keys.push((SocketKey::Network(crate::limits::network(ip)), SOCKETS_PER_NETWORK));
    }
    state.sockets.open(&keys).ok_or(AppError::TooManySockets(
        "too many live connections at once from here; close another tab or window of the chat first",
    ))
}

/// A per-address budget of requests (see `crate::limits`).
pub(crate) trait Budget {
    fn allow(limits: &Limits, ip: Option<IpAddr>) -> bool;
}

/// Sign-ins and invites, looked up or used: guessing costs time.
pub(crate) struct Logins;

impl Budget for Logins {
    fn allow(limits: &Limits, ip: Option<IpAddr>) -> bool {
        limits.allow_login(ip)
    }
}

/// Conversations started and messages left.
pub(crate) struct NewChats;

impl Budget for NewChats {
    fn allow(limits: &Limits, ip: Option<IpAddr>) -> bool {
        limits.allow_new_conversation(ip)
    }
}

/// A request within the client address's budget `B`; 429 past it.
pub(crate) struct Within<B>(PhantomData<B>);

impl<B: Budget> FromRequestParts<AppState> for Within<B> {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        spend::<B>(state, client_ip(parts, &state.trusted_proxies))?;
        Ok(Self(PhantomData))
    }
}

/// Spends one request of `ip`'s budget `B`, or refuses with 429: for a handler that checks
/// other things first (see [`Within`] for one that checks nothing before).
pub(crate) fn spend<B: Budget>(state: &AppState, ip: Option<IpAddr>) -> Result<(), AppError> {
    if B::allow(&state.limits, ip) { Ok(()) } else { Err(AppError::RateLimited) }
}

/// The merchant named by the path's `{id}`, for a request from a page that may use its chat:
/// one of the merchant's origins, or our own (the widget's frame and full page).
pub(crate) struct PageMerchant(pub Merchant);

impl FromRequestParts<AppState> for PageMerchant {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        let Path(raw_id) = Path::<String>::from_request_parts(parts, state)
            .await
            .map_err(|_| AppError::InvalidMerchantId("the path names no merchant".into()))?;
        let merchant = find_merchant(state, &raw_id).await?;
        check_page_origin(state, &merchant, &parts.headers)?;
        Ok(Self(merchant))
    }
}

/// The merchant with this id; 400 for an id that cannot be one, 404 for an unknown one.
pub(crate) async fn find_merchant(state: &AppState, raw_id: &str) -> Result<Merchant, AppError> {
    let id = MerchantId::parse(raw_id).map_err(|error| AppError::InvalidMerchantId(error.to_string()))?;
    state
        .store
        .merchant(&id)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("there is no merchant with id {id}")))
}

/// What a page sends (a conversation, a message left, a rating) or opens (its live socket)
/// must name the page: browsers always send `Origin` there, so a request without one is refused
/// rather than taken for nobody's. Then as [`check_page_origin`].
pub(crate) fn require_page_origin(
    state: &AppState,
    merchant: &Merchant,
    headers: &HeaderMap,
) -> Result<(), AppError> {
    if !headers.contains_key(header::ORIGIN) {
        return Err(AppError::OriginMissing);
    }
    check_page_origin(state, merchant, headers)
}

/// A browser request from a page must come from one of the merchant's origins, or from our own
/// (the widget's frame and full page, which only run there). Requests without `Origin` come
/// from no page (scripts, servers) and cannot ride a customer's session.
pub(crate) fn check_page_origin(
    state: &AppState,
    merchant: &Merchant,
    headers: &HeaderMap,
) -> Result<(), AppError> {
    match headers.get(header::ORIGIN).map(|origin| origin.to_str().unwrap_or_default()) {
        Some(origin) if state.is_own_origin(origin) => Ok(()),
        Some(origin) if !merchant.allows_origin(origin) => Err(AppError::OriginNotAllowed(origin.to_owned())),
        _ => Ok(()),
    }
}

/// The conversation of the path `{id}`, when the request carries its customer's token as a
/// bearer token and comes from one of its merchant's pages (a `POST` must say which; a `GET`
/// may come from our own frame, which browsers send without `Origin`).
pub(crate) struct CustomerChat(pub crate::store::Conversation);

impl FromRequestParts<AppState> for CustomerChat {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        let unauthorized =
            || AppError::Unauthorized("the customer token does not match this conversation".into());
        let Path(params) =
            Path::<std::collections::HashMap<String, String>>::from_request_parts(parts, state)
                .await
                .map_err(|_| unauthorized())?;
        let bearer = TypedHeader::<Authorization<Bearer>>::from_request_parts(parts, state).await;
        let token = bearer.map_err(|_| unauthorized())?.0.token().to_owned();
        let id = params.get("id").and_then(|raw| ConversationId::parse(raw)).ok_or_else(unauthorized)?;
        let conversation = state.store.conversation(&id).await?.ok_or_else(unauthorized)?;
        if conversation.token_hash != hash_token(&token) {
            return Err(unauthorized());
        }
        let merchant = state.store.merchant(&conversation.merchant_id).await?.ok_or_else(unauthorized)?;
        if parts.method == Method::GET {
            check_page_origin(state, &merchant, &parts.headers)?;
        } else {
            require_page_origin(state, &merchant, &parts.headers)?;
        }
        Ok(Self(conversation))
    }
}
