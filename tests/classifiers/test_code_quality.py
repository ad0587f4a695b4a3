"""The quality-model hook: a fastText model trained here, its score stored per document."""

import json

import pytest

from classifiers.code_quality import CodeQualityModel, normalize_code, train_quality_model
from deepcorpus import samples
from deepcorpus.cli import main
from deepcorpus.core.datasets import open_dataset

GOOD = [
    "def area(width: float, height: float) -> float:\n    \"\"\"Area of a rectangle.\"\"\"\n    return width * height\n",
    "class Stack:\n    def __init__(self):\n        self.items = []\n\n    def push(self, item):\n        self.items.append(item)\n",
    "def mean(values):\n    \"\"\"Arithmetic mean.\"\"\"\n    return sum(values) / len(values)\n",
] * 10
BAD = [
    "x=1;y=2;z=x+y;print(z);a=[1,2,3];b=a[0]+a[1];print(b);c=9;d=c*c;\n",
    "var q=function(a,b){return a+b};var w=q(1,2);var e=q(w,3);alert(e);\n",
    "i=0\nwhile i<10:i=i+1;j=i*2;k=j-1;print(i,j,k)\n",
] * 10


def test_normalize_code_keeps_identifiers_and_punctuation():
    assert normalize_code("def f(x):\n    return x+1") == "def f ( x ) : return x + 1"
    assert len(normalize_code("a " * 5000).split()) == 2000


def test_train_and_score(tmp_path):
    path = str(tmp_path / "q.bin")
    model = train_quality_model(GOOD, BAD, path)
    good = "def volume(w: float, h: float, d: float) -> float:\n    \"\"\"Volume of a box.\"\"\"\n    return w * h * d\n"
    bad = "x=3;y=4;z=x*y;print(z);a=[5,6];b=a[0]*a[1];print(b)\n"
    assert model.score(good) > model.score(bad)
    loaded = CodeQualityModel.load(path)
    assert loaded.score(good) == pytest.approx(model.score(good))
    assert json.load(open(path + ".json"))["positive"] == "__label__hq"
    with pytest.raises(ValueError, match="good and bad"):
        train_quality_model(GOOD, [], str(tmp_path / "x.bin"))


@pytest.mark.slow
def test_code_run_stores_the_model_score(tmp_path):
    path = str(tmp_path / "q.bin")
    train_quality_model(GOOD, BAD, path)
    out = tmp_path / "out"
    assert main(["code", "run", "--input", samples.path("repos", "wordcount-rs"), "--input",
                 samples.path("repos", "kvstore-go"), "--output", str(out), "--quality-model", path,
                 "--direct_running_mode", "in_memory"]) == 0
    rows = list(open_dataset(str(out / "corpus")).iter_rows())
    assert len(rows) == 2
    for row in rows:
        score = dict(row["quality"])["model_score"]
        assert 0.0 <= score <= 1.0
    assert json.loads((out / "summary.json").read_text())["counters"]["quality"]["scored"] == 2


def test_a_missing_model_is_a_one_line_error(tmp_path, capsys):
    assert main(["code", "run", "--input", samples.path("repos", "wordcount-rs"), "--output", str(tmp_path / "o"),
                 "--quality-model", str(tmp_path / "none.bin")]) == 2
    assert "none.bin: no such quality model file" in capsys.readouterr().err
