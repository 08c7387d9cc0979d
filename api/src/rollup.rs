//! Rollups: client and loan statistics pre-aggregated per region and per
//! association. They are kept exactly the facts' sums inside the transaction
//! that writes the facts: a bulk load rebuilds whole months from the facts
//! ([`refresh`]); an accepted report moves only its own association-month's
//! cells ([`withdraw`] before its facts are replaced, [`contribute`] after),
//! at a cost in proportion to the report, not to the month. The indicator
//! engine reads them when a request's grouping and filters allow.

use sea_orm::{ConnectionTrait, DbErr};

/// The summed columns of `client_stat`.
pub const CLIENT_MEASURES: &[&str] = &["active_clients", "new_clients"];
/// The summed columns of `loan_stat`.
pub const LOAN_MEASURES: &[&str] = &[
    "disbursed_count",
    "disbursed_amount",
    "active_loans",
    "outstanding_amount",
    "par30_amount",
    "par90_amount",
    "write_off_amount",
    "rescheduled_amount",
    "repayments_due",
    "repayments_collected",
];

/// Every rollup table. They have no entities; emptying the database empties
/// them before the facts and associations they refer to.
pub const TABLES: &[&str] = &[
    "client_stat_by_region",
    "client_stat_by_association",
    "client_stat_association_total",
    "loan_stat_by_region",
    "loan_stat_by_association",
    "loan_stat_association_total",
];

/// The fact tables the rollups sum.
const FACTS: &[&str] = &["client_stat", "loan_stat"];

/// The regional rollup of a fact table (summed over associations).
pub fn by_region(facts: &str) -> &'static str {
    if facts == "client_stat" {
        "client_stat_by_region"
    } else {
        "loan_stat_by_region"
    }
}

/// The association rollup of a fact table (summed over regions).
pub fn by_association(facts: &str) -> &'static str {
    if facts == "client_stat" {
        "client_stat_by_association"
    } else {
        "loan_stat_by_association"
    }
}

/// The association totals per month of a fact table (summed over regions, segments, genders and areas).
pub fn association_total(facts: &str) -> &'static str {
    if facts == "client_stat" {
        "client_stat_association_total"
    } else {
        "loan_stat_association_total"
    }
}

/// True for the association totals, which keep no segment, gender or area.
pub fn is_total(table: &str) -> bool {
    table.ends_with("_association_total")
}

/// True for the rollups summed over associations (they carry a `contributors` count instead of an association).
pub fn is_regional(table: &str) -> bool {
    table.ends_with("_by_region")
}

/// The rollups of a fact table.
fn rollups_of(facts: &str) -> [&'static str; 3] {
    [by_region(facts), by_association(facts), association_total(facts)]
}

/// How a rollup sums its fact table: its key columns (a row per distinct key) and its value columns with the SQL
/// that sums each over the fact rows of a key. The one definition of every rollup's content.
struct Shape {
    keys: &'static [&'static str],
    columns: Vec<(&'static str, String)>,
}

fn shape_of(rollup: &str) -> Shape {
    let facts = if rollup.starts_with("client_stat") {
        "client_stat"
    } else {
        "loan_stat"
    };
    let measures = if facts == "client_stat" {
        CLIENT_MEASURES
    } else {
        LOAN_MEASURES
    };
    let mut columns: Vec<(&'static str, String)> = measures
        .iter()
        .map(|m| (*m, format!("CAST(SUM({m}) AS BIGINT)")))
        .collect();
    let keys: &'static [&'static str] = if is_total(rollup) {
        if facts == "client_stat" {
            // Null where no fact row is of women (rural) clients, as a sum over no rows is.
            columns.push((
                "active_female",
                "CAST(SUM(CASE WHEN gender = 'FEMALE' THEN active_clients END) AS BIGINT)".into(),
            ));
            columns.push((
                "active_rural",
                "CAST(SUM(CASE WHEN area = 'RURAL' THEN active_clients END) AS BIGINT)".into(),
            ));
        }
        &["association_id", "period"]
    } else if is_regional(rollup) {
        // A fact row is one association's cell (the facts are unique on association, region, month, segment,
        // gender and area), so the rows summed into a regional cell are its contributing associations: a count
        // that can be moved by a difference, and that is zero exactly when no fact row remains in the cell.
        columns.push(("contributors", "CAST(COUNT(*) AS BIGINT)".into()));
        &["region_id", "period", "segment", "gender", "area"]
    } else {
        &["association_id", "period", "segment", "gender", "area"]
    };
    Shape { keys, columns }
}

impl Shape {
    fn key_list(&self) -> String {
        self.keys.join(", ")
    }

    fn column_list(&self) -> String {
        self.columns.iter().map(|(c, _)| *c).collect::<Vec<_>>().join(", ")
    }

