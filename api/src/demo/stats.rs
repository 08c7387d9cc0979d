//! The monthly statistics of the demo: clients and loans per association,
//! region, segment, gender and area; staff per association; and the
//! associations' monthly targets.
//!
//! The published national figures are split exactly first into segment ×
//! gender × area cells, then across the (association, region) pairs, then
//! (for flows) across the months of the year. Every split is a
//! largest-remainder apportionment, so the rows add up to the published
//! figures to the unit (the centime for money). Intermediate months follow
//! national curves shaped by the spring 2020 lockdown.

use super::reference::{ASSOCIATIONS, Association, Ids, REGIONS, Region};
use super::util::{MONTHS, apportion, jitter, period, unit};
use entity::enums::{Area, Gender, Segment, StaffCategory, TargetMeasure};
use entity::target;
use sea_orm::{ActiveValue::Set, NotSet};

/// One value per demo month (index 0 is January 2019).
type Series = [i64; MONTHS];

/// A national split: `[segment][gender][area]` in the order of
/// `Segment::ALL`, `Gender::ALL` and `Area::ALL`.
type Cube = [[[i64; 2]; 2]; 3];

const FEMALE: usize = 0;
const RURAL: usize = 1;
/// Cells per (association, region) pair: 3 segments × 2 genders × 2 areas.
const CELLS: usize = 12;

/// How a national total divides between segments.
enum Segments {
    /// Published figures.
    Exact([i64; 3]),
    /// Demo assumption, as relative weights.
    Shares([f64; 3]),
}

/// A published part of a national total, or a demo assumption as a share.
enum Part {
    Exact(i64),
    Share(f64),
}

impl Part {
    fn of(&self, total: i64) -> i64 {
        match *self {
            Part::Exact(value) => value,
            Part::Share(share) => (total as f64 * share).round() as i64,
        }
    }
}

/// The marginals of a national stock at December.
struct Marginals {
    total: i64,
    segments: Segments,
    female: Part,
    rural: Part,
}

/// Active clients at December 2019 and 2020.
const CLIENTS: [Marginals; 2] = [
    Marginals {
        total: 905_456,
        segments: Segments::Shares([71.5, 27.75, 0.75]),
        female: Part::Share(0.4905),
        rural: Part::Share(0.341),
    },
    Marginals {
        total: 868_070,
        segments: Segments::Exact([625_145, 236_844, 6_081]),
        female: Part::Exact(416_674),
        rural: Part::Exact(286_463),
    },
];

/// Gross outstanding portfolio at December 2019 and 2020, in centimes
/// (7,393 and 8,022.5 million MAD; in 2020 individual 77.5 %, solidarity
/// group 19.2 %, urban 66 %).
const OUTSTANDING: [Marginals; 2] = [
    Marginals {
        total: 739_300_000_000,
        segments: Segments::Shares([77.1, 19.8, 3.1]),
        female: Part::Share(0.355),
        rural: Part::Share(0.345),
    },
    Marginals {
        total: 802_250_000_000,
        segments: Segments::Exact([621_743_750_000, 154_032_000_000, 26_474_250_000]),
        female: Part::Share(0.35),
        rural: Part::Exact(802_250_000_000 - 529_485_000_000),
    },
];

/// Portfolio at risk over 30 days at December (231.73 and 642.94 million MAD).
const PAR30: [i64; 2] = [23_173_000_000, 64_294_000_000];

/// Amount disbursed during each year (7,040 and 6,010 million MAD).
const DISBURSED: [i64; 2] = [704_000_000_000, 601_000_000_000];

/// Women's share of clients by segment, before calibration to the total.
const CLIENT_WOMEN: [f64; 3] = [0.40, 0.75, 0.25];
/// Rural share of clients by segment and gender, before calibration.
const CLIENT_RURAL: [[f64; 2]; 3] = [[0.30, 0.32], [0.42, 0.38], [0.12, 0.15]];
/// Women's share of the portfolio by segment (their loans are smaller).
const PORTFOLIO_WOMEN: [f64; 3] = [0.33, 0.72, 0.20];
/// Rural share of the portfolio by segment and gender.
const PORTFOLIO_RURAL: [[f64; 2]; 3] = [[0.31, 0.33], [0.40, 0.37], [0.14, 0.16]];

