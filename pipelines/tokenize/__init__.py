"""Tokenizer training and the token-shard pipeline."""
