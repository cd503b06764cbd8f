//! Download-size budgets, in bytes as the server sends them with `Accept-Encoding: br` (what
//! browsers fetch; `cargo xtask size` measures over HTTP). The one place they live:
//! `cargo xtask size` and `cargo xtask test` fail when a build goes over.

/// The loader every page with the widget pays for at load time. 3 KB until it drew the panel's
/// shell on a click, before the app (#14: the human button on screen at once): 4 KB.
pub const LOADER_BROTLI: u64 = 4 * 1024;
/// Everything fetched once the customer opens the widget: loader, app JS and wasm (which
/// carries the widget's stylesheet; it was a file of its own until the shell was styled by
/// the loader).
///
/// History: 150 KB at first; 160 KB when the bot engine moved into the browser (+36 KB: 119 →
/// 155 KB); 192 KB with the full customer experience (+33 KB: the details, leave-a-message and
/// rating states, three language catalogues and the page's JS API). Bringing it down is open
/// work, and `cargo xtask size` shows where to look: serde's code for internally tagged enums
/// (deserialising `CustomerEvent` alone is 25 KB of code), float formatting (11 KB), and the
/// rendering code Leptos generates per view. 194 KB with checkout-safe embedding (+4.7 KB:
/// card-number masking and the frame-mode bridge in the wasm +3.3 KB, SRI hashes and the
/// mode choice in the loader; the glue minified by esbuild saved 1.7 KB of that, and
/// wasm-opt's `--converge` 0.1 KB). 198 KB with the hardening (+4.0 KB in the wasm: the
/// outbox kept in `sessionStorage` 1.4 KB, the page's leave beacon and the backoff after
/// `rate_limited` 0.5 KB, a restored database's `transcript` 0.6 KB, the full queue's
/// leave-a-message answer, refusals that name their message and the signed identity's issue
/// time the rest). The greeting's starter topics cost 1.2 KB (the flow's `starters`, and their
/// line drawn by the bot lines' own view: a view of their own cost 1.5 KB), paid for by no
/// longer formatting gloo's errors, whose `Display` brought serde_json's and std's error texts
/// (−0.8 KB): 202,707 B.
///
/// Bringing it down (#14), one measured step at a time:
/// - **JSON decoded by our own deserializer** over what `JSON.parse` gives
///   (`tandem_browser::from_value`), whose errors keep no text: serde's `expecting` texts,
///   its `Unexpected` descriptions and float formatting are no longer linked in. −17.2 KB
///   (wasm 191,666 → 174,832 B, glue 6,345 → 5,968 B): 185,497 B.
/// - **The panel's shell before the app** (a feature, not a saving): the loader draws the
///   header, the human button and a text box on the click and fetches the merchant's name
///   (+0.7 KB); the app takes the shell over, with what was typed and a press of the human
///   button, and uses the loader's configuration instead of fetching it again (+1.2 KB):
///   187,351 B, budget 184 KiB.
/// - **Internally tagged enums read as their flat fields** (`CustomerEvent`, `Author`, the
///   flow's `SlotKind`: `try_from` a struct of every variant's fields), not through serde's
///   buffering of the whole frame into a generic value: the protocol's code went from 39 to 6 KB
///   before wasm-opt. −7.8 KB (wasm 175,916 → 168,143 B): 179,586 B, budget 176 KiB.
/// - **No `{:?}` in what the wasm formats** (a skill refused, the settings not loaded, a flow's
///   problems, a merchant id's bad character): `Debug` of strings brings their escaping. −1.2 KB:
///   178,432 B.
/// - **The shell, finished** (a feature): the loader fetches the bot's flow beside the
///   configuration, so that the bot answers at once what was typed into the shell; the panel's
///   draft is one text across its composers (the bot's, then the person's); a stylesheet that
///   fails is a failed load. +1.8 KB: 180,218 B, budget 177 KiB.
/// - **"Seen"** (a feature, #15): the customer's reading told to the person (once a second at
///   most, only with the panel open in a visible tab) and "Seen" under the customer's last
///   message. +3.0 KB (wasm 168,670 → 171,611 B), of which the line drawn 0.7 KB and the new
///   reactive state and timers most of the rest: Leptos instantiates its signal, effect and
///   timer code per type. 183,192 B, budget 180 KiB (183,308 B once the protocol also held
///   the console's notes and canned responses, which the widget does not use: +0.1 KB of
///   layout; 183,377 B once a second conversation on the page starts with nothing read).
/// - **Attachments** (a feature, #15): the attach button, the upload with its progress
///   (`XMLHttpRequest`), the file fetched with the token into a `blob:` URL and drawn as a
///   link with its picture, four refusals in three languages. +6.4 KB (wasm 171.8 → 177.7 KB),
///   after drawing a file as one view redrawn when its bytes are in, rather than with reactive
///   `href` and `src` (−2.5 KB of code before wasm-opt) or as two views, its name and then its
///   link (+0.8 KB as served), and the attach button as a labelled file input rather than a
///   button that clicks a hidden one: 189,770 B, budget 186 KiB.
/// - **The page's context** (a feature, #16): `Tandem.setContext` checked in the browser (an
///   object JSON can write, at most 8 KB, else a warning), sent as the conversation starts and
///   again when the page changes it. +0.9 KB: 190,662 B, budget 187 KiB.
/// - **Transcripts by email** (a feature, #16): in the ended state, on a server that sends
///   mail, a box to tick, then the address (the one given before the handoff, or the signed
///   one) and a send button, in three languages. +3.9 KB (wasm 178.6 → 182.4 KB), after
///   writing its body with the browser's JSON rather than a serializer of its own and keeping
///   the form one view (a `Show` for the form and a closure for "sent" cost 0.5 KB more):
///   194,608 B, budget 191 KiB. Then made right: one request at a time (a second press would
///   spend one of the chat's three), "sent" taking the focus and read out, and the limit told
///   apart from a failure (a fourth catalogue line). +1.0 KB, after leaving out a
///   reactive `aria-disabled` on the button and the signal behind it (1.0 KB more; a plain flag
///   guards the press); sharing the focus code with the rating's thanks cost 76 B more as served:
///   195,640 B, budget 192 KiB.
/// - **The shell styled by the loader, the stylesheet inside the app** (a feature: the human
///   button on screen in the task of the click, with nothing fetched first). The loader carries
///   the shell's rules (+0.4 KB) and, to stay within its 4 KB, checks the app's files with
///   SHA-256 rather than SHA-384 (−70 B), no longer names the stylesheet (the app adopts it
///   from the wasm: −1.8 KB for the file, +2.3 KB in the wasm) nor frame mode's page (frame.js
///   finds it beside itself), and its elements carry no test ids: loader 3,855 → 4,063 B.
///   Merchants no longer allow Tandem in `style-src`. 196,438 B, within 192 KiB.
/// - **Components and views type-erased** (`--cfg erase_components` for the wasm target,
///   .cargo/config.toml): Leptos renders each view as an `AnyView` instead of generating code
///   for every nested view type. −7.7 KB (wasm 185,841 → 178,117 B): 188,734 B, budget
///   185 KiB (188,746 B, loader 4,079 B, once the shell's header padding followed the
///   page's direction, +29 B, and a failed load's warning no longer said what the launcher
///   became, −25 B). Measured and left out: `opt-level = "s"` (+11 KB), wasm-opt's
///   `--gufa-optimizing` (−0.2 KB, not worth a less common pass).
/// - **The bot's index built per language on first use** (a speed step: on a slow phone, 50 to
///   80 ms less between the wasm's arrival and the panel being ready, README "The widget,
///   timed"): a lock per language and the index built from the intents then. +0.6 KB (wasm
///   178,117 → 178,721 B): 189,347 B.
/// - **What a second wasm module could take out**, measured by `cargo xtask size`'s breakdown
///   by module (not built): the live chat's own code (`handoff`, `states`, `conversation`,
///   the browser crate's `channel` and `socket`) is 8–9 % of the code, 13 % if all of the JSON
///   decoding went with it: about 15–23 KB as served. Leptos with its reactive system
///   and Rust's core, alloc and std are 63 % of the code (about 112 KB as served) and both
///   halves need them, so the first download would stay near 165–175 KB with the live chat lazy.
/// - **No sorting code, no `pow` of our own**: maps built by insertion rather than `collect()`
///   (the bot's index, its languages and keywords: `BTreeMap`'s `FromIterator` sorts with a
///   stable sort instantiated per map type, three of them, 13 KB of code before wasm-opt), −4.5 KB
///   (wasm 178,721 → 174,224 B); the theme's contrast check with the browser's `Math.pow` rather
///   than Rust's `powf`, which linked a `pow` of its own, −1.1 KB: 183,803 B, budget 180 KiB.
///   Measured and left out: wasm-opt's `--strip-producers --strip-target-features` (−47 B).
/// - **The handoff's server and merchant as plain shared data** (fixed for the page's life),
///   not two values in Leptos's arena, each type of which brings its own storage code; the
///   panel's views ask the handoff for the server rather than passing it down as a prop; the
///   page's context signal given to the handoff as it is made, not stored in it later. −0.5 KB:
///   183,277 B. Measured and left out: talc as the wasm's allocator in place of
///   dlmalloc (−0.2 KB, not worth a dependency in the allocator's place).
/// - **Exports nothing calls, taken out** (xtask/src/trim.rs): Leptos links server_fn's browser
///   client, whose wasm-streams exports three JavaScript classes; publishing drops their
///   exports and runs wasm-opt again to drop the code only they reached (and names the glue and
///   the wasm by what they then hold). −1.2 KB (wasm 172,648 → 171,491 B): 182,126 B.
/// - **What 120 KB would take**: a Leptos 0.8 app of a signal, a `Show`, a `For` and a text box,
///   built with this profile and `erase_components`, is 43 KB of wasm as served (and 5 KB of
///   glue): Leptos itself is not the weight, the widget's own views, reactive state and
///   decoding instantiated through it are (about 130 KB of the 173 KB then). 120 KB leaves the wasm
///   about 109 KB, which only a first module without the live chat can reach: the live chat
///   behind one `#[wasm_split]` boundary (`leptos::wasm_split`, marked `fallible` so that a
///   failed fetch is a failed handoff rather than a panic), split by
///   `wasm_split_cli_support::transform` between cargo (linked with `--emit-relocs`) and
///   wasm-bindgen (`--keep-lld-exports`), each module through wasm-opt and SRI-checked, which
///   means `cargo xtask` building the widget instead of Trunk.
/// - **The live chat as a second module** (src/live.rs, xtask/src/split.rs): the handoff's
///   requests, its socket and the protocol's events behind one `#[wasm_split]` entry, fetched
///   when the customer asks for a person (or comes back to a conversation with one). Trunk still
///   builds; publishing splits cargo's output and runs wasm-bindgen and wasm-opt on the parts
///   itself, and writes the split's small link module into the glue (+0.3 KB there) rather
///   than serving one more file. −10.6 KB in the wasm (171,491 → 160,908 B), the live module
///   19,170 B: 171,721 B.
/// - **The live chat's views in its module**: what only the live chat brings about (the
///   queue, the details, leave-a-message, rating and transcript forms, the person's messages
///   and files) is drawn by a function the live module hands the handoff when it arrives; the
///   first module draws it through that (`Handoff::drawn_live`), and until then a resumed
///   conversation reads "finding a person". −13.1 KB in the wasm (160,731 → 147,652 B), the
///   live module 36,980 B: 158,622 B, budget 156 KiB. Left in the first module: the live
///   chat's state and what is sent on its socket (the outbox, read receipts, typing), and the
///   shell of the conversation (the list, the pending lines, the notices).
/// - **The live module asked for as the pointer reaches the human button** (a mouse over it,
///   a finger on it), so that the press does not wait for it: +0.3 KB (wasm 147,958 B):
///   158,939 B; the live module 36,915 B.
/// - **The composer's and the header's live parts in the live module**: the attach and end
///   buttons, the header's "talking to" with the person's initials, the reconnecting banner,
///   and a file on its way, "Seen" and the person typing, drawn through `Handoff::drawn_live`
///   like the rest of the live chat (until it is here the header reads "on the way" and the
///   composer to the person has its text box and send button). The composer is no longer
///   built with optional callbacks for them. −8.6 KB in the wasm (147,958 → 139,331 B):
///   150,304 B, budget 147 KiB; the live module 46,058 B (+9.1 KB), budget 48 KiB.
/// - **What goes on the live socket, sent by the live module**: the first module asks it through a
///   `fn` it hands over on arriving (`live::Arrived`), as there is no socket before it; the
///   outbox's mirror in `sessionStorage` written by the browser's JSON from a list of strings.
///   The frames' encoding (serde-wasm-bindgen's serializer) and the socket's code leave the
///   first module. −1.4 KB (wasm 139,331 → 137,934 B): 148,928 B; the live module 48,045 B.
/// - **The widget's start as LLVM leaves it**: `Handoff::new`, `BotChat::load`, `page_api::attach`
///   and `frame::attach` marked `#[inline(never)]`, as inlining them into the widget's
///   component made it larger. −0.5 KB: 148,418 B.
/// - **The live chat's words in its module** (`locales/live/*.txt`: the queue, the forms, the
///   files, the rating, the transcript, the end), handed over as the module arrives; the
///   first module keeps the panel's and the bot's. −2.1 KB (wasm 137,426 → 135,341 B): 146,359 B,
///   budget 144 KiB; the live module 52,017 B (+4.4 KB: it carries the three languages).
/// - **The conversation with the person drawn by the live module** (its messages, what is still
///   being sent, and the rest of its activity: `MessagesThenPending` and its keyed lists go with
///   it), and **the bot's lines as an unkeyed list** (they are only ever added, and the
///   starters come before any of them): no keyed list is left in the first module, and
///   indexmap's code and tachys's keyed diff with it. −8.5 KB (wasm 135,341 → 126,848 B):
///   137,842 B, budget 136 KiB; the live module 60,822 B, budget 64 KiB. Until the live module
///   is here (a conversation resumed as the page loads), what the customer sends waits in the
///   outbox unseen, as the messages it answers are.
/// - **What only a conversation needs, started by the live module**: the page's context followed
///   (`Tandem.setContext` sent as it changes) and the beacon when the page goes while the
///   customer waits are installed as the live chat's code arrives, not as the widget starts.
///   −1.3 KB (wasm 126,848 → 125,562 B): 136,549 B; the live module 61,889 B.
/// - **No `Show` in the first module**: the launcher's panel, frame mode's panel and the bot's
///   offer of a person drawn by a closure over a memo of their condition (what `Show` does,
///   without its generic component per use). −0.9 KB (wasm 125,581 → 124,634 B): 135,616 B,
///   budget 134 KiB.
/// - **One request in the wasm, whatever it decodes**: `fetch_json`'s typed wrappers are thin
///   over one untyped request (`fetch_value`), so that each answer type no longer brings an
///   async request of its own. −0.2 KB in the first module (wasm 124,386 B): 135,379 B; −1.1 KB
///   in the live module (62,439 B).
/// - **What is left between 135 KB and 120 KB**, measured: the first module now holds what the
///   open panel draws and the bot. The bot's turn (`Bot::turn`, `Bot::choose` and the index and
///   maps they build) is 8.7 KB of it as served (the first module with the bot answering nothing:
///   116,858 B of wasm, 127,846 B opened): a third module, fetched as the customer starts to write
///   or reaches for a topic, is the next step, with its cost to the first answer measured
///   (`cargo xtask timing`). Then the live chat's rules out of the stylesheet (about 0.6 KB: the
///   forms', the rating's and the files' rules share selectors with the composer's), and
///   `tandem_browser::json`'s decoding of the configuration and the flow (serde's derived
///   visitors, 12 KB of code after wasm-opt). Measured and left out: the live module's preload
///   as one more of its tasks (no change), and `#[inline(never)]` on `merchant_config::load`.
pub const OPENED_TOTAL_BROTLI: u64 = 134 * 1024;
/// What frame mode (pages whose policy refuses WebAssembly) fetches on top: its script for
/// the page (loader/frame.js) and the frame's page.
pub const FRAME_MODE_EXTRA_BROTLI: u64 = 2 * 1024;

/// The live chat's wasm (`src/live.rs`, its code and its views), fetched once the customer asks
/// for a person: on top of the opened total, while the request is on its way (36,980 B; 46,058 B
/// once the composer's and the header's live parts came with it; 52,017 B with the live chat's
/// words, all three languages of them; 60,822 B with the conversation's keyed lists).
pub const LIVE_BROTLI: u64 = 64 * 1024;
