"""Resolver scenarios across eras, OSes, GPUs and CPUs.

Every expectation below follows from published facts in the catalog (TensorFlow's tested
build tables and PyPI wheels, NVIDIA's driver table and architecture support); the
comment on each scenario names the facts that decide it.
"""

import pytest

from tfprov.model.profile import HostProfile
from tfprov.model.spec import StackSpec
from tfprov.resolve import resolve
from tfprov.resolve.wheelhouse import parse_wheel_name

AVX2 = ["sse2", "ssse3", "sse4_1", "sse4_2", "avx", "avx2", "fma"]
SSE42 = ["sse2", "ssse3", "sse4_1", "sse4_2"]
CORE2 = ["sse2", "pni", "ssse3", "sse4_1"]


def host(
    *,
    family="linux",
    distro="ubuntu",
    version="22.04",
    arch="x86_64",
    wsl=False,
    flags=AVX2,
    gpus=(),
    driver=None,
    pythons=("3.10.12",),
    toolkits=(),
    cudnn=None,
    conda=None,
    name="h",
    libc=None,
):
    return HostProfile.model_validate(
        {
            "hostname": name,
            "os": {
                "family": family,
                "distro": distro,
                "version": version,
                "arch": arch,
                "wsl": wsl,
            },
            "cpu": {"vendor": "x", "model": "test CPU", "flags": list(flags)},
            "gpus": [g if isinstance(g, dict) else {"name": g} for g in gpus],
            "nvidia_driver": driver,
            "cuda_toolkits": list(toolkits),
            "cudnn": cudnn,
            "pythons": list(pythons),
            "conda": conda,
            "libc": {"name": libc[0], "version": libc[1]} if libc else None,
        }
    )


def plan(h, **spec):
    return resolve(h, StackSpec(**spec))


def ok(p):
    assert p.ok, (p.error, p.alternatives)
    return p


def refused(p):
    assert not p.ok, p.tensorflow
    assert p.tensorflow is None and p.error
    return p


RTX4090 = "NVIDIA GeForce RTX 4090"
WIN10 = {"family": "windows", "distro": "Windows 10", "version": "10.0.19045"}


# --- modern Linux, pip CUDA ------------------------------------------------------------


def test_01_rtx4090_latest_uses_and_cuda_and_keeps_driver():
    # 2.21: CUDA 12.5 (Linux GPU table), targets sm_89 -> native on CC 8.9; 12.x minor
    # version compatibility needs 525.60.13 <= 535.154.05; host 3.10 is in 3.10-3.13.
    p = ok(plan(host(gpus=[RTX4090], driver="535.154.05")))
    assert (p.tensorflow.version, p.tensorflow.variant) == ("2.21.0", "gpu")
    assert p.tensorflow.requirement == "tensorflow[and-cuda]==2.21.0"
    assert (p.driver.action, p.driver.version, p.driver.min_version) == (
        "keep",
        "535.154.05",
        "525.60.13",
    )
    assert (p.env_manager.manager, p.python.action, p.python.version) == ("venv", "keep", "3.10.12")
    assert p.cuda.source.startswith("pip") and p.cuda.version == ">=12.5.82"
    assert p.cudnn.version == ">=9.3.0.75"
    assert p.env_manager.name == "tf221"


def test_02_tf215_pins_from_and_cuda_extra():
    p = ok(plan(host(gpus=[RTX4090], driver="535.154.05"), tensorflow="2.15"))
    assert p.tensorflow.version == "2.15.1"
    assert (p.cuda.version, p.cudnn.version) == ("12.2.140", "8.9.4.25")


def test_03_tf213_uses_the_official_conda_recipe():
    # 2.13 has no and-cuda extra; the pip guide's recipe: conda cudatoolkit=11.8.0 and
    # pip nvidia-cudnn-cu11==8.6.0.163. Conda env, newest Python 2.13 supports (3.11).
    p = ok(plan(host(gpus=[RTX4090], driver="535.154.05"), tensorflow="2.13"))
    assert p.tensorflow.requirement == "tensorflow==2.13.1"
    assert (p.cuda.version, p.cuda.source) == ("11.8.0", "conda:conda-forge cudatoolkit")
    assert (p.cudnn.version, p.cudnn.source) == ("8.6.0.163", "pip: nvidia-cudnn wheel")
    assert (p.env_manager.manager, p.python.version) == ("conda", "3.11")
    assert p.driver.min_version == "450.80.02"


