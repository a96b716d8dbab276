//! The personal code: 5 to 8 digits chosen by the user at enrollment, never sent anywhere.

use crate::AppError;

/// Shortest personal code accepted.
pub const MIN_LEN: usize = 5;
/// Longest personal code accepted.
pub const MAX_LEN: usize = 8;

/// Checks the shape of a code being entered (5 to 8 ASCII digits) without judging its
/// strength. A code of the wrong shape cannot be right, so it is not counted as a wrong try.
pub(crate) fn check_shape(code: &str) -> Result<(), AppError> {
    if !(MIN_LEN..=MAX_LEN).contains(&code.len()) || !code.bytes().all(|b| b.is_ascii_digit()) {
        return Err(AppError::WeakPersonalCode {
            reason: "a personal code is 5 to 8 digits",
        });
    }
    Ok(())
}

/// Checks a newly chosen personal code: 5 to 8 digits, not one repeated digit, not a run
/// (12345, 98765, 67890), not a repeated pair (12121), and not a part of the phone number.
///
/// # Errors
/// [`AppError::WeakPersonalCode`] naming the rule broken.
pub fn check_new_code(code: &str, phone: &str) -> Result<(), AppError> {
    check_shape(code)?;
    let digits: Vec<u8> = code.bytes().map(|b| b - b'0').collect();
    let weak = |reason| Err(AppError::WeakPersonalCode { reason });
    if digits.windows(2).all(|w| w.first() == w.get(1)) {
        return weak("all digits are the same; choose a code that is hard to guess");
    }
    let step = |w: &[u8], delta: u8| match w {
        [a, b] => (a + delta) % 10 == *b,
        _ => false,
    };
    if digits.windows(2).all(|w| step(w, 1)) || digits.windows(2).all(|w| step(w, 9)) {
        return weak("the digits run in sequence; choose a code that is hard to guess");
    }
    if digits.windows(3).all(|w| w.first() == w.get(2)) {
        return weak("the code repeats two digits; choose a code that is hard to guess");
    }
    let phone_digits: String = phone.chars().filter(char::is_ascii_digit).collect();
    if phone_digits.contains(code) {
        return weak("the code is part of your phone number; choose a code that is hard to guess");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn good_codes_pass() {
        for code in ["90210", "48213", "13579864", "270419"] {
            check_new_code(code, "+32470000001").unwrap();
        }
    }

    #[test]
    fn trivial_and_malformed_codes_are_refused() {
        for code in [
            "11111",
            "12345",
            "54321",
            "67890",
            "09876",
            "12121",
            "123456789",
            "1234",
            "",
            "12a45",
            "１２３４５",
            "00001",
        ] {
            assert!(
                check_new_code(code, "+32470000001").is_err(),
                "{code:?} accepted"
            );
        }
    }
}
