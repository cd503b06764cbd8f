//! Text normalisation shared by flows and customer input, so that both meet on equal terms.

/// Lowercases, folds diacritics (`människa` → `manniska`, `ß` → `ss`), turns punctuation into
/// spaces and collapses whitespace.
pub fn normalize(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut pending_space = false;
    for c in text.chars().flat_map(char::to_lowercase) {
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
        } else if c.is_alphanumeric() || c == '@' {
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
