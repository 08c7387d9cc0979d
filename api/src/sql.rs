//! Statements written as text with bound values: every value a request brings (months, ids, codes) travels as a
//! parameter (`$1`, `$2`, … on PostgreSQL and SQLite alike), never in the text. One statement text then serves every
//! request of the same shape, so the database parses and plans it once per connection and reuses it.

use sea_orm::sea_query::{PostgresQueryBuilder, SelectStatement, SqliteQueryBuilder};
use sea_orm::{DbBackend, Statement, Value};

/// The values bound so far to a statement being written, and its backend.
#[derive(Debug, Clone)]
pub struct Binder {
    backend: DbBackend,
    values: Vec<Value>,
}

impl Binder {
    pub fn new(backend: DbBackend) -> Binder {
        Binder {
            backend,
            values: Vec::new(),
        }
    }

    pub fn backend(&self) -> DbBackend {
        self.backend
    }

    /// The placeholder of a new bound value.
    pub fn bind(&mut self, value: impl Into<Value>) -> String {
        self.values.push(value.into());
        format!("${}", self.values.len())
    }

    /// `column` is one of `items` (none: no row): `column IN ($1, $2, …)`, one text per number of items. PostgreSQL
    /// folds the bound list into one array when it plans the statement; an array passed as a single parameter would
    /// be cast again on every row.
    pub fn one_of<T: Into<Value> + Clone>(&mut self, column: &str, items: &[T]) -> String {
        if items.is_empty() {
            return "1 = 0".to_owned();
        }
        let placeholders: Vec<String> = items.iter().map(|item| self.bind(item.clone())).collect();
        match placeholders.as_slice() {
            [one] => format!("{column} = {one}"),
            _ => format!("{column} IN ({})", placeholders.join(", ")),
        }
    }

    /// `column` (a `yyyymm` month) is one of `months`: one range per run of consecutive months.
    pub fn months(&mut self, column: &str, months: impl IntoIterator<Item = i32>) -> String {
        let runs = crate::period::runs(months);
        if runs.is_empty() {
            return "1 = 0".to_owned();
        }
        // Months apart from each other (the ends of quarters, say): one list, which an index serves in one scan.
        if runs.len() > 1 && runs.iter().all(|(first, last)| first == last) {
            let months: Vec<i32> = runs.iter().map(|(month, _)| *month).collect();
            return self.one_of(column, &months);
        }
        let ranges: Vec<String> = runs
            .iter()
            .map(|(first, last)| {
                if first == last {
                    format!("{column} = {}", self.bind(*first))
                } else {
                    format!("{column} BETWEEN {} AND {}", self.bind(*first), self.bind(*last))
                }
            })
            .collect();
        format!("({})", ranges.join(" OR "))
    }

    /// A statement of the query builder as text to write into this one (a derived table, say), its values bound
    /// after those bound so far. The builder numbers its placeholders from one (`$1`) or leaves them unnumbered (`?`
    /// on SQLite); they are numbered anew to follow this statement's. Write the text where it comes in binding order.
    pub fn splice(&mut self, statement: &SelectStatement) -> String {
        let (text, values) = match self.backend {
            DbBackend::Postgres => statement.build(PostgresQueryBuilder),
            _ => statement.build(SqliteQueryBuilder),
        };
        let offset = self.values.len();
        self.values.extend(values.0);
        renumber(&text, offset)
    }

    /// The statement: `text` with the values bound so far.
    pub fn statement(self, text: String) -> Statement {
        Statement::from_sql_and_values(self.backend, text, self.values)
    }
}

/// `text` with its placeholders (`$n`, or `?`, outside quoted literals and names) numbered from `offset + 1`.
fn renumber(text: &str, offset: usize) -> String {
    let mut out = String::with_capacity(text.len() + 16);
    let mut chars = text.chars().peekable();
    let mut quote: Option<char> = None;
    let mut unnumbered = offset;
    while let Some(c) = chars.next() {
        match quote {
            // A doubled quote inside a literal closes and reopens it: the text is copied either way.
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None if c == '\'' || c == '"' => quote = Some(c),
            None if c == '?' => {
                unnumbered += 1;
                out.push_str(&format!("${unnumbered}"));
                continue;
            }
            None if c == '$' && chars.peek().is_some_and(char::is_ascii_digit) => {
                let mut n = 0usize;
                while let Some(digit) = chars.peek().and_then(|d| d.to_digit(10)) {
                    n = n * 10 + digit as usize;
                    chars.next();
                }
                out.push_str(&format!("${}", offset + n));
                continue;
            }
            None => {}
        }
        out.push(c);
    }
    out
}

/// A statement's text and values as one string: two statements are the same read exactly when their keys are equal.
pub fn key(statement: &Statement) -> String {
    format!("{}\u{0}{:?}", statement.sql, statement.values)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_bound_and_numbered_in_order() {
        let mut b = Binder::new(DbBackend::Postgres);
        let months = b.months("period", [202001, 202002, 202003, 202006]);
        let regions = b.one_of("region_id", &[3, 1]);
        let genders = b.one_of("gender", &["FEMALE"]);
        assert_eq!(months, "(period BETWEEN $1 AND $2 OR period = $3)");
        assert_eq!(regions, "region_id IN ($4, $5)");
        assert_eq!(genders, "gender = $6");
        assert_eq!(b.one_of::<i32>("area", &[]), "1 = 0");
        assert_eq!(b.months("period", [202003, 202006, 202009]), "period IN ($7, $8, $9)");
        assert_eq!(b.months("period", []), "1 = 0");
        let values = b.statement("SELECT 1".into()).values.expect("values").0;
        assert_eq!(values[3], Value::from(3));
        assert_eq!(values[5], Value::from("FEMALE"));
        assert_eq!(values.len(), 9);
    }

    #[test]
    fn spliced_statements_number_their_placeholders_after_the_outer_ones() {
        use sea_orm::sea_query::{Alias, Expr, ExprTrait, Query};
        let inner = Query::select()
            .column(Alias::new("id"))
            .from(Alias::new("client_stat"))
            .and_where(Expr::col(Alias::new("period")).eq(202001))
            .and_where(Expr::col(Alias::new("area")).eq("it's $1 ?"))
            .to_owned();
        for backend in [DbBackend::Postgres, DbBackend::Sqlite] {
            let mut b = Binder::new(backend);
            let first = b.bind(7);
            let spliced = b.splice(&inner);
            let last = b.bind(9);
            assert_eq!(first, "$1");
            assert!(spliced.contains("\"period\" = $2 AND \"area\" = $3"), "{spliced}");
            assert_eq!(last, "$4");
            let values = b.statement(String::new()).values.expect("values").0;
            assert_eq!(
                values,
                vec![
                    Value::from(7),
                    Value::from(202001),
                    Value::from("it's $1 ?"),
                    Value::from(9)
                ]
            );
        }
        assert_eq!(
            renumber("a = '$1 ?' AND \"b?\" = ? AND c = $2", 3),
            "a = '$1 ?' AND \"b?\" = $4 AND c = $5"
        );
    }
}
