//! Small tools shared by the demo generators: keyed pseudo-random noise,
//! exact largest-remainder apportionment, month arithmetic and chunked
//! multi-row inserts.

use sea_orm::{ActiveModelTrait, ConnectionTrait, DbErr, EntityTrait, Iterable};

/// Upper bound on bound parameters in one `INSERT` statement, below SQLite's
/// limit of 32,766 and PostgreSQL's of 65,535.
const MAX_PARAMETERS: usize = 30_000;

/// Number of demo months: January 2019 to December 2020.
pub(crate) const MONTHS: usize = 24;

/// The two demo years; index 0 is 2019, index 1 is 2020.
pub(crate) const YEARS: [i32; 2] = [2019, 2020];

/// The `yyyymm` period of a month index (0 = January 2019).
pub(crate) fn period(month: usize) -> i32 {
    YEARS[month / 12] * 100 + (month % 12) as i32 + 1
}

/// A calendar date; the arguments are always valid literals or computed
/// from valid dates.
pub(crate) fn date(year: i32, month: u32, day: u32) -> chrono::NaiveDate {
    chrono::NaiveDate::from_ymd_opt(year, month, day).expect("valid calendar date")
}

/// One step of the splitmix64 generator.
fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A number in `[0, 1)` that depends only on a label and integer
/// coordinates, so every generated value is reproducible and independent of
/// the order in which values are drawn.
pub(crate) fn unit(label: &str, coordinates: &[usize]) -> f64 {
    let mut state = label.bytes().fold(0xCBF2_9CE4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01B3)
    });
    let mut value = splitmix64(&mut state);
    for &c in coordinates {
        state ^= value ^ (c as u64).wrapping_mul(0xD6E8_FEB8_6659_FD93);
        value = splitmix64(&mut state);
    }
    (value >> 11) as f64 / (1u64 << 53) as f64
}

/// A factor in `[1 - spread, 1 + spread)`, keyed like [`unit`].
pub(crate) fn jitter(label: &str, coordinates: &[usize], spread: f64) -> f64 {
    1.0 + spread * (2.0 * unit(label, coordinates) - 1.0)
}

/// An integer in `[low, high]`, keyed like [`unit`].
pub(crate) fn pick(label: &str, coordinates: &[usize], low: i64, high: i64) -> i64 {
    low + ((high - low + 1) as f64 * unit(label, coordinates)) as i64
}

/// Splits `total` into non-negative integers proportional to `weights` that
/// sum to exactly `total` (largest-remainder method, ties to the earlier
/// index). Weights are first scaled to integers so that the arithmetic is
/// exact. Negative weights count as zero; if every weight is zero the total
/// is split evenly.
pub(crate) fn apportion(total: i64, weights: &[f64]) -> Vec<i64> {
    assert!(total >= 0, "cannot apportion a negative total");
    if weights.is_empty() {
        assert_eq!(total, 0, "cannot apportion a positive total over nothing");
        return Vec::new();
    }
    let max = weights.iter().copied().fold(0.0_f64, f64::max);
    let scaled: Vec<i128> = if max > 0.0 {
        weights
            .iter()
            .map(|&w| (w.max(0.0) / max * 1e12).round() as i128)
            .collect()
    } else {
        vec![1; weights.len()]
    };
    let sum: i128 = scaled.iter().sum();
    let mut parts = Vec::with_capacity(weights.len());
    let mut remainders = Vec::with_capacity(weights.len());
    for (index, &w) in scaled.iter().enumerate() {
        let quota = i128::from(total) * w;
        parts.push((quota / sum) as i64);
        remainders.push((quota % sum, index));
    }
    let missing = (total - parts.iter().sum::<i64>()) as usize;
    remainders.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    for &(_, index) in remainders.iter().take(missing) {
        parts[index] += 1;
    }
    parts
}

/// Inserts the rows with multi-row `INSERT` statements, each carrying at
/// most [`MAX_PARAMETERS`] bound values. Returns the number of rows.
pub(crate) async fn insert_all<C, A>(db: &C, rows: Vec<A>) -> Result<usize, DbErr>
where
    C: ConnectionTrait,
    A: ActiveModelTrait,
{
    let columns = <A::Entity as EntityTrait>::Column::iter().count();
    let per_statement = (MAX_PARAMETERS / columns).max(1);
    let count = rows.len();
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        let chunk: Vec<A> = rows.by_ref().take(per_statement).collect();
        A::Entity::insert_many(chunk).exec_without_returning(db).await?;
    }
    Ok(count)
}
