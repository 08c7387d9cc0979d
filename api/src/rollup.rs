//! Rollups: client and loan statistics pre-aggregated per region and per
//! association. They are rebuilt from the facts for the months a write
//! touched, inside the same transaction as that write, so they are always
//! exactly the facts' sums; the indicator engine reads them when a request's
//! grouping and filters allow.

use sea_orm::{ConnectionTrait, DbErr};

const CLIENT_MEASURES: &[&str] = &["active_clients", "new_clients"];
const LOAN_MEASURES: &[&str] = &[
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

/// Rebuilds the rollups for the given months (every month when `None`) from
/// the facts. Call it inside the transaction that wrote the facts. Rows are
/// written month by month, so that a month's rows sit together on disk and a
/// month is read from few pages.
pub async fn refresh<C: ConnectionTrait>(db: &C, months: Option<&[i32]>) -> Result<(), DbErr> {
    let only = match months {
        Some([]) => return Ok(()),
        Some(months) => {
            format!(
                " WHERE period IN ({})",
                months.iter().map(i32::to_string).collect::<Vec<_>>().join(", ")
            )
        }
        None => String::new(),
    };
    for (facts, measures) in [("client_stat", CLIENT_MEASURES), ("loan_stat", LOAN_MEASURES)] {
        for (rollup, key) in [
            (by_region(facts), "region_id"),
            (by_association(facts), "association_id"),
        ] {
            let dims = format!("{key}, period, segment, gender, area");
            let mut columns: Vec<String> = measures.iter().map(|m| m.to_string()).collect();
            let mut sums: Vec<String> = measures.iter().map(|m| format!("CAST(SUM({m}) AS BIGINT)")).collect();
            if is_regional(rollup) {
                columns.push("contributors".into());
                sums.push("CAST(COUNT(DISTINCT association_id) AS BIGINT)".into());
            }
            db.execute_unprepared(&format!("DELETE FROM {rollup}{only}")).await?;
            db.execute_unprepared(&format!(
                "INSERT INTO {rollup} ({dims}, {}) SELECT {dims}, {} FROM {facts}{only} GROUP BY {dims} ORDER BY period, {key}",
                columns.join(", "),
                sums.join(", ")
            ))
            .await?;
        }
        let total = association_total(facts);
        let mut columns: Vec<String> = measures.iter().map(|m| m.to_string()).collect();
        let mut sums: Vec<String> = measures.iter().map(|m| format!("CAST(SUM({m}) AS BIGINT)")).collect();
        if facts == "client_stat" {
            columns.extend(["active_female".to_owned(), "active_rural".to_owned()]);
            sums.push("CAST(SUM(CASE WHEN gender = 'FEMALE' THEN active_clients END) AS BIGINT)".into());
            sums.push("CAST(SUM(CASE WHEN area = 'RURAL' THEN active_clients END) AS BIGINT)".into());
        }
        db.execute_unprepared(&format!("DELETE FROM {total}{only}")).await?;
        db.execute_unprepared(&format!(
            "INSERT INTO {total} (association_id, period, {}) SELECT association_id, period, {} FROM {facts}{only} \
             GROUP BY association_id, period ORDER BY period, association_id",
            columns.join(", "),
            sums.join(", ")
        ))
        .await?;
    }
    Ok(())
}
