"""The Luigi graph: `luigi --module tasks OpenLibraryPipeline --release latest`.

OpenLibraryPipeline -> RunReport -> BuildMarts -> TransformDump(dump) -> IngestDump(dump).
"""

from tasks.command import prepare_command
from tasks.config import is_luigi_command
from tasks.ingest import IngestDump
from tasks.marts import BuildMarts
from tasks.pipeline import OpenLibraryPipeline
from tasks.report import RunReport
from tasks.transform import TransformDump

# Importing changes no setting, except in `luigi --module tasks ...`: there .env and SECTION_KEY variables
# apply, before any task reads its configuration, and the settings are checked (tasks/command.py).
if is_luigi_command():
    prepare_command([BuildMarts, IngestDump, OpenLibraryPipeline, RunReport, TransformDump])

__all__ = ["BuildMarts", "IngestDump", "OpenLibraryPipeline", "RunReport", "TransformDump"]