/// Relative risk of each segment in each year: group lending suffered most
/// in 2020, very small enterprises too.
const SEGMENT_RISK: [[f64; 3]; 2] = [[1.0, 1.15, 0.9], [0.95, 1.3, 1.2]];
/// Average loan size by segment, MAD.
const LOAN_SIZE: [f64; 3] = [8_300.0, 4_700.0, 46_000.0];
/// Relative portfolio turnover by segment (group loans are short).
const TURNOVER: [f64; 3] = [1.0, 1.3, 0.55];
/// Share of the outstanding falling due each month, by segment.
const DUE_RATE: [f64; 3] = [0.075, 0.095, 0.045];
/// Loans per active client, by segment.
const LOANS_PER_CLIENT: [f64; 3] = [1.035, 1.0, 1.08];

/// Linear progress from one December to the next.
#[rustfmt::skip]
const LINEAR: [f64; 12] = [1. / 12., 2. / 12., 3. / 12., 4. / 12., 5. / 12., 6. / 12., 7. / 12., 8. / 12., 9. / 12., 10. / 12., 11. / 12., 1.0];
const FLAT: [f64; 12] = [1.0; 12];

/// Clients: steady growth in 2019; in 2020 a fall during and after the
/// lockdown below the December level, then a partial recovery.
const CLIENT_SHAPE: [[f64; 12]; 2] = [
    FLAT,
    [
        1.0066, 1.0134, 1.0112, 1.0, 0.990, 0.983, 0.980, 0.9795, 0.9817, 0.9863, 0.993, 1.0,
    ],
];
/// Ratio of the December 2018 level to December 2019, clients and portfolio.
const START_2019: [f64; 2] = [0.955, 0.93];
/// Portfolio: in 2020 flat through the lockdown (repayments deferred),
/// growing again from the summer.
const PORTFOLIO_PROGRESS: [[f64; 12]; 2] = [
    LINEAR,
    [0.0, 0.01, 0.04, 0.09, 0.14, 0.27, 0.46, 0.62, 0.73, 0.84, 0.94, 1.0],
];
const PORTFOLIO_SHAPE: [[f64; 12]; 2] = [FLAT, [0.996, 0.998, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0]];
/// National PAR30 rate by month: about 3 % in 2019, peaking mid-2020.
const PAR30_RATE: [[f64; 12]; 2] = [
    [
        0.0290, 0.0294, 0.0298, 0.0302, 0.0306, 0.0310, 0.0308, 0.0306, 0.0308, 0.0310, 0.0312, 0.031344,
    ],
    [
        0.0322, 0.0335, 0.0410, 0.0640, 0.0850, 0.1010, 0.1050, 0.1020, 0.0975, 0.0920, 0.0860, 0.080143,
    ],
];
/// PAR90 as a share of PAR30: lower when arrears are recent.
const PAR90_RATIO: [[f64; 12]; 2] = [
    [0.62; 12],
    [0.62, 0.61, 0.55, 0.42, 0.40, 0.45, 0.52, 0.58, 0.62, 0.65, 0.67, 0.68],
];
/// Monthly write-offs as a share of PAR90 (suspended during the lockdown,
/// year-end clean-up in December 2020).
const WRITE_OFF_RATE: [[f64; 12]; 2] = [
    [0.035; 12],
    [
        0.035, 0.035, 0.02, 0.005, 0.005, 0.01, 0.015, 0.02, 0.03, 0.035, 0.04, 0.06,
    ],
];
/// Rescheduled share of the outstanding: jumps with the 2020 moratorium.
const RESCHEDULED_RATE: [[f64; 12]; 2] = [
    [0.004; 12],
    [
        0.004, 0.004, 0.009, 0.045, 0.09, 0.13, 0.14, 0.135, 0.128, 0.12, 0.112, 0.105,
    ],
];
/// Repayments collected / due: about 98 % normally, 55-65 % in April-May 2020.
const COLLECTION_RATE: [[f64; 12]; 2] = [
    [
        0.979, 0.981, 0.980, 0.978, 0.977, 0.979, 0.980, 0.978, 0.981, 0.980, 0.982, 0.983,
    ],
    [
        0.979, 0.977, 0.86, 0.60, 0.63, 0.78, 0.88, 0.91, 0.925, 0.935, 0.94, 0.945,
    ],
];
/// Relative disbursements by month: Ramadan (May 2019) and Aïd al-Adha
/// (August 2019) seasonality; in 2020 a collapse to a fifth of normal in
/// April-May and a catch-up in the second half.
pub(crate) const DISBURSEMENT_SHAPE: [[f64; 12]; 2] = [
    [0.90, 0.93, 1.02, 1.03, 0.92, 1.00, 1.06, 1.10, 1.05, 1.02, 0.98, 0.99],
    [1.02, 1.03, 0.70, 0.21, 0.20, 0.55, 1.10, 1.15, 1.20, 1.22, 1.20, 1.22],
];
/// Share of the loans disbursed in a month that go to first-time clients.
const NEW_CLIENT_SHARE: [[f64; 12]; 2] = [
    [0.21; 12],
    [0.21, 0.20, 0.16, 0.07, 0.07, 0.12, 0.17, 0.18, 0.18, 0.18, 0.18, 0.18],
];