def test_04_tf213_in_a_venv_uses_a_system_toolkit():
    p = ok(plan(host(gpus=[RTX4090], driver="535.154.05"), tensorflow="2.13", env_manager="venv"))
    assert (p.cuda.action, p.cuda.version, p.cudnn.version) == ("install", "11.8", "8.6")
    assert p.cuda.source.startswith("system")
    assert (p.env_manager.manager, p.python.version) == ("venv", "3.10.12")


def test_05_cuda_source_pip_before_2_14_is_refused():
    p = refused(
        plan(
            host(gpus=[RTX4090], driver="535.154.05"),
            tensorflow="2.13",
            cuda_source="pip",
            gpu="require",
        )
    )
    assert "cuda_source: pip is not possible" in p.error
    assert any("cuda_source: auto" in a.summary for a in p.alternatives)


def test_06_no_driver_installs_newest_production_branch_for_ada():
    p = ok(plan(host(gpus=[RTX4090])))
    assert (p.driver.action, p.driver.branch) == ("install", 595)
    assert p.driver.source.startswith("Ubuntu")


def test_07_old_driver_is_upgraded():
    p = ok(plan(host(gpus=[RTX4090], driver="470.256.02")))
    assert (p.driver.action, p.driver.branch, p.driver.version) == ("upgrade", 595, "470.256.02")


def test_08_driver_keep_too_old_falls_back_to_cpu_with_warning():
    p = ok(plan(host(gpus=[RTX4090], driver="515.105.01"), driver="keep"))
    assert (p.tensorflow.variant, p.tensorflow.package) == ("cpu", "tensorflow-cpu")
    assert p.driver.action == "none"
    assert any("GPU not used" in w and "driver: keep" in w for w in p.warnings)


def test_09_driver_keep_with_gpu_require_is_refused_with_alternatives():
    p = refused(plan(host(gpus=[RTX4090], driver="515.105.01"), driver="keep", gpu="require"))
    assert (
        "driver: keep, but the installed 515.105.01 predates the 520 branch that "
        "NVIDIA GeForce RTX 4090 (Ada Lovelace, CC 8.9) needs"
    ) in p.error
    alts = {a.summary.split(":")[0]: a for a in p.alternatives}
    assert "with driver" in " ".join(alts)
    assert any(a.tensorflow == "2.21.0" and a.variant == "gpu" for a in p.alternatives)


def test_09b_driver_keep_plans_the_newest_release_the_driver_can_run():
    # 418.226.00 runs CUDA 10.1 (>= 418.39) but not 10.2 (440.33) or 11.x (450.80.02).
    # Official 2.4 wheels need CUDA 11.0, but Anaconda built tensorflow-gpu 2.4.1 against
    # cudatoolkit 10.1; pip-only, the newest is 2.3.
    h = host(gpus=["NVIDIA GeForce GTX 1080"], driver="418.226.00", pythons=["3.8.10"])
    p = ok(plan(h, driver="keep", gpu="require"))
    assert (p.tensorflow.version, p.tensorflow.source, p.cuda.version) == (
        "2.4.1",
        "conda:anaconda",
        "10.1",
    )
    assert p.tensorflow.requirement == "tensorflow-gpu=2.4.1"
    p = ok(plan(h, driver="keep", gpu="require", env_manager="venv"))
    assert (p.tensorflow.version, p.cuda.version) == ("2.3.4", "10.1")
    assert (p.driver.action, p.driver.min_version) == ("keep", "418.39")
    assert "older than CUDA 12.5 → driver ≥ 525.60.13" in p.reasons[0]


def test_10_pinned_branch_is_installed():
    p = ok(plan(host(gpus=[RTX4090]), driver=535))
    assert (p.driver.action, p.driver.branch) == ("install", 535)


def test_11_pinned_branch_too_old_for_the_gpu():
    p = refused(plan(host(gpus=[RTX4090]), driver=470, gpu="require"))
    assert "driver: 470 does not support NVIDIA GeForce RTX 4090 (Ada Lovelace, CC 8.9)" in p.error


