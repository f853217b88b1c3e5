"""What only the GCS lake has to get right, against the real emulator: chunked uploads, prefixes, ingest.

The `gcs` fixture (conftest.py) is one fake-gcs-server for the session; each test takes a fresh bucket.
Tests named test_emulator_* pin what fake-gcs-server does differently from GCS, so a gap stays visible.
"""

import gc
import gzip
import itertools
import json
import os

import luigi
import pytest
from google.api_core.exceptions import PreconditionFailed
from google.cloud import storage

from bench.dumpserver import DumpServer
from lake import open_lake
from lake.gcs import GcsLake
from tasks.ingest import IngestDump
from tests.pipeline_helpers import (
    DUMPS,
    RELEASE,
    luigi_config,
    pipeline_settings,
    sample_release,
    source_lines,
)

CHUNK = 256 * 1024
_buckets = itertools.count()


@pytest.fixture
def bucket(gcs: storage.Client) -> storage.Bucket:
    return gcs.create_bucket(f"gcs-lake-{next(_buckets)}")


@pytest.fixture
def lake(gcs: storage.Client, bucket: storage.Bucket) -> GcsLake:
    return GcsLake(f"gs://{bucket.name}/lake", chunk_bytes=CHUNK, client=gcs)


def names(gcs: storage.Client, bucket: storage.Bucket) -> list[str]:
    return sorted(blob.name for blob in gcs.list_blobs(bucket.name))


def test_a_gs_root_opens_a_gcs_lake_with_its_own_client(gcs: storage.Client, bucket: storage.Bucket) -> None:
    lake = open_lake(f"gs://{bucket.name}/lake/", upload_chunk_bytes=CHUNK)
    assert isinstance(lake, GcsLake)
    assert lake.url("raw", "r") == f"gs://{bucket.name}/lake/raw/r"
    lake.write_json({"ok": True}, "raw", "r", "_MANIFEST.json")  # through the client open_lake built
    assert bucket.blob("lake/raw/r/_MANIFEST.json").download_as_bytes() == b'{\n  "ok": true\n}'


def test_chunks_must_be_multiples_of_256_kib(gcs: storage.Client) -> None:
    with pytest.raises(ValueError, match="multiple of 262144"):
        GcsLake("gs://b/lake", chunk_bytes=100_000, client=gcs)
    with pytest.raises(ValueError, match="not a gs:// URL"):
        GcsLake("/tmp/lake", client=gcs)


def test_a_multi_chunk_upload_is_invisible_until_closed_and_arrives_byte_identical(
    lake: GcsLake, bucket: storage.Bucket
) -> None:
    payload = os.urandom(4 * CHUNK + 12345)  # ~1 MB: four full chunks and a short last one
    with lake.open_write("raw", "part-00000.txt.gz") as out:
        for start in range(0, len(payload), 100_000):
            out.write(payload[start : start + 100_000])
        assert out.tell() == len(payload)
        assert not lake.exists("raw", "part-00000.txt.gz")  # four chunks sent, upload not finalised
    assert bucket.blob("lake/raw/part-00000.txt.gz").download_as_bytes() == payload
    with lake.open_read("raw", "part-00000.txt.gz") as stream:  # read back in chunk-sized range requests
        assert stream.read(CHUNK + 1) == payload[: CHUNK + 1]
        assert stream.read() == payload[CHUNK + 1 :]


def test_a_gzip_stream_can_be_written_through_the_lake(lake: GcsLake) -> None:
    """GzipFile flushes its file object; the writer accepts that without finalising early."""
    with lake.open_write("raw", "part.txt.gz") as out, gzip.GzipFile(fileobj=out, mode="wb") as packed:
        packed.write(b"line\n" * 1000)
        packed.flush()
    with lake.open_read("raw", "part.txt.gz") as stream:
        assert gzip.decompress(stream.read()) == b"line\n" * 1000