/// An association serving a region, with the share of the association's
/// clients living there.
pub(crate) struct Pair {
    pub association: usize,
    pub region: usize,
    weight: f64,
}

/// Every (association, region) pair, in association then region order. The
/// head-office region weighs more.
fn pairs() -> Vec<Pair> {
    let mut pairs = Vec::new();
    for (association, a) in ASSOCIATIONS.iter().enumerate() {
        let regions = a.region_indexes();
        let local = |r: usize| REGIONS[r].weight * if REGIONS[r].code == a.home { 1.6 } else { 1.0 };
        let sum: f64 = regions.iter().map(|&r| local(r)).sum();
        pairs.extend(regions.iter().map(|&region| Pair {
            association,
            region,
            weight: a.size * local(region) / sum,
        }));
    }
    pairs
}

/// All monthly series of one statistic cell.
#[derive(Clone, Default)]
struct Cell {
    clients: Series,
    new_clients: Series,
    disbursed_count: Series,
    disbursed_amount: Series,
    active_loans: Series,
    outstanding: Series,
    par30: Series,
    par90: Series,
    write_off: Series,
    rescheduled: Series,
    repayments_due: Series,
    repayments_collected: Series,
}

/// Headcount of one association in one category and gender, by month.
struct Staff {
    association: usize,
    category: StaffCategory,
    gender: Gender,
    headcount: Series,
}

