//! Trunk's entry: mounts the widget where the page asks for it (see [`tandem_widget::boot`]).

fn main() {
    tandem_widget::boot();
}
