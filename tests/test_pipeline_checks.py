"""OpenLibraryPipeline's checks before anything runs: each dump file is asked about at the source once per
scheduling, though luigi asks the wrapper for its requirements twice (complete(), then deps())."""

from collections import Counter
from pathlib import Path

from bench.dumpserver import DumpServer
from tasks.pipeline import OpenLibraryPipeline
from tests.pipeline_helpers import DUMPS, RELEASE, luigi_config, pipeline_settings, sample_release


def test_scheduling_the_pipeline_asks_the_source_about_each_file_once(tmp_path: Path) -> None:
    source = sample_release(tmp_path / "source")
    with DumpServer(source, release=RELEASE, dumps=DUMPS) as server:
        with luigi_config(pipeline_settings(server.url, tmp_path / "lake")):
            pipeline = OpenLibraryPipeline(release=RELEASE)
            assert not pipeline.complete()  # what luigi's worker asks first ...
            (report,) = pipeline.deps()  # ... and then, the task being incomplete
            assert OpenLibraryPipeline(release=RELEASE).deps() == [report]  # the same (cached) task
        asked = Counter((request.method, request.path) for request in server.requests)
    assert asked == Counter({("HEAD", f"/data/ol_dump_{dump}_{RELEASE}.txt.gz"): 1 for dump in DUMPS})
