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
            format!("{path}:{line}: {}", e.message().trim().replace('\n', " "))
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
                if let Some(t) = item.as_array_of_tables().and_then(|a| a.get(i)) {
                    if let Some(span) = t.span() {
                        best = line_at(text, span.start);
                    }
                    table = t;
                    continue;
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

impl Source {
    /// The dotted path of the setting whose key or value covers byte `offset`.
    pub fn path_at(&self, offset: usize) -> Option<String> {
        fn walk(table: &dyn TableLike, offset: usize, prefix: &str) -> Option<String> {
            for (key, item) in table.iter() {
                let path = if prefix.is_empty() { key.to_string() } else { format!("{prefix}.{key}") };
                if let Some(t) = item.as_table_like() {
                    if let Some(found) = walk(t, offset, &path) {
                        return Some(found);
                    }
                }
                let (k, _) = table.get_key_value(key)?;
                let covers = |span: Option<std::ops::Range<usize>>| span.is_some_and(|s| s.start <= offset && offset <= s.end);
                let value_span = item.as_value().and_then(|v| v.span());
                if covers(k.span()) || (item.as_table_like().is_none() && covers(value_span)) {
                    return Some(path);
                }
            }
            None
        }
        walk(self.doc.as_table(), offset, "")
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