/// A cell an association reports: region code, segment, gender and area.
pub(crate) type Place = (&'static str, Segment, Gender, Area);

/// One association's figures of one month, in the units of its report (counts, and amounts in centimes).
#[derive(Clone, Debug, Default)]
pub(crate) struct MonthFigures {
    /// Active and new clients of each cell.
    pub clients: Vec<(Place, [i64; 2])>,
    /// Loan figures of each cell, in the order of `facts::LOANS.measures`.
    pub loans: Vec<(Place, [i64; crate::facts::LOAN_VALUES])>,
    /// Headcount by category and gender.
    pub staff: Vec<(StaffCategory, Gender, i64)>,
}

/// The generated statistics, before they are written as reports.
pub(crate) struct Statistics {
    pub pairs: Vec<Pair>,
    /// Indexed by `pair * CELLS + segment * 4 + gender * 2 + area`.
    cells: Vec<Cell>,
    staff: Vec<Staff>,
}

/// Splits a national stock into segment × gender × area cells that match
/// every marginal exactly; the biases set the women's and rural shares of
/// each segment before calibration.
fn national_cube(m: &Marginals, women: [f64; 3], rural: [[f64; 2]; 3]) -> Cube {
    let segments: Vec<i64> = match m.segments {
        Segments::Exact(values) => {
            assert_eq!(values.iter().sum::<i64>(), m.total, "segments must add up to the total");
            values.to_vec()
        }
        Segments::Shares(shares) => apportion(m.total, &shares),
    };
    let female = apportion(m.female.of(m.total), &[0, 1, 2].map(|s| segments[s] as f64 * women[s]));
    let by_gender = [0, 1, 2].map(|s| [female[s], segments[s] - female[s]]);
    let weights: Vec<f64> = (0..6)
        .map(|i| by_gender[i / 2][i % 2] as f64 * rural[i / 2][i % 2])
        .collect();
    let rural_cells = apportion(m.rural.of(m.total), &weights);
    let mut cube = [[[0; 2]; 2]; 3];
    for (i, &r) in rural_cells.iter().enumerate() {
        let (s, g) = (i / 2, i % 2);
        cube[s][g] = [by_gender[s][g] - r, r];
        assert!(cube[s][g].iter().all(|&v| v >= 0), "national split out of range");
    }
    cube
}

/// Spreads each national cell over the pairs with the given weight of each
/// cell index.
fn spread(cube: &Cube, pairs: usize, weight: impl Fn(usize) -> f64) -> Vec<i64> {
    let mut values = vec![0; pairs * CELLS];
    for (s, by_gender) in cube.iter().enumerate() {
        for (g, by_area) in by_gender.iter().enumerate() {
            for (a, &total) in by_area.iter().enumerate() {
                let indexes: Vec<usize> = (0..pairs).map(|p| p * CELLS + s * 4 + g * 2 + a).collect();
                let weights: Vec<f64> = indexes.iter().map(|&i| weight(i)).collect();
                for (&i, v) in indexes.iter().zip(apportion(total, &weights)) {
                    values[i] = v;
                }
            }
        }
    }
    values
}

/// A month-end stock over one year, from `start` (the previous December) to
/// `end` (this December, kept exact), following the national `progress`
/// and `shape` curves with a slight cell-level jitter.
fn stock_year(start: f64, end: i64, progress: &[f64; 12], shape: &[f64; 12], key: &[usize]) -> [i64; 12] {
    let mut values = [end; 12];
    for m in 0..11 {
        let level = start + (end as f64 - start) * progress[m];
        values[m] = (level * shape[m] * jitter("stock", &[key, &[m]].concat(), 0.004))
            .round()
            .max(0.0) as i64;
    }
    values
}

/// A stock over both years given its two December values.
fn stock(
    decembers: [i64; 2],
    start_ratio: f64,
    progress: &[[f64; 12]; 2],
    shape: &[[f64; 12]; 2],
    key: &[usize],
) -> Series {
    let start = decembers[0] as f64 * start_ratio * jitter("start", key, 0.02);
    let first = stock_year(start, decembers[0], &progress[0], &shape[0], &[key, &[0]].concat());
    let second = stock_year(
        decembers[0] as f64,
        decembers[1],
        &progress[1],
        &shape[1],
        &[key, &[1]].concat(),
    );
    let mut series = [0; MONTHS];
    series[..12].copy_from_slice(&first);
    series[12..].copy_from_slice(&second);
    series
}

/// The association, region, segment, gender and area of cell `i`.
fn dims(pairs: &[Pair], i: usize) -> (&'static Association, &'static Region, usize, usize, usize) {
    let pair = &pairs[i / CELLS];
    let k = i % CELLS;
    (
        &ASSOCIATIONS[pair.association],
        &REGIONS[pair.region],
        k / 4,
        (k % 4) / 2,
        k % 2,
    )
}

/// December stocks of every cell, exact against the national figures;
/// index 0 is 2019, 1 is 2020.
struct Decembers {
    clients: [Vec<i64>; 2],
    outstanding: [Vec<i64>; 2],
    par30: [Vec<i64>; 2],
}

impl Decembers {
    /// Clients follow the association's presence, segments, women and rural
    /// propensities; 2020 follows 2019 and the association's resilience. The
    /// portfolio follows clients and loan sizes; risk follows the portfolio,
    /// the association, the segment and (much more in 2020) the region.
    fn new(pairs: &[Pair]) -> Self {
        let n = pairs.len();
        let clients_2019 = spread(&national_cube(&CLIENTS[0], CLIENT_WOMEN, CLIENT_RURAL), n, |i| {
            let (a, r, s, g, area) = dims(pairs, i);
            let gender = if g == FEMALE { a.women } else { 1.0 };
            let place = if area == RURAL {
                r.rural * a.rural
            } else {
                1.0 - r.rural
            };
            pairs[i / CELLS].weight * a.segments[s] * gender * place * jitter("clients", &[i], 0.15)
        });
        let clients_2020 = spread(&national_cube(&CLIENTS[1], CLIENT_WOMEN, CLIENT_RURAL), n, |i| {
            clients_2019[i] as f64 * dims(pairs, i).0.resilience * jitter("resilience", &[i], 0.03)
        });
        let clients = [clients_2019, clients_2020];
        let outstanding = [0, 1].map(|y| {
            spread(
                &national_cube(&OUTSTANDING[y], PORTFOLIO_WOMEN, PORTFOLIO_RURAL),
                n,
                |i| {
                    let (a, r, ..) = dims(pairs, i);
                    clients[y][i] as f64 * a.loan_size * r.loan_size * jitter("loan-size", &[y, i], 0.08)
                },
            )
        });
        let par30 = [0, 1].map(|y| {
            let weights: Vec<f64> = (0..n * CELLS)
                .map(|i| {
                    let (a, r, s, ..) = dims(pairs, i);
                    let region = if y == 0 { r.risk.sqrt() } else { r.risk.powf(1.5) };
                    outstanding[y][i] as f64 * a.risk * SEGMENT_RISK[y][s] * region * jitter("risk", &[y, i], 0.1)
                })
                .collect();
            apportion(PAR30[y], &weights)
        });
        Decembers {
            clients,
            outstanding,
            par30,
        }
    }
}

/// Month-end stocks of cell `i` and the flows derived from them
/// (repayments, write-offs): clients and portfolio run between the
/// Decembers along the national curves; arrears, rescheduling and
/// collection follow the national monthly rates, scaled by the cell's own
/// risk at December.
fn monthly_stocks(pairs: &[Pair], decembers: &Decembers, i: usize) -> Cell {
    let (a, _, s, ..) = dims(pairs, i);
    let at = |values: &[Vec<i64>; 2]| [values[0][i], values[1][i]];
    let mut cell = Cell {
        clients: stock(
            at(&decembers.clients),
            START_2019[0],
            &[LINEAR; 2],
            &CLIENT_SHAPE,
            &[0, i],
        ),
        outstanding: stock(
            at(&decembers.outstanding),
            START_2019[1],
            &PORTFOLIO_PROGRESS,
            &PORTFOLIO_SHAPE,
            &[1, i],
        ),
        ..Cell::default()
    };
    let relative_risk = |y: usize| match decembers.outstanding[y][i] {
        0 => 1.0,
        out => decembers.par30[y][i] as f64 / out as f64 / PAR30_RATE[y][11],
    };
    let (risk_2019, risk_2020) = (relative_risk(0), relative_risk(1));
    let collection = 1.0 - 0.05 * (a.risk - 1.0);
    for t in 0..MONTHS {
        let (y, m) = (t / 12, t % 12);
        let out = cell.outstanding[t];
        cell.par30[t] = if m == 11 {
            decembers.par30[y][i]
        } else {
            let risk = if y == 0 {
                risk_2019
            } else {
                risk_2019 + (risk_2020 - risk_2019) * LINEAR[m]
            };
            ((out as f64 * PAR30_RATE[y][m] * risk).round() as i64).min(out)
        };
        let par90 = cell.par30[t] as f64 * PAR90_RATIO[y][m] * jitter("par90", &[i, t], 0.08);
        cell.par90[t] = (par90.floor() as i64).min(cell.par30[t]);
        cell.write_off[t] =
            (cell.par90[t] as f64 * WRITE_OFF_RATE[y][m] * jitter("write-off", &[i, t], 0.3)).round() as i64;
        let rescheduled = out as f64 * RESCHEDULED_RATE[y][m] * a.risk * jitter("rescheduled", &[i, t], 0.1);
        cell.rescheduled[t] = (rescheduled.round() as i64).min(out);
        cell.repayments_due[t] = (out as f64 * DUE_RATE[s] * jitter("due", &[i, t], 0.03)).round() as i64;
        let rate = (COLLECTION_RATE[y][m] * collection * jitter("collection", &[i, t], 0.01)).min(1.0);
        cell.repayments_collected[t] = (cell.repayments_due[t] as f64 * rate).round() as i64;
        let loans = cell.clients[t] as f64 * LOANS_PER_CLIENT[s] * jitter("loans", &[i, t], 0.005);
        cell.active_loans[t] = loans.round() as i64;
    }
    cell
}

/// Average loan of cell `i` in year `y`, centimes.
fn loan_size(pairs: &[Pair], i: usize, y: usize) -> f64 {
    let (a, r, s, g, area) = dims(pairs, i);
    LOAN_SIZE[s]
        * 100.0
        * a.loan_size
        * r.loan_size
        * if g == FEMALE { 0.92 } else { 1.0 }
        * if area == RURAL { 0.9 } else { 1.0 }
        * if y == 1 { 1.04 } else { 1.0 }
}

/// Disbursements: each year's national amount over the cells in proportion
/// to their portfolio over the year, then over the months along the
/// national curve. Loan counts follow from the cell's average loan, first
/// loans from the month's share of new clients.
fn add_disbursements(pairs: &[Pair], cells: &mut [Cell]) {
    for y in 0..2 {
        let weights: Vec<f64> = cells
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let portfolio: i64 = c.outstanding[y * 12..y * 12 + 12].iter().sum();
                portfolio as f64 * TURNOVER[dims(pairs, i).2] * jitter("turnover", &[y, i], 0.1)
            })
            .collect();
        for (i, total) in apportion(DISBURSED[y], &weights).into_iter().enumerate() {
            let size = loan_size(pairs, i, y);
            let months: Vec<f64> = (0..12)
                .map(|m| DISBURSEMENT_SHAPE[y][m] * jitter("disbursement", &[i, y, m], 0.06))
                .collect();
            let cell = &mut cells[i];
            for (m, amount) in apportion(total, &months).into_iter().enumerate() {
                let t = y * 12 + m;
                let count = match amount {
                    0 => 0,
                    _ => ((amount as f64 / (size * jitter("size", &[i, t], 0.03))).round() as i64).max(1),
                };
                let new = (count as f64 * NEW_CLIENT_SHARE[y][m] * jitter("new", &[i, t], 0.1)).round() as i64;
                cell.disbursed_amount[t] = amount;
                cell.disbursed_count[t] = count;
                cell.new_clients[t] = new.min(count);
            }
        }
    }
}

