//! Peer groups: which group of each dimension of a scheme an association falls in at a quarter's end (assigned
//! when the quarter is released and stored, so that history is reproducible), and each group's quartiles of a
//! ratio with the disclosure rules (MIX's practice: medians and the 25th to 75th percentile range by peer group).
//!
//! Quartiles interpolate linearly between order statistics (Hyndman and Fan's type 7, the spreadsheets'
//! PERCENTILE.INC): with the n values sorted x₁ ≤ … ≤ xₙ, h = (n − 1)p + 1 and Q(p) = x⌊h⌋ + (h − ⌊h⌋)(x⌊h⌋₊₁ − x⌊h⌋).

use super::chart;
use super::ratios::{self, MonthEnd, Ratio};
use crate::error::ApiResult;
use crate::period::{Granularity, Period};
use sea_orm::{ConnectionTrait, FromQueryResult, Statement};
use std::collections::{BTreeMap, HashMap};

/// The scheme served unless another is asked for.
pub const DEFAULT_SCHEME: &str = "MA-2020";

/// A dimension of a peer-group scheme.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PeerDimension {
    Scale,
    Outreach,
    Age,
    Methodology,
    RuralFocus,
    Sustainability,
    Region,
}

impl PeerDimension {
    pub const ALL: [PeerDimension; 7] = [
        PeerDimension::Scale,
        PeerDimension::Outreach,
        PeerDimension::Age,
        PeerDimension::Methodology,
        PeerDimension::RuralFocus,
        PeerDimension::Sustainability,
        PeerDimension::Region,
    ];

    pub fn code(self) -> &'static str {
        match self {
            PeerDimension::Scale => "SCALE",
            PeerDimension::Outreach => "OUTREACH",
            PeerDimension::Age => "AGE",
            PeerDimension::Methodology => "METHODOLOGY",
            PeerDimension::RuralFocus => "RURAL_FOCUS",
            PeerDimension::Sustainability => "SUSTAINABILITY",
            PeerDimension::Region => "REGION",
        }
    }
}

/// Who reads peer statistics, for their disclosure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reader {
    /// The public and associations: quartiles from 5 members.
    Public,
    /// Partners: quartiles from 3 members, the group's ratio of sums and its members.
    Partner,
    /// The observatory: everything, small groups flagged.
    Observatory,
}

impl Reader {
    /// The fewest members whose quartiles this reader sees.
    pub fn threshold(self) -> usize {
        match self {
            Reader::Public => 5,
            Reader::Partner => 3,
            Reader::Observatory => 1,
        }
    }

    /// Whether this reader sees a group's ratio of sums and its members.
    pub fn sees_members(self) -> bool {
        self != Reader::Public
    }
}

/// The quantile `p` of sorted values by linear interpolation between order statistics (type 7).
pub fn quantile(sorted: &[f64], p: f64) -> Option<f64> {
    let n = sorted.len();
    if n == 0 {
        return None;
    }
    let h = (n as f64 - 1.0) * p + 1.0;
    let below = h.floor() as usize;
    let x = |i: usize| sorted[(i - 1).min(n - 1)];
    Some(x(below) + (h - below as f64) * (x(below + 1) - x(below)))
}

/// An association's place among its group's values: its rank from the lowest (1) and its quartile (1 holds the
/// lowest values).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Position {
    pub association: i32,
    pub value: f64,
    pub rank: usize,
    pub out_of: usize,
    pub quartile: u8,
}

/// One group's statistics of one ratio, as a reader may see them.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct GroupStatistics {
    pub group: String,
    /// Members with a value of the ratio.
    pub n: usize,
    pub p25: Option<f64>,
    pub median: Option<f64>,
    pub p75: Option<f64>,
    /// The quartiles are withheld from this reader: too few members.
    pub suppressed: bool,
    /// Fewer members than the public's threshold (flagged for the readers who see it anyway).
    pub small: bool,
    /// The group's ratio of sums: numerator, denominator and value (partners and the observatory).
    pub aggregate: Option<(f64, f64, Option<f64>)>,
    /// Members' ids, for partners and the observatory.
    pub members: Option<Vec<i32>>,
    pub position: Option<Position>,
}

