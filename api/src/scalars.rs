//! Custom scalars: `Period` (a month), `Money` (MAD), `Date` and `DateTime`, read strictly.

use crate::period::{self, Month, centimes_to_text};
use async_graphql::{InputValueError, InputValueResult, Scalar, ScalarType, Value};

/// A period written as a month `YYYY-MM` (`2020-12`), a quarter `YYYY-Qn` (`2020-Q4`)
/// or a year `YYYY` (`2020`), the forms SDMX uses for TIME_PERIOD. As the start
/// of a range it means the period's first month; as the end, its last month.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period(pub period::Period);

impl Period {
    pub fn month(month: Month) -> Self {
        Period(period::Period {
            granularity: period::Granularity::Month,
            start: month,
        })
    }
}

/// A period written as a month `YYYY-MM` (`2020-12`), a quarter `YYYY-Qn` (`2020-Q4`)
/// or a year `YYYY` (`2020`), the forms SDMX uses for TIME_PERIOD. As the start
/// of a range it means the period's first month; as the end, its last month.
#[Scalar(name = "Period")]
impl ScalarType for Period {
    fn parse(value: Value) -> InputValueResult<Self> {
        match &value {
            Value::String(text) => period::Period::parse(text)
                .map(Period)
                .map_err(|e| InputValueError::custom(e.detail())),
            _ => Err(InputValueError::expected_type(value)),
        }
    }

    fn to_value(&self) -> Value {
        Value::String(self.0.to_string())
    }
}

/// An amount of Moroccan dirhams (MAD), exact to the centime, written as a
/// decimal string with two decimals (for example `"8022500000.00"`) so that
/// no client loses precision.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Money(pub i64);

/// An amount of Moroccan dirhams (MAD), exact to the centime, written as a
/// decimal string with two decimals (for example `"8022500000.00"`) so that
/// no client loses precision.
#[Scalar(name = "Money")]
impl ScalarType for Money {
    fn parse(value: Value) -> InputValueResult<Self> {
        let text = match &value {
            Value::String(text) => text.clone(),
            Value::Number(n) => n.to_string(),
            _ => return Err(InputValueError::expected_type(value)),
        };
        parse_money(&text).map(Money).ok_or_else(|| {
            InputValueError::custom(format!(
                "'{text}' is not an amount: write MAD with at most two decimals, for example \"1250.50\""
            ))
        })
    }

    fn to_value(&self) -> Value {
        Value::String(centimes_to_text(self.0))
    }
}

fn parse_money(text: &str) -> Option<i64> {
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    if whole.is_empty()
        || fraction.len() > 2
        || !whole.bytes().all(|b| b.is_ascii_digit())
        || !fraction.bytes().all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let cents: i64 = format!("{fraction:0<2}").parse().ok()?;
    whole.parse::<i64>().ok()?.checked_mul(100)?.checked_add(cents)
}

/// A calendar date written exactly `YYYY-MM-DD` (year 1900 to 2999, month and day on two digits), for example
/// `2020-12-31`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Date(pub chrono::NaiveDate);

/// A calendar date written exactly `YYYY-MM-DD` (year 1900 to 2999, month and day on two digits), for example
/// `2020-12-31`.
#[Scalar(name = "Date")]
impl ScalarType for Date {
    fn parse(value: Value) -> InputValueResult<Self> {
        match &value {
            Value::String(text) => period::parse_date(text).map(Date).ok_or_else(|| {
                InputValueError::custom(format!(
                    "'{text}' is not a date: write it YYYY-MM-DD (year 1900 to 2999, month and day on two digits), \
                     for example 2020-12-31"
                ))
            }),
            _ => Err(InputValueError::expected_type(value)),
        }
    }

    fn to_value(&self) -> Value {
        Value::String(self.0.format("%Y-%m-%d").to_string())
    }
}

/// A point in time, written in RFC 3339 (`2020-12-31T23:59:00Z`; given in UTC).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DateTime(pub chrono::DateTime<chrono::Utc>);

/// A point in time, written in RFC 3339 (`2020-12-31T23:59:00Z`; given in UTC).
#[Scalar(name = "DateTime")]
impl ScalarType for DateTime {
    fn parse(value: Value) -> InputValueResult<Self> {
        match &value {
            Value::String(text) => period::parse_date_time(text).map(DateTime).ok_or_else(|| {
                InputValueError::custom(format!(
                    "'{text}' is not a date-time: write it in RFC 3339, for example 2020-12-31T23:59:00Z"
                ))
            }),
            _ => Err(InputValueError::expected_type(value)),
        }
    }

    fn to_value(&self) -> Value {
        Value::String(self.0.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
    }
}
