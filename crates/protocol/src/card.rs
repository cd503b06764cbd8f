//! Card numbers never leave the browser, and are never stored: customer text is masked to a
//! card's last four digits (`•••• 1111`) in the widget before it is sent, and again by the
//! server before it is stored, for clients that did not.
//!
//! The rule, shared by both so that they agree:
//! 1. take every *maximal* run of ASCII digits in which digits may be separated by one space or
//!    one dash (`4111 1111 1111 1111`, `4111-1111-1111-1111`, `3782 822463 10005`); two
//!    separators in a row, or any other character, end the run;
//! 2. a run of 13 to 19 digits (separators not counted) that passes the Luhn check is a card
//!    number and becomes `•••• ` and its last four digits; every other run is left as it is.
//!
//! Only whole runs are judged, never a stretch inside a longer one: an IBAN, a tracking number
//! or an OCR reference of 20 or more digits contains many 13–19 digit stretches, and each
//! passes the Luhn check one time in ten, so judging stretches would garble numbers the agent
//! needs. The price is that a card number typed straight on into more digits (`… 1111 123`)
//! is not recognised. Runs of 12 digits or fewer (phone numbers, dates, order numbers) are
//! never touched.
//!
//! Written without regex, formatting or floats, for the widget's small wasm.

use crate::TranscriptEntry;

/// Fewest and most digits of a card number (ISO/IEC 7812).
const CARD_DIGITS: std::ops::RangeInclusive<usize> = 13..=19;
/// What replaces a card number, before its last four digits.
const MASK: &str = "\u{2022}\u{2022}\u{2022}\u{2022} ";

/// `text` with every card number masked to `•••• ` and its last four digits, or `None` when it
/// holds none, so that callers can tell (and tell the customer) and nothing is copied.
pub fn mask_card_numbers(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut masked: Option<String> = None;
    // Bytes of `text` before this are already in `masked`.
    let mut copied = 0;
    let mut at = 0;
    while let Some(byte) = bytes.get(at) {
        if !byte.is_ascii_digit() {
            at += 1;
            continue;
        }
        let end = run_end(bytes, at);
        if let Some(last_four) = bytes.get(at..end).and_then(card_last_four) {
            let out = masked.get_or_insert_with(|| String::with_capacity(text.len()));
            // Runs start and end at ASCII digits, so these are always char boundaries.
            out.push_str(text.get(copied..at).unwrap_or_default());
            out.push_str(MASK);
            out.extend(last_four.map(char::from));
            copied = end;
        }
        at = end;
    }
    let mut out = masked?;
    out.push_str(text.get(copied..).unwrap_or_default());
    Some(out)
}

/// Masks card numbers in `text` itself; `true` if there was one.
pub fn mask_card_numbers_in_place(text: &mut String) -> bool {
    match mask_card_numbers(text) {
        Some(masked) => {
            *text = masked;
            true
        }
        None => false,
    }
}

/// Masks card numbers in every entry of a transcript; `true` if there was one. Bot lines too:
/// the speaker is the client's word, and a bot line may quote the customer.
pub fn mask_card_numbers_in_transcript(transcript: &mut [TranscriptEntry]) -> bool {
    // Not `any`: that would stop at the first entry masked.
    let mut masked = false;
    for entry in transcript {
        masked |= mask_card_numbers_in_place(&mut entry.text);
    }
    masked
}

/// Where the run of digits starting at `start` ends (exclusive): it goes on through a digit,
/// or through one space or dash that a digit follows.
fn run_end(bytes: &[u8], start: usize) -> usize {
    let mut at = start;
    loop {
        match bytes.get(at) {
            Some(byte) if byte.is_ascii_digit() => at += 1,
            Some(b' ' | b'-') if bytes.get(at + 1).is_some_and(u8::is_ascii_digit) => at += 1,
            _ => return at,
        }
    }
}

