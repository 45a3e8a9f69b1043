"""GPU facts: the NVIDIA GPUs the driver reports, and the ones on the PCI bus.

:class:`NvidiaSmiGpus` asks ``nvidia-smi`` (needs a working driver); :class:`PciNvidiaGpus`
reads ``lspci`` (needs no driver), so a host with a GPU but no driver — or a broken one —
is still recognised as a GPU host.  On Windows :class:`WinGpus` reads
``Win32_VideoController`` and the same nvidia-smi query, parsed by the same
:func:`parse_nvidia_smi_csv`.  Only what the host reports is kept: a compute capability
nvidia-smi did not print, or a model lspci did not name, is left to the resolver.
"""

from __future__ import annotations

import csv
import re

from tfprov import powershell as ps
from tfprov.facts.base import (
    TfprovFact,
    as_list,
    first_json,
    get_ci,
    leading_int,
    parse_wmi_records,
)

# --- nvidia-smi --query-gpu ------------------------------------------------------------

# What we ask for, in order; the parser picks columns by header name, never by position.
SMI_FIELDS = ("index", "name", "uuid", "pci.bus_id", "driver_version", "memory.total")
SMI_QUERY = ",".join(SMI_FIELDS)
WSL_NVIDIA_SMI = "/usr/lib/wsl/lib/nvidia-smi"

# Header aliases nvidia-smi accepts (``--help-query-gpu``: '"name" or "gpu_name"' ...).
_FIELD_ALIASES = {"gpu_name": "name", "gpu_uuid": "uuid", "gpu_bus_id": "pci.bus_id"}
_UNREPORTED = {
    "[n/a]",
    "n/a",
    "[not supported]",
    "[unknown error]",
    "[insufficient permissions]",
    "[gpu is lost]",
    "[requires reboot]",
    "",
}
_HEADER_CELL = re.compile(r"^[a-z_][a-z0-9_.]*(?: \[[^\]]*\])?$")
_REJECTED_FIELD = re.compile(r'^Field "[^"]+" is not a valid field to query\.?$')

# First line of nvidia-smi's failure messages -> state.  Order matters: first match wins.
_FAILURES = (
    ("couldn't communicate with the nvidia driver", "driver-unreachable"),
    ("driver not loaded", "driver-unreachable"),
    ("couldn't find libnvidia-ml", "driver-unreachable"),
    ("driver/library version mismatch", "version-mismatch"),
    ("no devices were found", "no-devices"),
)


def _field_name(header_cell: str) -> str:
    """'memory.total [MiB]' -> 'memory.total'; 'gpu_name' -> 'name'."""
    name = header_cell.strip().split(" [", 1)[0].strip().lower()
    return _FIELD_ALIASES.get(name, name)


def _value(text: str | None) -> str | None:
    if text is None:
        return None
    text = text.strip()
    return None if text.lower() in _UNREPORTED else text


def _int(text: str | None) -> int | None:
    """'8192 MiB' / '8192' -> 8192; unreported -> None."""
    text = _value(text)
    if text is None:
        return None
    m = re.match(r"^(\d+)", text)
    return int(m.group(1)) if m else None


def _is_header(cells: list[str]) -> bool:
    names = {_field_name(c) for c in cells}
    return bool(names & {"index", "name", "uuid", "pci.bus_id"}) and all(
        _HEADER_CELL.match(c.strip().lower()) for c in cells
    )


def classify_smi_failure(message: str) -> str:
    """The ``state`` of a failed nvidia-smi run from its message (see :class:`NvidiaSmiGpus`)."""
    low = message.lower()
    for needle, state in _FAILURES:
        if needle in low:
            return state
    return "error"


