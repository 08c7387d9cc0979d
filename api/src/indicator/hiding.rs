//! Small-group hiding, for callers who must not see small groups: which aggregates (a summed quantity over a period
//! and a group) an answer hides, decided on every grouping by a subset of the document's dimensions at once, and
//! the in-memory derivation of those groupings and their contributors from the sums per association at the finest
//! grouping (read by `store`).

use super::catalog::{Agg, Dim, Source};
use super::cube::{self, Contributors, Cube, CubeRequest, FastMap, FastSet, GroupKey};
use crate::period::{Granularity, Month, Period};
use crate::scope::MIN_ASSOCIATIONS;
use entity::enums as db_enums;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

/// Aggregates hidden to protect small groups.
#[derive(Debug, Default)]
pub struct Hidden(FastSet<(Period, GroupKey, Agg)>);

impl Hidden {
    pub fn contains(&self, period: Period, key: &GroupKey, agg: Agg) -> bool {
        self.0.contains(&(period, *key, agg))
    }
}

/// Hiding's decisions of one request (kept in its `store::Reads`), by finest statement, period and aggregate: the
/// groups hidden for that aggregate in that period, on every grouping.
#[derive(Clone, Default)]
pub struct Decisions(Arc<std::sync::Mutex<HashMap<DecisionKey, Decided>>>);

/// A finest statement (its `sql::key`), a period and an aggregate.
type DecisionKey = (String, Period, Agg);

/// The groups hidden for one aggregate in one period, on every grouping.
type Decided = Arc<BTreeSet<GroupKey>>;

impl Decisions {
    /// The groups hidden for `agg` in `period` of the lattice derived from the finest statement `origin`: decided
    /// once per request.
    pub fn decided(
        &self,
        origin: &str,
        period: Period,
        agg: Agg,
        decide: impl FnOnce() -> Arc<BTreeSet<GroupKey>>,
    ) -> Arc<BTreeSet<GroupKey>> {
        let key = (origin.to_owned(), period, agg);
        if let Some(known) = self.0.lock().expect("never poisoned").get(&key) {
            return known.clone();
        }
        let decided = decide();
        self.0.lock().expect("never poisoned").insert(key, decided.clone());
        decided
    }
}

