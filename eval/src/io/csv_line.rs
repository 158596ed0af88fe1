//! Small CSV helpers: splitting a line into cells (RFC 4180 quoting, no
//! embedded newlines) and reading a table with a header row.

use std::path::Path;

/// Splits a line on commas; a cell in double quotes may hold commas and
/// doubled quotes (`""`). Cells are returned trimmed of surrounding spaces.
pub fn split_line(line: &str) -> Vec<String> {
    let mut cells = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' if quoted && chars.peek() == Some(&'"') => {
                cur.push('"');
                chars.next();
            }
            '"' => quoted = !quoted,
            ',' if !quoted => cells.push(std::mem::take(&mut cur).trim().to_string()),
            _ => cur.push(c),
        }
    }
    cells.push(cur.trim().to_string());
    cells
}

/// A CSV table: header names and rows of cells.
#[derive(Clone, Debug)]
pub struct Table {
    /// The file, for error messages.
    pub origin: String,
    pub header: Vec<String>,
    /// Data rows with their 1-based line numbers; blank lines are skipped.
    pub rows: Vec<(usize, Vec<String>)>,
}

impl Table {
    pub fn parse(text: &str, origin: &str) -> Result<Table, String> {
        let mut lines = text.lines().enumerate();
        let header = lines
            .next()
            .map(|(_, l)| split_line(l.trim_start_matches('\u{feff}')))
            .ok_or_else(|| format!("{origin}: empty file (no header)"))?;
        let rows = lines
            .filter(|(_, l)| !l.trim().is_empty())
            .map(|(i, l)| (i + 1, split_line(l)))
            .collect();
        Ok(Table {
            origin: origin.to_string(),
            header,
            rows,
        })
    }

    pub fn read(path: &Path) -> Result<Table, String> {
        let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
        Table::parse(&text, &path.display().to_string())
    }

    /// Index of a column, or an error naming the file and the columns it has.
    pub fn column(&self, name: &str) -> Result<usize, String> {
        self.header.iter().position(|h| h == name).ok_or_else(|| {
            format!(
                "{}: no `{name}` column (columns: {})",
                self.origin,
                self.header.join(",")
            )
        })
    }

    /// Cell `col` of a row parsed as `T`, or an error naming file, line and column.
    pub fn get<T: std::str::FromStr>(
        &self,
        row: &(usize, Vec<String>),
        col: usize,
    ) -> Result<T, String> {
        let cell = row.1.get(col).map(String::as_str).unwrap_or("");
        cell.parse().map_err(|_| {
            format!(
                "{}: line {}, column `{}`: cannot read `{cell}`",
                self.origin, row.0, self.header[col]
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_plain_and_quoted_cells() {
        assert_eq!(split_line("a, b,,c"), vec!["a", "b", "", "c"]);
        assert_eq!(
            split_line("\"x,y\",\"say \"\"hi\"\"\",3"),
            vec!["x,y", "say \"hi\"", "3"]
        );
        assert_eq!(split_line(""), vec![""]);
    }

    #[test]
    fn table_columns_and_typed_cells() {
        let t = Table::parse("id,fs\n7,500\n\n8,x\n", "t.csv").unwrap();
        assert_eq!(t.rows.len(), 2);
        let fs = t.column("fs").unwrap();
        assert_eq!(t.get::<f32>(&t.rows[0], fs).unwrap(), 500.0);
        let e = t.get::<f32>(&t.rows[1], fs).unwrap_err();
        assert!(e.contains("t.csv: line 4, column `fs`"), "{e}");
        assert!(t.column("nope").unwrap_err().contains("columns: id,fs"));
    }
}
