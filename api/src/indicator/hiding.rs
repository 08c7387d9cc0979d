//! Small-group hiding, for callers who must not see small groups: which aggregates (a summed quantity over a period
//! and a group) an answer hides, decided on every grouping by a subset of the document's dimensions at once, and
//! the in-memory derivation of those groupings and their contributors from the sums per association at the finest
//! grouping (read by `store`).

use super::catalog::{Agg, Dim, Source};
use super::store::{self, Contributors, Cube, CubeRequest, FastMap, FastSet, GroupKey};
use crate::period::{Granularity, Month, Period};
use crate::scope::MIN_ASSOCIATIONS;
use entity::enums as db_enums;
use std::collections::{BTreeMap, BTreeSet};

/// Aggregates hidden to protect small groups.
#[derive(Debug, Default)]
pub struct Hidden(FastSet<(Period, GroupKey, Agg)>);

impl Hidden {
    pub fn contains(&self, period: Period, key: &GroupKey, agg: Agg) -> bool {
        self.0.contains(&(period, *key, agg))
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
pub fn hide(cube: &Cube, request: &CubeRequest) -> Hidden {
    let lattice = Lattice::new(cube);
    let group_by = &cube.group_by;
    let mut hidden = FastSet::default();
    for &period in &request.periods {
        let mut clients: Option<BTreeSet<GroupKey>> = None;
        for &agg in request.aggs.iter().filter(|a| a.source() != Source::Branches) {
            let at_level = lattice
                .index
                .get(&(period, group_by.clone()))
                .map_or(&[][..], |keys| &keys[..]);
            match agg {
                Agg::ActiveFemale | Agg::ActiveRural => {
                    let clients = clients.get_or_insert_with(|| {
                        lattice.hidden(period, Agg::ActiveClients, &request.lattice_dims(Source::Clients))
                    });
                    hidden.extend(
                        at_level
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
                    lattice
                        .hidden(period, agg, &request.lattice_dims(agg.source()))
                        .into_iter()
                        .filter(|key| key.dims() == *group_by)
                        .map(|key| (period, key, agg)),
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
    pub fn hidden(&self, period: Period, agg: Agg, dims: &[Dim]) -> BTreeSet<GroupKey> {
        let cube = self.cube;
        let contributors = |key: &GroupKey| cube.contributors(period, key, agg);
        // Only a part from someone else protects a hidden sibling (a zero, or the caller's own figure, does not).
        let protects = |key: &GroupKey| contributors(key).others > 0;
        let mut hidden: BTreeSet<GroupKey> = BTreeSet::new();
        let mut lines: Vec<(GroupKey, Vec<GroupKey>)> = Vec::new();
        for level in store::levels(dims) {
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
                    .filter(|key| contributors(key).all < MIN_ASSOCIATIONS)
                    .copied(),
            );
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
                if let Some(next) = next
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
    for level in store::levels(lattice) {
        let project = |key: &GroupKey| GroupKey {
            association: None,
            region: key.region.filter(|_| level.contains(&Dim::Region)),
            segment: key.segment.filter(|_| level.contains(&Dim::Segment)),
            gender: key.gender.filter(|_| level.contains(&Dim::Gender)),
            area: key.area.filter(|_| level.contains(&Dim::Area)),
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
