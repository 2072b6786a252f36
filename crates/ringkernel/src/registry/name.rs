//! Actor names: the grammar, its limits, and [`ActorName`], a name that passed the check (the
//! grammar is on [`ActorName`]).

use std::fmt;

/// Longest name or pattern, in bytes.
pub const MAX_NAME_LEN: usize = 256;
/// Longest segment, in bytes.
pub const MAX_SEGMENT_LEN: usize = 64;
/// Most segments in a name or pattern.
pub const MAX_SEGMENTS: usize = 32;

/// Why a string is not a valid name or pattern. `index` counts segments from 0; `offset` counts
/// bytes of the whole string from 0.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum NameError {
    /// The string is empty.
    #[error("empty")]
    Empty,
    /// The string is longer than [`MAX_NAME_LEN`].
    #[error("{len} bytes long, the limit is {max}")]
    TooLong {
        /// Its length in bytes.
        len: usize,
        /// [`MAX_NAME_LEN`].
        max: usize,
    },
    /// More than [`MAX_SEGMENTS`] segments.
    #[error("more than {max} segments")]
    TooManySegments {
        /// [`MAX_SEGMENTS`].
        max: usize,
    },
    /// A leading, trailing or doubled `/`.
    #[error("segment {index} is empty")]
    EmptySegment {
        /// Which segment.
        index: usize,
    },
    /// A segment longer than [`MAX_SEGMENT_LEN`].
    #[error("segment {index} is {len} bytes long, the limit is {max}")]
    SegmentTooLong {
        /// Which segment.
        index: usize,
        /// Its length in bytes.
        len: usize,
        /// [`MAX_SEGMENT_LEN`].
        max: usize,
    },
    /// A character outside `A-Z a-z 0-9 _ - .` (and `/` between segments).
    #[error("character {ch:?} at byte {offset} is not allowed")]
    InvalidChar {
        /// The character.
        ch: char,
        /// Its byte offset.
        offset: usize,
    },
    /// A `*` in a name; wildcards belong in patterns only.
    #[error("wildcard at byte {offset}: names cannot hold `*`")]
    WildcardInName {
        /// Byte offset of the `*`.
        offset: usize,
    },
    /// A pattern segment mixing `*` with other characters (`eu*`), or `***`: wildcards are whole
    /// segments.
    #[error("segment {index} mixes `*` with other characters; use `*` or `**` as a whole segment")]
    PartialWildcard {
        /// Which segment.
        index: usize,
    },
}

/// Whether `b` may appear in a segment.
pub(crate) const fn is_segment_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.')
}

/// Checks the length limits shared by names and patterns.
pub(crate) fn check_len(s: &str) -> Result<(), NameError> {
    if s.is_empty() {
        return Err(NameError::Empty);
    }
    if s.len() > MAX_NAME_LEN {
        return Err(NameError::TooLong {
            len: s.len(),
            max: MAX_NAME_LEN,
        });
    }
    Ok(())
}

/// Checks one segment's length and characters; `offset` is its first byte in the whole string.
/// `*` is reported as [`NameError::WildcardInName`]; patterns handle their wildcards first.
pub(crate) fn check_segment(seg: &str, index: usize, offset: usize) -> Result<(), NameError> {
    if seg.is_empty() {
        return Err(NameError::EmptySegment { index });
    }
    if seg.len() > MAX_SEGMENT_LEN {
        return Err(NameError::SegmentTooLong {
            index,
            len: seg.len(),
            max: MAX_SEGMENT_LEN,
        });
    }
    for (i, ch) in seg.char_indices() {
        // `ch` is ASCII whenever the byte test passes, so the cast only ever sees ASCII.
        if ch.is_ascii() && is_segment_byte(ch as u8) {
            continue;
        }
        return Err(if ch == '*' {
            NameError::WildcardInName { offset: offset + i }
        } else {
            NameError::InvalidChar {
                ch,
                offset: offset + i,
            }
        });
    }
    Ok(())
}