/// The last four digits of `run` if it is a card number: 13 to 19 digits passing Luhn.
fn card_last_four(run: &[u8]) -> Option<[u8; 4]> {
    let digits = || run.iter().rev().filter(|byte| byte.is_ascii_digit()).map(|byte| byte - b'0');
    if !CARD_DIGITS.contains(&digits().count()) {
        return None;
    }
    // Luhn, from the right: every second digit doubled, its digits summed.
    let sum: u32 = digits()
        .enumerate()
        .map(|(index, digit)| {
            let digit = u32::from(digit);
            if index % 2 == 0 { digit } else { (digit * 2) / 10 + (digit * 2) % 10 }
        })
        .sum();
    if !sum.is_multiple_of(10) {
        return None;
    }
    let mut last_four = [b'0'; 4];
    for (slot, digit) in last_four.iter_mut().rev().zip(digits()) {
        *slot = b'0' + digit;
    }
    Some(last_four)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::TranscriptSpeaker;

    /// Standard test numbers of the card networks (none is a real card).
    const TEST_CARDS: [&str; 10] = [
        "4111111111111111",
        "4242424242424242",
        "4012888888881881",
        "4222222222222",
        "5555555555554444",
        "5105105105105100",
        "2223003122003222",
        "378282246310005",
        "371449635398431",
        "6011111111111117",
    ];

    /// Masks `text`, checking that neither the number nor its digits survive.
    fn masked(text: &str) -> String {
        let out = mask_card_numbers(text);
        assert!(out.is_some(), "nothing masked in {text:?}");
        let out = out.expect("masked");
        let digits: String = text.chars().filter(char::is_ascii_digit).collect();
        assert!(!out.contains(&digits), "{out:?} still holds {digits}");
        assert!(!out.chars().filter(char::is_ascii_digit).collect::<String>().contains(&digits));
        out
    }

    fn untouched(text: &str) {
        assert_eq!(mask_card_numbers(text), None, "{text:?} was masked");
    }

    #[test]
    fn every_test_card_is_masked_to_its_last_four_digits() {
        for card in TEST_CARDS {
            let last_four = card.get(card.len() - 4..).expect("four digits");
            assert_eq!(masked(card), format!("•••• {last_four}"), "{card}");
        }
    }

    #[test]
    fn spaced_and_dashed_numbers_are_masked() {
        assert_eq!(masked("4111 1111 1111 1111"), "•••• 1111");
        assert_eq!(masked("4111-1111-1111-1111"), "•••• 1111");
        assert_eq!(masked("3782 822463 10005"), "•••• 0005");
        assert_eq!(masked("5555 5555-5555 4444"), "•••• 4444");
        assert_eq!(masked("4 2 2 2 2 2 2 2 2 2 2 2 2"), "•••• 2222");
    }

    #[test]
    fn numbers_are_masked_wherever_they_stand() {
        assert_eq!(masked("my card is 4111 1111 1111 1111 thanks"), "my card is •••• 1111 thanks");
        assert_eq!(masked("4242424242424242 is my card"), "•••• 4242 is my card");
        assert_eq!(masked("my card is 6011-1111-1111-1117"), "my card is •••• 1117");
        assert_eq!(masked("card:4012888888881881."), "card:•••• 1881.");
        assert_eq!(masked("kort – 5105 1051 0510 5100 – tack 😊"), "kort – •••• 5100 – tack 😊");
        assert_eq!(masked("4111-1111-1111-1111- ok"), "•••• 1111- ok");
        assert_eq!(masked("order 12345678, card 2223003122003222"), "order 12345678, card •••• 3222");
    }

    #[test]
    fn two_cards_in_one_text_are_both_masked() {
        let text = "first 4111 1111 1111 1111, then 378282246310005";
        assert_eq!(masked(text), "first •••• 1111, then •••• 0005");
        let out = masked(text);
        assert!(!out.contains("378282246310005"));
    }

    #[test]
    fn thirteen_to_nineteen_digits_count() {
        untouched("411111111117"); // 12 digits, passes Luhn
        assert_eq!(masked("4222222222222"), "•••• 2222"); // 13
        assert_eq!(masked("4111111111111111110"), "•••• 1110"); // 19
        untouched("41111111111111111115"); // 20 digits, passes Luhn
    }

    #[test]
    fn longer_runs_are_left_whole() {
        // 22 digits with a Luhn-valid 16-digit stretch (4111111111111111) inside.
        untouched("Tracking 0042411111111111111199");
        untouched("4111111111111111123456");
        untouched("4111 1111 1111 1111 1234 56");
        // IBANs.
        untouched("SE45 5000 0000 0583 9825 7466");
        untouched("DE89 3704 0044 0532 0130 00");
    }

    #[test]
    fn near_misses_are_left_alone() {
        for text in [
            "Order 12345678",
            "070-123 45 67",
            "+46 70 123 45 67",
            "+44 20 7946 0958",
            "+1 415-555-0132",
            "+49 30 12345678",
            "2026-12-01",
            "01/12/2026",
            "4111 1111 1111 1112",
            "4111111111111112",
            "4111  1111  1111  1111",
            "4111--1111--1111--1111",
            "4111.1111.1111.1111",
            "4111 1111 1111",
            "Hello, where is my parcel? It was due on Monday.",
            "",
            "1234567812345678",
        ] {
            untouched(text);
        }
    }

    #[test]
    fn in_place_and_transcripts_report_what_they_masked() {
        let mut text = String::from("card 4111 1111 1111 1111");
        assert!(mask_card_numbers_in_place(&mut text));
        assert_eq!(text, "card •••• 1111");
        assert!(!mask_card_numbers_in_place(&mut text));
        assert_eq!(text, "card •••• 1111");

        let entry = |from, text: &str| TranscriptEntry { from, text: text.to_owned() };
        let mut transcript = vec![
            entry(TranscriptSpeaker::Bot, "How can I help?"),
            entry(TranscriptSpeaker::Customer, "my card 5555555555554444 was charged twice"),
            entry(TranscriptSpeaker::Customer, "and 4242 4242 4242 4242"),
        ];
        assert!(mask_card_numbers_in_transcript(&mut transcript));
        let texts: Vec<_> = transcript.iter().map(|entry| entry.text.as_str()).collect();
        assert_eq!(texts, ["How can I help?", "my card •••• 4444 was charged twice", "and •••• 4242"]);
        assert!(!mask_card_numbers_in_transcript(&mut transcript));
    }
}
