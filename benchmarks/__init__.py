"""Speed and memory benchmarks (`make bench`): each compares against its named baseline in the same run."""
