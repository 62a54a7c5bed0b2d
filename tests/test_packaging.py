"""The built package: its data files, licence and version, read from an installed wheel."""

from __future__ import annotations

import email
import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from packaging.specifiers import SpecifierSet

import sciencebeam_gym

REPO_ROOT = Path(__file__).resolve().parents[1]
SOURCES = ["setup.py", "pyproject.toml", "README.md", "LICENSE", "sciencebeam_gym"]
DATA_FILES = ["color_map.conf", "xml-mapping.conf"]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """A wheel built with `python -m build` from a copy of the sources (the checkout stays clean)."""
    root = tmp_path_factory.mktemp("package")
    source = root / "source"
    source.mkdir()
    for name in SOURCES:
        copy = shutil.copytree if (REPO_ROOT / name).is_dir() else shutil.copy2
        copy(REPO_ROOT / name, source / name)
    command = [
        sys.executable,
        "-m",
        "build",
        "--wheel",
        "--no-isolation",
        "--outdir",
        root / "dist",
    ]
    result = subprocess.run(command, cwd=source, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    [built] = (root / "dist").glob("*.whl")
    return built


def test_the_root_config_files_are_the_package_ones():
    for name in DATA_FILES:
        assert (REPO_ROOT / name).resolve() == (REPO_ROOT / "sciencebeam_gym" / name).resolve()


def test_wheel_metadata_has_licence_version_and_python_bounds(wheel):
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        [metadata_name] = [n for n in names if n.endswith(".dist-info/METADATA")]
        metadata = email.message_from_bytes(archive.read(metadata_name))
    assert metadata["Version"] == sciencebeam_gym.__version__
    assert "MIT" in (metadata.get("License-Expression") or metadata.get("License") or "")
    python_bounds = SpecifierSet(metadata["Requires-Python"])
    assert "3.10.0" in python_bounds and "3.13.9" in python_bounds
    assert "3.9.0" not in python_bounds and "3.14.0" not in python_bounds
    assert any(n.endswith("LICENSE") for n in names)
    extras = set(metadata.get_all("Provides-Extra"))
    assert {"beam", "train", "generate", "cloud", "dev"} <= extras
    core = [r for r in metadata.get_all("Requires-Dist") if "extra ==" not in r]
    assert not [r for r in core if r.startswith(("tensorflow", "apache-beam"))]


def test_the_wheel_holds_the_service_page(wheel):
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
    for name in ("index.html", "page.js", "page.css"):
        assert f"sciencebeam_gym/service/static/{name}" in names


def test_an_installed_wheel_finds_its_config_files(wheel, tmp_path):
    target = tmp_path / "site"
    install = [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", target]
    subprocess.run([*install, wheel], check=True, capture_output=True, timeout=300)
    probe = (
        "import json, sciencebeam_gym\n"
        "from sciencebeam_gym.color_map import default_color_map_path, load_color_map\n"
        "from sciencebeam_gym.document.xml_mapping import default_xml_mapping_path\n"
        "print(json.dumps({'package': sciencebeam_gym.__file__,\n"
        "  'color_map': default_color_map_path(), 'xml_mapping': default_xml_mapping_path(),\n"
        "  'classes': load_color_map(default_color_map_path()).num_classes}))\n"
    )
    # Run outside the checkout, the installed copy first on the path.
    env = {**os.environ, "PYTHONPATH": str(target)}
    result = subprocess.run(
        [sys.executable, "-c", probe], cwd=tmp_path, env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    found = json.loads(result.stdout)
    assert found["package"].startswith(str(target))
    assert found["color_map"] == str(target / "sciencebeam_gym" / "color_map.conf")
    assert found["xml_mapping"] == str(target / "sciencebeam_gym" / "xml-mapping.conf")
    assert found["classes"] > 1
