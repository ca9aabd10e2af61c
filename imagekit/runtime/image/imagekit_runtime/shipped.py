"""Code shipped at run time, the toolkits' way: fetched into the code dir, its requirements pip-installed.

Training: `sagemaker_submit_directory` (an s3:// URI, a local tarball or directory, what an SDK estimator with
`entry_point`/`source_dir` sends) is unpacked into the code dir when that is empty; then a `setup.py` there is
installed as a package, else a `requirements.txt` beside the script. Serving: `code/requirements.txt` inside
model.tar.gz is installed before the handler loads. Archives are unpacked with our own escape checks, because
the Python of older images has no tarfile extraction filters.
"""

import os
import shutil
import subprocess
import sys
import tarfile
import tempfile

from imagekit_runtime.archives import Escape, extract_inside
from imagekit_runtime.config import C, log


def safe_extract(archive, destination):
    """Unpack *archive* into *destination*, refusing members that would land (or link) outside it."""
    with tarfile.open(archive) as tar:
        try:
            extract_inside(tar, destination)
        except Escape as escape:
            raise RuntimeError(f"{archive}: {escape}; rebuild the archive with relative paths inside it") from None


def _download_s3(uri, target):
    try:
        import boto3
    except ImportError:
        raise RuntimeError(f"{C['hp_submit_directory']} is {uri}, and this image has no boto3 to download it: "
                           "add boto3 to the image's Python packages, or bake the code into the image") from None
    bucket, _, key = uri[len("s3://"):].partition("/")
    boto3.client("s3").download_file(bucket, key, target)


def fetch_code(uri, code_dir):
    """Put the code at *uri* into *code_dir*, unless code_dir already holds files (the toolkit's rule; SDK local
    mode mounts the code there and sends code_dir itself)."""
    os.makedirs(code_dir, exist_ok=True)
    if os.listdir(code_dir):
        if os.path.realpath(uri) != os.path.realpath(code_dir):
            log(f"{code_dir} is not empty; not unpacking {uri} over it")
        return
    log(f"fetching the training code from {uri}")
    if uri.startswith("s3://"):
        with tempfile.TemporaryDirectory() as scratch:
            archive = os.path.join(scratch, "sourcedir.tar.gz")
            _download_s3(uri, archive)
            safe_extract(archive, code_dir)
    elif os.path.isdir(uri):
        shutil.copytree(uri, code_dir, dirs_exist_ok=True)
    elif os.path.isfile(uri) and tarfile.is_tarfile(uri):
        safe_extract(uri, code_dir)
    elif os.path.isfile(uri):
        shutil.copy2(uri, code_dir)
    else:
        raise RuntimeError(f"{C['hp_submit_directory']} is {uri}, which is neither an s3:// URI nor a file or "
                           "directory in the container")


def pip_install(directory, *args):
    """`python -m pip install ARGS` in *directory*; a failure is an error naming the command and its exit code."""
    command = [sys.executable, "-m", "pip", "install", *args]
    log(f"installing: {' '.join(command)} (in {directory})")
    code = subprocess.call(command, cwd=directory, stdout=sys.stderr)
    if code:
        raise RuntimeError(f"`{' '.join(command[1:])}` in {directory} failed with exit code {code}")


def install_code(code_dir, program):
    """setup.py → the code dir as a package (with its requirements); else requirements.txt for a Python script."""
    requirements = os.path.isfile(os.path.join(code_dir, C["requirements_file"]))
    if os.path.isfile(os.path.join(code_dir, C["setup_file"])):
        pip_install(code_dir, ".", *(["-r", C["requirements_file"]] if requirements else []))
    elif requirements and (program or "").endswith(".py"):
        pip_install(code_dir, "-r", C["requirements_file"])