/// Decides, once per aggregate, what a caller who must not see small groups is shown, for every measure and field
/// that reads it: the hidden aggregates of the groups asked for (`cube.group_by`).
///
/// Hiding is decided on every grouping of the source's dimensions at once (sector-wide, by each dimension, by each
/// pair, ...; see [`Lattice::hidden`]), the same whichever grouping a request asks for, so that two requests of one
/// document with the same filter hide the same totals. Each aggregate depends only on its own figures, so the
/// choice does not depend on the measures selected. Women (rural) clients of a group are the active clients of its
/// women (rural) part and are hidden as those are. The branch registry is public and never hidden.
///
/// An aggregate whose figures come whole from a finest statement another field of the request derived (`origins`)
/// is decided once per request (`decisions`), for every field reading it.
pub fn hide(cube: &Cube, request: &CubeRequest, decisions: &Decisions) -> Hidden {
    // Each source's groupings: its shared derived lattice, or the cube itself (read whole from SQL).
    let mut lattices: HashMap<Source, Lattice> = HashMap::new();
    let mut hidden_in = |period: Period, agg: Agg| -> Arc<BTreeSet<GroupKey>> {
        let mut decide_in = |agg: Agg, fixed: Option<&BTreeSet<GroupKey>>| {
            let source = agg.source();
            let dims = request.lattice_dims(source);
            let mut decide = || {
                Arc::new(
                    lattices
                        .entry(source)
                        .or_insert_with(|| Lattice::new(cube.lattices.get(&source).map_or(cube, |shared| &**shared)))
                        .hidden(period, agg, &dims, fixed),
                )
            };
            match cube.origins.get(&source) {
                Some(origin) => decisions.decided(origin, period, agg, decide),
                None => decide(),
            }
        };
        // The loans by activity summed over every activity are the loans table's totals (a report's activities add
        // up to its loans, region by region): those totals are hidden as the loans' groupings decide, read along by
        // the engine, and only the activity groups are decided here.
        let loans = agg.of_loans();
        if loans != agg && request.aggs.contains(&loans) {
            let fixed = decide_in(loans, None);
            decide_in(agg, Some(&fixed))
        } else {
            decide_in(agg, None)
        }
    };
    let group_by = &cube.group_by;
    let mut hidden = FastSet::default();
    for &period in &request.periods {
        let mut clients: Option<Arc<BTreeSet<GroupKey>>> = None;
        for &agg in request.aggs.iter().filter(|a| a.source() != Source::Branches) {
            match agg {
                Agg::ActiveFemale | Agg::ActiveRural => {
                    let clients = clients.get_or_insert_with(|| hidden_in(period, Agg::ActiveClients));
                    hidden.extend(
                        cube.groups_at(period, group_by)
                            .iter()
                            .filter(|key| cube.get(period, key, agg).is_some())
                            .filter(|key| {
                                let mut part = **key;
                                if agg == Agg::ActiveFemale {
                                    part.gender = Some(db_enums::Gender::Female);
                                } else {
                                    part.area = Some(db_enums::Area::Rural);
                                }
                                clients.contains(&part)
                            })
                            .map(|key| (period, *key, agg)),
                    );
                }
                _ => hidden.extend(
                    hidden_in(period, agg)
                        .iter()
                        .filter(|key| key.dims() == *group_by)
                        .map(|key| (period, *key, agg)),
                ),
            }
        }
    }
    Hidden(hidden)
}

/// The groups of a cube, per period and grouping.
pub struct Lattice<'a> {
    cube: &'a Cube,
    /// The groups of every grouping, per period, in a stable order.
    index: FastMap<(Period, Vec<Dim>), Vec<GroupKey>>,
}

impl<'a> Lattice<'a> {
    pub fn new(cube: &'a Cube) -> Self {
        let mut index: FastMap<(Period, Vec<Dim>), Vec<GroupKey>> = FastMap::default();
        for (period, key) in cube.cells.keys() {
            index.entry((*period, key.dims())).or_default().push(*key);
        }
        index.values_mut().for_each(|keys| keys.sort());
        Lattice { cube, index }
    }

