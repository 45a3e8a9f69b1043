"""Files on a host: whether one exists, its sha256 (Windows; pyinfra's own
``files`` facts cover Linux)."""

from __future__ import annotations

from tfprov import powershell as ps
from tfprov.facts.base import TfprovFact

# -- Windows -------------------------------------------------------------------------------


class WinFileExists(TfprovFact):
    """Whether a file exists (``Test-Path -PathType Leaf``)."""

    @staticmethod
    def default() -> bool:
        return False

    def command(self, path: str) -> str:
        return f"Test-Path -LiteralPath {ps.quote(path)} -PathType Leaf"

    def process(self, output: list[str]) -> bool:
        return bool(output) and output[-1].strip().lower() == "true"


class WinFileSha256(TfprovFact):
    """A file's sha256 (lower-case hex), or None when there is no such file."""

    @staticmethod
    def default() -> None:
        return None

    def command(self, path: str) -> str:
        return (
            f"if (Test-Path -LiteralPath {ps.quote(path)} -PathType Leaf) {{ "
            f"(Get-FileHash -LiteralPath {ps.quote(path)} -Algorithm SHA256).Hash }}"
        )

    def process(self, output: list[str]) -> str | None:
        value = "".join(output).strip().lower()
        return value if ps.SHA256.match(value) else None