def parse_nvidia_smi_csv(lines: list[str]) -> list[dict]:
    """Parse ``nvidia-smi --query-gpu=... --format=csv`` (with its header line).

    Columns are found by header name, so any column order and any extra columns work
    (also the exporters' very wide captures); units in headers (``memory.total [MiB]``)
    and values (``8192 MiB``) and the ``nounits`` form are accepted; ``[N/A]`` and
    ``[Not Supported]`` become None.  A leading ``Field "compute_cap" is not a valid field
    to query.`` line (an old driver; the probe then re-ran the query without it) is skipped.

    Returns one dict per GPU: ``{"index", "name", "uuid", "pci_bus_id", "driver_version",
    "memory_mib", "compute_capability"}`` (compute_capability None where the output has no
    ``compute_cap`` column).  When nvidia-smi printed a failure instead of a table, returns
    ``[{"error": <first line of its message>, "state": <classify_smi_failure(...)>}]``;
    no output at all returns ``[]``.
    """
    text = [ln.strip() for ln in lines if ln.strip()]
    header: list[str] | None = None
    gpus: list[dict] = []
    for row in csv.reader(text, skipinitialspace=True):
        if header is None:
            if _is_header(row):
                header = [_field_name(c) for c in row]
            continue
        if len(row) != len(header):
            continue  # a warning line between rows, or a ragged line
        rec = dict(zip(header, row, strict=True))
        driver = _value(rec.get("driver_version"))
        if driver is None or driver.lower().startswith("deprecated"):
            driver = _value(rec.get("kmd_version")) or driver  # 610+: 'KMD version'
        gpus.append(
            {
                "index": _int(rec.get("index")),
                "name": _value(rec.get("name")),
                "uuid": _value(rec.get("uuid")),
                "pci_bus_id": _value(rec.get("pci.bus_id")),
                "driver_version": driver,
                "memory_mib": _int(rec.get("memory.total")),
                "compute_capability": _value(rec.get("compute_cap")),
            }
        )
    if header is not None:
        return gpus
    if not text:
        return []
    messages = [ln for ln in text if not _REJECTED_FIELD.match(ln)] or text
    return [{"error": messages[0], "state": classify_smi_failure(messages[0])}]


def nvidia_smi_command() -> str:
    """The probe: the query with ``compute_cap``; if the driver rejects that field, its
    message and then the same query without it.  nvidia-smi's stderr goes to stdout; the
    command prints nothing when nvidia-smi is absent and always exits 0."""
    full = f"--query-gpu={SMI_QUERY},compute_cap --format=csv"
    fallback = f"--query-gpu={SMI_QUERY} --format=csv"
    return (
        "_tf_smi=$(command -v nvidia-smi 2>/dev/null); "
        f'if [ -z "$_tf_smi" ] && [ -x {WSL_NVIDIA_SMI} ]; then _tf_smi={WSL_NVIDIA_SMI}; fi; '
        'if [ -n "$_tf_smi" ]; then '
        f'_tf_out=$("$_tf_smi" {full} 2>&1); '
        """printf '%s\\n' "$_tf_out"; """
        """case "$_tf_out" in *'"compute_cap" is not a valid field'*) """
        f'"$_tf_smi" {fallback} 2>&1;; esac; '
        "fi; true"
    )


class NvidiaSmiGpus(TfprovFact):
    """
    The GPUs the NVIDIA driver reports, from ``nvidia-smi --query-gpu`` (CSV, header
    included)::

        [{"index": 0, "name": "NVIDIA GeForce RTX 3070", "uuid": "GPU-...",
          "pci_bus_id": "00000000:01:00.0", "driver_version": "535.104.05",
          "memory_mib": 8192, "compute_capability": "8.6"}, ...]

    ``compute_capability`` comes from nvidia-smi's ``compute_cap`` field; drivers older
    than ~510 reject that field, the probe then re-runs the query without it and the
    value is None (the resolver derives it from the GPU's name: facts only observe).

    When nvidia-smi is installed but fails, the fact is one element describing why —
    this host has NVIDIA software, so it must not be taken for "no GPU"::

        [{"error": "Failed to initialize NVML: Driver/library version mismatch",
          "state": "version-mismatch"}]

    ``state`` is ``driver-unreachable`` ("NVIDIA-SMI has failed because it couldn't
    communicate with the NVIDIA driver...", "Driver Not Loaded", no libnvidia-ml),
    ``version-mismatch`` (kernel module and userspace differ, usually until a reboot),
    ``no-devices`` ("No devices were found") or ``error`` (anything else); ``error`` is
    the first line of nvidia-smi's message.

    + default: ``[]`` where nvidia-smi is not installed (also looked for at the WSL2
      path ``/usr/lib/wsl/lib/nvidia-smi``)

    .. code:: python

        from tfprov.facts.gpu import NvidiaSmiGpus, PciNvidiaGpus
        gpus = host.get_fact(NvidiaSmiGpus)
        if gpus and "error" in gpus[0]:
            ...  # driver broken: gpus[0]["state"] says how
        elif not gpus and host.get_fact(PciNvidiaGpus):
            ...  # GPU present, driver not installed
    """

    @staticmethod
    def default() -> list:
        return []

    def command(self) -> str:
        return nvidia_smi_command()

    def process(self, output: list[str]) -> list[dict]:
        return parse_nvidia_smi_csv(output)