def test_12_pinned_branch_already_installed_is_kept():
    p = ok(plan(host(gpus=[RTX4090], driver="535.154.05"), driver=535))
    assert (p.driver.action, p.driver.branch) == ("keep", 535)


# --- old GPUs ---------------------------------------------------------------------------


def test_13_gtx680_tf215_refusal_names_the_chain_and_alternatives():
    # TF 2.15's build targets sm_50.. (CC 3.0 cannot run it); Kepler ends at the 470 branch.
    p = refused(plan(host(gpus=["NVIDIA GeForce GTX 680"]), tensorflow="2.15", gpu="require"))
    assert "GeForce GTX 680 (Kepler, CC 3.0) cannot run it" in p.error
    assert (
        "TF 2.15.1 needs CUDA 12.2 → driver ≥ 525.60.13 (CUDA 12.x minor version "
        "compatibility), but NVIDIA GeForce GTX 680 (Kepler, CC 3.0) is supported only up "
        "to the 470 branch (newest 470.256.02)"
    ) in p.error
    summaries = " | ".join(a.summary for a in p.alternatives)
    assert "TF 1.4.1 GPU" in summaries  # newest whose documented minimum is CC 3.0
    assert "TF 2.15.1 CPU" in summaries


def test_14_gtx680_latest_auto_stays_on_2x_cpu():
    p = ok(plan(host(gpus=["NVIDIA GeForce GTX 680"])))
    assert (p.tensorflow.version, p.tensorflow.variant) == ("2.21.0", "cpu")
    assert any("gpu: require would plan TF 1.4.1 GPU" in w for w in p.warnings)


def test_15_k80_latest_gets_newest_build_with_sm35():
    # 2.15+ drop sm_35; 2.14 (CUDA 11.8) still targets sm_35 -> CC 3.7 runs it natively.
    p = ok(
        plan(
            host(
                distro="centos",
                version="7.9.2009",
                gpus=["Tesla K80"] * 4,
                driver="470.82.01",
                pythons=["3.6.8"],
            )
        )
    )
    assert (p.tensorflow.version, p.tensorflow.variant) == ("2.14.1", "gpu")
    assert (p.driver.action, p.driver.min_version) == ("keep", "450.80.02")
    assert (p.env_manager.manager, p.python.version) == ("conda", "3.11")
    assert any("4× Tesla K80" in r for r in p.reasons)


def test_16_k80_tf215_refused_with_older_gpu_alternative():
    p = refused(
        plan(host(gpus=["Tesla K80"], driver="470.82.01"), tensorflow="2.15", gpu="require")
    )
    assert "Tesla K80 (Kepler, CC 3.7) cannot run it" in p.error
    assert any(a.tensorflow == "2.14.1" and a.variant == "gpu" for a in p.alternatives)


def test_17_k80_without_driver_installs_the_last_kepler_branch():
    p = ok(plan(host(gpus=["Tesla K80"]), tensorflow="2.11"))
    assert (p.driver.action, p.driver.branch) == ("install", 470)
    assert p.tensorflow.version == "2.11.1"


def test_18_pascal_gets_the_last_branch_supporting_it():
    p = ok(plan(host(gpus=["NVIDIA GeForce GTX 1080"])))
    assert (p.tensorflow.version, p.driver.branch) == ("2.21.0", 580)


def test_19_maxwell_latest_is_2_16():
    # 2.17 dropped CC 5.x (release notes); 2.16 targets sm_50 -> CC 5.2 runs it.
    p = ok(plan(host(gpus=["NVIDIA GeForce GTX 970"], driver="550.127.05")))
    assert (p.tensorflow.version, p.tensorflow.variant) == ("2.16.2", "gpu")
    assert p.cuda.version == "12.3.101"


def test_20_fermi_cannot_run_any_gpu_build():
    p = refused(plan(host(gpus=["GeForce GTX 480"]), gpu="require"))
    assert "CC 2.0" in p.error
    assert any(a.variant == "cpu" and a.tensorflow == "2.21.0" for a in p.alternatives)


