//! The server's integration tests, one binary: the real server (or its router) on port 0 with
//! a fresh SQLite database, spoken to over HTTP and WebSockets as the widget, the console and
//! outside clients do, and the `tandem` binary's command line.
#![allow(clippy::panic)] // a test fails by panicking

mod common;
mod contract;

mod api;
mod attachments;
mod cli;
mod customer_experience;
mod dispatch;
mod isolation;
mod limits;
mod live;
mod mail;
mod on_postgres;
mod openapi;
mod scale_out;
mod team;
mod waiting;
mod webhooks;