# --- lspci ------------------------------------------------------------------------------

NVIDIA_VENDOR_ID = "10de"
# PCI base class 03 (display): VGA-compatible, 3D, other display controller
DISPLAY_CLASS_IDS = {
    "0300": "VGA compatible controller",
    "0302": "3D controller",
    "0380": "Display controller",
}
_DISPLAY_CLASS_NAMES = set(DISPLAY_CLASS_IDS.values())

_SLOT = r"(?P<slot>(?:[0-9a-fA-F]{4,8}:)?[0-9a-fA-F]{2}:[0-9a-fA-F]{2}\.[0-7])"
_NUMERIC = re.compile(
    _SLOT + r"\s+(?P<cls>[0-9a-fA-F]{4}):\s+(?P<ven>[0-9a-fA-F]{4}):"
    r"(?P<dev>[0-9a-fA-F]{4})\b"
)
_NAMED = re.compile(
    _SLOT + r"\s+(?P<clsname>[^:\[]+?)(?:\s+\[(?P<cls>[0-9a-fA-F]{4})\])?:"
    r"\s+(?P<desc>.*)$"
)
_IDS = re.compile(r"\[(?P<ven>[0-9a-fA-F]{4}):(?P<dev>[0-9a-fA-F]{4})\]")
_TAIL = re.compile(r"\s*\((?:rev [0-9a-fA-F]+|prog-if )")
_UNNAMED = re.compile(r"^Device(?:\s+(?P<dev>[0-9a-fA-F]{4}))?$")


def parse_lspci(lines: list[str]) -> list[dict]:
    """Parse ``lspci`` output in its plain, ``-n``, ``-nn`` and ``-D`` forms (and their
    combinations; indented ``-v``/``-k`` detail lines are ignored).

    Returns ``{"slot", "device_id", "name"}`` for every NVIDIA (vendor 10de) VGA/3D/display
    controller (class 0300/0302/0380), in output order: ``slot`` as printed (with the PCI
    domain under ``-D``); ``device_id`` four lowercase hex digits where the output has it
    (``-n``/``-nn``, or an old pci.ids' ``Device 1eb8``), else None; ``name`` the text lspci
    prints without the vendor, e.g. ``GM107M [GeForce GTX 850M]``, or None where lspci
    printed no name (``-n``, or a device its pci.ids does not know).
    """
    found: list[dict] = []
    for line in lines:
        if not line.strip() or line[:1].isspace():
            continue
        line = line.strip()
        m = _NUMERIC.match(line)
        if m:
            if (
                m.group("ven").lower() == NVIDIA_VENDOR_ID
                and m.group("cls").lower() in DISPLAY_CLASS_IDS
            ):
                found.append(
                    {"slot": m.group("slot"), "device_id": m.group("dev").lower(), "name": None}
                )
            continue
        m = _NAMED.match(line)
        if not m:
            continue
        cls, clsname, desc = m.group("cls"), m.group("clsname").strip(), m.group("desc")
        if cls is not None and cls.lower() not in DISPLAY_CLASS_IDS:
            continue
        if cls is None and clsname not in _DISPLAY_CLASS_NAMES:
            continue
        all_ids = list(_IDS.finditer(desc))
        ids = all_ids[-1] if all_ids else None  # the last [vvvv:dddd] is vendor:device
        if ids is not None:
            if ids.group("ven").lower() != NVIDIA_VENDOR_ID:
                continue
            device_id = ids.group("dev").lower()
            name = desc[: ids.start()]
        else:
            if not desc.startswith("NVIDIA Corporation"):
                continue
            device_id = None
            tail = _TAIL.search(desc)
            name = desc[: tail.start()] if tail else desc
        name = name.strip().removeprefix("NVIDIA Corporation").strip()
        unnamed = _UNNAMED.match(name)
        if unnamed:  # 'Device 1eb8' / 'Device [10de:1eb8]': pci.ids has no name for it
            device_id = device_id or (unnamed.group("dev") or "").lower() or None
            name = ""
        found.append({"slot": m.group("slot"), "device_id": device_id, "name": name or None})
    return found


