"""Deduplication and decontamination: pure functions for the algorithms, Beam transforms over them."""
