"""Where pip downloads from, as one value: the index, an extra index, find-links, or no
index at all.  Apply builds it once from the host's download sources; every pip run and
every env's pip configuration (Linux and Windows, venv and conda) is written from it."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit


@dataclass(frozen=True)
class PipIndex:
    index_url: str | None = None
    extra_index_url: str | None = None
    find_links: str | None = None
    no_index: bool = False

    @classmethod
    def of(cls, sources: dict) -> PipIndex:
        """From a host's resolved download sources (:func:`tfprov.model.sources.sources_for`)."""
        return cls(
            index_url=sources.get("pip_index_url"),
            extra_index_url=sources.get("pip_extra_index_url"),
            find_links=sources.get("pip_find_links"),
            no_index=sources.get("pip_no_index") is True,
        )

    def args(self) -> list[str]:
        """``pip install`` arguments (unquoted) that say the same as :meth:`conf`."""
        args = ["--no-input", "--disable-pip-version-check"]
        if self.no_index:
            args.append("--no-index")
        elif self.index_url:
            args += ["--index-url", self.index_url]
        if self.extra_index_url and not self.no_index:
            args += ["--extra-index-url", self.extra_index_url]
        if self.find_links:
            args += ["--find-links", self.find_links]
        for host in self.trusted_hosts():
            args += ["--trusted-host", host]
        return args

    def trusted_hosts(self) -> list[str]:
        """pip ignores plain-http sources unless their host is trusted; a lab's artifact
        server on http is configured on purpose, so exactly those hosts are trusted."""
        urls = (self.index_url, self.extra_index_url, self.find_links)
        return sorted(
            {
                urlsplit(u).hostname
                for u in urls
                if u and u.startswith("http://") and urlsplit(u).hostname
            }
        )

    def conf(self) -> str:
        """The ``pip.conf`` / ``pip.ini`` text for an env."""
        lines = ["[global]"]
        if self.no_index:
            lines.append("no-index = true")
        elif self.index_url:
            lines.append(f"index-url = {self.index_url}")
        if self.extra_index_url and not self.no_index:
            lines.append(f"extra-index-url = {self.extra_index_url}")
        if self.find_links:
            lines.append(f"find-links = {self.find_links}")
        plain = self.trusted_hosts()
        if plain:
            lines.append(f"trusted-host = {' '.join(plain)}")
        lines.append("disable-pip-version-check = true")
        return "\n".join(lines) + "\n"
