//! Topic names and subscription patterns, NATS-style (phoenix_pubsub#152).
//!
//! A topic is dot-separated segments (`sensors.temp`). A pattern may use two wildcards, each a
//! whole segment: `*` matches exactly one segment (`sensors.*` matches `sensors.temp`, not
//! `sensors` nor `sensors.a.b`); `>` as the last segment matches one or more remaining segments
//! (`sensors.>` matches `sensors.a` and `sensors.a.b`, not `sensors`). Publishing is to concrete
//! topics only.

use super::PubSubError;

/// One segment of a pattern.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Segment {
    Literal(Box<str>),
    /// `*`: exactly one segment.
    One,
    /// `>`: one or more segments, last only.
    Rest,
}

/// A parsed subscription: a concrete topic or a wildcard pattern.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Pattern {
    text: Box<str>,
    segments: Box<[Segment]>,
}

fn invalid(text: &str, why: &str) -> PubSubError {
    PubSubError::InvalidTopic(format!("{text:?} {why}"))
}

impl Pattern {
    /// Parses a topic or pattern, refusing empty ones, empty segments, `>` before the last
    /// segment and wildcards inside a segment (`sen*`).
    pub(crate) fn parse(text: &str) -> Result<Self, PubSubError> {
        if text.is_empty() {
            return Err(invalid(text, "is empty"));
        }
        let parts: Vec<&str> = text.split('.').collect();
        let last = parts.len() - 1;
        let mut segments = Vec::with_capacity(parts.len());
        for (i, part) in parts.into_iter().enumerate() {
            segments.push(match part {
                "" => return Err(invalid(text, "has an empty segment (a leading, trailing or double dot)")),
                "*" => Segment::One,
                ">" if i == last => Segment::Rest,
                ">" => return Err(invalid(text, "uses `>` before its last segment")),
                s if s.contains(['*', '>']) => {
                    return Err(invalid(
                        text,
                        "has `*` or `>` inside a segment: a wildcard is a whole segment",
                    ));
                }
                s => Segment::Literal(s.into()),
            });
        }
        Ok(Self { text: text.into(), segments: segments.into() })
    }

    /// Whether this pattern contains a wildcard.
    pub(crate) fn is_wildcard(&self) -> bool {
        self.segments.iter().any(|s| !matches!(s, Segment::Literal(_)))
    }

    /// Whether the concrete `topic` is received by this subscription.
    pub(crate) fn matches(&self, topic: &str) -> bool {
        let mut parts = topic.split('.');
        for segment in &self.segments {
            match segment {
                Segment::Rest => return parts.next().is_some(),
                Segment::One => {
                    if parts.next().is_none() {
                        return false;
                    }
                }
                Segment::Literal(literal) => {
                    if parts.next() != Some(&**literal) {
                        return false;
                    }
                }
            }
        }
        parts.next().is_none()
    }

    /// The pattern as written.
    pub(crate) fn as_str(&self) -> &str {
        &self.text
    }
}

/// Checks a topic to publish on: a valid name without wildcards.
pub(crate) fn validate_topic(topic: &str) -> Result<(), PubSubError> {
    if Pattern::parse(topic)?.is_wildcard() {
        return Err(invalid(
            topic,
            "is a pattern: publish to a concrete topic (wildcards are for subscribing)",
        ));
    }
    Ok(())
}