def test_21_blackwell_runs_via_ptx_and_needs_the_full_driver():
    # 2.21 has compute_90 PTX only for CC 12.0 -> JIT, so the CUDA 12.5 GA driver is needed,
    # not the minor-version one; Blackwell needs branch >= 570.
    p = ok(plan(host(gpus=["NVIDIA GeForce RTX 5090"])))
    assert p.tensorflow.version == "2.21.0"
    assert p.driver.min_version == "555.42.02"
    assert p.driver.branch == 595
    assert any("PTX" in w for w in p.warnings)


def test_22_driver_older_than_the_gpu_architecture_is_upgraded():
    p = ok(plan(host(gpus=["NVIDIA GeForce RTX 5090"], driver="565.77")))
    assert (p.driver.action, p.driver.branch) == ("upgrade", 595)
    assert "predates the 570 branch" in p.driver.reason


# --- Windows ----------------------------------------------------------------------------


def test_23_gtx850m_tf21_gets_cuda_101_and_cudnn_76():
    # Windows GPU table: tensorflow_gpu-2.1.0 -> CUDA 10.1, cuDNN 7.6; driver 456.71 >=
    # 418.96 (CUDA 10.1 Windows minimum); Python 3.7 in 3.5-3.7.
    h = host(**WIN10, gpus=["GeForce GTX 850M"], driver="456.71", pythons=["3.7.9"])
    p = ok(plan(h, tensorflow="2.1"))
    assert (p.tensorflow.version, p.tensorflow.package, p.tensorflow.variant) == (
        "2.1.4",
        "tensorflow",
        "gpu",
    )
    assert (p.cuda.version, p.cudnn.version) == ("10.1", "7.6")
    assert (p.driver.action, p.driver.min_version) == ("keep", "418.96")
    assert (p.env_manager.manager, p.python.version) == ("venv", "3.7.9")


def test_24_windows_latest_gpu_is_2_10_with_conda_recipe():
    h = host(**WIN10, gpus=["GeForce GTX 850M"], driver="456.71", pythons=["3.7.9"])
    p = ok(plan(h))
    assert (p.tensorflow.version, p.tensorflow.variant) == ("2.10.1", "gpu")
    assert (p.cuda.version, p.cudnn.version) == ("11.2", "8.1.0")
    assert p.cuda.source == "conda:conda-forge cudatoolkit"
    assert (p.env_manager.manager, p.python.version) == ("conda", "3.10")
    assert p.driver.min_version == "452.39"


def test_25_windows_cpu_build_when_gpu_off():
    h = host(**WIN10, gpus=["NVIDIA GeForce RTX 3060"], driver="531.41", pythons=["3.11.2"])
    p = ok(plan(h, gpu="off"))
    assert (p.tensorflow.version, p.tensorflow.package) == ("2.21.0", "tensorflow-cpu")
    assert (p.env_manager.manager, p.python.version) == ("venv", "3.11.2")
    assert p.cuda.action == "none" and p.driver.action == "none"


def test_26_windows_native_gpu_after_2_10_is_refused_pointing_to_wsl2():
    h = host(**WIN10, gpus=["NVIDIA GeForce RTX 3060"], driver="531.41", pythons=["3.11.2"])
    p = refused(plan(h, tensorflow="2.15", gpu="require"))
    assert "no GPU build for native Windows" in p.error and "WSL2" in p.error
    assert any(a.tensorflow == "2.10.1" and a.variant == "gpu" for a in p.alternatives)


def test_27_wsl2_uses_the_linux_build_and_the_windows_driver_minimum():
    p = ok(plan(host(wsl=True, gpus=["NVIDIA GeForce RTX 3060"], driver="531.41")))
    assert (p.tensorflow.version, p.tensorflow.requirement) == (
        "2.21.0",
        "tensorflow[and-cuda]==2.21.0",
    )
    assert (p.driver.action, p.driver.min_version) == ("keep", "528.33")


def test_28_wsl2_old_driver_must_be_upgraded_on_windows():
    p = ok(plan(host(wsl=True, gpus=["NVIDIA GeForce RTX 3060"], driver="516.94")))
    assert p.driver.action == "upgrade"
    assert p.driver.source == "Windows host driver (manual)"
    assert any("from inside WSL" in w for w in p.warnings)


