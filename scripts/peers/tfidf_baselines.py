#!/usr/bin/env python3
"""Scores scikit-learn's TF-IDF baselines on a split written by `tandem eval nlu|sentiment
--holdout H --seed S --write-split DIR`, so the issue's peers are measured on the same rows
as Tandem. Needs Debian's python3-sklearn. Usage: python3 scripts/peers/tfidf_baselines.py DIR"""
import csv
import json
import sys

from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, f1_score
from sklearn.pipeline import make_union
from sklearn.svm import LinearSVC


def load(path):
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    return [r["text"] for r in rows], [r["label"] for r in rows]


def words_and_chars():
    return make_union(TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True),
                      TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True))


# (name, features, model): scikit-learn's defaults, then the strongest settings found.
CONFIGS = [
    ("tfidf+linearsvc", TfidfVectorizer, lambda: LinearSVC()),
    ("tfidf+logreg(C=10)", TfidfVectorizer, lambda: LogisticRegression(C=10, max_iter=3000)),
    ("tfidf words+chars+linearsvc(balanced)", words_and_chars, lambda: LinearSVC(class_weight="balanced")),
    ("tfidf words+chars+logreg(C=3, balanced)", words_and_chars,
     lambda: LogisticRegression(C=3, max_iter=3000, class_weight="balanced")),
]

split = sys.argv[1]
x_train, y_train = load(f"{split}/train.csv")
x_test, y_test = load(f"{split}/test.csv")
for name, features, model in CONFIGS:
    vec = features()
    pred = model().fit(vec.fit_transform(x_train), y_train).predict(vec.transform(x_test))
    print(json.dumps({"peer": name, "accuracy": round(accuracy_score(y_test, pred), 4),
                      "macro_f1": round(f1_score(y_test, pred, average="macro"), 4)}), flush=True)
