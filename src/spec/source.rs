//! The stack file's text with a span index, so any setting can be mapped to its line.

use toml_edit::{ImDocument, Item, TableLike};

#[derive(Debug, Clone)]
pub struct Source {
    pub path: String,
    doc: ImDocument<String>,
}

/// 1-based line of a byte offset.
pub fn line_at(text: &str, offset: usize) -> usize {
    text.as_bytes()[..offset.min(text.len())].iter().filter(|&&b| b == b'\n').count() + 1
}

impl Source {
    pub fn new(path: String, text: String) -> Result<Self, String> {
        let doc = ImDocument::parse(text.clone()).map_err(|e| {
            let line = e.span().map(|s| line_at(&text, s.start)).unwrap_or(1);
            format!("{path}:{line}: {}", e.message().trim())
        })?;
        Ok(Source { path, doc })
    }

    pub fn text(&self) -> &str {
        self.doc.raw()
    }

    /// Line of a dotted path such as `database.backup_retention_days` or
    /// `network.private_subnets[1]`; falls back to the nearest declared parent, then line 1.
    pub fn line_of(&self, path: &str) -> usize {
        let text = self.doc.raw();
        let mut best = 1;
        let mut table: &dyn TableLike = self.doc.as_table();
        for part in path.split('.') {
            let (key, index) = split_index(part);
            let Some((k, item)) = table.get_key_value(key) else { break };
            if let Some(span) = k.span() {
                best = line_at(text, span.start);
            }
            if let Some(i) = index {
                if let Some(span) = item.as_array().and_then(|a| a.get(i)).and_then(|v| v.span()) {
                    best = line_at(text, span.start);
                }
                break;
            }
            match item_table(item) {
                Some(t) => table = t,
                None => break,
            }
        }
        best
    }
}

fn item_table(item: &Item) -> Option<&dyn TableLike> {
    item.as_table_like()
}

fn split_index(part: &str) -> (&str, Option<usize>) {
    match part.find('[') {
        Some(i) if part.ends_with(']') => (&part[..i], part[i + 1..part.len() - 1].parse().ok()),
        _ => (part, None),
    }
}
