//! Generated database credentials. The password exists only in memory on its way from the
//! generator to Secrets Manager and RDS: its Debug/Display are redacted.

use rand::Rng;

/// A value that must never be printed.
pub struct Sensitive(String);

impl Sensitive {
    pub fn new(s: String) -> Self {
        Sensitive(s)
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Sensitive {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("[redacted]")
    }
}

/// RDS forbids `/`, `@`, `"` and spaces in master passwords; these symbols are also safe in
/// connection strings and shells.
const SYMBOLS: &[u8] = b"-_.~!#%^*+=";
const LOWER: &[u8] = b"abcdefghijklmnopqrstuvwxyz";
const UPPER: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ";
const DIGITS: &[u8] = b"0123456789";

/// A 32-character password from the OS-seeded CSPRNG with every character class present.
pub fn generate_password() -> Sensitive {
    let mut rng = rand::rng();
    let all: Vec<u8> = [LOWER, UPPER, DIGITS, SYMBOLS].concat();
    loop {
        let pw: String = (0..32).map(|_| all[rng.random_range(0..all.len())] as char).collect();
        let has = |set: &[u8]| pw.bytes().any(|b| set.contains(&b));
        if has(LOWER) && has(UPPER) && has(DIGITS) && has(SYMBOLS) {
            return Sensitive(pw);
        }
    }
}

/// `u` + 11 lowercase letters/digits: starts with a letter, 12 characters, never a reserved name.
pub fn generate_username() -> String {
    let mut rng = rand::rng();
    let alnum: Vec<u8> = [LOWER, DIGITS].concat();
    let tail: String = (0..11).map(|_| alnum[rng.random_range(0..alnum.len())] as char).collect();
    format!("u{tail}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::validate::RESERVED_DB_USERNAMES;

    #[test]
    fn passwords_are_rds_safe_long_and_distinct() {
        let a = generate_password();
        let b = generate_password();
        assert_eq!(a.expose().len(), 32);
        assert_ne!(a.expose(), b.expose());
        assert!(!a.expose().contains(['/', '@', '"', ' ', '\'']));
        assert_eq!(format!("{a:?}"), "[redacted]");
    }

    #[test]
    fn usernames_are_never_reserved() {
        for _ in 0..200 {
            let u = generate_username();
            assert!(u.len() <= 16 && u.starts_with('u'));
            assert!(!RESERVED_DB_USERNAMES.contains(&u.as_str()));
        }
    }
}
