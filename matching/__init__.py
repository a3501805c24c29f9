"""Pure routing and assignment for Peer Clinic: no Streamlit, no database, no I/O in estimators."""

from matching.catalog import Catalog, Example, Expert, Language, Table, Topic, load_catalog
from matching.router import Route, Router, TopicClassifier

__all__ = [
    "Catalog",
    "Example",
    "Expert",
    "Language",
    "Route",
    "Router",
    "Table",
    "Topic",
    "TopicClassifier",
    "load_catalog",
]