impl Statistics {
    /// Generates every statistic of the demo.
    pub(crate) fn generate() -> Self {
        let pairs = pairs();
        let decembers = Decembers::new(&pairs);
        let mut cells: Vec<Cell> = (0..pairs.len() * CELLS)
            .map(|i| monthly_stocks(&pairs, &decembers, i))
            .collect();
        add_disbursements(&pairs, &mut cells);
        Statistics {
            pairs,
            cells,
            staff: generate_staff(),
        }
    }
}

/// How one staff category is spread over the associations.
struct StaffPlan {
    category: StaffCategory,
    /// Headcount at December 2019 and 2020.
    decembers: [i64; 2],
    /// December 2018 level relative to December 2019.
    start_ratio: f64,
    /// Headcount grows with association size to this power (head offices
    /// have a minimum size whatever the network).
    size_exponent: f64,
    women: f64,
    /// Associations concerned; empty means all.
    reporters: &'static [&'static str],
    progress: [[f64; 12]; 2],
}

/// Zero until the December of the year.
const DECEMBER_ONLY: [f64; 12] = [0., 0., 0., 0., 0., 0., 0., 0., 0., 0., 0., 1.];

/// Published headcounts. In December 2020 the published total exceeds
/// network plus head office by 123; the demo keeps that gap in the
/// "unspecified" category, reported by three associations that sent totals
/// without a breakdown.
const STAFF: [StaffPlan; 3] = [
    StaffPlan {
        category: StaffCategory::Network,
        decembers: [7_089, 7_087],
        start_ratio: 0.97,
        size_exponent: 0.85,
        women: 0.34,
        reporters: &[],
        progress: [LINEAR; 2],
    },
    StaffPlan {
        category: StaffCategory::HeadOffice,
        decembers: [784, 804],
        start_ratio: 0.98,
        size_exponent: 0.6,
        women: 0.42,
        reporters: &[],
        progress: [LINEAR; 2],
    },
    StaffPlan {
        category: StaffCategory::Unspecified,
        decembers: [0, 123],
        start_ratio: 0.0,
        size_exponent: 1.0,
        women: 0.36,
        reporters: &["CEDRE", "PALMIER", "SAFRAN"],
        progress: [DECEMBER_ONLY; 2],
    },
];

