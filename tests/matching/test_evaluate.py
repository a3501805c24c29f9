import csv
from pathlib import Path

import numpy as np

from matching import Example, TopicClassifier
from matching.evaluate import report

DEV = Path(__file__).resolve().parents[2] / "data" / "dev"


def test_report_counts_what_it_says():
    examples = [Example("a", "x", "en"), Example("b", "y", "fr"), Example("c", "y", "fr")]
    probabilities = np.array([[0.9, 0.1], [0.6, 0.4], [0.2, 0.8]])
    result = report(probabilities, ["x", "y"], examples)
    assert result.top1 == 2 / 3 and result.top2 == 1.0
    assert result.per_language == {"en": (1.0, 1), "fr": (0.5, 2)}
    assert result.confusion == {"x": {"x": 1, "y": 0}, "y": {"x": 1, "y": 1}}


def test_held_out_development_set_is_routed_well_in_every_language(demo_catalog):
    """The development set is never fitted on: this is how routing does on unseen challenges."""
    examples = [
        Example(row["text"], row["topic"], row["language"])
        for path in sorted(DEV.glob("*.csv"))
        for row in csv.DictReader(path.open(encoding="utf-8"))
    ]
    assert len(examples) >= 240
    texts = {example.text for example in examples}
    assert not texts & {example.text for example in demo_catalog.examples}, "dev set leaked into training"
    classifier = TopicClassifier().fit(demo_catalog)
    result = report(classifier.predict_proba([e.text for e in examples]), classifier.topics_, examples)
    assert result.top1 >= 0.80
    assert min(accuracy for accuracy, _ in result.per_language.values()) >= 0.70
