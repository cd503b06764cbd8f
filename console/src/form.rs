//! What the console's forms are made of.

use leptos::prelude::*;
use tandem_browser::{FetchError, from_json};
use tandem_protocol::Problem;

/// Why the server refused a form, as its problem body says (else a word on what to check).
pub fn refusal(error: &FetchError) -> String {
    match error {
        FetchError::Status(_, body) => from_json::<Problem>(body)
            .map_or_else(|| "Something was not accepted; check the form.".into(), |p| p.detail),
        _ => "The server could not be reached; try again.".into(),
    }
}

/// A labelled text input bound to `value`: the sign-in and the invite forms are built of these.
#[component]
pub fn Field(
    label: &'static str,
    value: RwSignal<String>,
    testid: &'static str,
    autocomplete: &'static str,
    /// The input's `type`; none is a plain text field.
    #[prop(optional)]
    kind: Option<&'static str>,
    #[prop(optional)] minlength: Option<&'static str>,
    #[prop(optional)] maxlength: Option<&'static str>,
) -> impl IntoView {
    view! {
        <label>
            {label}
            <input
                type=kind
                autocomplete=autocomplete
                required
                minlength=minlength
                maxlength=maxlength
                data-testid=testid
                prop:value=move || value.get()
                on:input=move |event| value.set(event_target_value(&event))
            />
        </label>
    }
}
