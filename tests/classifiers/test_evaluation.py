"""Precision, recall and F1 of a classifier on a labelled set."""

from classifiers.evaluation import best_threshold, binary_metrics, histogram


def test_binary_metrics():
    m = binary_metrics([0.9, 0.8, 0.3, 0.6, 0.1], [1, 1, 1, 0, 0], threshold=0.5)
    assert (m["tp"], m["fp"], m["fn"], m["tn"]) == (2, 1, 1, 1)
    assert m["precision"] == round(2 / 3, 4) and m["recall"] == round(2 / 3, 4)


def test_best_threshold_separates_the_classes():
    t = best_threshold([0.9, 0.8, 0.7, 0.4, 0.2], [1, 1, 1, 0, 0])
    assert 0.4 < t <= 0.7
    assert binary_metrics([0.9, 0.8, 0.7, 0.4, 0.2], [1, 1, 1, 0, 0], t)["f1"] == 1.0


def test_histogram():
    bins = histogram([0.05, 0.95, 1.0, 0.5], bins=4)
    assert [b["count"] for b in bins] == [1, 0, 1, 2]
