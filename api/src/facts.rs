//! The fact tables monthly reports fill: clients, loans, staff and loans by economic activity. Each [`Facts`] is the one description of its
//! table: the report table that fills it, its revision table, its dimension and measure columns (whether each
//! measure counts things or sums money), and the rollups that pre-sum it. The rollups, the revision copy and the
//! as-of tables, validation, the templates, the acceptance and the indicator catalogue's sources all read it, so a
//! new measure is one line here plus its migration (and the catalogue entry that offers it).

use sea_orm::sea_query::{Alias, Expr, ExprTrait, Query};
use sea_orm::{ConnectionTrait, DbErr, Value};

/// Whether a measure counts things (clients, loans, staff) or sums money (MAD, kept in centimes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Quantity {
    Count,
    Amount,
}

/// One summed column of a fact table.
#[derive(Debug, Clone, Copy)]
pub struct Measure {
    pub column: &'static str,
    pub quantity: Quantity,
}

const fn count(column: &'static str) -> Measure {
    Measure {
        column,
        quantity: Quantity::Count,
    }
}

const fn amount(column: &'static str) -> Measure {
    Measure {
        column,
        quantity: Quantity::Amount,
    }
}

/// One dimension of a fact table: its column in the report and its column in the table.
#[derive(Debug, Clone, Copy)]
pub struct Dimension {
    pub field: &'static str,
    pub column: &'static str,
}

const fn dimension(field: &'static str, column: &'static str) -> Dimension {
    Dimension { field, column }
}

/// A column of an association total that sums a measure over the rows of one code (women's active clients, say).
#[derive(Debug, Clone, Copy)]
pub struct Share {
    pub column: &'static str,
    pub measure: &'static str,
    /// The row condition, on constant codes.
    pub when: &'static str,
}

/// The rollups of a fact table (see `crate::rollup`).
#[derive(Debug, Clone, Copy)]
pub struct Rollups {
    /// Summed over associations, per region and cell, with the count of contributing associations.
    pub by_region: &'static str,
    /// Summed over regions, per association and cell.
    pub by_association: &'static str,
    /// Summed over regions and cells, per association and month.
    pub association_total: &'static str,
    /// The association totals' columns of one code.
    pub shares: &'static [Share],
}

/// A fact table that monthly reports fill and replace. Every one has `id`, `association_id` and `period` besides its
/// dimensions and measures; its revision table has the same columns and `submission_id`.
#[derive(Debug)]
pub struct Facts {
    /// The report table (CSV part, `.xlsx` sheet, JSON field) that fills it.
    pub report: &'static str,
    pub table: &'static str,
    pub revisions: &'static str,
    pub dimensions: &'static [Dimension],
    pub measures: &'static [Measure],
    pub rollups: Option<Rollups>,
}

/// Client figures: active and new clients per region, segment, gender and area.
pub const CLIENTS: Facts = Facts {
    report: "clients",
    table: "client_stat",
    revisions: "client_stat_revision",
    dimensions: CELL,
    measures: &[count("active_clients"), count("new_clients")],
    rollups: Some(Rollups {
        by_region: "client_stat_by_region",
        by_association: "client_stat_by_association",
        association_total: "client_stat_association_total",
        shares: &[
            Share {
                column: "active_female",
                measure: "active_clients",
                when: "gender = 'FEMALE'",
            },
            Share {
                column: "active_rural",
                measure: "active_clients",
                when: "area = 'RURAL'",
            },
        ],
    }),
};

/// Loan figures per region, segment, gender and area; amounts in centimes.
pub const LOANS: Facts = Facts {
    report: "loans",
    table: "loan_stat",
    revisions: "loan_stat_revision",
    dimensions: CELL,
    measures: &[
        count("disbursed_count"),
        amount("disbursed_amount"),
        count("active_loans"),
        amount("outstanding_amount"),
        amount("par30_amount"),
        amount("par90_amount"),
        amount("write_off_amount"),
        amount("rescheduled_amount"),
        amount("repayments_due"),
        amount("repayments_collected"),
    ],
    rollups: Some(Rollups {
        by_region: "loan_stat_by_region",
        by_association: "loan_stat_by_association",
        association_total: "loan_stat_association_total",
        shares: &[],
    }),
};

/// Staff headcount per category and gender.
pub const STAFF: Facts = Facts {
    report: "staff",
    table: "staff_stat",
    revisions: "staff_stat_revision",
    dimensions: &[dimension("category", "category"), dimension("gender", "gender")],
    measures: &[count("headcount")],
    rollups: None,
};

/// Loan figures per region and economic activity financed (a leaf code of the `ACTIVITY` list); for each region,
/// they add up to the loans table's, column by column.
pub const ACTIVITIES: Facts = Facts {
    report: "activities",
    table: "activity_stat",
    revisions: "activity_stat_revision",
    dimensions: &[dimension("region", "region_id"), dimension("activity", "activity")],
    measures: &[
        count("disbursed_count"),
        amount("disbursed_amount"),
        count("active_loans"),
        amount("outstanding_amount"),
        amount("par30_amount"),
        amount("repayments_due"),
        amount("repayments_collected"),
    ],
    rollups: None,
};

/// The cell of client and loan figures.
const CELL: &[Dimension] = &[
    dimension("region", "region_id"),
    dimension("segment", "segment"),
    dimension("gender", "gender"),
    dimension("area", "area"),
];

/// Every fact table.
pub const ALL: [&Facts; 4] = [&CLIENTS, &LOANS, &STAFF, &ACTIVITIES];

/// How many measures a loan cell carries.
pub const LOAN_VALUES: usize = LOANS.measures.len();

