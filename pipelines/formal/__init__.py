"""The formal corpus pipeline (DeepSeek-Prover): autoformalize, filter, prove, decompose, iterate."""