    /// The groups of every grouping by a subset of `dims` hidden for one aggregate in one period.
    ///
    /// Primary: an aggregate with fewer than `MIN_ASSOCIATIONS` associations contributing a non-zero amount.
    /// Complementary, until no line of siblings (the groups sharing all dimensions but one, whose sum is the total
    /// without that dimension) gives a hidden one back: under a visible total, a hidden sibling holding an amount
    /// from an association other than the caller's is never the only one (the smallest other such sibling is
    /// hidden, or the total when there is none); under a hidden total, not every such sibling is visible. A hidden
    /// zero, or for an association a figure of its own alone, holds nothing of anyone else.
    ///
    /// `fixed`: the groups without an activity are decided elsewhere (the loans' groupings, whose totals they are):
    /// hidden exactly when `fixed` holds them, never added. Should a line of activities need its visible total hidden,
    /// its one hidden part holding someone else's amount holds all of it: that part less the caller's own is the
    /// total less the caller's own, which the total already shows.
    pub fn hidden(
        &self,
        period: Period,
        agg: Agg,
        dims: &[Dim],
        fixed: Option<&BTreeSet<GroupKey>>,
    ) -> BTreeSet<GroupKey> {
        let cube = self.cube;
        let contributors = |key: &GroupKey| cube.contributors(period, key, agg);
        // Only a part from someone else protects a hidden sibling (a zero, or the caller's own figure, does not).
        let protects = |key: &GroupKey| contributors(key).others > 0;
        let is_fixed = |key: &GroupKey| fixed.is_some() && key.activity.is_none();
        let mut hidden: BTreeSet<GroupKey> = BTreeSet::new();
        let mut lines: Vec<(GroupKey, Vec<GroupKey>)> = Vec::new();
        for level in cube::levels(dims) {
            let members: Vec<GroupKey> = self
                .index
                .get(&(period, level.clone()))
                .into_iter()
                .flatten()
                .filter(|key| cube.get(period, key, agg).is_some())
                .copied()
                .collect();
            hidden.extend(
                members
                    .iter()
                    .filter(|key| match fixed {
                        Some(fixed) if is_fixed(key) => fixed.contains(key),
                        _ => contributors(key).all < MIN_ASSOCIATIONS,
                    })
                    .copied(),
            );
            if members.first().is_some_and(is_fixed) {
                // Lines of fixed groups were decided with them.
                continue;
            }
            for &dim in &level {
                let mut by_total: BTreeMap<GroupKey, Vec<GroupKey>> = BTreeMap::new();
                for key in &members {
                    by_total.entry(without(*key, dim)).or_default().push(*key);
                }
                lines.extend(by_total);
            }
        }
        let smallest_visible = |line: &[GroupKey], hidden: &BTreeSet<GroupKey>| {
            line.iter()
                .filter(|k| !hidden.contains(k) && protects(k))
                .min_by_key(|k| (cube.get(period, k, agg), **k))
                .copied()
        };
        let mut changed = true;
        while changed {
            changed = false;
            for (total, line) in &lines {
                let guarding = line.iter().filter(|k| hidden.contains(k) && protects(k)).count();
                let next = match (hidden.contains(total), guarding) {
                    (false, 1) => Some(smallest_visible(line, &hidden).unwrap_or(*total)),
                    (true, 0) if protects(total) => smallest_visible(line, &hidden),
                    _ => None,
                };
                if let Some(next) = next.filter(|next| !is_fixed(next))
                    && hidden.insert(next)
                {
                    changed = true;
                }
            }
        }
        hidden
    }
}

/// The key with one dimension cleared: the group's siblings along that dimension share it.
pub fn without(mut key: GroupKey, dim: Dim) -> GroupKey {
    match dim {
        Dim::Association => key.association = None,
        Dim::Region => key.region = None,
        Dim::Segment => key.segment = None,
        Dim::Gender => key.gender = None,
        Dim::Area => key.area = None,
        Dim::Activity => key.activity = None,
    }
    key
}

/// One association's sums in one period bucket and group of the finest grouping.
#[derive(Debug, Clone)]
pub struct Finest {
    /// First month (`yyyymm`) of the period bucket.
    pub bucket: i64,
    pub association: i32,
    /// The group, without the association.
    pub key: GroupKey,
    /// One sum per aggregate, in the order of the aggregates.
    pub values: Vec<Option<i64>>,
}