class PciNvidiaGpus(TfprovFact):
    """
    NVIDIA GPUs on the PCI bus, from ``lspci`` — present whether or not a driver is
    installed or working::

        [{"slot": "0000:01:00.0", "device_id": "1b81", "name": "GP104 [GeForce GTX 1070]"}]

    ``name`` is what lspci prints (vendor dropped), None where lspci prints no name (a
    device newer than the host's pci.ids, shown as ``Device 2c02``): the resolver knows
    the model by its ``device_id``.

    + default: ``[]`` where lspci is absent (no pciutils) — which says nothing about GPUs

    .. code:: python

        from tfprov.facts.gpu import PciNvidiaGpus
        if host.get_fact(PciNvidiaGpus):
            ...  # an NVIDIA GPU is fitted: a GPU build is worth planning
    """

    @staticmethod
    def default() -> list:
        return []

    def command(self) -> str:
        return f"lspci -D -nn -d {NVIDIA_VENDOR_ID}: 2>/dev/null || true"

    def process(self, output: list[str]) -> list[dict]:
        return parse_lspci(output)


# --- Windows ----------------------------------------------------------------------------

# AdapterRAM is a uint32: cards with >= 4 GiB all report 0xFFF00000 (or wrap around)
_ADAPTER_RAM_SATURATED = 0xFFF00000

_PNP_IDS = re.compile(r"VEN_(?P<ven>[0-9A-Fa-f]{4})&DEV_(?P<dev>[0-9A-Fa-f]{4})")


def parse_windows_driver_version(text: str | None) -> str | None:
    """NVIDIA's driver number from the Windows (WDDM) driver version of an NVIDIA display
    driver: the last five digits of the last two fields, a dot before the final two —
    ``27.21.14.5671`` -> ``456.71``, ``32.0.15.6590`` -> ``565.90``.  Also accepts the
    zero-padded form dxdiag prints (``30.00.0014.7242``).  None for anything that is not
    four numeric fields."""
    if not text:
        return None
    parts = text.strip().split(".")
    if len(parts) != 4 or not all(p.isdigit() for p in parts):
        return None
    digits = str(int(parts[2])) + str(int(parts[3])).zfill(4)
    if len(digits) < 5:
        return None
    tail = digits[-5:]
    return f"{int(tail[:3])}.{tail[3:]}"


def _controllers(data, lines: list[str]) -> list[dict]:
    if isinstance(data, dict):
        return [c for c in as_list(data.get("controllers")) if isinstance(c, dict)]
    if isinstance(data, list):
        return [c for c in data if isinstance(c, dict)]
    return parse_wmi_records(lines)


def _is_nvidia(ctrl: dict) -> bool:
    pnp = get_ci(ctrl, "PNPDeviceID") or ""
    m = _PNP_IDS.search(pnp)
    if m:
        return m.group("ven").lower() == NVIDIA_VENDOR_ID
    compat = (get_ci(ctrl, "AdapterCompatibility") or "").strip()
    return compat.upper().startswith("NVIDIA") or (get_ci(ctrl, "Name") or "").startswith("NVIDIA")


def parse_win_gpu_probe(lines: list[str]) -> dict:
    """Parse :class:`WinGpus`' JSON (``{"controllers": [...], "smi": [lines] | null}``),
    or ``Win32_VideoController`` as ``Format-List`` / ``wmic /format:list`` text.

    Returns ``{"gpus": [...], "smi_error": str | None, "smi_state": str | None}``: one
    entry per NVIDIA adapter (``VEN_10DE`` in PNPDeviceID, else AdapterCompatibility
    NVIDIA), merged by name with nvidia-smi's rows; nvidia-smi rows without a display
    adapter (TCC-mode cards are no Win32_VideoController) are added after them.
    """
    data = first_json(lines)
    smi_lines = [str(x) for x in as_list(data.get("smi"))] if isinstance(data, dict) else []
    smi = parse_nvidia_smi_csv(smi_lines) if smi_lines else []
    smi_error = next((r for r in smi if "error" in r), None)
    rows = [r for r in smi if "error" not in r]

    gpus: list[dict] = []
    for ctrl in _controllers(data, lines):
        if not _is_nvidia(ctrl):
            continue
        m = _PNP_IDS.search(get_ci(ctrl, "PNPDeviceID") or "")
        win_driver = get_ci(ctrl, "DriverVersion")
        ram = leading_int(get_ci(ctrl, "AdapterRAM"))
        name = (get_ci(ctrl, "Name") or get_ci(ctrl, "Caption") or "").strip() or None
        gpu = {
            "name": name,
            "compute_capability": None,
            "memory_mib": ram // (1024 * 1024) if ram and ram < _ADAPTER_RAM_SATURATED else None,
            "pci_device_id": m.group("dev").lower() if m else None,
            "driver_version": parse_windows_driver_version(win_driver),
            "windows_driver_version": win_driver,
        }
        row = next(
            (r for r in rows if name and (r.get("name") or "").lower() == name.lower()), None
        )
        if row is not None:
            rows.remove(row)
            _merge_smi(gpu, row)
        gpus.append(gpu)
    for row in rows:
        gpu = {
            "name": row.get("name"),
            "compute_capability": None,
            "memory_mib": None,
            "pci_device_id": None,
            "driver_version": None,
            "windows_driver_version": None,
        }
        _merge_smi(gpu, row)
        gpus.append(gpu)
    return {
        "gpus": gpus,
        "smi_error": smi_error["error"] if smi_error else None,
        "smi_state": smi_error["state"] if smi_error else None,
    }