def test_a_failed_multi_chunk_upload_leaves_no_object(
    lake: GcsLake, gcs: storage.Client, bucket: storage.Bucket
) -> None:
    with pytest.raises(ConnectionError), lake.open_write("raw", "part-00000.txt.gz") as out:
        out.write(os.urandom(3 * CHUNK))  # three chunks are already uploaded when the error comes
        raise ConnectionError("source dropped")
    assert not lake.exists("raw", "part-00000.txt.gz")
    assert names(gcs, bucket) == []


def test_a_failed_rewrite_keeps_the_previous_object(lake: GcsLake) -> None:
    lake.write_json({"version": 1}, "raw", "r", "_MANIFEST.json")
    with pytest.raises(ConnectionError), lake.open_write("raw", "r", "_MANIFEST.json") as out:
        out.write(b"{half")
        raise ConnectionError("dropped")
    assert lake.read_json("raw", "r", "_MANIFEST.json") == {"version": 1}


def test_a_writer_dropped_unclosed_publishes_nothing(lake: GcsLake, gcs: storage.Client, bucket) -> None:
    out = lake.target("raw", "part").open("w")
    out.write(os.urandom(CHUNK + 1))
    del out
    gc.collect()
    assert names(gcs, bucket) == []


def test_a_target_writes_like_a_luigi_file(lake: GcsLake) -> None:
    """Luigi code may open("w"), write and close() without a `with` block: close() publishes."""
    target = lake.target("reports", "r", "report.json")
    out = target.open("w")
    out.write(b"{}")
    assert not target.exists()
    out.close()
    assert target.exists()
    with target.open("r") as stream:
        assert stream.read() == b"{}"
    with pytest.raises(ValueError, match="mode"):
        target.open("a")


def test_reading_a_missing_object_is_file_not_found(lake: GcsLake) -> None:
    with pytest.raises(FileNotFoundError):
        lake.open_read("raw", "absent")


def test_a_folder_does_not_list_or_remove_its_namesakes(
    lake: GcsLake, gcs: storage.Client, bucket: storage.Bucket
) -> None:
    for name in ("works/part-00000.txt.gz", "works/sub/part-00001.txt.gz", "works-old/part-00000.txt.gz"):
        with lake.open_write("raw", "r", name) as out:
            out.write(b"x")
    lake.write_json({}, "raw", "r", "works.json")
    bucket.blob("lake/raw/r/works/").upload_from_string(b"")  # a folder placeholder, as consoles create
    assert lake.listdir("raw", "r", "works") == [
        f"gs://{bucket.name}/lake/raw/r/works/part-00000.txt.gz",
        f"gs://{bucket.name}/lake/raw/r/works/sub/part-00001.txt.gz",
    ]
    assert lake.fs.isdir(lake.url("raw", "r", "works"))
    assert not lake.fs.isdir(lake.url("raw", "r", "works.json"))
    assert lake.exists("raw", "r", "works")
    assert not lake.exists("raw", "r", "work")  # a name prefix is not a folder
    lake.remove("raw", "r", "works")
    assert names(gcs, bucket) == ["lake/raw/r/works-old/part-00000.txt.gz", "lake/raw/r/works.json"]


def test_remove_of_a_folder_needs_recursive(lake: GcsLake) -> None:
    with lake.open_write("curated", "r", "works", "a.parquet") as out:
        out.write(b"x")
    with pytest.raises(luigi.target.FileSystemException, match="recursive"):
        lake.fs.remove(lake.url("curated", "r", "works"), recursive=False)
    lake.fs.remove(lake.url("curated", "r", "works", "a.parquet"), recursive=False)
    assert not lake.exists("curated")


def test_the_bucket_root_is_a_folder(gcs: storage.Client, bucket: storage.Bucket) -> None:
    lake = GcsLake(f"gs://{bucket.name}", chunk_bytes=CHUNK, client=gcs)
    assert not lake.exists()
    lake.write_json([], "a.json")
    assert lake.exists()
    assert lake.listdir() == [f"gs://{bucket.name}/a.json"]
    with pytest.raises(ValueError, match="lake root"):
        lake.remove()
    for root in (f"gs://{bucket.name}", f"gs://{bucket.name}/", f"gs://{bucket.name}//"):
        with pytest.raises(luigi.target.FileSystemException, match="root of bucket"):
            lake.fs.remove(root)
    assert names(gcs, bucket) == ["a.json"]


