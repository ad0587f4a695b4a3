"""The code corpus pipeline (DeepSeek-Coder section 2, Coder-V2 languages)."""
