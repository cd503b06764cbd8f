//! What the widget does for the theming contract at run time (the contract itself is CSS:
//! style/widget.css and docs/theming.md): warn a merchant whose colours make text hard to read,
//! and keep the panel's height equal to the visible viewport on phones.

use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use web_sys::{Element, HtmlElement};

/// WCAG 2.2 AA for normal text.
pub const MIN_TEXT_CONTRAST: f64 = 4.5;

/// An sRGB colour as the browser computes it: `rgb(r, g, b)` or `rgba(r, g, b, a)`.
pub fn parse_rgb(computed: &str) -> Option<[f64; 3]> {
    let inner = computed.trim().strip_prefix("rgba(").or_else(|| computed.trim().strip_prefix("rgb("))?;
    let mut parts = inner.trim_end_matches(')').split([',', ' ', '/']).filter(|p| !p.is_empty());
    // Whole numbers, as browsers compute sRGB colours; parsing floats would cost the download
    // a float parser.
    let mut channel = || parts.next()?.parse::<u8>().ok().map(f64::from);
    Some([channel()?, channel()?, channel()?])
}

fn relative_luminance([r, g, b]: [f64; 3]) -> f64 {
    let linear = |c: f64| {
        let c = c / 255.0;
        if c <= 0.040_45 { c / 12.92 } else { pow((c + 0.055) / 1.055, 2.4) }
    };
    0.2126 * linear(r) + 0.7152 * linear(g) + 0.0722 * linear(b)
}

/// In the wasm, the browser's own `Math.pow`: Rust's `powf` would bring a `pow` of its own into
/// the download. Natively (the unit tests), Rust's.
fn pow(base: f64, exponent: f64) -> f64 {
    #[cfg(target_arch = "wasm32")]
    return js_sys::Math::pow(base, exponent);
    #[cfg(not(target_arch = "wasm32"))]
    return base.powf(exponent);
}

/// The WCAG contrast ratio of two colours, 1 to 21.
pub fn contrast(a: [f64; 3], b: [f64; 3]) -> f64 {
    let (la, lb) = (relative_luminance(a), relative_luminance(b));
    (la.max(lb) + 0.05) / (la.min(lb) + 0.05)
}

/// Logs a console warning for each pair of the theme's colours that reads below 4.5:1, as
/// computed in this browser: panel text on the surface, header text on the accent, the human
/// button's text on its background.
pub fn warn_on_low_contrast(root: &Element) {
    let Some(window) = web_sys::window() else { return };
    let pairs = [
        ("[data-testid=panel]", "panel text (--tandem-text) on --tandem-surface"),
        ("[data-testid=panel] .header", "header text (--tandem-on-accent) on --tandem-accent"),
        ("[data-testid=human-button]", "the human button (--tandem-accent) on --tandem-surface"),
    ];
    for (selector, what) in pairs {
        let Some(element) = root.query_selector(selector).ok().flatten() else { continue };
        let Some(style) = window.get_computed_style(&element).ok().flatten() else { continue };
        let color = style.get_property_value("color").ok().and_then(|c| parse_rgb(&c));
        let background = style.get_property_value("background-color").ok();
        // Transparent: the stylesheet has not applied yet; nothing to judge.
        let background = background.filter(|c| !c.ends_with(", 0)")).and_then(|c| parse_rgb(&c));
        if let (Some(color), Some(background)) = (color, background) {
            let ratio = contrast(color, background);
            if ratio < MIN_TEXT_CONTRAST {
                // Two decimals without float formatting, which would cost the download ~10 KB.
                #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss, reason = "1.00 to 21.00")]
                let hundredths = (ratio * 100.0).round() as u32;
                let ratio = format!("{}.{:02}", hundredths / 100, hundredths % 100);
                web_sys::console::warn_1(
                    &format!(
                        "Tandem theme: {what} has a contrast of {ratio}:1, below the 4.5:1 that WCAG 2.2 AA asks for; adjust the custom properties on tandem-chat (docs/theming.md)"
                    )
                    .into(),
                );
            }
        }
    }
}

