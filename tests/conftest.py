"""Shared fixtures: one local SparkSession and one GCS emulator for the whole run."""

import os
from collections.abc import Iterator

import pytest
from google.cloud import storage
from pyspark.sql import SparkSession

from lake.gcs import storage_client
from tests.gcs_emulator import gcs_emulator


@pytest.fixture(scope="session")
def spark() -> Iterator[SparkSession]:
    session = (
        SparkSession.builder.master("local[2]")
        .appName("tests")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.shuffle.partitions", "2")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


@pytest.fixture(scope="session")
def gcs() -> Iterator[storage.Client]:
    """One emulator for the session; STORAGE_EMULATOR_HOST points the real client at it."""
    with gcs_emulator() as url:
        previous = os.environ.get("STORAGE_EMULATOR_HOST")
        os.environ["STORAGE_EMULATOR_HOST"] = url
        try:
            yield storage_client()
        finally:
            if previous is None:
                os.environ.pop("STORAGE_EMULATOR_HOST")
            else:
                os.environ["STORAGE_EMULATOR_HOST"] = previous
