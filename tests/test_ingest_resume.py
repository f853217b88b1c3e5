"""IngestDump over a connection that keeps dropping: the raw parts equal those of an undisturbed run."""

import json
import random
from pathlib import Path

import luigi

from tasks.ingest import IngestDump
from tests.dumpserver import DumpServer
from tests.pipeline_helpers import DUMPS, RELEASE, luigi_config, pipeline_settings, sample_release

NAME = f"ol_dump_works_{RELEASE}.txt.gz"


def ingest(server: DumpServer, lake: Path) -> dict[str, bytes]:
    with luigi_config(pipeline_settings(server.url, lake)):
        assert luigi.build([IngestDump(release=RELEASE, dump="works")], local_scheduler=True, workers=1)
    raw = lake / "raw" / RELEASE / "works"
    return {path.name: path.read_bytes() for path in sorted(raw.iterdir())}


def test_resumed_ingest_is_byte_identical_to_an_undisturbed_one(tmp_path: Path) -> None:
    source = sample_release(tmp_path / "source")
    size = (source / NAME).stat().st_size
    cuts = sorted(random.Random(2026).sample(range(1, size), 7))
    with DumpServer(source, release=RELEASE, dumps=DUMPS) as server:
        undisturbed = ingest(server, tmp_path / "clean")
        server.cuts[NAME] = list(cuts)
        resumed = ingest(server, tmp_path / "dropped")
        ranges = [r.headers.get("Range") for r in server.requests if r.path.endswith(NAME)][-8:]
    assert ranges == [None, *(f"bytes={cut}-" for cut in cuts)]
    assert resumed.keys() == undisturbed.keys()
    assert len(resumed) > 2  # parts and the manifest
    for name, content in undisturbed.items():
        if name != "_MANIFEST.json":
            assert resumed[name] == content, name
    timing = {"started_at", "duration_s"}
    clean, dropped = (json.loads(parts["_MANIFEST.json"]) for parts in (undisturbed, resumed))
    assert {k: v for k, v in dropped.items() if k not in timing} == {
        k: v for k, v in clean.items() if k not in timing
    }
