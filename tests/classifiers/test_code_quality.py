"""The code quality model: a fastText classifier trained here, loaded again, scoring code
(the pipeline's hook that stores its score is tested in tests/code/test_run.py)."""

import json

import pytest

from classifiers.code_quality import CodeQualityModel, normalize_code, train_quality_model

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
