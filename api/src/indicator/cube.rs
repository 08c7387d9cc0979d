//! The cube: summed quantities per period and group, what a request asks of it (periods, groupings, filters,
//! aggregates, access), and the keys and contributor counts its cells carry. Plain data, below both the reads that
//! fill a cube (`store`) and the hiding that decides what of it a caller is shown (`hiding`).

use super::catalog::{Agg, Dim, Source};
use crate::period::{Granularity, Period};
use crate::scope::{RowAccess, SmallGroups};
use crate::sql::Binder;
use entity::enums::{Activity, Area, Gender, Segment};
use std::collections::{BTreeSet, HashMap};

/// Conditions on the cube's dimensions, with codes already turned into ids.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct CubeFilter {
    pub associations: Option<Vec<i32>>,
    pub regions: Option<Vec<i32>>,
    pub segments: Option<Vec<Segment>>,
    pub genders: Option<Vec<Gender>>,
    pub areas: Option<Vec<Area>>,
    pub activities: Option<Vec<Activity>>,
}

impl CubeFilter {
    /// The dimensions this filter restricts.
    pub fn dims(&self) -> Vec<Dim> {
        let mut dims = Vec::new();
        if self.associations.is_some() {
            dims.push(Dim::Association);
        }
        if self.regions.is_some() {
            dims.push(Dim::Region);
        }
        if self.segments.is_some() {
            dims.push(Dim::Segment);
        }
        if self.genders.is_some() {
            dims.push(Dim::Gender);
        }
        if self.areas.is_some() {
            dims.push(Dim::Area);
        }
        if self.activities.is_some() {
            dims.push(Dim::Activity);
        }
        dims
    }

    /// The conditions on the source's dimensions `dims`, values bound.
    pub(super) fn sql(&self, dims: &[Dim], b: &mut Binder) -> Vec<String> {
        let mut conditions = Vec::new();
        if let Some(v) = self.associations.as_ref().filter(|_| dims.contains(&Dim::Association)) {
            conditions.push(b.one_of("association_id", v));
        }
        if let Some(v) = self.regions.as_ref().filter(|_| dims.contains(&Dim::Region)) {
            conditions.push(b.one_of("region_id", v));
        }
        if let Some(v) = self.segments.as_ref().filter(|_| dims.contains(&Dim::Segment)) {
            conditions.push(b.one_of("segment", &v.iter().map(|s| s.as_str()).collect::<Vec<_>>()));
        }
        if let Some(v) = self.genders.as_ref().filter(|_| dims.contains(&Dim::Gender)) {
            conditions.push(b.one_of("gender", &v.iter().map(|g| g.as_str()).collect::<Vec<_>>()));
        }
        if let Some(v) = self.areas.as_ref().filter(|_| dims.contains(&Dim::Area)) {
            conditions.push(b.one_of("area", &v.iter().map(|a| a.as_str()).collect::<Vec<_>>()));
        }
        if let Some(v) = self.activities.as_ref().filter(|_| dims.contains(&Dim::Activity)) {
            conditions.push(b.one_of("activity", &v.iter().map(|a| a.as_str()).collect::<Vec<_>>()));
        }
        conditions
    }
}

/// What to compute.
#[derive(Debug, Clone)]
pub struct CubeRequest {
    pub granularity: Granularity,
    /// Every period to compute (those asked for and those compared with).
    pub periods: BTreeSet<Period>,
    pub group_by: Vec<Dim>,
    pub filter: CubeFilter,
    pub aggs: BTreeSet<Agg>,
    /// Read client and loan figures from the rollups when the request allows it.
    pub use_rollups: bool,
    /// Which monthly rows may be summed (released months, one association, everything).
    pub access: RowAccess,
    /// Count, per aggregate, the associations contributing a non-zero amount, so that small groups can be
    /// suppressed (`None`: the caller may see every group).
    pub small_groups: Option<SmallGroups>,
    /// The dimensions any `indicators` field of the caller's document groups by (`None`: unknown, every one).
    pub document_dims: Option<BTreeSet<Dim>>,
    /// Fact tables read in place of the stored ones (the data as it stood at an earlier instant, or its changes
    /// after release); `None`: the stored tables and their rollups.
    pub derived: Option<std::sync::Arc<Derived>>,
}