/// Puts into `cube` every grouping by a subset of `lattice`, with the sums and the associations contributing a
/// non-zero amount (`known`: the caller's own association, left out of `others`), from the finest sums per
/// association: the same figures as `store`'s SQL derivation. False (nothing put) beyond 128 associations.
pub fn derive_lattice(
    cube: &mut Cube,
    granularity: Granularity,
    lattice: &[Dim],
    aggs: &[Agg],
    known: Option<i32>,
    finest: &[Finest],
) -> bool {
    // Each association a bit: the finest groups (without the association) are summed once from the rows, each with
    // the set of its contributing associations per aggregate; every coarser grouping is then summed from those groups,
    // its contributors the union of theirs.
    let mut bits: FastMap<i32, u32> = FastMap::default();
    for row in finest {
        let next = bits.len() as u32;
        bits.entry(row.association).or_insert(next);
    }
    if bits.len() > 128 {
        // More associations than bits: SQL derives the groupings.
        return false;
    }
    let known_bit = known.and_then(|a| bits.get(&a)).map_or(0u128, |bit| 1u128 << bit);
    // (bucket, group) → for each aggregate: its sum, and a bit per association contributing a non-zero amount.
    type Groups = FastMap<(i64, GroupKey), Vec<(Option<i64>, u128)>>;
    let mut finest_groups = Groups::default();
    for row in finest {
        let bit = 1u128 << bits[&row.association];
        let group = finest_groups
            .entry((row.bucket, row.key))
            .or_insert_with(|| vec![(None, 0); aggs.len()]);
        for (i, value) in row.values.iter().enumerate() {
            if let Some(value) = value {
                let (sum, contributors) = &mut group[i];
                *sum = Some(sum.unwrap_or(0) + value);
                if *value > 0 {
                    *contributors |= bit;
                }
            }
        }
    }
    for level in cube::levels(lattice) {
        let project = |key: &GroupKey| GroupKey {
            association: None,
            region: key.region.filter(|_| level.contains(&Dim::Region)),
            segment: key.segment.filter(|_| level.contains(&Dim::Segment)),
            gender: key.gender.filter(|_| level.contains(&Dim::Gender)),
            area: key.area.filter(|_| level.contains(&Dim::Area)),
            activity: key.activity.filter(|_| level.contains(&Dim::Activity)),
        };
        let mut groups = Groups::default();
        for ((bucket, key), values) in &finest_groups {
            let group = groups
                .entry((*bucket, project(key)))
                .or_insert_with(|| vec![(None, 0); aggs.len()]);
            for (i, (value, contributors)) in values.iter().enumerate() {
                if let Some(value) = value {
                    let (sum, all) = &mut group[i];
                    *sum = Some(sum.unwrap_or(0) + value);
                    *all |= contributors;
                }
            }
        }
        for ((bucket, key), values) in groups {
            let period = Period::containing(granularity, Month(bucket as i32));
            for (agg, (sum, contributors)) in aggs.iter().zip(values) {
                cube.put(period, key, *agg, sum);
                let all = i64::from(contributors.count_ones());
                let others = i64::from((contributors & !known_bit).count_ones());
                cube.contributors
                    .insert((period, key, *agg), Contributors { all, others });
            }
        }
    }
    true
}

#[cfg(test)]
mod tests {
    //! Hiding on hand-built cubes, without a database: the finest sums per association are chosen (or generated), the
    //! lattice is derived from them, and the hidden groups are checked against figures recomputed here from the rows.

    use super::*;
    use db_enums::{Gender, Segment};
    use std::collections::BTreeMap;

    const AGG: Agg = Agg::Outstanding;

    fn month(index: i64) -> i64 {
        202001 + index
    }

    fn row(bucket: i64, association: i32, region: i32, segment: usize, gender: Option<usize>, value: i64) -> Finest {
        Finest {
            bucket,
            association,
            key: GroupKey {
                region: Some(region),
                segment: Some(Segment::ALL[segment]),
                gender: gender.map(|g| Gender::ALL[g]),
                ..GroupKey::default()
            },
            values: vec![Some(value)],
        }
    }

    /// A group's figures recomputed from the rows: its sum, and each association's part of it.
    #[derive(Default)]
    struct Truth {
        sum: Option<i64>,
        parts: BTreeMap<i32, i64>,
    }

    impl Truth {
        fn contributors(&self) -> usize {
            self.parts.values().filter(|v| **v != 0).count()
        }
        /// Holds a non-zero amount of an association other than the caller's.
        fn holds_others(&self, known: Option<i32>) -> bool {
            self.parts.iter().any(|(a, v)| *v != 0 && Some(*a) != known)
        }
    }

    fn project(key: &GroupKey, level: &[Dim]) -> GroupKey {
        let mut projected = *key;
        for dim in [Dim::Region, Dim::Segment, Dim::Gender, Dim::Area] {
            if !level.contains(&dim) {
                projected = without(projected, dim);
            }
        }
        projected
    }

