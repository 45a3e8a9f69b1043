"""The resolver's memo tables, in one explicit object.

Every table is keyed by the values its answer depends on (tuples of strings, numbers and
booleans), never by object identity, so an answer cannot outlive the inputs it was
computed for.  A cache belongs to one catalog: it keeps a reference to it, and
:func:`cache_for` hands out a fresh cache when another catalog is passed.
"""

from __future__ import annotations

from tfprov.catalog import Catalog


class ResolverCache:
    """Derived look-ups shared by resolver calls on one catalog (see each table's key)."""

    def __init__(self, catalog: Catalog):
        self.catalog = catalog
        # what platform_of reads of a profile (platform_key) -> its OsView
        self.platform: dict[tuple, object] = {}
        # spec.tensorflow -> matching releases, newest first
        self.candidates: dict[str, list] = {}
        # build group (wheel platform, venv only, cuda_source, community, tensorflow) ->
        #   {(minor, variant): builds}
        self.builds: dict[tuple, dict[tuple, tuple]] = {}
        # host gate signature -> {build gate key: passes}
        self.gate: dict[tuple, dict[tuple, bool]] = {}
        # (build group, host gate signature, variant, minors) -> builds passing the gate
        self.passing: dict[tuple, list] = {}
        # (driver column, driver need, architectures) -> driver branch or None
        self.branch: dict[tuple, object] = {}
        # (conda recipe OS, release version) -> conda recipe or None
        self.conda_recipe: dict[tuple, object] = {}
        # wheel platform -> minors with a non-AVX build
        self.non_avx: dict[str, set[str]] = {}
        # (package, minor, wheel platform) -> glibc / macOS floor of its wheels, or None
        self.libc_floor: dict[tuple, str | None] = {}
        self.wheel_rows: dict[tuple, object] | None = None  # (package, minor) -> wheels row


_DEFAULT: ResolverCache | None = None


def cache_for(catalog: Catalog) -> ResolverCache:
    """The module's shared cache for ``catalog`` (replaced when the catalog changes)."""
    global _DEFAULT
    if _DEFAULT is None or _DEFAULT.catalog is not catalog:
        _DEFAULT = ResolverCache(catalog)
    return _DEFAULT
