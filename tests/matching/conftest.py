import pytest

from matching import Router, load_catalog
from matching.cli import DEMO_CATALOG


@pytest.fixture(scope="session")
def demo_catalog():
    return load_catalog(DEMO_CATALOG)


@pytest.fixture(scope="session")
def router(demo_catalog):
    return Router().fit(demo_catalog)