def _merge_smi(gpu: dict, row: dict) -> None:
    gpu["compute_capability"] = row.get("compute_capability") or gpu["compute_capability"]
    gpu["memory_mib"] = row.get("memory_mib") or gpu["memory_mib"]
    gpu["driver_version"] = row.get("driver_version") or gpu["driver_version"]


_SMI_FULL = f"'--query-gpu={SMI_QUERY},compute_cap'"
_SMI_FALLBACK = f"'--query-gpu={SMI_QUERY}'"

WIN_GPU_SCRIPT = (
    ps.OBSERVE_PRELUDE
    + "$ctrls = @(Get-CimInstance -ClassName Win32_VideoController | ForEach-Object {\n"
    "  [ordered]@{ Name = $_.Name; AdapterCompatibility = $_.AdapterCompatibility;\n"
    "    PNPDeviceID = $_.PNPDeviceID; DriverVersion = $_.DriverVersion; AdapterRAM ="
    " $_.AdapterRAM }\n"
    "})\n"
    "$smi = $null\n"
    "$exe = (Get-Command -Name 'nvidia-smi.exe' -CommandType Application | Select-Object -First"
    " 1).Source\n"
    "if (-not $exe) {\n"
    "  foreach ($c in @((Join-Path $env:SystemRoot 'System32\\nvidia-smi.exe'),\n"
    "      (Join-Path $env:ProgramFiles 'NVIDIA Corporation\\NVSMI\\nvidia-smi.exe'))) {\n"
    "    if (Test-Path -LiteralPath $c) { $exe = $c; break }\n"
    "  }\n"
    "}\n"
    "if ($exe) {\n"
    f"  $smi = @(& $exe {_SMI_FULL} '--format=csv' 2>&1 | ForEach-Object {{ \"$_\" }})\n"
    '  if (($smi -join "`n") -like \'*"compute_cap" is not a valid field*\') {\n'
    f"    $smi += @(& $exe {_SMI_FALLBACK} '--format=csv' 2>&1 | ForEach-Object {{ \"$_\" }})\n"
    "  }\n"
    "}\n"
    "ConvertTo-Json -Compress -Depth 4 -InputObject ([ordered]@{ controllers = $ctrls; smi ="
    " $smi })\n"
)


class WinGpus(TfprovFact):
    """
    The NVIDIA GPUs of a Windows host::

        [{"name": "NVIDIA GeForce RTX 3050 Ti Laptop GPU", "compute_capability": "8.6",
          "memory_mib": 4096, "pci_device_id": "25a0", "driver_version": "565.90",
          "windows_driver_version": "32.0.15.6590"}]

    From ``Win32_VideoController`` (Name, PNPDeviceID ``VEN_10DE&DEV_xxxx``,
    DriverVersion, AdapterRAM) and, when installed, ``nvidia-smi.exe --query-gpu``
    (parsed by :func:`parse_nvidia_smi_csv`), whose compute capability,
    memory and driver version win.  ``driver_version`` is in NVIDIA's numbering (converted
    from the Windows one without nvidia-smi); ``memory_mib`` is None when only the
    saturated uint32 AdapterRAM (>= 4 GiB cards) is known; compute capability is None
    without nvidia-smi (the resolver derives it from the name or PCI id).

    + default: ``[]``
    """

    @staticmethod
    def default() -> list:
        return []

    def command(self) -> str:
        return WIN_GPU_SCRIPT

    def process(self, output: list[str]) -> list[dict]:
        return parse_win_gpu_probe(output)["gpus"]
