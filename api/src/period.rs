//! Months as `yyyymm` integers, periods written `2020-12`, `2020-Q4` or `2020`,
//! and the one strict reading of dates (`YYYY-MM-DD`) and date-times (RFC 3339).

use crate::error::ApiError;
use sea_orm::sea_query::{Alias, Condition, Expr, ExprTrait};

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

    /// The month `n` months later (earlier when negative).
    pub fn shift(self, n: i32) -> Month {
        let index = self.year() * 12 + self.month() as i32 - 1 + n;
        Month(index.div_euclid(12) * 100 + index.rem_euclid(12) + 1)
    }

    /// The last day of the month.
    pub fn last_day(self) -> chrono::NaiveDate {
        let next = self.shift(1);
        chrono::NaiveDate::from_ymd_opt(next.year(), next.month(), 1)
            .and_then(|d| d.pred_opt())
            .expect("valid month")
    }
}

/// The first month a report may be for: the observatory holds no figures before it (releases start there too).
/// Reports run from it to the last month that has ended; a later month is refused by validation
/// (`MONTH_NOT_OPEN`, `MONTH_IN_FUTURE`).
pub const FIRST_REPORTABLE: Month = Month(200001);

/// Runs of consecutive months (`yyyymm`), each as its first and last month, in order; duplicates count once.
pub fn runs(months: impl IntoIterator<Item = i32>) -> Vec<(i32, i32)> {
    let mut months: Vec<i32> = months.into_iter().collect();
    months.sort_unstable();
    months.dedup();
    let mut runs: Vec<(i32, i32)> = Vec::new();
    for month in months {
        match runs.last_mut() {
            Some((_, last)) if Month(*last).shift(1).0 == month => *last = month,
            _ => runs.push((month, month)),
        }
    }
    runs
}

/// A condition holding a `yyyymm` column to these months, as ranges of consecutive months (`period BETWEEN $1 AND $2
/// OR period = $3`): a range is evaluated in two comparisons whatever its length, and an index on the column can serve
/// it. No month: a condition that holds for no row. For statements written as text, see `sql::Binder::months`.
pub fn months_condition(column: &str, months: impl IntoIterator<Item = i32>) -> Condition {
    let column = || Expr::col(Alias::new(column));
    runs(months).into_iter().fold(Condition::any(), |any, (first, last)| {
        any.add(if first == last {
            column().eq(first)
        } else {
            column().between(first, last)
        })
    })
}

impl std::fmt::Display for Month {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:04}-{:02}", self.year(), self.month())
    }
}

/// Length of a period.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Granularity {
    Month,
    Quarter,
    Year,
}

impl Granularity {
    pub fn months(self) -> i32 {
        match self {
            Granularity::Month => 1,
            Granularity::Quarter => 3,
            Granularity::Year => 12,
        }
    }
}

/// A month, a quarter or a year, identified by its first month.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Period {
    pub granularity: Granularity,
    pub start: Month,
}

impl Period {
    /// The period of this granularity that contains the month.
    pub fn containing(granularity: Granularity, month: Month) -> Period {
        let first = match granularity {
            Granularity::Month => month.month(),
            Granularity::Quarter => (month.month() - 1) / 3 * 3 + 1,
            Granularity::Year => 1,
        };
        Period {
            granularity,
            start: Month(month.year() * 100 + first as i32),
        }
    }

    pub fn first_month(self) -> Month {
        self.start
    }

    pub fn last_month(self) -> Month {
        self.start.shift(self.granularity.months() - 1)
    }

    /// The period `n` periods later (earlier when negative).
    pub fn shift(self, n: i32) -> Period {
        Period {
            granularity: self.granularity,
            start: self.start.shift(n * self.granularity.months()),
        }
    }

    /// The same period one year earlier.
    pub fn previous_year(self) -> Period {
        Period {
            granularity: self.granularity,
            start: self.start.shift(-12),
        }
    }

    /// Parses `YYYY-MM`, `YYYY-Qn` or `YYYY`.
    pub fn parse(text: &str) -> Result<Period, ApiError> {
        let bad = || {
            ApiError::bad_input(format!(
                "'{text}' is not a period: write a month YYYY-MM (2020-12), a quarter YYYY-Qn (2020-Q4) or a year YYYY (2020)"
            ))
        };
        let year_of = |y: &str| -> Result<i32, ApiError> {
            if y.len() != 4 || !y.bytes().all(|b| b.is_ascii_digit()) {
                return Err(bad());
            }
            y.parse().map_err(|_| bad())
        };
        match text.split_once('-') {
            None => {
                let start = Month::new(year_of(text)?, 1).ok_or_else(bad)?;
                Ok(Period {
                    granularity: Granularity::Year,
                    start,
                })
            }
            Some((year, rest)) => {
                let year = year_of(year)?;
                if let Some(quarter) = rest.strip_prefix('Q') {
                    let q: u32 = match quarter {
                        "1" => 1,
                        "2" => 2,
                        "3" => 3,
                        "4" => 4,
                        _ => return Err(bad()),
                    };
                    let start = Month::new(year, q * 3 - 2).ok_or_else(bad)?;
                    Ok(Period {
                        granularity: Granularity::Quarter,
                        start,
                    })
                } else {
                    if rest.len() != 2 || !rest.bytes().all(|b| b.is_ascii_digit()) {
                        return Err(bad());
                    }
                    let start = Month::new(year, rest.parse().map_err(|_| bad())?).ok_or_else(bad)?;
                    Ok(Period {
                        granularity: Granularity::Month,
                        start,
                    })
                }
            }
        }
    }
}