/// Keeps `--tandem-viewport-height` on `target` equal to the visual viewport's height, which
/// shrinks when a phone's on-screen keyboard opens, so the full-screen panel's composer stays
/// above the keyboard.
pub fn follow_visual_viewport(target: &HtmlElement) {
    let Some(viewport) = web_sys::window().and_then(|w| w.visual_viewport()) else { return };
    let target = target.clone();
    let update = {
        let viewport = viewport.clone();
        move || {
            #[allow(clippy::cast_possible_truncation, reason = "a viewport's height in CSS pixels")]
            let height = format!("{}px", viewport.height().round() as i32);
            let _ = target.style().set_property("--tandem-viewport-height", &height);
        }
    };
    update();
    // Lives as long as the page, like the widget.
    let listener = Closure::<dyn Fn()>::new(update).into_js_value();
    let _ = viewport.add_event_listener_with_callback("resize", listener.unchecked_ref());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contrast_matches_the_wcag_examples() {
        let black = [0.0, 0.0, 0.0];
        let white = [255.0, 255.0, 255.0];
        assert!((contrast(black, white) - 21.0).abs() < 0.01);
        assert!((contrast(white, white) - 1.0).abs() < 0.01);
        // The default accent with white text passes; a pale yellow does not.
        assert!(contrast([31.0, 79.0, 209.0], white) >= MIN_TEXT_CONTRAST);
        assert!(contrast([255.0, 230.0, 120.0], white) < MIN_TEXT_CONTRAST);
    }

    #[test]
    fn computed_colours_parse() {
        assert_eq!(parse_rgb("rgb(31, 79, 209)"), Some([31.0, 79.0, 209.0]));
        assert_eq!(parse_rgb("rgba(0, 0, 0, 0.5)"), Some([0.0, 0.0, 0.0]));
        assert_eq!(parse_rgb("rgb(300, 0, 0)"), None);
        assert_eq!(parse_rgb("color(srgb 1 0 0)"), None);
    }

    fn hex(colour: &str) -> [f64; 3] {
        let channel = |i: usize| f64::from(u8::from_str_radix(&colour[i..i + 2], 16).expect("hex"));
        [channel(1), channel(3), channel(5)]
    }

    /// Every default text colour pair in style/widget.css, light and dark, reads at 4.5:1 or
    /// better; the colours the loader draws the launcher and the panel's shell with are the
    /// stylesheet's (light ones as `var()` fallbacks, dark ones on `:host`).
    #[test]
    fn the_default_themes_meet_aa_and_the_loader_agrees() {
        let css = include_str!("../style/widget.css");
        let block = |start: &'static str| {
            let from = css.find(start).expect("theme block");
            let body = &css[from..from + css[from..].find('}').expect("block end")];
            move |name: &str| {
                let at = body.find(&format!("{name}:")).expect("the token in the theme block");
                hex(body[at + name.len() + 1..].trim_start().get(..7).expect("#rrggbb"))
            }
        };
        for start in [":host,\n:root {", ":host([theme=\"dark\"])"] {
            let token = block(start);
            for (text, background) in [
                ("--tandem-text", "--tandem-surface"),
                ("--tandem-text", "--tandem-bubble"),
                ("--tandem-muted", "--tandem-surface"),
                ("--tandem-on-accent", "--tandem-accent"),
                ("--tandem-accent", "--tandem-surface"),
                ("--tandem-link", "--tandem-bubble"),
                ("--tandem-danger", "--tandem-surface"),
                ("--tandem-warning-text", "--tandem-warning-surface"),
            ] {
                let ratio = contrast(token(text), token(background));
                assert!(ratio >= MIN_TEXT_CONTRAST, "{start}: {text} on {background} is {ratio:.2}:1");
            }
        }
        let loader = include_str!("../loader/tandem.js");
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let written = |[r, g, b]: [f64; 3]| {
            let long = format!("#{:02x}{:02x}{:02x}", r as u8, g as u8, b as u8);
            let bytes = long.as_bytes();
            let short = (bytes[1] == bytes[2] && bytes[3] == bytes[4] && bytes[5] == bytes[6])
                .then(|| format!("#{}{}{}", bytes[1] as char, bytes[3] as char, bytes[5] as char));
            [Some(long), short]
        };
        let (light, dark) = (block(":host,\n:root {"), block(":host([theme=\"dark\"])"));
        for name in
            ["--tandem-accent", "--tandem-on-accent", "--tandem-surface", "--tandem-text", "--tandem-border"]
        {
            let found = |forms: [Option<String>; 2], shape: &dyn Fn(&str) -> String| {
                forms.into_iter().flatten().any(|colour| loader.contains(&shape(&colour)))
            };
            assert!(found(written(dark(name)), &|colour| format!("{name}:{colour}")), "dark {name}");
            assert!(found(written(light(name)), &|colour| format!("var({name},{colour})")), "light {name}");
        }
    }
}
