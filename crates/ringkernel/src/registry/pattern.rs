//! [`NamePattern`]: service-discovery patterns over actor names.
//!
//! (The grammar and matching rules are on [`NamePattern`].)

use std::fmt;

use super::name::{check_len, check_segment, segments, validate, NameError, MAX_SEGMENTS};

/// One segment of a parsed pattern.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Seg {
    /// Matches this exact segment.
    Literal(String),
    /// `*`: exactly one segment.
    One,
    /// `**`: zero or more segments.
    Any,
}

/// A parsed discovery pattern:
///
/// ```text
/// pattern  = psegment *( "/" psegment )
/// psegment = segment / "*" / "**"          ; segment as in names
/// ```
///
/// - a literal segment matches exactly that segment (case-sensitive);
/// - `*` matches exactly one segment, whatever it is;
/// - `**` matches zero or more segments, anywhere in the pattern and any number of times
///   (`sensors/**` matches `sensors` itself and everything below it; `**/temp` matches every
///   name ending in `temp`; `**` alone matches every name).
///
/// Wildcards are whole segments: `eu*` or `***` is [`NameError::PartialWildcard`]. Consecutive
/// `**` segments mean the same as one and are folded. A pattern without wildcards matches only
/// the name equal to it. Length and segment limits are those of names.
///
/// Matching is the classic wildcard algorithm with one backtrack point (the latest `**`), so it
/// takes at most O(pattern segments × name segments) steps, never exponential time.
///
/// ```
/// use ringkernel::registry::NamePattern;
///
/// let p = NamePattern::parse("sensors/*/temp").unwrap();
/// assert!(p.matches("sensors/eu/temp"));
/// assert!(!p.matches("sensors/eu/berlin/temp"));
/// let p = NamePattern::parse("sensors/**").unwrap();
/// assert!(p.matches("sensors") && p.matches("sensors/eu/berlin/temp"));
/// assert!(!p.matches("sensorsX/eu"));
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct NamePattern {
    text: String,
    segs: Vec<Seg>,
    /// Bytes of `text` before the first wildcard segment, without the `/` that follows them:
    /// `sensors/eu/*` → `sensors/eu` (10); `*/x` → 0; a pattern without wildcards → its length.
    prefix_len: usize,
}

impl NamePattern {
    /// Checks `s` against the pattern grammar and parses it.
    pub fn parse(s: &str) -> Result<Self, NameError> {
        check_len(s)?;
        let mut segs = Vec::new();
        let mut prefix_len = None;
        for seg in segments(s) {
            let (index, offset, seg) = seg?;
            let parsed = match seg {
                "*" => Seg::One,
                "**" => Seg::Any,
                _ if seg.contains('*') => return Err(NameError::PartialWildcard { index }),
                _ => {
                    check_segment(seg, index, offset)?;
                    Seg::Literal(seg.to_owned())
                }
            };
            if !matches!(parsed, Seg::Literal(_)) && prefix_len.is_none() {
                prefix_len = Some(offset.saturating_sub(1));
            }
            // `**/**` matches exactly what `**` does; folding keeps the matcher's loop short.
            if parsed == Seg::Any && segs.last() == Some(&Seg::Any) {
                continue;
            }
            segs.push(parsed);
        }
        Ok(NamePattern {
            text: s.to_owned(),
            segs,
            prefix_len: prefix_len.unwrap_or(s.len()),
        })
    }

    /// The pattern as written.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Whether the pattern has no wildcard (it then matches only the equal name).
    pub fn is_literal(&self) -> bool {
        self.prefix_len == self.text.len()
    }

    /// The literal segments before the first wildcard, joined by `/` (empty when the pattern
    /// starts with a wildcard). Every matching name is this prefix, or starts with it and `/`.
    pub fn literal_prefix(&self) -> &str {
        // prefix_len ends at a segment boundary, which is an ASCII `/` or the end.
        self.text.get(..self.prefix_len).unwrap_or("")
    }

    /// Whether `name` matches. A string that is not a valid name never matches.
    pub fn matches(&self, name: &str) -> bool {
        validate(name).is_ok() && self.matches_valid(name)
    }

    /// [`matches`](Self::matches) for a name already known to be valid (the registry's keys).
    pub(crate) fn matches_valid(&self, name: &str) -> bool {
        // A valid name has at most MAX_SEGMENTS segments, so a fixed array holds them without
        // allocating per candidate during discovery.
        let mut buf = [""; MAX_SEGMENTS];
        let mut len = 0;
        for seg in name.split('/') {
            match buf.get_mut(len) {
                Some(slot) => *slot = seg,
                None => return false,
            }
            len += 1;
        }
        match_segments(&self.segs, &buf[..len])
    }
}

