//! Plain-text tables for failure messages (case / pyHanko / ours).

/// A table with a header row; [`Table::render`] aligns the columns.
#[derive(Clone, Debug, Default)]
pub struct Table {
    rows: Vec<Vec<String>>,
}

impl Table {
    /// A table with these column headers.
    pub fn new(headers: &[&str]) -> Table {
        Table {
            rows: vec![headers.iter().map(|h| (*h).to_owned()).collect()],
        }
    }

    /// Append a row.
    pub fn row<I, S>(&mut self, cells: I)
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.rows.push(cells.into_iter().map(Into::into).collect());
    }

    /// Number of rows below the header.
    pub fn len(&self) -> usize {
        self.rows.len().saturating_sub(1)
    }

    /// True when only the header is there.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The table as aligned text, one line per row.
    pub fn render(&self) -> String {
        let ncols = self.rows.iter().map(Vec::len).max().unwrap_or(0);
        let widths: Vec<usize> = (0..ncols)
            .map(|c| {
                self.rows
                    .iter()
                    .filter_map(|r| r.get(c))
                    .map(|s| s.chars().count())
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        let mut out = String::new();
        for row in &self.rows {
            let cells: Vec<String> = row
                .iter()
                .zip(&widths)
                .map(|(cell, w)| format!("{cell:<w$}"))
                .collect();
            out.push_str(cells.join("  ").trim_end());
            out.push('\n');
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::Table;

    #[test]
    fn columns_are_aligned() {
        let mut t = Table::new(&["case", "ours"]);
        t.row(["b-b-p256.pdf", "TOTAL-PASSED"]);
        t.row(["x", "-"]);
        assert_eq!(
            t.render(),
            "case          ours\nb-b-p256.pdf  TOTAL-PASSED\nx             -\n"
        );
        assert_eq!(t.len(), 2);
    }
}