    /// `SELECT keys, sums FROM facts WHERE condition GROUP BY keys`, the sums named after their columns.
    fn select(&self, facts: &str, condition: &str) -> String {
        let keys = self.key_list();
        let sums = self
            .columns
            .iter()
            .map(|(c, sum)| format!("{sum} AS {c}"))
            .collect::<Vec<_>>()
            .join(", ");
        format!("SELECT {keys}, {sums} FROM {facts} WHERE {condition} GROUP BY {keys}")
    }
}

/// Rebuilds the rollups for the given months (every month when `None`) from
/// the facts. Call it inside the transaction that wrote the facts. Rows are
/// written month by month, so that a month's rows sit together on disk and a
/// month is read from few pages. Its cost grows with the months' national
/// volume: it is for bulk loads (the demo, the benchmark datasets); an accepted
/// report uses [`withdraw`] and [`contribute`].
pub async fn refresh<C: ConnectionTrait>(db: &C, months: Option<&[i32]>) -> Result<(), DbErr> {
    let only = match months {
        Some([]) => return Ok(()),
        Some(months) => crate::period::months_sql("period", months.iter().copied()),
        None => "1 = 1".to_owned(),
    };
    for facts in FACTS {
        for rollup in rollups_of(facts) {
            let shape = shape_of(rollup);
            let order = if is_regional(rollup) {
                "period, region_id"
            } else {
                "period, association_id"
            };
            db.execute_unprepared(&format!("DELETE FROM {rollup} WHERE {only}"))
                .await?;
            db.execute_unprepared(&format!(
                "INSERT INTO {rollup} ({}, {}) {} ORDER BY {order}",
                shape.key_list(),
                shape.column_list(),
                shape.select(facts, &only)
            ))
            .await?;
        }
    }
    Ok(())
}

/// The facts of one association-month.
fn association_month(association_id: i32, month: i32) -> String {
    format!("association_id = {association_id} AND period = {month}")
}

/// Takes an association-month's cells out of the regional rollups: each regional cell it contributes to loses the
/// association-month's sums and one contributor. Call it inside the transaction that replaces the association-month's
/// client and loan rows, before they are replaced, and [`contribute`] after. It reads only the association-month's
/// fact rows and writes only the regional cells they fall in. (The association rollups and totals are rewritten
/// whole by [`contribute`].)
pub async fn withdraw<C: ConnectionTrait>(db: &C, association_id: i32, month: i32) -> Result<(), DbErr> {
    for facts in FACTS {
        let rollup = by_region(facts);
        let shape = shape_of(rollup);
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
        db.execute_unprepared(&format!(
            "UPDATE {rollup} AS r SET {set} FROM ({}) AS d WHERE {on}",
            shape.select(facts, &association_month(association_id, month))
        ))
        .await?;
    }
    Ok(())
}

/// Adds an association-month's cells to the rollups, from its fact rows as they now stand: each regional cell it
/// falls in gains its sums and one contributor (created when the association-month is its first contributor), the
/// regional cells of the month left without a contributor are removed, and the association-month's rows of the
/// association rollups and totals are written anew. With [`withdraw`] before the facts were replaced, the rollups
/// are again exactly the facts' sums, row for row, at a cost in proportion to the association-month's rows.
pub async fn contribute<C: ConnectionTrait>(db: &C, association_id: i32, month: i32) -> Result<(), DbErr> {
    let only = association_month(association_id, month);
    for facts in FACTS {
        let rollup = by_region(facts);
        let shape = shape_of(rollup);
        let add = shape
            .columns
            .iter()
            .map(|(c, _)| format!("{c} = {rollup}.{c} + excluded.{c}"))
            .collect::<Vec<_>>()
            .join(", ");
        // Cells in key order, so that concurrent writers would meet the rows in one order.
        db.execute_unprepared(&format!(
            "INSERT INTO {rollup} ({keys}, {columns}) {select} ORDER BY {keys} ON CONFLICT ({keys}) DO UPDATE SET {add}",
            keys = shape.key_list(),
            columns = shape.column_list(),
            select = shape.select(facts, &only),
        ))
        .await?;
        db.execute_unprepared(&format!(
            "DELETE FROM {rollup} WHERE period = {month} AND contributors = 0"
        ))
        .await?;
        for rollup in [by_association(facts), association_total(facts)] {
            let shape = shape_of(rollup);
            db.execute_unprepared(&format!("DELETE FROM {rollup} WHERE {only}"))
                .await?;
            db.execute_unprepared(&format!(
                "INSERT INTO {rollup} ({}, {}) {}",
                shape.key_list(),
                shape.column_list(),
                shape.select(facts, &only)
            ))
            .await?;
        }
    }
    Ok(())
}
