//! A serde visitor for types parsed from a string, borrowing when it can.

use std::fmt;
use std::marker::PhantomData;
use std::str::FromStr;

use serde::de::{self, Visitor};

/// Deserializes any `T: FromStr` from a JSON string without an intermediate
/// `String`, reporting the parse error as the field's error.
pub(crate) struct ParseVisitor<T> {
    expecting: &'static str,
    marker: PhantomData<T>,
}

impl<T> ParseVisitor<T> {
    pub(crate) fn new(expecting: &'static str) -> Self {
        ParseVisitor {
            expecting,
            marker: PhantomData,
        }
    }
}

impl<T> Visitor<'_> for ParseVisitor<T>
where
    T: FromStr,
    T::Err: fmt::Display,
{
    type Value = T;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.expecting)
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<T, E> {
        v.parse().map_err(E::custom)
    }
}
