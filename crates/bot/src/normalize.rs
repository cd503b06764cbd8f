//! Text normalisation shared by flows and customer input, so that both meet on equal terms.

/// Lowercase for ASCII and Latin-1, the letters of the shipped languages. Deliberately not
/// `char::to_lowercase`, whose Unicode tables would add kilobytes to the widget's download.
fn lower(c: char) -> char {
    match c {
        'A'..='Z' | 'À'..='Ö' | 'Ø'..='Þ' => char::from_u32(u32::from(c) + 32).unwrap_or(c),
        _ => c,
    }
}

/// Whether `c` belongs in a word: ASCII letters and digits, `@`, and letters beyond ASCII —
/// approximated as everything from U+00C0 except common punctuation and symbol blocks (again to
/// keep Unicode property tables out of the widget).
pub(crate) fn is_word_char(c: char) -> bool {
    let code = u32::from(c);
    c.is_ascii_alphanumeric()
        || c == '@'
        || (code >= 0xC0
            && c != '×'
            && c != '÷'
            && !(0x2000..=0x2BFF).contains(&code)
            && !(0x3000..=0x303F).contains(&code)
            && !(0xFE30..=0xFE4F).contains(&code)
            && !(0xFF00..=0xFF0F).contains(&code)
            && !(0x1F000..=0x1FAFF).contains(&code))
}

/// Lowercases, folds diacritics (`människa` → `manniska`, `ß` → `ss`), turns punctuation into
/// spaces and collapses whitespace.
pub fn normalize(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut pending_space = false;
    for c in text.chars().map(lower) {
        let folded: &str = match c {
            'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' | 'ā' => "a",
            'æ' => "ae",
            'ç' | 'č' => "c",
            'è' | 'é' | 'ê' | 'ë' | 'ē' => "e",
            'ì' | 'í' | 'î' | 'ï' => "i",
            'ñ' => "n",
            'ò' | 'ó' | 'ô' | 'õ' | 'ö' | 'ø' => "o",
            'ù' | 'ú' | 'û' | 'ü' => "u",
            'ý' | 'ÿ' => "y",
            'ß' => "ss",
            'š' => "s",
            'ž' => "z",
            _ => "",
        };
        if !folded.is_empty() {
            if pending_space && !out.is_empty() {
                out.push(' ');
            }
            pending_space = false;
            out.push_str(folded);
        } else if is_word_char(c) {
            if pending_space && !out.is_empty() {
                out.push(' ');
            }
            pending_space = false;
            out.push(c);
        } else {
            pending_space = true;
        }
    }
    out
}

/// The words of normalised text.
pub fn words(normalized: &str) -> impl Iterator<Item = &str> {
    normalized.split(' ').filter(|w| !w.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_case_diacritics_punctuation_and_space() {
        assert_eq!(normalize("  Prata med en MÄNNISKA!! "), "prata med en manniska");
        assert_eq!(normalize("Straße, bitte…"), "strasse bitte");
        assert_eq!(normalize("Où est   ma commande?"), "ou est ma commande");
        assert_eq!(normalize("anna@shop.example"), "anna@shop example");
        assert_eq!(normalize("!!!"), "");
    }
}
