//! Rollups: client and loan statistics pre-aggregated per region and per
//! association. They are kept exactly the facts' sums inside the transaction
//! that writes the facts: a bulk load rebuilds whole months from the facts
//! ([`refresh`]); an accepted report moves only its own association-month's
//! cells ([`withdraw`] before its facts are replaced, [`contribute`] after),
//! at a cost in proportion to the report, not to the month. The indicator
//! engine reads them when a request's grouping and filters allow. Which fact
//! tables have rollups, and their names, is said by `crate::facts`.
//!
//! The statements are written as text with bound values (`crate::sql::Binder`): an `INSERT … SELECT … GROUP BY`
//! with `ON CONFLICT` and an `UPDATE … FROM` a grouped derived table, which the query builder does not say.

use crate::facts::{self, Facts};
use crate::sql::Binder;
use sea_orm::{ConnectionTrait, DbErr};

/// The three rollups of a fact table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    /// Summed over associations, per region and cell, with the count of contributing associations.
    Region,
    /// Summed over regions, per association and cell.
    Association,
    /// Summed over regions and cells, per association and month.
    AssociationTotal,
}

/// The table of a fact table's rollup at `level` (`None`: the fact table has no rollups).
pub fn table(facts: &Facts, level: Level) -> Option<&'static str> {
    let rollups = facts.rollups.as_ref()?;
    Some(match level {
        Level::Region => rollups.by_region,
        Level::Association => rollups.by_association,
        Level::AssociationTotal => rollups.association_total,
    })
}

/// The level of a rollup table (`None`: not a rollup).
pub fn level_of(table: &str) -> Option<Level> {
    rolled_up().find_map(|facts| {
        [Level::Region, Level::Association, Level::AssociationTotal]
            .into_iter()
            .find(|level| self::table(facts, *level) == Some(table))
    })
}

/// Every rollup table. They have no entities; emptying the database empties
/// them before the facts and associations they refer to.
pub fn tables() -> impl Iterator<Item = &'static str> {
    rolled_up().flat_map(|facts| {
        [Level::Region, Level::Association, Level::AssociationTotal]
            .into_iter()
            .filter_map(move |level| table(facts, level))
    })
}

/// The fact tables the rollups sum.
fn rolled_up() -> impl Iterator<Item = &'static Facts> {
    facts::ALL.into_iter().filter(|f| f.rollups.is_some())
}

/// How a rollup sums its fact table: its key columns (a row per distinct key) and its value columns with the SQL
/// that sums each over the fact rows of a key. The one definition of every rollup's content.
struct Shape {
    table: &'static str,
    facts: &'static str,
    keys: Vec<&'static str>,
    columns: Vec<(&'static str, String)>,
}

fn shape_of(facts: &'static Facts, level: Level) -> Shape {
    let rollups = facts.rollups.as_ref().expect("a fact table with rollups");
    let mut columns: Vec<(&'static str, String)> = facts
        .measures
        .iter()
        .map(|m| (m.column, format!("CAST(SUM({}) AS BIGINT)", m.column)))
        .collect();
    let cell = facts.dimensions.iter().map(|d| d.column).filter(|c| *c != "region_id");
    let keys: Vec<&'static str> = match level {
        Level::AssociationTotal => {
            // Null where no fact row is of the code (women, rural clients), as a sum over no rows is.
            for share in rollups.shares {
                columns.push((
                    share.column,
                    format!(
                        "CAST(SUM(CASE WHEN {} THEN {} END) AS BIGINT)",
                        share.when, share.measure
                    ),
                ));
            }
            vec!["association_id", "period"]
        }
        Level::Region => {
            // A fact row is one association's cell (the facts are unique on association, region, month, segment,
            // gender and area), so the rows summed into a regional cell are its contributing associations: a count
            // that can be moved by a difference, and that is zero exactly when no fact row remains in the cell.
            columns.push(("contributors", "CAST(COUNT(*) AS BIGINT)".into()));
            ["region_id", "period"].into_iter().chain(cell).collect()
        }
        Level::Association => ["association_id", "period"].into_iter().chain(cell).collect(),
    };
    Shape {
        table: table(facts, level).expect("a rollup"),
        facts: facts.table,
        keys,
        columns,
    }
}

impl Shape {
    fn key_list(&self) -> String {
        self.keys.join(", ")
    }

    fn column_list(&self) -> String {
        self.columns.iter().map(|(c, _)| *c).collect::<Vec<_>>().join(", ")
    }