/// Monthly headcount by association, category and gender.
fn generate_staff() -> Vec<Staff> {
    let mut staff = Vec::new();
    for (c, plan) in STAFF.iter().enumerate() {
        let decembers: Vec<Vec<i64>> = (0..2)
            .map(|y| {
                let weights: Vec<f64> = ASSOCIATIONS
                    .iter()
                    .enumerate()
                    .map(
                        |(a, assoc)| match plan.reporters.is_empty() || plan.reporters.contains(&assoc.code) {
                            true => {
                                assoc.size.powf(plan.size_exponent)
                                    * jitter("staff", &[c, a], 0.1)
                                    * jitter("staff-year", &[c, a, y], 0.02)
                            }
                            false => 0.0,
                        },
                    )
                    .collect();
                apportion(plan.decembers[y], &weights)
            })
            .collect();
        for (a, assoc) in ASSOCIATIONS.iter().enumerate() {
            let total = stock(
                [decembers[0][a], decembers[1][a]],
                plan.start_ratio,
                &plan.progress,
                &[FLAT; 2],
                &[2, c, a],
            );
            let share = plan.women * assoc.women.sqrt() * jitter("staff-women", &[c, a], 0.15);
            let women = total.map(|n| (n as f64 * share).round() as i64);
            for (gender, headcount) in [
                (Gender::Female, women),
                (Gender::Male, std::array::from_fn(|t| total[t] - women[t])),
            ] {
                staff.push(Staff {
                    association: a,
                    category: plan.category,
                    gender,
                    headcount,
                });
            }
        }
    }
    staff
}

