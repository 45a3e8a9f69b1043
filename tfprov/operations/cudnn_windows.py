"""cuDNN on Windows: the pinned zip's ``bin``, ``include`` and ``lib`` are copied into the
CUDA toolkit directory (NVIDIA, "Installing cuDNN on Windows", tarball/zip installation)
or into a directory of their own, conventionally ``C:\\Program Files\\NVIDIA\\CUDNN\\v<version>``.
"""

from __future__ import annotations

from pyinfra import host
from pyinfra.api import OperationError, OperationValueError, operation

from tfprov import powershell as ps
from tfprov.facts.cuda import WinCudaToolkits, WinCudnnAt
from tfprov.operations.cuda_windows import CUDA_ROOT, installed_toolkit
from tfprov.operations.windows_args import win_path, xy_of

CUDNN_ROOT = r"C:\Program Files\NVIDIA\CUDNN"


def cudnn_own_dir(version: str) -> str:
    """``C:\\Program Files\\NVIDIA\\CUDNN\\v<major.minor>``, where NVIDIA's cuDNN installer
    puts cuDNN; pass it as ``target_dir`` to keep cuDNN out of the toolkit directory."""
    return f"{CUDNN_ROOT}\\v{xy_of(version, 'cuDNN version')}"


@operation()
def cudnn(
    version: str,
    cuda_version: str,
    zip_url: str,
    sha256: str,
    target_dir: str | None = None,
):
    """
    Install cuDNN from NVIDIA's Windows zip into the CUDA ``X.Y`` toolkit directory, or into
    ``target_dir``.

    + version: ``"8.1"``, ``"8.1.1"`` or ``"8.1.1.33"``: the installed headers must match
      the parts given (the fourth, the build, is not in the headers)
    + cuda_version: the toolkit it is for (``"11.2"``); it must be installed unless
      ``target_dir`` is given
    + zip_url: ``cudnn-11.2-windows-x64-v8.1.1.33.zip`` /
      ``cudnn-windows-x86_64-8.9.7.29_cuda12-archive.zip``, URL or local/UNC path
    + sha256: the zip's sha256, checked before it is unpacked
    + target_dir: a directory of its own, e.g. :func:`cudnn_own_dir` (then put its ``bin`` on
      the PATH with :func:`machine_path`)

    The zip's ``bin``, ``include`` and ``lib`` (found next to ``cudnn*.h`` wherever the zip
    nests them: ``cuda\\`` in cuDNN 8.1, ``cudnn-windows-…-archive\\`` later) are copied file by
    file over the target.  Nothing is done when the target's ``include`` holds cuDNN
    ``version`` (WinCudnnAt fact).
    """
    parts = str(version).strip().split(".")
    if len(parts) < 2 or not all(p.isdigit() for p in parts):
        raise OperationValueError(
            f'cuDNN version must look like "8.1" or "8.1.1.33", got {version!r}'
        )
    xy = xy_of(cuda_version, "cuda_version")
    sha256 = ps.checked_sha256(sha256, f"the cuDNN archive {zip_url}")
    if target_dir:
        dest = win_path(target_dir, "target_dir")
    else:
        tk = installed_toolkit(host.get_fact(WinCudaToolkits), xy)
        if not tk:
            raise OperationError(f"CUDA {xy} is not installed: install it first or give target_dir")
        dest = str(tk.get("path") or f"{CUDA_ROOT}\\v{xy}").rstrip("\\")
    have = host.get_fact(WinCudnnAt, path=dest)
    if have and have.split(".")[: min(len(parts), 3)] == parts[:3]:
        host.noop(f"cuDNN {have} is installed in {dest}")
        return
    tmp = f"tfprov-cudnn-{sha256[:12]}"
    want = ".".join(parts[:3])
    yield ps.script(
        *ps.fetch_verified(zip_url, sha256, "cudnn.zip"),
        f"$tmp = Join-Path $env:TEMP {ps.quote(tmp)}",
        "if (Test-Path -LiteralPath $tmp) { Remove-Item -LiteralPath $tmp -Recurse -Force }",
        "Expand-Archive -LiteralPath $file -DestinationPath $tmp -Force",
        "$hdr = Get-ChildItem -LiteralPath $tmp -Recurse -File |",
        "    Where-Object { $_.Name -eq 'cudnn_version.h' -or $_.Name -eq 'cudnn.h' } |",
        "    Sort-Object Name -Descending | Select-Object -First 1",
        "if ($null -eq $hdr) { throw 'no cudnn.h or cudnn_version.h in the cuDNN archive' }",
        "$root = $hdr.Directory.Parent.FullName",
        f"$dest = {ps.quote(dest)}",
        "foreach ($d in @('bin', 'include', 'lib')) {",
        "    $from = Join-Path $root $d",
        "    if (-not (Test-Path -LiteralPath $from)) { continue }",
        "    Get-ChildItem -LiteralPath $from -Recurse -File | ForEach-Object {",
        "        $rel = $_.FullName.Substring($from.Length).TrimStart('\\')",
        "        $to = Join-Path (Join-Path $dest $d) $rel",
        "        New-Item -ItemType Directory -Force -Path (Split-Path -Parent $to) | Out-Null",
        "        Copy-Item -LiteralPath $_.FullName -Destination $to -Force",
        "    }",
        "}",
        "Remove-Item -LiteralPath $tmp -Recurse -Force",
        "Remove-Item -LiteralPath $file -Force",
        "$h = Join-Path $dest 'include\\cudnn_version.h'",
        "if (-not (Test-Path -LiteralPath $h)) { $h = Join-Path $dest 'include\\cudnn.h' }",
        "$got = (Select-String -LiteralPath $h -Pattern"
        " '#\\s*define\\s+CUDNN_(MAJOR|MINOR|PATCHLEVEL)\\s+(\\d+)' |",
        "    ForEach-Object { $_.Matches[0].Groups[2].Value }) -join '.'",
        f"if (-not ($got + '.').StartsWith({ps.quote(want + '.')})) {{",
        f"    throw ('the archive holds cuDNN ' + $got + ', not {want}')",
        "}",
    )
