//! Generic reads shared by the domain stores: root pages, per-parent pages in
//! one statement, and code look-ups. Plain sea-orm: a connection in, models
//! out; no GraphQL here.

use crate::error::{ApiError, ApiResult};
use crate::pagination::{Page, PageArgs};
use sea_orm::sea_query::{Alias, Asterisk, Expr, ExprTrait, Func, Order, Query, SelectStatement, WindowStatement};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, FromQueryResult, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
    QueryTrait, Select,
};
use std::collections::HashMap;

/// An entity whose rows carry an integer primary key `id`, the order of every list.
pub trait Keyed: EntityTrait + Default {
    fn key(model: &Self::Model) -> i64;
}

fn id_of<E: EntityTrait + Default>() -> Expr {
    Expr::col((E::default(), Alias::new("id")))
}

/// Reads one page of a filtered list, and its total when asked for.
pub async fn page<E, C>(db: &C, select: Select<E>, args: &PageArgs, with_total: bool) -> ApiResult<Page<E::Model>>
where
    E: Keyed,
    E::Model: FromQueryResult + Send + Sync,
    C: ConnectionTrait,
{
    let total = if with_total {
        Some(select.clone().count(db).await?)
    } else {
        None
    };
    let mut select = select;
    if let Some(after) = args.after {
        select = select.filter(id_of::<E>().gt(after));
    }
    let rows = select
        .order_by(id_of::<E>(), Order::Asc)
        .limit(args.first + 1)
        .all(db)
        .await?;
    Ok(Page::from_rows(rows, args, total))
}

/// Reads the same page of a child list for many parents in one statement.
///
/// Window functions number each parent's rows and count them, so the cost is
/// one statement whatever the number of parents and the page size. The first
/// row of every parent is always read, to carry the parent's total even when
/// the cursor is past its last row; such rows are not part of the page.
pub async fn child_pages<E, C>(
    db: &C,
    select: Select<E>,
    parent_column: &'static str,
    parents: &[i32],
    args: &PageArgs,
) -> ApiResult<HashMap<i32, Page<E::Model>>>
where
    E: Keyed,
    E::Model: FromQueryResult + Send + Sync,
    C: ConnectionTrait,
{
    let parent = Expr::col((E::default(), Alias::new(parent_column)));
    let partition = || WindowStatement::partition_by((E::default(), Alias::new(parent_column)));
    let ordered = || {
        let mut window = partition();
        window.order_by_expr(id_of::<E>(), Order::Asc);
        window
    };
    let mut inner: SelectStatement = select.filter(parent.is_in(parents.iter().copied())).into_query();
    inner.expr_window_as(Expr::cust("COUNT(*)"), partition(), "page_total");
    inner.expr_window_as(Expr::cust("ROW_NUMBER()"), ordered(), "page_row");
    let position = match args.after {
        Some(after) => {
            let after_cursor = Expr::case(id_of::<E>().gt(after), 1).finally(0);
            inner.expr_window_as(Func::sum(after_cursor), ordered(), "page_position");
            "page_position"
        }
        None => "page_row",
    };
    let mut in_page = Expr::col(Alias::new(position)).lte(args.first as i64 + 1);
    if let Some(after) = args.after {
        in_page = in_page.and(Expr::col(Alias::new("id")).gt(after));
    }
    let outer = Query::select()
        .column(Asterisk)
        .from_subquery(inner, "children")
        .and_where(in_page.or(Expr::col(Alias::new("page_row")).eq(1)))
        .order_by(Alias::new(parent_column), Order::Asc)
        .order_by(Alias::new("id"), Order::Asc)
        .to_owned();
    let rows = db.query_all(&outer).await?;

    let mut grouped: HashMap<i32, (Vec<E::Model>, u64)> = HashMap::new();
    for row in rows {
        let parent_id: i32 = row.try_get("", parent_column)?;
        let total: i64 = row.try_get("", "page_total")?;
        let entry = grouped.entry(parent_id).or_insert_with(|| (Vec::new(), total as u64));
        let model = E::Model::from_query_result(&row, "")?;
        if args.after.is_none_or(|after| E::key(&model) > after) {
            entry.0.push(model);
        }
    }
    Ok(parents
        .iter()
        .map(|parent| {
            let page = match grouped.remove(parent) {
                Some((rows, total)) => Page::from_rows(rows, args, Some(total)),
                None => Page::empty(args),
            };
            (*parent, page)
        })
        .collect())
}

/// Finds one row by its public code, or answers NOT_FOUND naming what is missing.
pub async fn by_code<E, C>(db: &C, code_column: E::Column, what: &str, code: &str) -> ApiResult<E::Model>
where
    E: EntityTrait,
    C: ConnectionTrait,
{
    E::find()
        .filter(code_column.eq(code))
        .one(db)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no {what} has the code '{code}'")))
}

/// Turns public codes into internal ids, refusing unknown codes by name.
pub async fn ids_for_codes<E, C>(
    db: &C,
    code_column: E::Column,
    id_column: E::Column,
    what: &str,
    codes: &[String],
) -> ApiResult<Vec<i32>>
where
    E: EntityTrait,
    C: ConnectionTrait,
{
    #[derive(FromQueryResult)]
    struct Row {
        id: i32,
        code: String,
    }
    let rows = E::find()
        .select_only()
        .column_as(id_column, "id")
        .column_as(code_column, "code")
        .filter(code_column.is_in(codes.iter().cloned()))
        .into_model::<Row>()
        .all(db)
        .await?;
    ids_of(what, codes, rows.iter().map(|row| (row.code.as_str(), row.id)))
}

/// The ids of `codes` among `known` (code, id) pairs, in the order of `codes`; an unknown code is refused by name.
pub fn ids_of<'a>(
    what: &str,
    codes: &[String],
    known: impl Iterator<Item = (&'a str, i32)> + Clone,
) -> ApiResult<Vec<i32>> {
    let mut ids = Vec::with_capacity(codes.len());
    let mut unknown = Vec::new();
    for code in codes {
        match known.clone().find(|(known, _)| *known == code) {
            Some((_, id)) => ids.push(id),
            None => unknown.push(code.as_str()),
        }
    }
    if !unknown.is_empty() {
        return Err(ApiError::bad_input(format!(
            "unknown {what} code(s): {}",
            unknown.join(", ")
        )));
    }
    Ok(ids)
}