/// The statistics of each group from its members' parts of one ratio (association → numerator, denominator), as
/// `reader` may see them, with `of`'s position when given (and disclosed). Only members whose denominator is not zero
/// have a value.
pub fn statistics(
    ratio: Ratio,
    groups: &BTreeMap<String, Vec<i32>>,
    parts: &HashMap<i32, (f64, f64)>,
    inflation: Option<f64>,
    reader: Reader,
    of: Option<i32>,
) -> Vec<GroupStatistics> {
    groups
        .iter()
        .map(|(group, members)| {
            let mut values: Vec<(f64, i32)> = members
                .iter()
                .filter_map(|a| {
                    let (n, d) = parts.get(a)?;
                    Some((ratios::value(ratio, *n, *d, inflation)?, *a))
                })
                .collect();
            values.sort_by(|x, y| x.0.total_cmp(&y.0).then(x.1.cmp(&y.1)));
            let sorted: Vec<f64> = values.iter().map(|(v, _)| *v).collect();
            let n = sorted.len();
            let shown = n >= reader.threshold() && n > 0;
            let mut stats = GroupStatistics {
                group: group.clone(),
                n,
                suppressed: !shown,
                small: n < Reader::Public.threshold(),
                ..GroupStatistics::default()
            };
            if shown {
                stats.p25 = quantile(&sorted, 0.25);
                stats.median = quantile(&sorted, 0.5);
                stats.p75 = quantile(&sorted, 0.75);
                stats.position = of.and_then(|of| {
                    let rank = values.iter().position(|(_, a)| *a == of)? + 1;
                    let value = values[rank - 1].0;
                    let quartile = match (stats.p25, stats.median, stats.p75) {
                        (Some(q1), _, _) if value < q1 => 1,
                        (_, Some(q2), _) if value < q2 => 2,
                        (_, _, Some(q3)) if value < q3 => 3,
                        _ => 4,
                    };
                    Some(Position {
                        association: of,
                        value,
                        rank,
                        out_of: n,
                        quartile,
                    })
                });
            }
            if reader.sees_members() {
                let (numerator, denominator) = members
                    .iter()
                    .filter_map(|a| parts.get(a))
                    .fold((0.0, 0.0), |(n, d), (pn, pd)| (n + pn, d + pd));
                stats.aggregate = Some((
                    numerator,
                    denominator,
                    ratios::value(ratio, numerator, denominator, inflation),
                ));
                stats.members = Some(members.clone());
            }
            stats
        })
        .collect()
}

/// One threshold of a scheme: the group a value falls in when it is within [lower, upper).
#[derive(Debug, Clone, FromQueryResult)]
pub struct Rule {
    pub dimension: String,
    pub group_code: String,
    pub position: i32,
    pub label_fr: String,
    pub label_ar: String,
    pub label_en: String,
    pub lower: Option<f64>,
    pub upper: Option<f64>,
}

impl Rule {
    fn contains(&self, value: f64) -> bool {
        self.lower.is_none_or(|l| value >= l) && self.upper.is_none_or(|u| value < u)
    }
}

/// The rules of a scheme, in order; empty for an unknown scheme.
pub async fn rules<C: ConnectionTrait>(db: &C, scheme: &str) -> ApiResult<Vec<Rule>> {
    let backend = db.get_database_backend();
    Ok(Rule::find_by_statement(Statement::from_sql_and_values(
        backend,
        "SELECT dimension, group_code, position, label_fr, label_ar, label_en, lower, upper FROM peer_rule \
         WHERE scheme = $1 ORDER BY position",
        [scheme.into()],
    ))
    .all(db)
    .await?)
}

/// What an association's membership is decided from, at a quarter's end.
#[derive(Debug, Clone, Default)]
pub struct Profile {
    pub association: i32,
    /// The gross portfolio of its statement (MAD).
    pub portfolio: f64,
    pub active_clients: f64,
    pub age_years: f64,
    /// Shares of the outstanding portfolio by segment: individual, solidarity group, very small enterprise.
    pub segment_shares: [f64; 3],
    pub rural_share: f64,
    /// Its financial self-sufficiency over the quarter (a quotient), when computable.
    pub self_sufficiency: Option<f64>,
    /// The region holding the largest share of its outstanding portfolio.
    pub main_region: Option<String>,
}