impl Facts {
    /// The fact table a report table fills.
    pub fn of_report(report: &str) -> Option<&'static Facts> {
        ALL.into_iter().find(|f| f.report == report)
    }

    /// The fact table stored as `table`.
    pub fn of_table(table: &str) -> Option<&'static Facts> {
        ALL.into_iter().find(|f| f.table == table)
    }

    /// The measure stored in `column`.
    pub fn measure(&self, column: &str) -> Option<&'static Measure> {
        self.measures.iter().find(|m| m.column == column)
    }

    /// The report's columns: dimensions, then measures.
    pub fn fields(&self) -> Vec<&'static str> {
        let dimensions = self.dimensions.iter().map(|d| d.field);
        dimensions.chain(self.measures.iter().map(|m| m.column)).collect()
    }

    /// The stored columns other than `id`, in one order for the fact and revision tables.
    pub fn columns(&self) -> Vec<&'static str> {
        let mut columns = vec!["association_id", "period"];
        columns.extend(self.dimensions.iter().map(|d| d.column));
        columns.extend(self.measures.iter().map(|m| m.column));
        columns
    }

    /// Deletes an association-month's rows. One statement, values bound.
    pub async fn delete_month<C: ConnectionTrait>(&self, db: &C, association_id: i32, month: i32) -> Result<(), DbErr> {
        let statement = Query::delete()
            .from_table(Alias::new(self.table))
            .and_where(Expr::col(Alias::new("association_id")).eq(association_id))
            .and_where(Expr::col(Alias::new("period")).eq(month))
            .to_owned();
        db.execute(&statement).await.map(|_| ())
    }

    /// Inserts an association-month's rows, each its dimension values then its measure values, in this table's order.
    /// One statement, values bound.
    pub async fn insert_month<C: ConnectionTrait>(
        &self,
        db: &C,
        association_id: i32,
        month: i32,
        rows: impl IntoIterator<Item = Vec<Value>>,
    ) -> Result<(), DbErr> {
        let mut insert = Query::insert();
        insert
            .into_table(Alias::new(self.table))
            .columns(self.columns().into_iter().map(Alias::new));
        let mut any = false;
        for row in rows {
            let values = [association_id.into(), month.into()].into_iter().chain(row);
            insert
                .values(values.map(Expr::val))
                .map_err(|e| DbErr::Custom(format!("a row of {}: {e}", self.table)))?;
            any = true;
        }
        if any {
            db.execute(&insert).await?;
        }
        Ok(())
    }

    /// Copies an association-month's rows to the revision table, marked with the submission they came from (`0` for
    /// figures loaded without a submission). One `INSERT … SELECT`, values bound.
    pub async fn keep_revision<C: ConnectionTrait>(
        &self,
        db: &C,
        association_id: i32,
        month: i32,
        submission_id: i64,
    ) -> Result<(), DbErr> {
        let columns = || self.columns().into_iter().map(Alias::new);
        let select = Query::select()
            .column(Alias::new("id"))
            .expr(Expr::val(submission_id))
            .columns(columns())
            .from(Alias::new(self.table))
            .and_where(Expr::col(Alias::new("association_id")).eq(association_id))
            .and_where(Expr::col(Alias::new("period")).eq(month))
            .to_owned();
        let insert = Query::insert()
            .into_table(Alias::new(self.revisions))
            .columns(
                [Alias::new("id"), Alias::new("submission_id")]
                    .into_iter()
                    .chain(columns()),
            )
            .select_from(select)
            .map_err(|e| DbErr::Custom(format!("the revision copy of {}: {e}", self.table)))?
            .to_owned();
        db.execute(&insert).await.map(|_| ())
    }
}

/// Whether a report column of any fact table holds a whole count (the other measure columns are amounts in MAD).
pub fn is_count(column: &str) -> bool {
    ALL.iter()
        .find_map(|f| f.measure(column))
        .is_some_and(|m| m.quantity == Quantity::Count)
}

#[cfg(test)]
mod tests {
    use super::*;
    use sea_orm::{EntityName, Iterable};

    /// The stored columns of an entity, `id` aside.
    fn entity_columns<E: sea_orm::EntityTrait>() -> Vec<String> {
        use sea_orm::IdenStatic;
        E::Column::iter()
            .map(|c| c.as_str().to_owned())
            .filter(|c| c != "id")
            .collect()
    }

    #[test]
    fn every_fact_table_matches_its_entity_column_for_column() {
        for (facts, table, columns) in [
            (
                &CLIENTS,
                entity::client_stat::Entity.table_name(),
                entity_columns::<entity::client_stat::Entity>(),
            ),
            (
                &LOANS,
                entity::loan_stat::Entity.table_name(),
                entity_columns::<entity::loan_stat::Entity>(),
            ),
            (
                &STAFF,
                entity::staff_stat::Entity.table_name(),
                entity_columns::<entity::staff_stat::Entity>(),
            ),
        ] {
            assert_eq!(facts.table, table);
            let mut expected = facts.columns();
            let mut stored: Vec<&str> = columns.iter().map(String::as_str).collect();
            expected.sort_unstable();
            stored.sort_unstable();
            assert_eq!(expected, stored, "{}", facts.table);
            assert_eq!(Facts::of_report(facts.report).map(|f| f.table), Some(facts.table));
        }
    }

    #[test]
    fn counts_and_amounts() {
        assert!(is_count("active_loans") && is_count("disbursed_count") && is_count("headcount"));
        assert!(!is_count("outstanding_amount") && !is_count("repayments_due") && !is_count("region"));
    }
}
