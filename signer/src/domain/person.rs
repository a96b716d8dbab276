//! The person a certificate is issued to, and phone numbers.

use serde::{Deserialize, Serialize};

/// A person an administrator vouched for (identity proofing is a later issue).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Person {
    /// E.164 phone number, e.g. `+32470000001`.
    pub phone: String,
    /// First name(s) as on the identity card.
    pub given_name: String,
    /// Family name.
    pub surname: String,
    /// National register number (Belgium: 11 digits).
    pub national_number: String,
}

impl Person {
    /// The common name: given name(s) and surname.
    pub fn common_name(&self) -> String {
        format!("{} {}", self.given_name, self.surname)
    }

    /// The subject serialNumber (ETSI EN 319 412-1 §5.1.3 semantics identifier):
    /// `PNOBE-<national number>`.
    pub fn serial_number(&self) -> String {
        format!("PNOBE-{}", self.national_number)
    }
}

/// Why a person's data is refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PersonError {
    /// Not an E.164 number.
    #[error("phone number {0:?} is not in international form: '+' then 8 to 15 digits, e.g. +32470000001")]
    Phone(String),
    /// Empty or overlong name, or control characters.
    #[error("the {0} must be 1 to 64 characters without control characters")]
    Name(&'static str),
    /// Not 11 digits.
    #[error("the national number must be 11 digits")]
    NationalNumber,
}

/// Checks an E.164 phone number (`+` and 8 to 15 digits, no spaces).
///
/// # Errors
/// [`PersonError::Phone`].
pub fn check_phone(phone: &str) -> Result<(), PersonError> {
    let digits = phone.strip_prefix('+').unwrap_or("");
    if (8..=15).contains(&digits.len())
        && digits.bytes().all(|b| b.is_ascii_digit())
        && !digits.starts_with('0')
    {
        Ok(())
    } else {
        Err(PersonError::Phone(phone.chars().take(32).collect()))
    }
}

impl Person {
    /// Checks every field.
    ///
    /// # Errors
    /// The first [`PersonError`].
    pub fn check(&self) -> Result<(), PersonError> {
        check_phone(&self.phone)?;
        for (what, v) in [("given name", &self.given_name), ("surname", &self.surname)] {
            let n = v.chars().count();
            if n == 0 || n > 64 || v.chars().any(char::is_control) || v.trim() != v {
                return Err(PersonError::Name(what));
            }
        }
        if self.national_number.len() != 11
            || !self.national_number.bytes().all(|b| b.is_ascii_digit())
        {
            return Err(PersonError::NationalNumber);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phones() {
        assert!(check_phone("+32470000001").is_ok());
        for bad in [
            "32470000001",
            "+32 470",
            "+0123456789",
            "+12",
            "+3247000000123456",
        ] {
            assert!(check_phone(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn names() {
        let p = Person {
            phone: "+32470000001".into(),
            given_name: "Alice".into(),
            surname: "Martin".into(),
            national_number: "90010112345".into(),
        };
        assert!(p.check().is_ok());
        assert_eq!(p.common_name(), "Alice Martin");
        assert_eq!(p.serial_number(), "PNOBE-90010112345");
        let mut q = p.clone();
        q.given_name = String::new();
        assert_eq!(q.check(), Err(PersonError::Name("given name")));
        let mut q = p;
        q.national_number = "123".into();
        assert_eq!(q.check(), Err(PersonError::NationalNumber));
    }
}