# --- CPUs without AVX ---------------------------------------------------------------------


def test_29_no_avx_linux_tf15_by_default_sse3_conda_build_when_allowed():
    # Official x86 wheels need AVX since 1.6; non-AVX builds need the spec's permission,
    # so the default is TF 1.5.1 (Python <= 3.6, from conda) with a pointer to the better
    # choice: conda-forge's tensorflow-sse3 2.19.1.
    h = host(flags=SSE42, pythons=["3.11.2"])
    p = ok(plan(h))
    assert (p.tensorflow.version, p.python.version, p.env_manager.manager) == (
        "1.5.1",
        "3.6",
        "conda",
    )
    assert "official x86 wheels use AVX since TF 1.6" in p.reasons[0]
    assert any("allow_community_builds: true would plan TF 2.19.1" in w for w in p.warnings)
    p = ok(plan(h, allow_community_builds=True))
    assert (p.tensorflow.version, p.tensorflow.package, p.tensorflow.source) == (
        "2.19.1",
        "tensorflow-sse3",
        "conda:conda-forge",
    )
    assert p.env_manager.manager == "conda"


def test_30_no_avx_venv_only_is_refused_with_a_way_out():
    p = refused(plan(host(flags=SSE42, pythons=["3.11.2"]), env_manager="venv"))
    assert "no AVX" in p.error
    assert any("env_manager: auto" in a.summary for a in p.alternatives)


def test_31_no_avx_with_old_python_gets_tf_1_5_in_a_venv():
    p = ok(plan(host(flags=CORE2, pythons=["3.6.9"]), env_manager="venv"))
    assert (p.tensorflow.version, p.tensorflow.package) == ("1.5.1", "tensorflow")
    assert p.python.version == "3.6.9"


def test_32_no_avx_windows_gtx650_default_gets_tf13_gpu():
    # no AVX: official >= 1.6 out; 1.5 needs CC 3.5, 1.4.1 has no Windows wheel;
    # 1.3.0 GPU (CUDA 8, cuDNN 6, CC >= 3.0) fits and is the same major as the CPU option.
    h = host(**WIN10, flags=["sse2"], gpus=["GeForce GTX 650"], driver="451.67", pythons=["3.8.3"])
    p = ok(plan(h))
    assert (p.tensorflow.version, p.tensorflow.package) == ("1.3.0", "tensorflow-gpu")
    assert (p.cuda.version, p.cudnn.version) == ("8", "6")


def test_33_no_avx_windows_with_community_builds_gets_fo40225_sse2_gpu():
    h = host(**WIN10, flags=["sse2"], gpus=["GeForce GTX 650"], driver="451.67", pythons=["3.8.3"])
    p = ok(plan(h, allow_community_builds=True))
    assert p.tensorflow.source == "community:fo40225"
    assert p.tensorflow.variant == "gpu"
    assert p.tensorflow.url.endswith(".whl") or ".7z" in p.tensorflow.url
    assert "sse2" in p.tensorflow.url.lower()


def test_34_wheelhouse_build_is_used_for_a_non_avx_cpu():
    w = parse_wheel_name(
        "tensorflow-2.15.1+sse42.cpu-cp311-cp311-linux_x86_64.whl",
        "/srv/wheels/tensorflow-2.15.1+sse42.cpu-cp311-cp311-linux_x86_64.whl",
    )
    h = host(flags=SSE42, pythons=["3.11.2"])
    p = ok(
        resolve(
            h,
            StackSpec(tensorflow="2.15", allow_community_builds=True, env_manager="venv"),
            wheelhouse=[w],
        )
    )
    assert (p.tensorflow.source, p.tensorflow.version) == ("wheelhouse", "2.15.1")
    assert p.tensorflow.url == w.location
    # the same wheelhouse is ignored when community builds are not allowed
    p2 = plan(h, tensorflow="2.15", env_manager="venv")
    assert not p2.ok