def test_json_documents_are_stored_as_plain_objects(lake: GcsLake, bucket: storage.Bucket) -> None:
    document = {"lines": 3, "parts": [{"path": "part-00000.txt.gz", "md5": "0" * 32}]}
    lake.write_json(document, "raw", "r", "_MANIFEST.json")
    assert json.loads(bucket.blob("lake/raw/r/_MANIFEST.json").download_as_bytes()) == document
    assert lake.read_json("raw", "r", "_MANIFEST.json") == document


def test_the_sample_release_ingests_into_gcs(gcs: storage.Client, bucket: storage.Bucket, tmp_path) -> None:
    """HTTP -> GCS with nothing staged locally: every dump, in 256 KiB resumable-upload chunks."""
    noise = [  # incompressible titles, so the works part is bigger than one upload chunk once gzipped
        f'/type/work\t/works/OL{n}X\t1\t2020-01-01T00:00:00\t{{"title": "{os.urandom(100).hex()}"}}\n'
        for n in range(3000)
    ]
    source = sample_release(tmp_path / "source", {"works": noise})
    root = f"gs://{bucket.name}/lake"
    with DumpServer(source, release=RELEASE, dumps=DUMPS) as server:
        settings = pipeline_settings(server.url, tmp_path / "unused")
        settings["lake"] = {"root": root, "upload_chunk_kib": "256"}
        settings["ingest"]["part_mb"] = "1"  # the works dump: parts spanning several upload chunks
        with luigi_config(settings):
            tasks = [IngestDump(release=RELEASE, dump=dump) for dump in DUMPS]
            assert luigi.build(tasks, local_scheduler=True, workers=1)
    lake = open_lake(root)
    for dump in DUMPS:
        manifest = lake.read_json("raw", RELEASE, dump, "_MANIFEST.json")
        content = b"".join(
            gzip.decompress(bucket.blob(f"lake/raw/{RELEASE}/{dump}/{part['path']}").download_as_bytes())
            for part in manifest["parts"]
        )
        assert content.decode("utf-8").splitlines() == source_lines(source, dump), dump
    works_part = bucket.get_blob(f"lake/raw/{RELEASE}/works/part-00000.txt.gz")
    assert works_part.size > CHUNK


def test_why_the_lake_writes_binary_a_text_writer_commits_on_error(bucket: storage.Bucket) -> None:
    """google-cloud-storage's text-mode writer publishes a half-written object when its block raises;
    the binary writer (under the lake's) cancels the upload. This pins the library behaviour we rely on."""
    text = bucket.blob("half-written.txt")
    with pytest.raises(ConnectionError), text.open("w") as out:
        out.write("half a part")
        raise ConnectionError("dropped")
    assert text.exists()
    binary = bucket.blob("half-written.bin")
    with pytest.raises(ConnectionError), binary.open("wb", chunk_size=CHUNK) as out:
        out.write(b"half a part" * CHUNK)
        raise ConnectionError("dropped")
    assert not binary.exists()


def test_emulator_gap_create_only_is_ignored_on_resumable_uploads(
    lake: GcsLake, bucket: storage.Bucket
) -> None:
    """Known gap: fake-gcs-server 1.54 ignores if_generation_match on resumable uploads; real GCS answers
    412 and the writer's close() raises. So the lake's create-only write can't be proven here.

    Simple uploads show the emulator does honour the precondition elsewhere."""
    lake.write_json({"version": 1}, "_MANIFEST.json")
    with pytest.raises(PreconditionFailed):
        bucket.blob("lake/_MANIFEST.json").upload_from_string(b"{}", if_generation_match=0)
    with lake.fs.open_write(lake.url("_MANIFEST.json"), create_only=True) as out:
        out.write(b'{"version": 2}')  # real GCS refuses this: the object exists
    assert lake.read_json("_MANIFEST.json") == {"version": 2}