    /// `SELECT keys, sums FROM facts WHERE condition GROUP BY keys`, the sums named after their columns.
    fn select(&self, condition: &str) -> String {
        let keys = self.key_list();
        let sums = self
            .columns
            .iter()
            .map(|(c, sum)| format!("{sum} AS {c}"))
            .collect::<Vec<_>>()
            .join(", ");
        format!(
            "SELECT {keys}, {sums} FROM {} WHERE {condition} GROUP BY {keys}",
            self.facts
        )
    }
}

/// Runs a statement written with `binder`'s values.
async fn run<C: ConnectionTrait>(db: &C, binder: Binder, sql: String) -> Result<(), DbErr> {
    db.execute_raw(binder.statement(sql)).await.map(|_| ())
}

/// Rebuilds the rollups for the given months (every month when `None`) from
/// the facts. Call it inside the transaction that wrote the facts. Rows are
/// written month by month, so that a month's rows sit together on disk and a
/// month is read from few pages. Its cost grows with the months' national
/// volume: it is for bulk loads (the demo, the benchmark datasets); an accepted
/// report uses [`withdraw`] and [`contribute`].
pub async fn refresh<C: ConnectionTrait>(db: &C, months: Option<&[i32]>) -> Result<(), DbErr> {
    if months == Some(&[]) {
        return Ok(());
    }
    let backend = db.get_database_backend();
    let only = |b: &mut Binder| match months {
        Some(months) => b.months("period", months.iter().copied()),
        None => "1 = 1".to_owned(),
    };
    for facts in rolled_up() {
        for level in [Level::Region, Level::Association, Level::AssociationTotal] {
            let shape = shape_of(facts, level);
            let order = if level == Level::Region {
                "period, region_id"
            } else {
                "period, association_id"
            };
            let mut b = Binder::new(backend);
            let sql = format!("DELETE FROM {} WHERE {}", shape.table, only(&mut b));
            run(db, b, sql).await?;
            let mut b = Binder::new(backend);
            let sql = format!(
                "INSERT INTO {} ({}, {}) {} ORDER BY {order}",
                shape.table,
                shape.key_list(),
                shape.column_list(),
                shape.select(&only(&mut b))
            );
            run(db, b, sql).await?;
        }
    }
    Ok(())
}

/// The rows of one association-month.
fn association_month(b: &mut Binder, association_id: i32, month: i32) -> String {
    format!(
        "association_id = {} AND period = {}",
        b.bind(association_id),
        b.bind(month)
    )
}

/// Takes an association-month's cells out of the regional rollups: each regional cell it contributes to loses the
/// association-month's sums and one contributor. Call it inside the transaction that replaces the association-month's
/// client and loan rows, before they are replaced, and [`contribute`] after. It reads only the association-month's
/// fact rows and writes only the regional cells they fall in. (The association rollups and totals are rewritten
/// whole by [`contribute`].)
pub async fn withdraw<C: ConnectionTrait>(db: &C, association_id: i32, month: i32) -> Result<(), DbErr> {
    for facts in rolled_up() {
        let shape = shape_of(facts, Level::Region);
        let set = shape
            .columns
            .iter()
            .map(|(c, _)| format!("{c} = r.{c} - d.{c}"))
            .collect::<Vec<_>>()
            .join(", ");
        let on = shape
            .keys
            .iter()
            .map(|k| format!("r.{k} = d.{k}"))
            .collect::<Vec<_>>()
            .join(" AND ");
        let mut b = Binder::new(db.get_database_backend());
        let sql = format!(
            "UPDATE {} AS r SET {set} FROM ({}) AS d WHERE {on}",
            shape.table,
            shape.select(&association_month(&mut b, association_id, month))
        );
        run(db, b, sql).await?;
    }
    Ok(())
}

/// Adds an association-month's cells to the rollups, from its fact rows as they now stand: each regional cell it
/// falls in gains its sums and one contributor (created when the association-month is its first contributor), the
/// regional cells of the month left without a contributor are removed, and the association-month's rows of the
/// association rollups and totals are written anew. With [`withdraw`] before the facts were replaced, the rollups
/// are again exactly the facts' sums, row for row, at a cost in proportion to the association-month's rows.
pub async fn contribute<C: ConnectionTrait>(db: &C, association_id: i32, month: i32) -> Result<(), DbErr> {
    let backend = db.get_database_backend();
    for facts in rolled_up() {
        let shape = shape_of(facts, Level::Region);
        let rollup = shape.table;
        let add = shape
            .columns
            .iter()
            .map(|(c, _)| format!("{c} = {rollup}.{c} + excluded.{c}"))
            .collect::<Vec<_>>()
            .join(", ");
        // Cells in key order, so that concurrent writers would meet the rows in one order.
        let mut b = Binder::new(backend);
        let sql = format!(
            "INSERT INTO {rollup} ({keys}, {columns}) {select} ORDER BY {keys} ON CONFLICT ({keys}) DO UPDATE SET {add}",
            keys = shape.key_list(),
            columns = shape.column_list(),
            select = shape.select(&association_month(&mut b, association_id, month)),
        );
        run(db, b, sql).await?;
        let mut b = Binder::new(backend);
        let sql = format!(
            "DELETE FROM {rollup} WHERE period = {} AND contributors = 0",
            b.bind(month)
        );
        run(db, b, sql).await?;
        for level in [Level::Association, Level::AssociationTotal] {
            let shape = shape_of(facts, level);
            let mut b = Binder::new(backend);
            let sql = format!(
                "DELETE FROM {} WHERE {}",
                shape.table,
                association_month(&mut b, association_id, month)
            );
            run(db, b, sql).await?;
            let mut b = Binder::new(backend);
            let sql = format!(
                "INSERT INTO {} ({}, {}) {}",
                shape.table,
                shape.key_list(),
                shape.column_list(),
                shape.select(&association_month(&mut b, association_id, month))
            );
            run(db, b, sql).await?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_rollup_is_named_once_and_known_by_its_name() {
        let tables: Vec<&str> = tables().collect();
        assert_eq!(tables.len(), 6);
        for facts in rolled_up() {
            for level in [Level::Region, Level::Association, Level::AssociationTotal] {
                assert_eq!(level_of(table(facts, level).unwrap()), Some(level));
            }
        }
        assert_eq!(table(&facts::STAFF, Level::Region), None);
        assert_eq!(level_of("client_stat"), None);
    }
}
