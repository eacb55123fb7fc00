//! The rules on a group's own text fields that both dialects share, stated once: each dialect
//! reads its body its own way, then asks these functions, and words a [`TextRule`] broken in its
//! own terms. Rules only one dialect has stay with it (`extraFields` with the Onlive routes, the
//! label-value name and the tags with the nscale routes).

use crate::limits;

/// Why a text field was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextRule {
    /// Empty (after trimming, where the field is trimmed).
    Empty,
    /// Longer than `max` Unicode characters.
    TooLong {
        /// The most allowed.
        max: usize,
    },
    /// Holds a NUL character, which PostgreSQL's text cannot store.
    Nul,
}

/// Checks `text` holds `min` to `max` Unicode characters and no NUL.
pub fn check_text(text: &str, min: usize, max: usize) -> Result<(), TextRule> {
    if text.contains('\0') {
        return Err(TextRule::Nul);
    }
    let chars = text.chars().count();
    if chars < min {
        Err(TextRule::Empty)
    } else if chars > max {
        Err(TextRule::TooLong { max })
    } else {
        Ok(())
    }
}

/// A group's name as stored: trimmed, 1 to [`limits::GROUP_NAME_MAX`] characters.
pub fn group_name(text: &str) -> Result<String, TextRule> {
    let trimmed = text.trim();
    check_text(trimmed, 1, limits::GROUP_NAME_MAX)?;
    Ok(trimmed.to_owned())
}

/// A group's description: up to [`limits::GROUP_DESCRIPTION_MAX`] characters (stored as sent).
pub fn group_description(text: &str) -> Result<(), TextRule> {
    check_text(text, 0, limits::GROUP_DESCRIPTION_MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_name_is_trimmed_and_bounded_in_characters_not_bytes() {
        assert_eq!(group_name("  Sales ").as_deref(), Ok("Sales"));
        assert_eq!(group_name("   "), Err(TextRule::Empty));
        assert!(group_name(&"é".repeat(limits::GROUP_NAME_MAX)).is_ok());
        assert_eq!(
            group_name(&"é".repeat(limits::GROUP_NAME_MAX + 1)),
            Err(TextRule::TooLong {
                max: limits::GROUP_NAME_MAX
            })
        );
    }

    #[test]
    fn a_description_may_be_empty_but_not_too_long_or_hold_nul() {
        assert_eq!(group_description(""), Ok(()));
        assert_eq!(group_description("a\0b"), Err(TextRule::Nul));
        assert!(group_description(&"x".repeat(limits::GROUP_DESCRIPTION_MAX + 1)).is_err());
    }
}
