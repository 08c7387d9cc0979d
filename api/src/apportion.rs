//! Splitting a whole number into parts in proportion to weights, exactly: the largest-remainder method. Used where
//! parts must add up to their total to the unit (programme shares to 100.00 %, the demo's loans by activity to the
//! centime).

/// `total` split in proportion to `weights`: each part is its exact share rounded down, and the units left over go
/// one each to the largest remainders (the first of equal ones first), so the parts add up to `total` exactly.
/// `None` when the weights add up to zero or less, or `total` is negative.
pub fn largest_remainder(total: i64, weights: &[i64]) -> Option<Vec<i64>> {
    let sum: i128 = weights.iter().map(|w| i128::from(*w)).sum();
    if sum <= 0 || total < 0 || weights.iter().any(|w| *w < 0) {
        return None;
    }
    let exact: Vec<(i64, i128)> = weights
        .iter()
        .map(|w| {
            let scaled = i128::from(*w) * i128::from(total);
            ((scaled / sum) as i64, scaled % sum)
        })
        .collect();
    let mut parts: Vec<i64> = exact.iter().map(|(floor, _)| *floor).collect();
    let short = total - parts.iter().sum::<i64>();
    let mut order: Vec<usize> = (0..weights.len()).collect();
    order.sort_by(|a, b| exact[*b].1.cmp(&exact[*a].1).then(a.cmp(b)));
    for index in order.into_iter().take(short.max(0) as usize) {
        parts[index] += 1;
    }
    Some(parts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_add_up_to_the_total_and_stay_within_a_unit_of_the_exact_share() {
        assert_eq!(largest_remainder(10_000, &[1, 1, 1]), Some(vec![3334, 3333, 3333]));
        assert_eq!(
            largest_remainder(10_000, &[163, 80, 62, 60]),
            Some(vec![4466, 2192, 1698, 1644])
        );
        assert_eq!(largest_remainder(10_000, &[0, 5]), Some(vec![0, 10_000]));
        assert_eq!(largest_remainder(7, &[0, 0]), None);
        assert_eq!(largest_remainder(0, &[3, 1]), Some(vec![0, 0]));
        let mut seed = 7u64;
        let mut next = |limit: u64| {
            seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            ((seed >> 33) % limit) as i64
        };
        for _ in 0..500 {
            let total = next(1_000_000_000);
            let weights: Vec<i64> = (0..1 + next(12)).map(|_| next(1_000)).collect();
            let Some(parts) = largest_remainder(total, &weights) else {
                assert_eq!(weights.iter().sum::<i64>(), 0);
                continue;
            };
            assert_eq!(parts.iter().sum::<i64>(), total, "{total} {weights:?}");
            let sum: i64 = weights.iter().sum();
            for (part, weight) in parts.iter().zip(&weights) {
                let exact = *weight as f64 * total as f64 / sum as f64;
                assert!((*part as f64 - exact).abs() < 1.0 + 1e-6, "{total} {weights:?}");
            }
        }
    }
}