def test_35_wheelhouse_build_above_the_cpu_level_is_not_used():
    w = parse_wheel_name("tensorflow-2.15.1+avx2.cpu-cp311-cp311-linux_x86_64.whl")
    h = host(flags=SSE42, pythons=["3.11.2"])
    p = resolve(
        h,
        StackSpec(tensorflow="2.15", allow_community_builds=True, env_manager="venv"),
        wheelhouse=[w],
    )
    assert not p.ok and "AVX2" in p.error


# --- other platforms ------------------------------------------------------------------------


def test_36_raspberry_pi_aarch64_cpu_build():
    p = ok(plan(host(arch="aarch64", flags=["fp", "asimd"], pythons=["3.11.2"])))
    assert (p.tensorflow.version, p.tensorflow.package) == ("2.21.0", "tensorflow")
    assert (p.env_manager.manager, p.python.version) == ("venv", "3.11.2")


def test_37_aarch64_gpu_require_is_refused():
    p = refused(plan(host(arch="aarch64", flags=["fp"], gpus=["Jetson AGX Orin"]), gpu="require"))
    assert "no official GPU build for linux_aarch64" in p.error


def test_38_macos_apple_silicon_and_intel():
    p = ok(plan(host(family="darwin", distro="macOS", arch="arm64", flags=[], pythons=["3.12.3"])))
    assert (p.tensorflow.version, p.python.version) == ("2.21.0", "3.12.3")
    # no macOS x86_64 wheels after 2.16
    p = ok(plan(host(family="darwin", distro="macOS", flags=AVX2, pythons=["3.11.8"])))
    assert p.tensorflow.version == "2.16.2"


# --- spec handling --------------------------------------------------------------------------


def test_39_python_pin_outside_the_release_is_refused():
    p = refused(plan(host(gpus=[RTX4090], driver="535.154.05"), tensorflow="2.15", python="3.12"))
    assert "supports Python 3.9–3.11" in p.error
    assert any("python: None" in a.summary for a in p.alternatives)


def test_40_python_pin_not_on_host_uses_conda():
    p = ok(plan(host(gpus=[RTX4090], driver="535.154.05"), python="3.12"))
    assert (p.tensorflow.version, p.python.version, p.env_manager.manager) == (
        "2.21.0",
        "3.12",
        "conda",
    )


def test_41_specifier_range():
    p = ok(plan(host(gpus=[RTX4090], driver="535.154.05"), tensorflow=">=2.10,<2.13"))
    assert p.tensorflow.version == "2.12.1"
    assert p.cuda.version == "11.8.0"


def test_42_unknown_release_is_refused():
    p = refused(plan(host(), tensorflow="3.0"))
    assert "no TensorFlow release matches tensorflow: '3.0'" in p.error


def test_43_exact_patch_version():
    p = ok(plan(host(gpus=[RTX4090], driver="535.154.05"), tensorflow="2.15.0"))
    assert p.tensorflow.version == "2.15.0"
    assert p.tensorflow.requirement == "tensorflow[and-cuda]==2.15.0"


def test_44_installed_system_toolkit_and_cudnn_are_kept():
    h = host(
        gpus=[RTX4090],
        driver="535.154.05",
        toolkits=[{"version": "11.2.2"}],
        cudnn={"version": "8.1.1"},
    )
    p = ok(plan(h, tensorflow="2.10", env_manager="venv"))
    assert (p.cuda.action, p.cudnn.action) == ("keep", "keep")


def test_45_mixed_gpus_plan_for_all_and_warn():
    p = ok(plan(host(gpus=["NVIDIA GeForce RTX 3090", "NVIDIA GeForce GTX 1080"])))
    assert p.tensorflow.version == "2.21.0"
    assert p.driver.branch == 580  # the newest branch that still runs the Pascal card
    assert any("mixed GPU architectures" in w for w in p.warnings)


def test_46_mixed_with_a_gpu_tf_cannot_use():
    p = ok(plan(host(gpus=["NVIDIA GeForce RTX 3090", "Tesla K80"])))
    assert p.tensorflow.version == "2.21.0"
    assert p.driver.branch == 595
    assert any("GPUs TensorFlow will ignore: Tesla K80" in w for w in p.warnings)
    assert any("does not support Tesla K80" in w for w in p.warnings)


