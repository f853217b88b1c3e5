"""The Luigi graph: `luigi --module tasks OpenLibraryPipeline --release latest`.

OpenLibraryPipeline -> RunReport -> BuildMarts -> TransformDump(dump) -> IngestDump(dump).
"""

from tasks.config import apply_environment
from tasks.ingest import IngestDump
from tasks.marts import BuildMarts
from tasks.pipeline import OpenLibraryPipeline
from tasks.report import RunReport
from tasks.transform import TransformDump

apply_environment()  # .env and SECTION_KEY variables, before any task reads its configuration

__all__ = ["BuildMarts", "IngestDump", "OpenLibraryPipeline", "RunReport", "TransformDump"]
