"""Document classifiers (fastText math classifier, language ID, quality): plain Python, no Beam."""
