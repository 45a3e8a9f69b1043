"""The C library fact, and how it reaches the host profile."""

from tfprov.facts.profile import process_sections, profile_from_facts
from tfprov.facts.system import CLibrary, parse_c_library
from tfprov.model.profile import HostProfile


def test_glibc_ldd_banner_without_distro_tag():
    # glibc's own ldd prints "ldd (GNU libc) <version>" when built without a package tag
    # (its ldd.bash.in: PKGVERSION defaults to "(GNU libc) "), as CentOS 7's does
    got = parse_c_library(["ldd (GNU libc) 2.17", "Copyright (C) 2012 Free Software Foundation"])
    assert got == {"libc": "glibc", "version": "2.17", "macos": None}


def test_macos_product_version_and_nothing_known():
    # `sw_vers -productVersion` prints the bare version; ldd is absent on macOS
    got = parse_c_library(["sh: ldd: command not found", "14.4.1"])
    assert got == {"libc": None, "version": None, "macos": "14.4.1"}
    assert parse_c_library([]) == CLibrary.default()


def test_the_profile_carries_the_c_library_and_the_macos_version():
    linux = profile_from_facts({"kernel": "Linux", "libc": {"libc": "musl", "version": "1.2.3"}})
    assert HostProfile.model_validate(linux).libc.model_dump() == {
        "name": "musl",
        "version": "1.2.3",
    }
    mac = profile_from_facts({"kernel": "Darwin", "libc": {"macos": "14.4.1"}})
    assert (mac["os"]["family"], mac["os"]["version"], mac["libc"]) == ("darwin", "14.4.1", None)
    unknown = profile_from_facts(process_sections([]))
    assert unknown["libc"] is None