/// The group of each dimension an association falls in, by the scheme's rules.
pub fn assign(profile: &Profile, rules: &[Rule]) -> Vec<(PeerDimension, String)> {
    let numeric = |dimension: PeerDimension, value: f64| {
        rules
            .iter()
            .filter(|r| r.dimension == dimension.code())
            .find(|r| r.contains(value))
            .map(|r| (dimension, r.group_code.clone()))
    };
    let mut out = Vec::new();
    out.extend(numeric(PeerDimension::Scale, profile.portfolio));
    out.extend(numeric(PeerDimension::Outreach, profile.active_clients));
    out.extend(numeric(PeerDimension::Age, profile.age_years));
    out.extend(numeric(PeerDimension::RuralFocus, profile.rural_share));
    if let Some(fss) = profile.self_sufficiency {
        out.extend(numeric(PeerDimension::Sustainability, fss));
    }
    // Methodology: the segment holding at least the rule's share of the portfolio, else mixed.
    let methodology = rules
        .iter()
        .filter(|r| r.dimension == PeerDimension::Methodology.code());
    let dominant = methodology.clone().find(|r| {
        let share = match r.group_code.as_str() {
            "INDIVIDUAL" => profile.segment_shares[0],
            "SOLIDARITY_GROUP" => profile.segment_shares[1],
            _ => return false,
        };
        r.lower.is_some_and(|l| share >= l)
    });
    let group = dominant.or_else(|| methodology.clone().find(|r| r.group_code == "MIXED"));
    if let Some(rule) = group {
        out.push((PeerDimension::Methodology, rule.group_code.clone()));
    }
    if let Some(region) = &profile.main_region {
        out.push((PeerDimension::Region, region.clone()));
    }
    out
}

/// Every association's profile at the quarter's end, from its accepted statement and monthly rows.
pub async fn profiles<C: ConnectionTrait>(db: &C, quarter: Period) -> ApiResult<Vec<Profile>> {
    let period = quarter.last_month().0;
    let backend = db.get_database_backend();
    let statements = super::store::lines(
        db,
        crate::scope::RowAccess::All,
        None,
        quarter.first_month().shift(-1).0..=period,
    )
    .await?;
    #[derive(FromQueryResult)]
    struct Founded {
        id: i32,
        founded_year: i32,
    }
    let founded: HashMap<i32, i32> = Founded::find_by_statement(Statement::from_string(
        backend,
        "SELECT id, founded_year FROM association",
    ))
    .all(db)
    .await?
    .into_iter()
    .map(|f| (f.id, f.founded_year))
    .collect();
    #[derive(FromQueryResult)]
    struct Split {
        association_id: i32,
        part: String,
        total: Option<i64>,
    }
    let split =
        |sql: String| Split::find_by_statement(Statement::from_sql_and_values(backend, sql, [period.into()])).all(db);
    let clients = split(format!(
        "SELECT association_id, area AS part, CAST(SUM(active_clients) AS BIGINT) AS total FROM {} \
         WHERE period = $1 GROUP BY association_id, area",
        crate::facts::CLIENTS.table
    ))
    .await?;
    let segments = split(format!(
        "SELECT association_id, segment AS part, CAST(SUM(outstanding_amount) AS BIGINT) AS total FROM {} \
         WHERE period = $1 GROUP BY association_id, segment",
        crate::facts::LOANS.table
    ))
    .await?;
    let regions = split(format!(
        "SELECT l.association_id, r.code AS part, CAST(SUM(l.outstanding_amount) AS BIGINT) AS total FROM {} l \
         JOIN region r ON r.id = l.region_id WHERE l.period = $1 GROUP BY l.association_id, r.code",
        crate::facts::LOANS.table
    ))
    .await?;
    let (inflation, market_rate) = super::store::reference_series(db).await?;
    let per = ratios::per_association(
        &[quarter],
        &statements,
        &HashMap::<(i32, i32), MonthEnd>::new(),
        &inflation,
        &market_rate,
    );
    let mut out = Vec::new();
    for (association, quarters) in &statements {
        let Some(lines) = quarters.get(&period) else { continue };
        let mut profile = Profile {
            association: *association,
            portfolio: lines.get(chart::BS_GROSS_LOAN_PORTFOLIO).copied().unwrap_or(0) as f64 / 100.0,
            age_years: f64::from(quarter.first_month().year() - founded.get(association).copied().unwrap_or(0)),
            ..Profile::default()
        };
        let mine = |rows: &[Split]| -> Vec<(String, f64)> {
            rows.iter()
                .filter(|r| r.association_id == *association)
                .map(|r| (r.part.clone(), r.total.unwrap_or(0) as f64))
                .collect()
        };
        let by_area = mine(&clients);
        profile.active_clients = by_area.iter().map(|(_, v)| v).sum();
        if profile.active_clients > 0.0 {
            profile.rural_share = by_area
                .iter()
                .filter(|(a, _)| a == "RURAL")
                .map(|(_, v)| v)
                .sum::<f64>()
                / profile.active_clients;
        }
        let by_segment = mine(&segments);
        let outstanding: f64 = by_segment.iter().map(|(_, v)| v).sum();
        if outstanding > 0.0 {
            for (i, code) in ["INDIVIDUAL", "SOLIDARITY_GROUP", "VERY_SMALL_ENTERPRISE"]
                .into_iter()
                .enumerate()
            {
                profile.segment_shares[i] = by_segment
                    .iter()
                    .filter(|(s, _)| s == code)
                    .map(|(_, v)| v)
                    .sum::<f64>()
                    / outstanding;
            }
        }
        profile.main_region = mine(&regions)
            .into_iter()
            .max_by(|a, b| a.1.total_cmp(&b.1).then(b.0.cmp(&a.0)))
            .map(|(code, _)| code);
        profile.self_sufficiency = per
            .get(&(quarter, *association))
            .and_then(|parts| parts.get(&Ratio::FinancialSelfSufficiency))
            .and_then(|((n, d), _)| (*d != 0.0).then(|| n / d));
        out.push(profile);
    }
    Ok(out)
}

