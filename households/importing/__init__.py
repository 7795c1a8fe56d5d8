"""Excel/CSV import and export of the templates of data.md (see docs/templates.md).

``run_import(kind, file, user=…, dry_run=…, job=…, progress=…)`` and ``export_kind(kind, file, …)``
are the entry points for the commands, the web page and the task queue.
"""

from households.importing import kinds  # noqa: F401  (the registry's own templates register on import)
from households.importing.base import RowError
from households.importing.engine import ImportResult, PermissionRefused, run_import
from households.importing.export import export_kind
from households.importing.readers import FileError
from households.importing.registry import get_kind, kind_names, register

__all__ = [
    "run_import",
    "export_kind",
    "ImportResult",
    "RowError",
    "FileError",
    "PermissionRefused",
    "get_kind",
    "kind_names",
    "register",
]
