//! Months as `yyyymm` integers, and their textual form `2020-12`.

use crate::error::ApiError;

/// A calendar month, stored as `yyyymm`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Month(pub i32);

impl Month {
    pub fn new(year: i32, month: u32) -> Option<Month> {
        ((1900..=2999).contains(&year) && (1..=12).contains(&month)).then(|| Month(year * 100 + month as i32))
    }

    pub fn year(self) -> i32 {
        self.0 / 100
    }

    pub fn month(self) -> u32 {
        (self.0 % 100) as u32
    }

    /// Parses `YYYY-MM`.
    pub fn parse(text: &str) -> Result<Month, ApiError> {
        let bad = || ApiError::bad_input(format!("'{text}' is not a month: write it YYYY-MM, for example 2020-12"));
        let (year, month) = text.split_once('-').ok_or_else(bad)?;
        if year.len() != 4 || month.len() != 2 {
            return Err(bad());
        }
        let year: i32 = year.parse().map_err(|_| bad())?;
        let month: u32 = month.parse().map_err(|_| bad())?;
        Month::new(year, month).ok_or_else(bad)
    }
}

impl std::fmt::Display for Month {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:04}-{:02}", self.year(), self.month())
    }
}

/// Formats integer centimes as a decimal MAD amount with two decimals.
pub fn centimes_to_text(centimes: i64) -> String {
    let sign = if centimes < 0 { "-" } else { "" };
    let abs = centimes.unsigned_abs();
    format!("{sign}{}.{:02}", abs / 100, abs % 100)
}