/// Assigns every association with a statement for the quarter to its groups of every scheme, replacing what was
/// stored for the quarter: inside the transaction that releases it.
pub async fn assign_quarter<C: ConnectionTrait>(db: &C, quarter: Period) -> ApiResult<usize> {
    let backend = db.get_database_backend();
    let period = quarter.last_month().0;
    #[derive(FromQueryResult)]
    struct Scheme {
        code: String,
    }
    let schemes = Scheme::find_by_statement(Statement::from_string(backend, "SELECT code FROM peer_scheme"))
        .all(db)
        .await?;
    let profiles = profiles(db, quarter).await?;
    let mut stored = 0;
    for scheme in schemes {
        db.execute_raw(Statement::from_sql_and_values(
            backend,
            "DELETE FROM peer_membership WHERE scheme = $1 AND period = $2",
            [scheme.code.clone().into(), period.into()],
        ))
        .await?;
        let rules = rules(db, &scheme.code).await?;
        for profile in &profiles {
            for (dimension, group) in assign(profile, &rules) {
                db.execute_raw(Statement::from_sql_and_values(
                    backend,
                    "INSERT INTO peer_membership (scheme, association_id, period, dimension, group_code) \
                     VALUES ($1, $2, $3, $4, $5)",
                    [
                        scheme.code.clone().into(),
                        profile.association.into(),
                        period.into(),
                        dimension.code().into(),
                        group.into(),
                    ],
                ))
                .await?;
                stored += 1;
            }
        }
    }
    Ok(stored)
}

