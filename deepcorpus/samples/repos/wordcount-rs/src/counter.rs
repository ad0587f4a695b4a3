use std::collections::HashMap;

use crate::tokenize::words;

/// Counts how often each lower-cased word occurs.
#[derive(Default)]
pub struct WordCounter {
    counts: HashMap<String, usize>,
}

impl WordCounter {
    pub fn add_text(&mut self, text: &str) {
        for word in words(text) {
            *self.counts.entry(word).or_insert(0) += 1;
        }
    }

    pub fn most_common(&self, n: usize) -> Vec<(String, usize)> {
        let mut pairs: Vec<_> = self.counts.iter().map(|(w, c)| (w.clone(), *c)).collect();
        pairs.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        pairs.truncate(n);
        pairs
    }
}
