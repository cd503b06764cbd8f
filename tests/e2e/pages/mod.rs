//! The page objects: what customers, agents and merchants see and do, in the words of the
//! product. Every selector and script the tests need lives here, below `support`'s plumbing.

mod console;
mod host;
mod widget;

pub use console::{ANNA, BEN, Console, Invitation};
pub use host::HostPage;
pub use widget::{Mode, Part, Widget};