/// Wildcard matching with `One` as "any single item" and `Any` as "any run of items": walk both
/// sequences; on a mismatch, let the latest `Any` swallow one more name segment and retry from
/// just after it. Backtracking further than the latest `Any` is never needed, because whatever an
/// earlier `Any` would swallow extra, the later one can swallow instead.
fn match_segments(pat: &[Seg], name: &[&str]) -> bool {
    let (mut p, mut n) = (0, 0);
    // (pattern index after the latest `Any`, name index that `Any` currently stops at)
    let mut retry: Option<(usize, usize)> = None;
    while n < name.len() {
        let step = match pat.get(p) {
            Some(Seg::Any) => {
                retry = Some((p + 1, n));
                p += 1;
                continue;
            }
            Some(Seg::One) => true,
            Some(Seg::Literal(l)) => name.get(n) == Some(&l.as_str()),
            None => false,
        };
        if step {
            p += 1;
            n += 1;
        } else if let Some((after, stop)) = retry {
            retry = Some((after, stop + 1));
            p = after;
            n = stop + 1;
        } else {
            return false;
        }
    }
    pat.get(p..)
        .is_some_and(|rest| rest.iter().all(|s| *s == Seg::Any))
}

impl fmt::Debug for NamePattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.text, f)
    }
}

impl fmt::Display for NamePattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl std::str::FromStr for NamePattern {
    type Err = NameError;

    fn from_str(s: &str) -> Result<Self, NameError> {
        NamePattern::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(p: &str, n: &str) -> bool {
        match NamePattern::parse(p) {
            Ok(p) => p.matches(n),
            Err(e) => panic!("{p}: {e}"),
        }
    }

    #[test]
    fn literal_segments_match_exactly() {
        assert!(m("a/b", "a/b"));
        assert!(!m("a/b", "a/b/c"));
        assert!(!m("a/b", "a"));
        assert!(!m("a/b", "a/B"));
    }

    #[test]
    fn star_matches_exactly_one_segment() {
        assert!(m("sensors/eu/*", "sensors/eu/berlin"));
        assert!(!m("sensors/eu/*", "sensors/eu"));
        assert!(!m("sensors/eu/*", "sensors/eu/berlin/temp"));
        assert!(m("*/eu/*", "sensors/eu/x"));
        assert!(m("*", "a") && !m("*", "a/b"));
    }

    #[test]
    fn globstar_matches_zero_or_more_segments_anywhere() {
        assert!(m("sensors/**", "sensors"));
        assert!(m("sensors/**", "sensors/eu/berlin/temp"));
        assert!(!m("sensors/**", "sensorsX"));
        assert!(m("**/temp", "temp"));
        assert!(m("**/temp", "a/b/temp"));
        assert!(!m("**/temp", "a/temp/b"));
        assert!(m("a/**/z", "a/z") && m("a/**/z", "a/b/c/z"));
        assert!(m("a/**/b/**/c", "a/x/b/y/b/c"));
        assert!(!m("a/**/b/*/c", "a/b/c"));
        assert!(m("**", "anything/at/all"));
        assert!(m("**/**/*", "x"));
    }

    #[test]
    fn prefix_and_literal_flag() {
        let p = NamePattern::parse("sensors/eu/*/temp").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(p.literal_prefix(), "sensors/eu");
        assert!(!p.is_literal());
        let p = NamePattern::parse("**/x").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(p.literal_prefix(), "");
        let p = NamePattern::parse("a/b").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(p.literal_prefix(), "a/b");
        assert!(p.is_literal());
    }

    #[test]
    fn bad_patterns_are_typed_errors() {
        assert_eq!(
            NamePattern::parse("sensors/eu*"),
            Err(NameError::PartialWildcard { index: 1 })
        );
        assert_eq!(
            NamePattern::parse("a/***"),
            Err(NameError::PartialWildcard { index: 1 })
        );
        assert_eq!(
            NamePattern::parse("a//*"),
            Err(NameError::EmptySegment { index: 1 })
        );
        assert_eq!(NamePattern::parse(""), Err(NameError::Empty));
        assert_eq!(
            NamePattern::parse("a/b?"),
            Err(NameError::InvalidChar { ch: '?', offset: 3 })
        );
    }

    #[test]
    fn invalid_names_never_match() {
        assert!(!m("**", "a//b"));
        assert!(!m("*", ""));
        assert!(!m("**", "a/*"));
    }
}
