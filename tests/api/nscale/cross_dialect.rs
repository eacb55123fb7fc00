//! One store, two dialects: what one writes the other reads, changes and deletes, under the same rules.
