//! The caller's access scope, handed to every store function.
//!
//! Access is decided where the data is read: every store function receives
//! the `Scope` and applies the same rules to lists, look-ups, nested
//! relations, counts and indicators.
//!
//! | role | sees |
//! |---|---|
//! | public (no key) | released months, sector and regional aggregates (groups of fewer than 3 associations suppressed), the registries |
//! | partner | released months, including per-association breakdowns and rows |
//! | association | its own rows, released or not; the sector as the public sees it |
//! | observatory | everything |

use crate::error::ApiError;
use sea_orm::sea_query::{Alias, Condition, Expr, ExprTrait, Query};

/// Who is asking.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    /// No key: the general public.
    Public,
    /// A ministry, fund, federation or other partner.
    Partner,
    /// A reporting association.
    Association,
    /// The observatory itself.
    Observatory,
}

impl Role {
    pub fn name(self) -> &'static str {
        match self {
            Role::Public => "public",
            Role::Partner => "partner",
            Role::Association => "association",
            Role::Observatory => "observatory",
        }
    }
}

/// Smallest number of associations behind a figure shown to the public.
pub const MIN_ASSOCIATIONS: i64 = 3;

/// What the caller may read.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Scope {
    pub role: Role,
    /// The calling partner, when a key was given.
    pub partner_id: Option<i32>,
    /// The caller's association, for the association role.
    pub association_id: Option<i32>,
    /// Prefix of the key used, for the audit trail.
    pub key_prefix: Option<String>,
    /// The key carries the `admin` scope (partner and key management, releases).
    pub admin: bool,
    /// The key carries the `write` scope (sending reports).
    pub write: bool,
}

/// Which monthly rows a scope may read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RowAccess {
    /// Every row.
    All,
    /// Rows of released months.
    Released,
    /// Rows of this association (released or not).
    OwnOnly(i32),
    /// No row: per-association rows are not shown to this caller.
    None,
}

/// A caller who must not see small groups: every aggregate with fewer than `MIN_ASSOCIATIONS` associations
/// contributing a non-zero amount is hidden, with its complements.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SmallGroups {
    /// The caller's own association, whose figures it knows: a hidden aggregate must not be recoverable from
    /// what the caller sees once its own part is taken away.
    pub known_association: Option<i32>,
}

impl Scope {
    /// The scope of a caller without a key.
    pub fn public() -> Self {
        Scope {
            role: Role::Public,
            partner_id: None,
            association_id: None,
            key_prefix: None,
            admin: false,
            write: false,
        }
    }

    /// The scope of the command line and of internal jobs: everything.
    pub fn observatory() -> Self {
        Scope {
            role: Role::Observatory,
            partner_id: None,
            association_id: None,
            key_prefix: None,
            admin: true,
            write: true,
        }
    }

    /// The scope of a partner's own deliveries (webhooks): its role, without a key.
    pub fn of_partner(partner: &entity::partner::Model) -> Self {
        use entity::enums::PartnerKind;
        Scope {
            role: match partner.kind {
                PartnerKind::Observatory => Role::Observatory,
                PartnerKind::Association => Role::Association,
                _ => Role::Partner,
            },
            partner_id: Some(partner.id),
            association_id: partner.association_id,
            key_prefix: None,
            admin: false,
            write: false,
        }
    }

    /// Which per-association monthly rows (statistics, staff, targets) this caller may list.
    pub fn row_access(&self) -> RowAccess {
        match (self.role, self.association_id) {
            (Role::Observatory, _) => RowAccess::All,
            (Role::Partner, _) => RowAccess::Released,
            (Role::Association, Some(own)) => RowAccess::OwnOnly(own),
            _ => RowAccess::None,
        }
    }

    /// The monthly rows this caller's indicators may sum, and whether small groups must be hidden from it.
    ///
    /// The public sees released months, sector-wide or by region, segment, gender and area, with small groups
    /// suppressed; an association sees the same (knowing its own figures), and its own figures, released or not,
    /// when it filters on itself alone; partners see released months with every breakdown; the observatory sees
    /// everything. `per_association`: the request groups by association; `associations`: its association filter.
    pub fn indicator_access(
        &self,
        per_association: bool,
        associations: Option<&[i32]>,
    ) -> Result<(RowAccess, Option<SmallGroups>), ApiError> {
        match (self.role, self.association_id) {
            (Role::Observatory, _) => Ok((RowAccess::All, None)),
            (Role::Partner, _) => Ok((RowAccess::Released, None)),
            (Role::Association, Some(own)) if associations == Some(&[own][..]) => Ok((RowAccess::OwnOnly(own), None)),
            _ if per_association || associations.is_some() => Err(ApiError::Forbidden(
                "indicators per association are restricted to partner keys (an association may filter on itself alone)"
                    .into(),
            )),
            _ => Ok((
                RowAccess::Released,
                Some(SmallGroups {
                    known_association: self.association_id,
                }),
            )),
        }
    }

    /// Refuses per-association rows of `association` (a nested list under it, or a filter naming it).
    pub fn check_rows_of(&self, association: i32, what: &str) -> Result<(), ApiError> {
        match self.row_access() {
            RowAccess::All | RowAccess::Released => Ok(()),
            RowAccess::OwnOnly(own) if own == association => Ok(()),
            RowAccess::OwnOnly(_) => Err(ApiError::Forbidden(format!(
                "{what} of another association are restricted to partners and the observatory"
            ))),
            RowAccess::None => Err(ApiError::Forbidden(format!(
                "{what} per association are restricted to partner keys; the public sees sector and regional aggregates \
                 through `indicators`"
            ))),
        }
    }

