"""The kit's build backend (PEP 517), standard library only, so `pip install ./plugin-kit/python` works offline.

Why not setuptools: pip builds a project in an isolated environment with the backend's requirements
downloaded from an index, and without an index (an offline machine, a locked-down CI) setuptools is not
there; with `--no-build-isolation`, the setuptools that venv ships (65.x on Python 3.11, none from 3.12 on)
cannot build a wheel without the separate `wheel` package. This backend needs nothing: it zips the
`flow_plugin` package into a pure-Python wheel (and an sdist), reading name, version and the console
script from pyproject.toml with a tiny reader of the keys it uses (tomllib is 3.11+).
"""

import base64
import hashlib
import io
import os
import re
import tarfile
import time
import zipfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PACKAGE = "flow_plugin"
_EPOCH = (1980, 1, 1, 0, 0, 0)


def _project():
    text = open(os.path.join(ROOT, "pyproject.toml"), encoding="utf-8").read()

    def value(key):
        match = re.search(r'^%s\s*=\s*"([^"]*)"' % re.escape(key), text, re.M)
        if not match:
            raise RuntimeError("pyproject.toml: %s is missing" % key)
        return match.group(1)

    scripts = dict(re.findall(r'^([A-Za-z0-9_-]+)\s*=\s*"([A-Za-z0-9_.]+:[A-Za-z0-9_]+)"', text.split("[project.scripts]", 1)[1].split("\n[", 1)[0], re.M)) if "[project.scripts]" in text else {}
    return {"name": value("name"), "version": value("version"), "summary": value("description"), "requires_python": value("requires-python"), "scripts": scripts}


def _metadata(project):
    readme = open(os.path.join(ROOT, "README.md"), encoding="utf-8").read() if os.path.exists(os.path.join(ROOT, "README.md")) else ""
    return (
        "Metadata-Version: 2.1\n"
        "Name: %(name)s\nVersion: %(version)s\nSummary: %(summary)s\nLicense: MIT\nRequires-Python: %(requires_python)s\n"
        "Classifier: Programming Language :: Python :: 3\nClassifier: License :: OSI Approved :: MIT License\n"
        "Description-Content-Type: text/markdown\n\n" % project
    ) + readme


def _dist_info(project):
    return "%s-%s.dist-info" % (project["name"].replace("-", "_"), project["version"])


def _files():
    folder = os.path.join(ROOT, PACKAGE)
    return sorted("%s/%s" % (PACKAGE, name) for name in os.listdir(folder) if name.endswith(".py"))


def _write_wheel(directory, editable=False):
    project = _project()
    dist_info = _dist_info(project)
    name = "%s-%s-py3-none-any.whl" % (project["name"].replace("-", "_"), project["version"])
    entries = []
    if editable:
        entries.append(("%s.pth" % project["name"].replace("-", "_"), (ROOT + "\n").encode()))
    else:
        for path in _files():
            with open(os.path.join(ROOT, path), "rb") as handle:
                entries.append((path, handle.read()))
    entries.append(("%s/METADATA" % dist_info, _metadata(project).encode("utf-8")))
    entries.append(("%s/WHEEL" % dist_info, b"Wheel-Version: 1.0\nGenerator: flow_kit_build\nRoot-Is-Purelib: true\nTag: py3-none-any\n"))
    if project["scripts"]:
        lines = "[console_scripts]\n" + "".join("%s = %s\n" % item for item in sorted(project["scripts"].items()))
        entries.append(("%s/entry_points.txt" % dist_info, lines.encode()))
    record = []
    with zipfile.ZipFile(os.path.join(directory, name), "w", zipfile.ZIP_DEFLATED) as archive:
        for path, data in entries:
            info = zipfile.ZipInfo(path, _EPOCH)
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, data)
            digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
            record.append("%s,sha256=%s,%d" % (path, digest, len(data)))
        record.append("%s/RECORD,," % dist_info)
        info = zipfile.ZipInfo("%s/RECORD" % dist_info, _EPOCH)
        info.external_attr = 0o644 << 16
        archive.writestr(info, "\n".join(record) + "\n")
    return name


def get_requires_for_build_wheel(config_settings=None):
    return []


def get_requires_for_build_sdist(config_settings=None):
    return []


def get_requires_for_build_editable(config_settings=None):
    return []


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    return _write_wheel(wheel_directory)


def build_editable(wheel_directory, config_settings=None, metadata_directory=None):
    return _write_wheel(wheel_directory, editable=True)


def build_sdist(sdist_directory, config_settings=None):
    project = _project()
    base = "%s-%s" % (project["name"].replace("-", "_"), project["version"])
    name = base + ".tar.gz"
    paths = ["pyproject.toml", "README.md", "_build/flow_kit_build.py"] + _files()
    with tarfile.open(os.path.join(sdist_directory, name), "w:gz") as archive:
        for path in paths:
            full = os.path.join(ROOT, path)
            if os.path.exists(full):
                archive.add(full, arcname="%s/%s" % (base, path))
        data = _metadata(project).encode("utf-8")
        info = tarfile.TarInfo("%s/PKG-INFO" % base)
        info.size = len(data)
        info.mtime = int(time.time())
        archive.addfile(info, io.BytesIO(data))
    return name
