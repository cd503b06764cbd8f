//! Trunk's entry: mounts the console on the page body.

fn main() {
    leptos::mount::mount_to_body(tandem_console::Console);
}