    /// Refuses a list of per-association rows to a caller who may see none.
    pub fn check_rows(&self, what: &str, associations: &Option<Vec<i32>>) -> Result<(), ApiError> {
        match self.row_access() {
            RowAccess::None => Err(ApiError::Forbidden(format!(
                "{what} per association are restricted to partner keys; the public sees sector and regional aggregates \
                 through `indicators`"
            ))),
            RowAccess::OwnOnly(_) => {
                for id in associations.iter().flatten() {
                    self.check_rows_of(*id, what)?;
                }
                Ok(())
            }
            _ => Ok(()),
        }
    }

    /// Refuses a monthly report for `association` unless this caller may send it: an association key with the
    /// `write` scope for its own association, or an observatory key with the `write` scope (on behalf of
    /// any association). A key without `write` sends nothing.
    /// Returns whether the report is sent on behalf of the association.
    pub fn may_report_for(&self, association: i32) -> Result<bool, ApiError> {
        match (self.role, self.association_id) {
            (Role::Observatory, _) if self.write => Ok(self.association_id != Some(association)),
            (Role::Observatory, _) => Err(ApiError::Forbidden(
                "sending a report needs a key with the `write` scope: this observatory key has none (issue one with \
                 `observatory key issue --scope write`)"
                    .into(),
            )),
            (Role::Association, Some(own)) if own == association && self.write => Ok(false),
            (Role::Association, Some(own)) if own == association => Err(ApiError::Forbidden(
                "sending a report needs a key with the `write` scope: ask the observatory for one".into(),
            )),
            (Role::Association, _) => Err(ApiError::Forbidden(
                "an association may send reports for itself only: this key belongs to another association".into(),
            )),
            (role, _) => Err(ApiError::Forbidden(format!(
                "reports are sent by the association itself or by the observatory (this caller's role is {})",
                role.name()
            ))),
        }
    }

    /// Refuses what only the observatory may do.
    pub fn require_observatory(&self, what: &str) -> Result<(), ApiError> {
        match (self.role, self.admin) {
            (Role::Observatory, true) => Ok(()),
            (Role::Observatory, false) => Err(ApiError::Forbidden(format!(
                "{what} needs an observatory key with the `admin` scope"
            ))),
            (role, _) => Err(ApiError::Forbidden(format!(
                "{what} is reserved to the observatory (this caller's role is {})",
                role.name()
            ))),
        }
    }
}

/// What decides who may see an alert.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AlertFacts {
    /// The association the alert is about (none for a group: sector, region or segment).
    pub association_id: Option<i32>,
    /// The alert is about the whole sector.
    pub sector: bool,
    /// The figures it compares are visible to the public (none of them is hidden as a small group).
    pub public: bool,
    /// Its month is released.
    pub released: bool,
}

impl Scope {
    /// Whether this caller sees an alert: the observatory every alert; partners those of released months (of groups
    /// and of associations); an association its own, released or not, and the sector's, as the public sees them;
    /// the public the alerts of released months on groups whose figures it may see (no small group's).
    pub fn sees_alert(&self, alert: &AlertFacts) -> bool {
        match (self.role, self.association_id) {
            (Role::Observatory, _) => true,
            (Role::Partner, _) => alert.released,
            (Role::Association, Some(own)) => {
                alert.association_id == Some(own) || (alert.sector && alert.public && alert.released)
            }
            _ => alert.association_id.is_none() && alert.public && alert.released,
        }
    }

    /// The same rule as [`Scope::sees_alert`], as a condition on the `alert` table (`None`: every alert).
    pub fn alerts_condition(&self) -> Option<Condition> {
        let public = || Condition::all().add(col("public").eq(true)).add(released());
        match (self.role, self.association_id) {
            (Role::Observatory, _) => None,
            (Role::Partner, _) => Some(Condition::all().add(released())),
            (Role::Association, Some(own)) => Some(
                Condition::any()
                    .add(col("association_id").eq(own))
                    .add(public().add(col("scope").eq("SECTOR"))),
            ),
            _ => Some(public().add(col("association_id").is_null())),
        }
    }
}

fn col(name: &str) -> Expr {
    Expr::col(Alias::new(name))
}

/// The row's month is released now.
fn released() -> Expr {
    col("period").in_subquery(
        Query::select()
            .column(Alias::new("period"))
            .from(Alias::new("release"))
            .take(),
    )
}

/// The condition restricting a monthly table (with `period` and `association_id` columns) to what the scope may read,
/// now, or as the data stood at an earlier instant when `released_then` gives the months released then. (The
/// indicator engine writes the same rule as text with bound values.)
pub fn rows_condition(access: RowAccess, released_then: Option<&[i32]>) -> Condition {
    match access {
        RowAccess::All => Condition::all(),
        RowAccess::Released => match released_then {
            None => Condition::all().add(released()),
            Some(months) => crate::period::months_condition("period", months.iter().copied()),
        },
        RowAccess::OwnOnly(own) => Condition::all().add(col("association_id").eq(own)),
        RowAccess::None => Condition::any(),
    }
}