impl std::fmt::Display for Period {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.granularity {
            Granularity::Month => write!(f, "{}", self.start),
            Granularity::Quarter => write!(f, "{}-Q{}", self.start.year(), (self.start.month() - 1) / 3 + 1),
            Granularity::Year => write!(f, "{}", self.start.year()),
        }
    }
}

/// Years a date may have: those a month may have.
pub const DATE_YEARS: std::ops::RangeInclusive<i32> = 1900..=2999;

/// Parses a date written exactly `YYYY-MM-DD`: a four-digit year in
/// [`DATE_YEARS`], a zero-padded month and day, a day the month has. Nothing
/// else: no sign, no spaces, no other digits than ASCII, no short forms.
pub fn parse_date(text: &str) -> Option<chrono::NaiveDate> {
    let b = text.as_bytes();
    let digits = |range: std::ops::Range<usize>| b[range].iter().all(u8::is_ascii_digit);
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' || !digits(0..4) || !digits(5..7) || !digits(8..10) {
        return None;
    }
    let year: i32 = text[0..4].parse().ok()?;
    if !DATE_YEARS.contains(&year) {
        return None;
    }
    chrono::NaiveDate::from_ymd_opt(year, text[5..7].parse().ok()?, text[8..10].parse().ok()?)
}

/// Parses a date-time in RFC 3339's internet form: a date as [`parse_date`]
/// reads it, `T`, `HH:MM:SS` with optional fraction, then `Z` or `±HH:MM`.
pub fn parse_date_time(text: &str) -> Option<chrono::DateTime<chrono::Utc>> {
    let date = text.get(0..10).and_then(parse_date)?;
    let rest = text.get(10..)?.strip_prefix('T')?;
    let b = rest.as_bytes();
    let two_digits = |at: usize| b.get(at..at + 2).is_some_and(|d| d.iter().all(u8::is_ascii_digit));
    if b.len() < 9 || !two_digits(0) || b[2] != b':' || !two_digits(3) || b[5] != b':' || !two_digits(6) {
        return None;
    }
    let mut zone = &rest[8..];
    if let Some(fraction) = zone.strip_prefix('.') {
        let digits = fraction.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 || digits > 9 {
            return None;
        }
        zone = &fraction[digits..];
    }
    let z = zone.as_bytes();
    let offset_ok = zone == "Z"
        || (z.len() == 6
            && (z[0] == b'+' || z[0] == b'-')
            && z[1..3].iter().all(u8::is_ascii_digit)
            && z[3] == b':'
            && z[4..6].iter().all(u8::is_ascii_digit));
    if !offset_ok {
        return None;
    }
    let parsed = chrono::DateTime::parse_from_rfc3339(text).ok()?;
    (parsed.date_naive() == date).then(|| parsed.with_timezone(&chrono::Utc))
}

/// Formats integer centimes as a decimal MAD amount with two decimals.
pub fn centimes_to_text(centimes: i64) -> String {
    let sign = if centimes < 0 { "-" } else { "" };
    let abs = centimes.unsigned_abs();
    format!("{sign}{}.{:02}", abs / 100, abs % 100)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn months_become_ranges_across_years() {
        use sea_orm::sea_query::{PostgresQueryBuilder, Query};
        let select = |months: &[i32]| {
            Query::select()
                .column(Alias::new("id"))
                .from(Alias::new("t"))
                .cond_where(months_condition("period", months.iter().copied()))
                .to_string(PostgresQueryBuilder)
        };
        assert_eq!(
            select(&[201912, 202001, 201911, 202003, 202003]),
            r#"SELECT "id" FROM "t" WHERE ("period" BETWEEN 201911 AND 202001) OR "period" = 202003"#
        );
        assert_eq!(select(&[]), r#"SELECT "id" FROM "t" WHERE FALSE"#);
    }

    #[test]
    fn periods_parse_and_print_in_their_three_forms() {
        for text in ["2020-12", "2020-Q4", "2020", "2019-01", "2019-Q1"] {
            assert_eq!(Period::parse(text).unwrap().to_string(), text);
        }
        for bad in ["2020-13", "2020-Q5", "20", "2020-1", "2020-00", "x", "2020-Q"] {
            assert!(Period::parse(bad).is_err(), "{bad}");
        }
        let q4 = Period::parse("2020-Q4").unwrap();
        assert_eq!((q4.first_month(), q4.last_month()), (Month(202010), Month(202012)));
        assert_eq!(q4.shift(1).to_string(), "2021-Q1");
        assert_eq!(q4.previous_year().to_string(), "2019-Q4");
        assert_eq!(Month(202001).shift(-1), Month(201912));
        assert_eq!(Month(202002).last_day().to_string(), "2020-02-29");
        assert_eq!(
            Period::containing(Granularity::Quarter, Month(202005)).to_string(),
            "2020-Q2"
        );
    }
}
