//! Validation shared by every value that becomes one URL path segment.

/// Why a value cannot be one path segment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SegmentProblem {
    Empty,
    Slash,
    DotSegment,
}

impl SegmentProblem {
    pub(crate) fn describe(self) -> &'static str {
        match self {
            SegmentProblem::Empty => "is empty",
            SegmentProblem::Slash => "contains '/'",
            SegmentProblem::DotSegment => {
                "is '.' or '..', which URL normalisation would remove from the path"
            }
        }
    }
}

/// Checks that `value` survives as exactly one percent-encoded path segment:
/// not empty, no `/`, and not a dot segment (`url` and every server
/// normalise `.` and `..` away, even percent-encoded).
pub(crate) fn check_segment(value: &str) -> Result<(), SegmentProblem> {
    if value.contains('/') {
        return Err(SegmentProblem::Slash);
    }
    check_no_slash_segment(value)
}

/// [`check_segment`] for a value known to hold no `/` (a part found
/// between slashes).
pub(crate) fn check_no_slash_segment(value: &str) -> Result<(), SegmentProblem> {
    if value.is_empty() {
        Err(SegmentProblem::Empty)
    } else if value == "." || value == ".." {
        Err(SegmentProblem::DotSegment)
    } else {
        Ok(())
    }
}
