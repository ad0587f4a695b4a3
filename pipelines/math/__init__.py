"""The math corpus pipeline (DeepSeekMath section 2.1): read, extract, classify, discover, iterate."""