/// One series of a cell.
type SeriesOf = fn(&Cell) -> &Series;

/// Rounds to a multiple of `step`, as objectives usually are.
fn round_to(value: f64, step: i64) -> i64 {
    (value / step as f64).round() as i64 * step
}

impl Statistics {
    /// Client count of a pair in an area at a month.
    pub(crate) fn clients(&self, pair: usize, area: usize, month: usize) -> i64 {
        (0..CELLS)
            .filter(|k| k % 2 == area)
            .map(|k| self.cells[pair * CELLS + k].clients[month])
            .sum()
    }

    /// The cells with their association, region, segment, gender and area.
    fn labelled(&self) -> impl Iterator<Item = (usize, &Pair, Segment, Gender, Area, &Cell)> {
        self.cells.iter().enumerate().map(|(i, cell)| {
            let k = i % CELLS;
            (
                i,
                &self.pairs[i / CELLS],
                Segment::ALL[k / 4],
                Gender::ALL[(k % 4) / 2],
                Area::ALL[k % 2],
                cell,
            )
        })
    }

    /// One association's figures of month `t` (0 = January 2019), as it reports them: every cell of the regions
    /// it serves, and its staff.
    pub(crate) fn month_figures(&self, association: usize, t: usize) -> MonthFigures {
        let mut figures = MonthFigures::default();
        for (_, pair, segment, gender, area, c) in self.labelled().filter(|(_, p, ..)| p.association == association) {
            let place = (REGIONS[pair.region].code, segment, gender, area);
            figures.clients.push((place, [c.clients[t], c.new_clients[t]]));
            figures.loans.push((
                place,
                [
                    c.disbursed_count[t],
                    c.disbursed_amount[t],
                    c.active_loans[t],
                    c.outstanding[t],
                    c.par30[t],
                    c.par90[t],
                    c.write_off[t],
                    c.rescheduled[t],
                    c.repayments_due[t],
                    c.repayments_collected[t],
                ],
            ));
        }
        figures.staff = self
            .staff
            .iter()
            .filter(|s| s.association == association)
            .map(|s| (s.category, s.gender, s.headcount[t]))
            .collect();
        figures
    }

