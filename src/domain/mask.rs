//! Masking of personal and banking identifiers for logs and printed documents. Log lines
//! and documents carry at most the last few characters of an account number (documents
//! print every bank account number through [`account_number`]), never a password.

/// `8001015009087` → `*********9087`: all but the last four characters hidden.
pub fn id_number(value: &str) -> String {
    keep_last(value, 4)
}

/// `62001234567` → `*******4567`: all but the last four digits hidden.
pub fn account_number(value: &str) -> String {
    keep_last(value, 4)
}

/// `4123456789012345` → `412345******2345`: the BIN and last four of a card number.
pub fn card_number(value: &str) -> String {
    let chars: Vec<char> = value.chars().collect();
    if chars.len() < 12 {
        return keep_last(value, 2);
    }
    chars
        .iter()
        .enumerate()
        .map(|(i, c)| {
            if i < 6 || i >= chars.len() - 4 {
                *c
            } else {
                '*'
            }
        })
        .collect()
}

fn keep_last(value: &str, keep: usize) -> String {
    let chars: Vec<char> = value.chars().collect();
    let keep = if chars.len() <= keep {
        chars.len() / 2
    } else {
        keep
    };
    let hidden = chars.len() - keep;
    std::iter::repeat_n('*', hidden)
        .chain(chars[hidden..].iter().copied())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks() {
        assert_eq!(id_number("8001015009087"), "*********9087");
        assert_eq!(account_number("62001234567"), "*******4567");
        assert_eq!(card_number("4123456789012345"), "412345******2345");
        assert_eq!(id_number("123"), "**3");
        assert_eq!(id_number(""), "");
    }
}