/// Splits `s` at `/`, yielding `(index, byte offset, segment)`, and enforces [`MAX_SEGMENTS`].
pub(crate) fn segments(
    s: &str,
) -> impl Iterator<Item = Result<(usize, usize, &str), NameError>> + '_ {
    let mut offset = 0;
    s.split('/').enumerate().map(move |(index, seg)| {
        let at = offset;
        offset += seg.len() + 1;
        if index >= MAX_SEGMENTS {
            Err(NameError::TooManySegments { max: MAX_SEGMENTS })
        } else {
            Ok((index, at, seg))
        }
    })
}

/// Checks `s` against the name grammar without allocating (the lookup path).
pub(crate) fn validate(s: &str) -> Result<(), NameError> {
    check_len(s)?;
    for seg in segments(s) {
        let (index, offset, seg) = seg?;
        check_segment(seg, index, offset)?;
    }
    Ok(())
}

/// A valid actor name:
///
/// ```text
/// name    = segment *( "/" segment )
/// segment = 1*64( ALPHA / DIGIT / "_" / "-" / "." )
/// ```
///
/// At most [`MAX_NAME_LEN`] bytes and [`MAX_SEGMENTS`] segments. Names are case-sensitive and
/// compared byte for byte; `.` and `..` are ordinary segments (there are no relative paths). No
/// leading, trailing or doubled `/`. The same limits and segment characters hold for patterns
/// ([`NamePattern`](super::NamePattern)), which add the whole-segment wildcards `*` and `**`.
///
/// ```
/// use ringkernel::registry::{ActorName, NameError};
///
/// let n = ActorName::parse("sensors/eu/berlin-1").unwrap();
/// assert_eq!(n.segments().collect::<Vec<_>>(), ["sensors", "eu", "berlin-1"]);
/// assert_eq!(ActorName::parse("sensors//eu"), Err(NameError::EmptySegment { index: 1 }));
/// ```
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ActorName(String);

impl ActorName {
    /// Checks `s` and keeps it.
    pub fn parse(s: &str) -> Result<Self, NameError> {
        validate(s)?;
        Ok(ActorName(s.to_owned()))
    }

    /// The name as written.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Its segments, in order; never empty.
    pub fn segments(&self) -> std::str::Split<'_, char> {
        self.0.split('/')
    }
}

impl fmt::Debug for ActorName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}

impl fmt::Display for ActorName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for ActorName {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl std::str::FromStr for ActorName {
    type Err = NameError;

    fn from_str(s: &str) -> Result<Self, NameError> {
        ActorName::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_the_documented_characters() {
        assert!(validate("a").is_ok());
        assert!(validate("Sensors/eu_1/node-7.local").is_ok());
        assert!(validate("./..").is_ok());
        assert!(validate(&"x".repeat(MAX_SEGMENT_LEN)).is_ok());
        let deepest = vec!["a"; MAX_SEGMENTS].join("/");
        assert!(validate(&deepest).is_ok());
    }

    #[test]
    fn rejects_each_rule_with_its_reason() {
        assert_eq!(validate(""), Err(NameError::Empty));
        assert_eq!(validate("/a"), Err(NameError::EmptySegment { index: 0 }));
        assert_eq!(validate("a/"), Err(NameError::EmptySegment { index: 1 }));
        assert_eq!(validate("a//b"), Err(NameError::EmptySegment { index: 1 }));
        assert_eq!(
            validate("a/b c"),
            Err(NameError::InvalidChar { ch: ' ', offset: 3 })
        );
        assert_eq!(
            validate("a/bé"),
            Err(NameError::InvalidChar {
                ch: 'é', offset: 3
            })
        );
        assert_eq!(
            validate("a/*"),
            Err(NameError::WildcardInName { offset: 2 })
        );
        assert_eq!(
            validate(&"x".repeat(MAX_SEGMENT_LEN + 1)),
            Err(NameError::SegmentTooLong {
                index: 0,
                len: MAX_SEGMENT_LEN + 1,
                max: MAX_SEGMENT_LEN
            })
        );
        assert_eq!(
            validate(&"x".repeat(MAX_NAME_LEN + 1)),
            Err(NameError::TooLong {
                len: MAX_NAME_LEN + 1,
                max: MAX_NAME_LEN
            })
        );
        let too_deep = vec!["a"; MAX_SEGMENTS + 1].join("/");
        assert_eq!(
            validate(&too_deep),
            Err(NameError::TooManySegments { max: MAX_SEGMENTS })
        );
    }
}