def test_47_unknown_gpu_name_without_cc_falls_back_to_cpu():
    p = ok(plan(host(gpus=["NVIDIA Mystery Card 9000"])))
    assert p.tensorflow.variant == "cpu"
    assert any("compute capability unknown" in w for w in p.warnings)


def test_48_cc_from_the_probe_is_used_for_unknown_names():
    p = ok(
        plan(
            host(
                gpus=[{"name": "NVIDIA Mystery Card 9000", "compute_capability": "8.6"}],
                driver="550.127.05",
            )
        )
    )
    assert (p.tensorflow.variant, p.tensorflow.version) == ("gpu", "2.21.0")


def test_49_unknown_cpu_flags_assume_avx_with_warning():
    p = ok(plan(host(flags=[], pythons=["3.11.2"])))
    assert p.tensorflow.package == "tensorflow-cpu"
    assert "CPU flags unknown: assuming the CPU has AVX" in p.warnings


def test_50_existing_conda_env_is_kept_and_env_name_honoured():
    h = host(
        gpus=[RTX4090],
        driver="535.154.05",
        conda={"version": "24.1.2", "prefix": "/opt/conda", "envs": ["base", "lab"]},
    )
    p = ok(plan(h, tensorflow="2.13", env_name="lab"))
    assert (p.env_manager.manager, p.env_manager.name, p.env_manager.action) == (
        "conda",
        "lab",
        "keep",
    )


def test_51_tf1_gpu_on_linux_uses_tensorflow_gpu_package():
    p = ok(
        plan(
            host(gpus=["NVIDIA GeForce GTX 1080"], driver="470.256.02", pythons=["3.6.9"]),
            tensorflow="1.15",
        )
    )
    assert (p.tensorflow.package, p.tensorflow.version) == ("tensorflow-gpu", "1.15.5")
    assert (p.cuda.version, p.cudnn.version) == ("10.0", "7.4")
    assert p.driver.min_version == "410.48"


def test_52_gpu_require_without_gpu():
    p = refused(plan(host(), gpu="require"))
    assert p.error == "gpu: require, but the host has no NVIDIA GPU"


def test_53_resolve_is_pure_and_deterministic():
    h = host(gpus=["Tesla K80"] * 2, driver="470.82.01", pythons=["3.6.8"])
    a = plan(h).model_dump()
    b = plan(h).model_dump()
    assert a == b


@pytest.mark.parametrize("gpu", ["off", "auto"])
def test_54_no_gpu_host_gets_cpu_build(gpu):
    h = host(distro="debian", version="12", pythons=["3.11.2"], libc=("glibc", "2.36"))
    p = ok(plan(h, gpu=gpu))
    assert (p.tensorflow.version, p.tensorflow.package) == ("2.21.0", "tensorflow-cpu")
    assert p.warnings == []


def test_55_driver_that_nvidia_smi_cannot_reach_is_reinstalled_or_refused():
    h = host(gpus=[RTX4090], driver="535.154.05")
    h = h.model_copy(
        update={"driver_error": "Failed to initialize NVML: Driver/library version mismatch"}
    )
    p = ok(plan(h))
    assert (p.driver.action, p.driver.branch) == ("upgrade", 595)
    assert any("reboot" in w for w in p.warnings)
    p = ok(plan(h, driver="keep"))  # keep cannot use it: TF falls back to the CPU build
    assert p.tensorflow.variant == "cpu"
    assert any("does not work" in w for w in p.warnings)


# --- distros tfprov installs no system packages on (distros.yaml) -------------------------

UNSUPPORTED = (
    "tfprov does not provision ubuntu 18.04 (supported: ubuntu 20.04/22.04/24.04, "
    "debian 11/12, rhel 8/9, rocky 8/9, almalinux 8/9)"
)


def test_an_unlisted_distro_is_refused_when_the_plan_installs_a_driver():
    # no driver on the host: the plan would install one from Ubuntu 18.04's packages,
    # which tfprov does not provision; apply refused it, now the plan does
    h = host(version="18.04", gpus=["NVIDIA GeForce RTX 3060"])
    p = plan(h, gpu="require")
    assert not p.ok
    assert UNSUPPORTED in p.error
    assert p.platform.supported is False