/// The members of each group of a dimension at a period's end (its last quarter): group code → association ids.
pub async fn members<C: ConnectionTrait>(
    db: &C,
    scheme: &str,
    dimension: PeerDimension,
    period: Period,
) -> ApiResult<BTreeMap<String, Vec<i32>>> {
    #[derive(FromQueryResult)]
    struct Member {
        association_id: i32,
        group_code: String,
    }
    let quarter_end = Period::containing(Granularity::Quarter, period.last_month()).last_month();
    let rows = Member::find_by_statement(Statement::from_sql_and_values(
        db.get_database_backend(),
        "SELECT association_id, group_code FROM peer_membership WHERE scheme = $1 AND dimension = $2 AND period = $3 \
         ORDER BY group_code, association_id",
        [scheme.into(), dimension.code().into(), quarter_end.0.into()],
    ))
    .all(db)
    .await?;
    let mut out: BTreeMap<String, Vec<i32>> = BTreeMap::new();
    for row in rows {
        out.entry(row.group_code).or_default().push(row.association_id);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quartiles_interpolate_between_order_statistics() {
        let values = [1.0, 2.0, 3.0, 4.0, 10.0];
        assert_eq!(quantile(&values, 0.25), Some(2.0));
        assert_eq!(quantile(&values, 0.5), Some(3.0));
        assert_eq!(quantile(&values, 0.75), Some(4.0));
        // Four values: h = 1.75 for the first quartile, between 10 and 20.
        let four = [10.0, 20.0, 30.0, 40.0];
        assert_eq!(quantile(&four, 0.25), Some(17.5));
        assert_eq!(quantile(&four, 0.5), Some(25.0));
        assert_eq!(quantile(&four, 0.75), Some(32.5));
        assert_eq!(quantile(&[7.0], 0.75), Some(7.0));
        assert_eq!(quantile(&[], 0.5), None);
    }

    /// Peer groups of 2 to 6 members, generated: each reader sees quartiles only from its threshold (the public and
    /// associations 5, partners 3, the observatory any), never the ratio of sums or the members unless a partner or
    /// the observatory, and a position only where the quartiles are shown; the quartiles shown are the type-7
    /// quantiles of the members' ratios, whatever their order.
    #[test]
    fn peer_groups_of_two_to_six_disclose_by_reader() {
        let mut seed = 0x9e37_79b9_7f4a_7c15_u64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for _ in 0..400 {
            let n = 2 + (next() % 5) as usize;
            let members: Vec<i32> = (0..n as i32).map(|i| 100 + i * 7 + (next() % 3) as i32).collect();
            let mut parts = HashMap::new();
            for a in &members {
                parts.insert(*a, ((next() % 10_000) as f64, 1_000.0 + (next() % 9_000) as f64));
            }
            let groups: BTreeMap<String, Vec<i32>> = [("G".to_owned(), members.clone())].into_iter().collect();
            let of = members[(next() % n as u64) as usize];
            let mut values: Vec<f64> = members.iter().map(|a| parts[a].0 / parts[a].1 * 100.0).collect();
            values.sort_by(f64::total_cmp);
            for reader in [Reader::Public, Reader::Partner, Reader::Observatory] {
                let stats = &statistics(
                    Ratio::OperationalSelfSufficiency,
                    &groups,
                    &parts,
                    None,
                    reader,
                    Some(of),
                )[0];
                assert_eq!(stats.n, n);
                let shown = n >= reader.threshold();
                assert_eq!(stats.suppressed, !shown, "{reader:?} n = {n}");
                assert_eq!(stats.small, n < 5);
                if shown {
                    for (p, got) in [(0.25, stats.p25), (0.5, stats.median), (0.75, stats.p75)] {
                        let expected = quantile(&values, p).unwrap();
                        assert!((got.unwrap() - expected).abs() < 1e-9, "{reader:?} n = {n} p = {p}");
                    }
                    let position = stats.position.expect("a member's position where quartiles are shown");
                    assert_eq!(values[position.rank - 1], position.value);
                } else {
                    assert_eq!((stats.p25, stats.median, stats.p75), (None, None, None));
                    assert!(stats.position.is_none());
                }
                assert_eq!(stats.aggregate.is_some(), reader != Reader::Public);
                assert_eq!(stats.members.is_some(), reader != Reader::Public);
            }
        }
    }

    #[test]
    fn memberships_follow_the_rules() {
        let rule = |dimension: &str, group: &str, lower: Option<f64>, upper: Option<f64>| Rule {
            dimension: dimension.into(),
            group_code: group.into(),
            position: 0,
            label_fr: String::new(),
            label_ar: String::new(),
            label_en: String::new(),
            lower,
            upper,
        };
        let rules = vec![
            rule("SCALE", "LARGE", Some(1.0e9), None),
            rule("SCALE", "MEDIUM", Some(1.0e8), Some(1.0e9)),
            rule("SCALE", "SMALL", None, Some(1.0e8)),
            rule("METHODOLOGY", "INDIVIDUAL", Some(0.5), None),
            rule("METHODOLOGY", "SOLIDARITY_GROUP", Some(0.5), None),
            rule("METHODOLOGY", "MIXED", None, None),
            rule("SUSTAINABILITY", "FSS", Some(1.0), None),
            rule("SUSTAINABILITY", "NON_FSS", None, Some(1.0)),
        ];
        let profile = Profile {
            association: 1,
            portfolio: 1.0e8,
            segment_shares: [0.4, 0.35, 0.25],
            self_sufficiency: Some(0.999),
            main_region: Some("MA-06".into()),
            ..Profile::default()
        };
        let groups = assign(&profile, &rules);
        assert!(
            groups.contains(&(PeerDimension::Scale, "MEDIUM".into())),
            "the lower bound is in"
        );
        assert!(groups.contains(&(PeerDimension::Methodology, "MIXED".into())));
        assert!(groups.contains(&(PeerDimension::Sustainability, "NON_FSS".into())));
        assert!(groups.contains(&(PeerDimension::Region, "MA-06".into())));
    }
}