    /// What one cube's hiding shows: the aggregates (period, group) with a value, and how many are hidden.
    struct Outcome {
        hidden: BTreeSet<(Period, GroupKey)>,
        aggregates: usize,
    }

    /// Derives the lattice of `rows` by `dims`, hides its small groups for a caller knowing `known`'s figures, and
    /// checks, on every period and every grouping by a subset of `dims`:
    /// (a) every aggregate with fewer than 3 associations contributing a non-zero amount is hidden;
    /// (b) under a visible total, never exactly one hidden sibling holds an amount of someone other than the caller
    ///     (it would be the total minus the visible siblings and the caller's own parts);
    /// (c) a hidden total holding someone else's amount is never the sum of its visible siblings (and the caller's own
    ///     parts): along every dimension, one of its parts holding someone else's amount is hidden too.
    fn check(rows: &[Finest], dims: &[Dim], known: Option<i32>) -> Outcome {
        let mut cube = Cube::default();
        assert!(derive_lattice(&mut cube, Granularity::Month, dims, &[AGG], known, rows));
        // The figures of every group of every grouping, from the rows.
        let mut truth: BTreeMap<(Period, GroupKey), Truth> = BTreeMap::new();
        for row in rows {
            let Some(value) = row.values[0] else { continue };
            let period = Period::containing(Granularity::Month, Month(row.bucket as i32));
            for level in cube::levels(dims) {
                let group = truth.entry((period, project(&row.key, &level))).or_default();
                group.sum = Some(group.sum.unwrap_or(0) + value);
                *group.parts.entry(row.association).or_default() += value;
            }
        }
        let lattice = Lattice::new(&cube);
        let periods: BTreeSet<Period> = truth.keys().map(|(p, _)| *p).collect();
        let mut hidden = BTreeSet::new();
        for &period in &periods {
            hidden.extend(
                lattice
                    .hidden(period, AGG, dims, None)
                    .into_iter()
                    .map(|key| (period, key)),
            );
        }
        for ((period, key), group) in &truth {
            // The derived lattice has the same figures.
            assert_eq!(cube.get(*period, key, AGG), group.sum, "sum of {key:?}");
            let contributors = cube.contributors(*period, key, AGG);
            assert_eq!(
                contributors.all as usize,
                group.contributors(),
                "contributors of {key:?}"
            );
            // (a)
            if group.contributors() < MIN_ASSOCIATIONS as usize {
                assert!(
                    hidden.contains(&(*period, *key)),
                    "{period} {key:?} has {} contributors and is shown",
                    group.contributors()
                );
            }
        }
        // Every line of siblings: the groups of one grouping sharing all dimensions but one, under their total.
        let mut lines: BTreeMap<(Period, GroupKey, Dim), Vec<GroupKey>> = BTreeMap::new();
        for (period, key) in truth.keys() {
            for dim in key.dims() {
                lines.entry((*period, without(*key, dim), dim)).or_default().push(*key);
            }
        }
        for ((period, total, dim), siblings) in &lines {
            let guarding: Vec<&GroupKey> = siblings
                .iter()
                .filter(|k| hidden.contains(&(*period, **k)) && truth[&(*period, **k)].holds_others(known))
                .collect();
            if hidden.contains(&(*period, *total)) {
                // (c)
                if truth[&(*period, *total)].holds_others(known) {
                    assert!(
                        !guarding.is_empty(),
                        "{period} hidden {total:?} is the sum of its visible parts by {dim:?}: {siblings:?}"
                    );
                }
            } else {
                // (b)
                assert_ne!(
                    guarding.len(),
                    1,
                    "{period} hidden {:?} is {total:?} minus its visible siblings by {dim:?}",
                    guarding.first()
                );
            }
        }
        Outcome {
            aggregates: truth.len(),
            hidden,
        }
    }

    fn region_total(region: i32) -> GroupKey {
        GroupKey {
            region: Some(region),
            ..GroupKey::default()
        }
    }

