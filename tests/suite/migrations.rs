//! Migrations run up and down on both backends.

use migration::{Migrator, MigratorTrait};
use observatory_tests::{Backend, Fixture, fresh_database, on_both_backends};
use sea_orm::{ConnectionTrait, Statement};

async fn table_count(db: &sea_orm::DatabaseConnection) -> i64 {
    let sql = match db.get_database_backend() {
        sea_orm::DbBackend::Sqlite => {
            "SELECT COUNT(*) AS n FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name <> 'seaql_migrations'"
        }
        _ => {
            "SELECT COUNT(*) AS n FROM information_schema.tables WHERE table_schema = 'public' AND table_name <> 'seaql_migrations'"
        }
    };
    let row = db
        .query_one_raw(Statement::from_string(db.get_database_backend(), sql))
        .await
        .unwrap()
        .unwrap();
    row.try_get::<i64>("", "n").unwrap()
}

async fn migrations_run_down_and_up_again(backend: Backend) {
    let (db, _cleanup) = fresh_database(&backend, Fixture::Empty).await;
    assert_eq!(
        table_count(&db).await,
        51,
        "every table of the data model (with loans by activity, the training history, the quarterly statements, the \
         peer groups, the surveys, the shared persisted documents and the callers' write positions), \
         its rollups, its revisions and the alerts' exist"
    );
    Migrator::down(&db, None).await.expect("every migration reverts");
    assert_eq!(table_count(&db).await, 0, "down removes every table");
    Migrator::up(&db, None).await.expect("migrations apply again");
    assert_eq!(table_count(&db).await, 51);
    let regions = db
        .query_one_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT COUNT(*) AS n FROM region",
        ))
        .await
        .unwrap()
        .unwrap()
        .try_get::<i64>("", "n")
        .unwrap();
    assert_eq!(regions, 12, "the 12 regions are seeded");
}
on_both_backends!(migrations_run_down_and_up_again);

async fn the_database_refuses_negative_amounts_and_duplicate_cells(backend: Backend) {
    let (db, _cleanup) = fresh_database(&backend, Fixture::Demo).await;
    let negative = db
        .execute_unprepared("UPDATE loan_stat SET disbursed_amount = -1 WHERE id = (SELECT MIN(id) FROM loan_stat)")
        .await;
    assert!(negative.is_err(), "a negative amount is refused by a check constraint");
    let par_above_outstanding = db
        .execute_unprepared(
            "UPDATE loan_stat SET par30_amount = outstanding_amount + 1 WHERE id = (SELECT MIN(id) FROM loan_stat)",
        )
        .await;
    assert!(
        par_above_outstanding.is_err(),
        "PAR30 above the outstanding portfolio is refused"
    );
    let duplicate = db
        .execute_unprepared(
            "INSERT INTO client_stat (association_id, region_id, period, segment, gender, area, active_clients, new_clients) \
             SELECT association_id, region_id, period, segment, gender, area, 1, 1 FROM client_stat WHERE id = (SELECT MIN(id) FROM client_stat)",
        )
        .await;
    assert!(
        duplicate.is_err(),
        "a second row for the same cell is refused by the unique key"
    );
}
on_both_backends!(the_database_refuses_negative_amounts_and_duplicate_cells);