/// Fact tables read in place of the stored ones, and the months released then.
#[derive(Debug, Clone, Default)]
pub struct Derived {
    /// Fact table → the table to read in its place, with the same columns.
    pub tables: HashMap<&'static str, sea_orm::sea_query::SelectStatement>,
    /// The months released at the instant the data is read as of (for callers who see released months); `None`: the
    /// months released now.
    pub released: Option<Vec<i32>>,
}

impl CubeRequest {
    /// The dimensions a source is summed by: those asked for; for a caller who must not see small groups, every
    /// dimension of the source but the association that a field of the document groups by (suppression is decided
    /// on all their groupings at once, the same for every field of one response).
    ///
    /// Targets by activity are rows of their own (few associations set them): the activity is in a targets lattice
    /// only when the request itself groups or filters by it, and then with the request's own dimensions alone.
    pub fn lattice_dims(&self, source: Source) -> Vec<Dim> {
        let own_activity = self.group_by.contains(&Dim::Activity) || self.filter.activities.is_some();
        if source == Source::Targets && self.small_groups.is_some() && own_activity {
            let mut dims: Vec<Dim> = self
                .group_by
                .iter()
                .copied()
                .filter(|d| *d != Dim::Association)
                .collect();
            dims.sort();
            return dims;
        }
        let mut dims = match self.small_groups {
            Some(_) => source
                .dims()
                .iter()
                .copied()
                .filter(|d| *d != Dim::Association)
                .filter(|d| {
                    // Women and rural clients are the active clients of a gender or area part: those dimensions are
                    // in the lattice whenever such a share is asked for.
                    let part = match d {
                        Dim::Gender => self.aggs.contains(&Agg::ActiveFemale),
                        Dim::Area => self.aggs.contains(&Agg::ActiveRural),
                        _ => false,
                    };
                    part || self.group_by.contains(d) || self.document_dims.as_ref().is_none_or(|dims| dims.contains(d))
                })
                .filter(|d| source != Source::Targets || *d != Dim::Activity)
                .collect(),
            None => self.group_by.clone(),
        };
        dims.sort();
        dims
    }
}

/// Associations contributing a non-zero amount to one aggregate (a summed quantity over a period and a group):
/// a stock at the period's last month, a flow over the period. Values are non-negative, so an association
/// contributes a non-zero amount exactly when one of its rows does.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Contributors {
    /// Every contributing association.
    pub all: i64,
    /// The contributing associations other than the one whose own figures the caller knows (`all` otherwise).
    pub others: i64,
}

/// The values of one group: the dimensions it is grouped by, others `None`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct GroupKey {
    pub association: Option<i32>,
    pub region: Option<i32>,
    pub segment: Option<Segment>,
    pub gender: Option<Gender>,
    pub area: Option<Area>,
    pub activity: Option<Activity>,
}

impl GroupKey {
    /// The dimensions this group has a value for (its grouping), in `Dim` order.
    pub fn dims(&self) -> Vec<Dim> {
        let mut dims = Vec::new();
        if self.association.is_some() {
            dims.push(Dim::Association);
        }
        if self.region.is_some() {
            dims.push(Dim::Region);
        }
        if self.segment.is_some() {
            dims.push(Dim::Segment);
        }
        if self.gender.is_some() {
            dims.push(Dim::Gender);
        }
        if self.area.is_some() {
            dims.push(Dim::Area);
        }
        if self.activity.is_some() {
            dims.push(Dim::Activity);
        }
        dims
    }
}

/// A hasher for the engine's own keys (periods, groups and aggregates: small integers read from the database, never
/// a client's text): FNV-1a, several times cheaper than the default hasher on such keys.
pub struct Fnv(u64);

impl Default for Fnv {
    fn default() -> Self {
        Fnv(0xcbf2_9ce4_8422_2325)
    }
}

