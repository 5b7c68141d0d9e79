//! `FromStr` for the codes: what people type, and the crate's `Error` naming what is
//! accepted when nothing matches. Apart from the enums so that they, and `error`
//! which lists their codes, import nothing above them.

use std::str::FromStr;

use super::{basin, basin_expected, category, category_expected, Basin, Category};
use crate::error::Error;

impl FromStr for Category {
    type Err = Error;

    /// `h5`, ` TS `: [`Error::InvalidInput`] listing the codes for anything else.
    fn from_str(text: &str) -> Result<Self, Error> {
        category(text).ok_or_else(|| Error::InvalidInput(category_expected(text)))
    }
}

impl FromStr for Basin {
    type Err = Error;

    /// `north atlantic`, `AL`, `cp`: [`Error::InvalidInput`] naming what is accepted
    /// for anything else.
    fn from_str(text: &str) -> Result<Self, Error> {
        basin(text).ok_or_else(|| Error::InvalidInput(basin_expected(text)))
    }
}