def test_an_unlisted_distro_is_refused_when_the_plan_installs_system_cuda():
    # the driver is there; a system CUDA toolkit would come from distro packages
    h = host(version="18.04", gpus=["NVIDIA GeForce RTX 3060"], driver="550.127.05")
    p = plan(h, gpu="require", cuda_source="system", tensorflow="2.15")
    assert not p.ok
    assert UNSUPPORTED in p.error


def test_an_unlisted_distro_plans_what_needs_no_system_packages():
    # driver kept, CUDA as pip wheels: nothing from the distro's packages
    h = host(version="18.04", gpus=["NVIDIA GeForce RTX 3060"], driver="550.127.05")
    p = plan(h, gpu="require", tensorflow="2.15")
    assert p.ok, p.error
    assert (p.driver.action, p.cuda.origin) == ("keep", "pip")
    # with gpu: auto the GPU is given up rather than the plan: the CPU build, told why
    q = plan(host(version="18.04", gpus=["NVIDIA GeForce RTX 3060"]))
    assert q.ok and q.tensorflow.variant == "cpu"
    assert any(UNSUPPORTED in w for w in q.warnings)


# --- GPUs the probe could only name or find on the PCI bus --------------------------------


def test_a_pci_only_gpu_gets_its_compute_capability_from_the_catalog():
    # captured lspci of an AWS g4dn instance before any driver (tests/facts/gpu.PciNvidiaGpus/
    # corpus-deepracer-aws-t4-no-driver-plain.yaml): no name pci.ids knows, only the id
    import re
    from pathlib import Path

    import yaml

    case = (
        Path(__file__).parent
        / "facts/gpu.PciNvidiaGpus/corpus-deepracer-aws-t4-no-driver-plain.yaml"
    )
    line = yaml.safe_load(case.read_text())["output"][0]
    device = re.search(r"Device ([0-9a-f]{4})", line).group(1)
    gpu = {"name": "NVIDIA Corporation Device " + device, "pci_device_id": device}
    p = plan(host(gpus=[gpu]), gpu="require")
    assert p.ok, p.error
    # T4 (Turing, CC 7.5): the latest TF's build runs natively; a driver is installed, open
    # kernel modules (Turing supports them, branch >= 560)
    assert any("Turing, CC 7.5" in r and "natively" in r for r in p.reasons), p.reasons
    assert p.driver.action == "install" and p.driver.flavor == "open"


def test_auto_kernel_module_flavor_follows_the_catalogs_open_modules():
    from tfprov.catalog import Catalog, load_catalog
    from tfprov.resolve.driver_packages import resolve_flavor

    cat = load_catalog()
    # Volta: open modules unsupported; Turing: supported; Blackwell: required
    assert resolve_flavor("auto", 570, ["7.0"], cat) == "proprietary"
    assert resolve_flavor("auto", 570, ["7.5", "12.0"], cat) == "open"
    assert resolve_flavor("auto", 570, ["7.5", None], cat) == "proprietary"  # one unknown
    assert resolve_flavor("auto", 550, ["7.5"], cat) == "proprietary"  # before R560
    # the rule reads the data: a catalog where Volta supported them would say open
    gpus = cat.files["gpus.yaml"]
    archs = [
        a.model_copy(update={"open_modules": "supported"}) if a.name == "Volta" else a
        for a in gpus.architectures
    ]
    other = Catalog({**cat.files, "gpus.yaml": gpus.model_copy(update={"architectures": archs})})
    assert resolve_flavor("auto", 570, ["7.0"], other) == "open"


@pytest.mark.parametrize(
    "distro, version, want",
    [("Ubuntu 22.04", "22.04", ("ubuntu", "22.04")), ("Rocky", "9.3", ("rocky", "9"))],
)
def test_the_platform_reads_a_distro_written_by_hand(distro, version, want):
    # saved profiles (inventories/profiles/*.json) name the distro as people write it
    p = plan(host(distro=distro, version=version, gpus=["NVIDIA GeForce RTX 4090"]))
    assert (p.platform.distro, p.platform.version, p.platform.supported) == (*want, True)
    assert p.driver.origin == "system" and p.tensorflow.variant == "gpu"