    fn cell(region: i32, segment: usize) -> GroupKey {
        GroupKey {
            region: Some(region),
            segment: Some(Segment::ALL[segment]),
            ..GroupKey::default()
        }
    }

    /// Three regions × three segments; in each cell, associations 1 to 5 each report `value(cell, association)`.
    fn grid(value: impl Fn(i32, usize, i32) -> i64) -> Vec<Finest> {
        let mut rows = Vec::new();
        for region in 1..=3 {
            for segment in 0..3 {
                for association in 1..=5 {
                    rows.push(row(
                        month(0),
                        association,
                        region,
                        segment,
                        None,
                        value(region, segment, association),
                    ));
                }
            }
        }
        rows
    }

    #[test]
    fn one_small_cell_hides_the_cheapest_rectangle_and_no_total() {
        // Region 1 × the first segment: associations 1 and 2 only. The cells of regions 1-2 × the first two
        // segments are the smallest, so they complete the rectangle that protects it.
        let rows = grid(|region, segment, association| {
            let small = region <= 2 && segment <= 1;
            match (region, segment, association) {
                (1, 0, 3..) => 0,
                _ if small => 10,
                _ => 1_000,
            }
        });
        let dims = [Dim::Region, Dim::Segment];
        let outcome = check(&rows, &dims, None);
        let period = Period::containing(Granularity::Month, Month(month(0) as i32));
        let expected: BTreeSet<(Period, GroupKey)> = [cell(1, 0), cell(1, 1), cell(2, 0), cell(2, 1)]
            .into_iter()
            .map(|k| (period, k))
            .collect();
        assert_eq!(outcome.hidden, expected);
        assert_eq!(outcome.aggregates, 9 + 3 + 3 + 1);
    }

    #[test]
    fn a_small_region_hides_another_region_and_all_its_cells() {
        // Region 3: associations 1 and 2 only, in every segment.
        let rows = grid(|region, segment, association| match (region, association) {
            (3, 3..) => 0,
            _ => 100 + 10 * i64::from(region) + segment as i64,
        });
        let dims = [Dim::Region, Dim::Segment];
        let outcome = check(&rows, &dims, None);
        let period = Period::containing(Granularity::Month, Month(month(0) as i32));
        let hidden = |key: GroupKey| outcome.hidden.contains(&(period, key));
        assert!(hidden(region_total(3)));
        assert!((0..3).all(|segment| hidden(cell(3, segment))));
        // The smallest other region protects it; the sector and segment totals stay visible.
        assert!(hidden(region_total(1)) && !hidden(region_total(2)));
        assert!(!hidden(GroupKey::default()));
    }

    #[test]
    fn the_callers_own_figure_does_not_protect_a_hidden_sibling() {
        // Region 1: the first segment has associations 2 and 3, the second association 1 alone; both are hidden.
        let rows = grid(|region, segment, association| match (region, segment, association) {
            (1, 0, 1 | 4 | 5) => 0,
            (1, 1, 2..) => 0,
            _ => 1_000 + i64::from(association) + 10 * segment as i64,
        });
        let dims = [Dim::Region, Dim::Segment];
        let period = Period::containing(Granularity::Month, Month(month(0) as i32));
        // To the public, the two hidden cells protect each other along region 1.
        let public = check(&rows, &dims, None);
        assert!(!public.hidden.contains(&(period, cell(1, 2))));
        // Association 1 knows its own cell: the third cell of region 1 (or the region) must be hidden too.
        let own = check(&rows, &dims, Some(1));
        assert!(own.hidden.contains(&(period, cell(1, 2))) || own.hidden.contains(&(period, region_total(1))));
    }

