mod counter;
mod tokenize;

use crate::counter::WordCounter;
use std::io::{self, Read};

fn main() {
    let mut input = String::new();
    io::stdin().read_to_string(&mut input).expect("read stdin");
    let mut counter = WordCounter::default();
    counter.add_text(&input);
    for (word, count) in counter.most_common(10) {
        println!("{count:>6} {word}");
    }
}