impl std::hash::Hasher for Fnv {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for byte in bytes {
            self.0 ^= u64::from(*byte);
            self.0 = self.0.wrapping_mul(0x0100_0000_01b3);
        }
    }
}

/// A map and a set keyed by the engine's own keys.
pub type FastMap<K, V> = HashMap<K, V, std::hash::BuildHasherDefault<Fnv>>;
pub type FastSet<K> = std::collections::HashSet<K, std::hash::BuildHasherDefault<Fnv>>;

/// Summed quantities per period and group.
#[derive(Debug, Default, PartialEq)]
pub struct Cube {
    /// The dimensions of the groups asked for (coarser groupings may be present too, for suppression).
    pub group_by: Vec<Dim>,
    pub cells: FastMap<(Period, GroupKey), HashMap<Agg, i64>>,
    /// Associations contributing a non-zero amount to each aggregate, when counted (never for the branch
    /// registry, which is public). An aggregate without an entry has none.
    pub contributors: FastMap<(Period, GroupKey, Agg), Contributors>,
    /// The finest statement (its `sql::key`) whose derived lattice holds a source's figures whole (see
    /// `hiding::Decisions::decided`).
    pub origins: HashMap<Source, String>,
    /// That derived lattice, every grouping of the source, shared by every field of the request that reads it: the
    /// cube itself holds only its own grouping's cells of such a source, and hiding decides on the shared lattice.
    pub lattices: HashMap<Source, std::sync::Arc<Cube>>,
}

impl Cube {
    /// Adds the sums and contributors of another cube's groups of `dims` (in `Dim` order): a field's own grouping
    /// taken from a derived lattice, without copying the lattice's other groupings.
    pub fn absorb_grouping(&mut self, other: &Cube, dims: &[Dim]) {
        for (key, values) in other.cells.iter().filter(|((_, key), _)| key.dims() == dims) {
            self.cells.entry(*key).or_default().extend(values);
        }
        self.contributors.extend(
            other
                .contributors
                .iter()
                .filter(|((_, key, _), _)| key.dims() == dims)
                .map(|(k, v)| (*k, *v)),
        );
    }

    /// Contributors of an aggregate (none when it was not counted or has no rows).
    pub fn contributors(&self, period: Period, key: &GroupKey, agg: Agg) -> Contributors {
        self.contributors.get(&(period, *key, agg)).copied().unwrap_or_default()
    }

    pub fn get(&self, period: Period, key: &GroupKey, agg: Agg) -> Option<i64> {
        self.cells
            .get(&(period, *key))
            .and_then(|values| values.get(&agg))
            .copied()
    }

    pub fn put(&mut self, period: Period, key: GroupKey, agg: Agg, value: Option<i64>) {
        if let Some(value) = value {
            self.cells.entry((period, key)).or_default().insert(agg, value);
        }
    }

    /// Groups asked for with at least one value in the period, in a stable order.
    pub fn groups(&self, period: Period) -> Vec<GroupKey> {
        self.groups_at(period, &self.group_by)
    }

    /// Groups of a grouping (`dims` in `Dim` order) with at least one value in the period, in a stable order.
    pub fn groups_at(&self, period: Period, dims: &[Dim]) -> Vec<GroupKey> {
        let mut keys: Vec<GroupKey> = self
            .cells
            .iter()
            .filter(|((p, key), values)| {
                *p == period
                    && key.dims() == dims
                    && values.iter().any(|(agg, v)| agg.source() != Source::Branches || *v > 0)
            })
            .map(|((_, key), _)| *key)
            .collect();
        keys.sort();
        keys
    }
}

/// Every subset of the dimensions, the whole set first.
pub fn levels(dims: &[Dim]) -> Vec<Vec<Dim>> {
    let mut levels: Vec<Vec<Dim>> = (0..1usize << dims.len())
        .map(|mask| {
            dims.iter()
                .enumerate()
                .filter(|(i, _)| mask & (1 << i) != 0)
                .map(|(_, d)| *d)
                .collect()
        })
        .collect();
    levels.sort_by_key(|level: &Vec<Dim>| std::cmp::Reverse(level.len()));
    levels
}
