//! The browser end-to-end tests, one binary (one link of the server and the browser driver):
//! the real server on free ports with a fresh database, and headless Chromium driven through
//! chromedriver. Each module is a part of the product, its tests read as what customers, agents
//! and merchants do, through the page objects in `pages` (`Widget`, `Console`, `HostPage`);
//! `support` is the plumbing below them.
#![cfg(not(target_arch = "wasm32"))]
#![allow(clippy::panic)] // a test fails by panicking

mod pages;
mod support;

mod accessibility;
mod bot;
mod checkout_csp;
mod dispatch;
mod handoff;
mod launcher;
mod live_module;
mod page_api;
mod states;
mod theming;
mod timing;