    /// Monthly objectives of each association for 2019 and 2020. Both were
    /// set before the crisis from the previous year's run rate: the 2019
    /// ones were roughly met, the 2020 ones assumed growth of 6-12 % over
    /// 2019 and were missed. Flow objectives follow the usual seasonality;
    /// the portfolio objective climbs steadily to its December level. Each
    /// objective is also split over the association's regions, in proportion
    /// to its 2019 figures there (the December 2019 portfolio for the
    /// portfolio), to the unit: a region's objectives add up to the
    /// association's. Synthetic, as the published report gives none.
    pub(crate) fn target_rows(&self, ids: &Ids) -> Vec<target::ActiveModel> {
        let mut rows = Vec::new();
        for (a, association_id) in ids.associations.iter().enumerate() {
            let cells: Vec<(usize, &Cell)> = self
                .labelled()
                .filter(|(_, p, ..)| p.association == a)
                .map(|(_, p, .., c)| (p.region, c))
                .collect();
            let mut regions: Vec<usize> = cells.iter().map(|(r, _)| *r).collect();
            regions.dedup();
            let year_sum =
                |f: fn(&Cell) -> &Series| cells.iter().map(|(_, c)| f(c)[..12].iter().sum::<i64>()).sum::<i64>() as f64;
            let at = |f: fn(&Cell) -> &Series, t: usize| cells.iter().map(|(_, c)| f(c)[t]).sum::<i64>() as f64;
            // Each region's part of the association's 2019 figures: its weight in the split.
            let weights = |f: fn(&Cell) -> &Series, months: std::ops::Range<usize>| -> Vec<f64> {
                regions
                    .iter()
                    .map(|r| {
                        cells
                            .iter()
                            .filter(|(region, _)| region == r)
                            .map(|(_, c)| f(c)[months.clone()].iter().sum::<i64>())
                            .sum::<i64>() as f64
                    })
                    .collect()
            };
            let ambition = [
                1.01 + 0.04 * (2.0 * unit("target-2019", &[a]) - 1.0),
                1.06 + 0.06 * unit("target-2020", &[a]),
            ];
            let flows: [(TargetMeasure, SeriesOf, i64); 4] = [
                (TargetMeasure::NewClients, |c| &c.new_clients, 10),
                (TargetMeasure::DisbursedCount, |c| &c.disbursed_count, 10),
                (TargetMeasure::DisbursedAmount, |c| &c.disbursed_amount, 100_000),
                (TargetMeasure::RepaymentsCollected, |c| &c.repayments_collected, 100_000),
            ];
            let mut push = |t: usize, measure, value: i64, split: &[f64]| {
                let row = |region_id: Option<i32>, value: i64| target::ActiveModel {
                    id: NotSet,
                    association_id: Set(*association_id),
                    period: Set(period(t)),
                    measure: Set(measure),
                    value: Set(value),
                    region_id: Set(region_id),
                    activity: Set(None),
                };
                rows.push(row(None, value));
                for (r, part) in regions.iter().zip(apportion(value, split)) {
                    rows.push(row(Some(ids.regions[*r]), part));
                }
            };
            for y in 0..2 {
                for &(measure, series, step) in &flows {
                    let yearly = round_to(year_sum(series) * ambition[y], step);
                    let split = weights(series, 0..12);
                    for (m, value) in apportion(yearly, &DISBURSEMENT_SHAPE[0]).into_iter().enumerate() {
                        push(y * 12 + m, measure, value, &split);
                    }
                }
                let start = if y == 0 {
                    at(|c| &c.outstanding, 0)
                } else {
                    at(|c| &c.outstanding, 11)
                };
                let goal = at(|c| &c.outstanding, 11) * if y == 0 { ambition[0] } else { ambition[1] + 0.04 };
                let split = weights(|c| &c.outstanding, 11..12);
                for (m, progress) in LINEAR.iter().enumerate() {
                    push(
                        y * 12 + m,
                        TargetMeasure::OutstandingAmount,
                        round_to(start + (goal - start) * progress, 100_000),
                        &split,
                    );
                }
            }
        }
        rows
    }
}