    /// A small deterministic generator (xorshift64*).
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
        }

        fn below(&mut self, n: u64) -> u64 {
            self.next() % n
        }
    }

    /// Random cubes of one or two months × up to 4 regions × 3 segments (× 2 genders for some), up to 8 associations
    /// each reporting a random share of the cells, some amounts zero, some callers knowing one association's figures.
    #[test]
    fn generated_cubes_hide_every_small_group_and_give_none_back() {
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        let mut hidden = 0;
        for _ in 0..400 {
            let months = 1 + rng.below(2) as i64;
            let regions = 1 + rng.below(4) as i32;
            let genders = rng.below(2) == 0;
            let associations = 1 + rng.below(8) as i32;
            let presence = 20 + rng.below(80);
            let mut rows = Vec::new();
            for m in 0..months {
                for association in 1..=associations {
                    for region in 1..=regions {
                        for segment in 0..3 {
                            for gender in if genders { vec![Some(0), Some(1)] } else { vec![None] } {
                                if rng.below(100) >= presence {
                                    continue;
                                }
                                let value = if rng.below(5) == 0 {
                                    0
                                } else {
                                    1 + rng.below(1_000) as i64
                                };
                                rows.push(row(month(m), association, region, segment, gender, value));
                            }
                        }
                    }
                }
            }
            let dims: &[Dim] = if genders {
                &[Dim::Region, Dim::Segment, Dim::Gender]
            } else {
                &[Dim::Region, Dim::Segment]
            };
            let known = (rng.below(2) == 0).then(|| 1 + rng.below(associations as u64) as i32);
            hidden += check(&rows, dims, known).hidden.len();
        }
        // The cubes do have small groups to hide.
        assert!(hidden > 1_000, "{hidden} hidden");
    }

    /// On a sector where nearly every group has many contributors, hiding protects the few small ones without
    /// hiding most figures: at least 80 % of the aggregates stay visible.
    #[test]
    fn most_figures_of_a_large_sector_stay_visible() {
        let mut rng = Rng(42);
        let mut rows = Vec::new();
        for m in 0..3 {
            for region in 1..=12 {
                for segment in 0..3 {
                    // Two cells a month (of 36) have one or two associations; the others five to thirteen.
                    let small = (region + m as i32 * 5) % 12 < 2 && segment == (region as usize + m as usize) % 3;
                    let reporting = if small { 1 + rng.below(2) } else { 5 + rng.below(9) };
                    let mut associations: Vec<i32> = (1..=13).collect();
                    for i in 0..reporting as usize {
                        let j = i + rng.below((13 - i) as u64) as usize;
                        associations.swap(i, j);
                        let value = 1 + rng.below(10_000) as i64;
                        rows.push(row(month(m), associations[i], region, segment, None, value));
                    }
                }
            }
        }
        let outcome = check(&rows, &[Dim::Region, Dim::Segment], None);
        let primary = 2 * 3;
        assert!(outcome.hidden.len() > primary, "complements are hidden too");
        let visible = outcome.aggregates - outcome.hidden.len();
        assert!(
            visible * 100 >= outcome.aggregates * 80,
            "{visible} of {} aggregates visible",
            outcome.aggregates
        );
    }

    /// One association's figure for one region and activity (the loans by activity).
    fn activity_row(association: i32, region: i32, activity: usize, value: i64) -> Finest {
        Finest {
            bucket: month(0),
            association,
            key: GroupKey {
                region: Some(region),
                activity: Some(db_enums::Activity::ALL[activity]),
                ..GroupKey::default()
            },
            values: vec![Some(value)],
        }
    }

    /// Hiding across the loans and the loans by activity, on generated sectors (up to 6 regions × 4 activities, up to
    /// 7 associations, some amounts zero, some callers knowing one association's figures). The loans' groupings (by
    /// region, the activities summed away) are decided first; the activities' groupings are decided with those totals
    /// fixed. Checked: (a) the totals over every activity are hidden exactly as the loans' groupings decided;
    /// (b) under a total the loans show, a hidden activity group holding a small figure (fewer than 3 contributors, or
    /// one other association's part for a caller knowing its own) is never the only hidden one holding someone
    /// else's amount. And without the loans' decisions fixed, the activities' groupings alone do hide totals the
    /// loans show, or show totals the loans hide: the fixing is needed.
    #[test]
    fn activity_groups_are_hidden_under_the_loans_totals() {
        let mut rng = Rng(0x5eed_ac71_0000_0001);
        let (mut diverging, mut hidden_cells) = (0, 0);
        for _ in 0..400 {
            let regions = 1 + rng.below(6) as i32;
            let activities = 1 + rng.below(4) as usize;
            let associations = 1 + rng.below(7) as i32;
            let presence = 20 + rng.below(80);
            let mut rows = Vec::new();
            for association in 1..=associations {
                for region in 1..=regions {
                    for activity in 0..activities {
                        if rng.below(100) >= presence {
                            continue;
                        }
                        let value = if rng.below(5) == 0 {
                            0
                        } else {
                            1 + rng.below(1_000) as i64
                        };
                        rows.push(activity_row(association, region, activity, value));
                    }
                }
            }
            let known = (rng.below(2) == 0).then(|| 1 + rng.below(associations as u64) as i32);
            // The loans: the same figures with the activity summed away.
            let loans_rows: Vec<Finest> = rows
                .iter()
                .map(|r| Finest {
                    key: GroupKey {
                        activity: None,
                        ..r.key
                    },
                    ..r.clone()
                })
                .collect();
            let mut loans = Cube::default();
            assert!(derive_lattice(
                &mut loans,
                Granularity::Month,
                &[Dim::Region],
                &[AGG],
                known,
                &loans_rows
            ));
            let mut by_activity = Cube::default();
            let dims = [Dim::Region, Dim::Activity];
            assert!(derive_lattice(
                &mut by_activity,
                Granularity::Month,
                &dims,
                &[AGG],
                known,
                &rows
            ));
            let period = Period::containing(Granularity::Month, Month(month(0) as i32));
            let fixed = Lattice::new(&loans).hidden(period, AGG, &[Dim::Region], None);
            let lattice = Lattice::new(&by_activity);
            let hidden = lattice.hidden(period, AGG, &dims, Some(&fixed));
            let alone = lattice.hidden(period, AGG, &dims, None);
            let totals = |set: &BTreeSet<GroupKey>| -> BTreeSet<GroupKey> {
                set.iter().filter(|k| k.activity.is_none()).copied().collect()
            };
            // (a)
            assert_eq!(totals(&hidden), fixed, "the totals are the loans'");
            if totals(&alone) != fixed {
                diverging += 1;
            }
            // (b): every line of activities under a total the loans show.
            let contributors = |key: &GroupKey| by_activity.contributors(period, key, AGG);
            let sensitive = |key: &GroupKey| match known {
                None => (1..MIN_ASSOCIATIONS).contains(&contributors(key).all),
                Some(_) => contributors(key).others == 1,
            };
            let mut lines: BTreeMap<GroupKey, Vec<GroupKey>> = BTreeMap::new();
            for key in by_activity
                .cells
                .keys()
                .map(|(_, k)| *k)
                .filter(|k| k.activity.is_some())
            {
                lines.entry(without(key, Dim::Activity)).or_default().push(key);
            }
            for (total, line) in lines {
                if hidden.contains(&total) || by_activity.get(period, &total, AGG).is_none() {
                    continue;
                }
                let guarding: Vec<&GroupKey> = line
                    .iter()
                    .filter(|k| hidden.contains(k) && contributors(k).others > 0)
                    .collect();
                hidden_cells += guarding.len();
                if let [only] = guarding[..] {
                    assert!(
                        !sensitive(only),
                        "{only:?} is {total:?} minus its visible siblings: {:?}",
                        contributors(only)
                    );
                }
            }
        }
        assert!(
            hidden_cells > 100,
            "the sectors do hide activity groups: {hidden_cells}"
        );
        assert!(
            diverging > 0,
            "the activities' groupings alone never disagreed with the loans' on a total"
        );
    }
}
