"""The Luigi graph: `luigi --module tasks OpenLibraryPipeline --release latest`.

OpenLibraryPipeline -> RunReport -> BuildMarts -> TransformDump(dump) -> IngestDump(dump).
"""

from tasks.config import apply_environment, is_luigi_command
from tasks.ingest import IngestDump
from tasks.marts import BuildMarts
from tasks.pipeline import OpenLibraryPipeline
from tasks.report import RunReport
from tasks.transform import TransformDump

# Importing changes no setting, except in `luigi --module tasks ...`: there .env and SECTION_KEY variables
# apply, before any task reads its configuration.
if is_luigi_command():
    apply_environment()

__all__ = ["BuildMarts", "IngestDump", "OpenLibraryPipeline", "RunReport", "TransformDump"]
