"""The /opt/ml tree a SageMaker training host sees, built in a temp dir with the platform's file shapes."""

from __future__ import annotations

import json
import shutil
import tarfile
from pathlib import Path

from imagekit import contract
from imagekit.errors import ImagekitError
from imagekit.runtime.image.imagekit_runtime.archives import Escape, extract_inside


def host_tree(root: Path, host: str, hosts: list[str], *, channels: dict[str, Path], hyperparameters: dict[str, str],
              instance_type: str, content_types: dict[str, str] | None = None) -> dict[str, dict]:
    """Write one host's config files and empty model/output/checkpoint dirs under *root*.

    Returns the docker `volumes` mapping: the host tree's writable parts and each channel read-only, the
    strictest of the platform's modes (FastFile), so a program that writes into its input fails here first.
    Config files are mounted read-only, as on the platform.
    """
    config_dir = root / "input" / "config"
    config_dir.mkdir(parents=True)
    for part in ("model", "output/data", "checkpoints"):
        (root / part).mkdir(parents=True)
    (config_dir / contract.HYPERPARAMETERS_FILE.name).write_text(
        json.dumps({key: str(value) for key, value in hyperparameters.items()}, indent=2))
    (config_dir / contract.RESOURCE_CONFIG_FILE.name).write_text(json.dumps({
        "current_host": host,
        "current_instance_type": instance_type,
        "current_group_name": contract.HOMOGENEOUS_GROUP,
        "hosts": hosts,
        "instance_groups": [{"instance_group_name": contract.HOMOGENEOUS_GROUP, "instance_type": instance_type,
                             "hosts": hosts}],
        "network_interface_name": contract.DEFAULT_NETWORK_INTERFACE,
    }, indent=2))
    data_config = {}
    for channel in channels:
        entry = {"TrainingInputMode": contract.TRAINING_INPUT_MODE_DEFAULT,
                 "S3DistributionType": contract.S3_DISTRIBUTION_DEFAULT,
                 "RecordWrapperType": contract.RECORD_WRAPPER_DEFAULT}
        if content_types and channel in content_types:
            entry["ContentType"] = content_types[channel]
        data_config[channel] = entry
    (config_dir / contract.INPUT_DATA_CONFIG_FILE.name).write_text(json.dumps(data_config, indent=2))
    volumes = {
        str(config_dir): {"bind": str(contract.INPUT_CONFIG_DIR), "mode": "ro"},
        str(root / "model"): {"bind": str(contract.MODEL_DIR), "mode": "rw"},
        str(root / "output"): {"bind": str(contract.OUTPUT_DIR), "mode": "rw"},
        str(root / "checkpoints"): {"bind": str(contract.CHECKPOINTS_DIR), "mode": "rw"},
    }
    for channel, source in channels.items():
        volumes[str(source.resolve())] = {"bind": str(contract.channel_dir(channel)), "mode": "ro"}
    return volumes


def pack_model(model_dir: Path, destination: Path) -> Path:
    """model/ as SageMaker uploads it: one gzip tar with the directory's contents at its root."""
    destination.parent.mkdir(parents=True, exist_ok=True)
    with tarfile.open(destination, "w:gz") as archive:
        for item in sorted(model_dir.iterdir()):
            archive.add(item, arcname=item.name)
    return destination


def unpack_model(source: Path, destination: Path) -> None:
    """A model dir or model.tar.gz into *destination*, the way hosting extracts ModelDataUrl."""
    hint = "Pass --model with a model directory or the model.tar.gz a training job wrote."
    if not source.exists():
        raise ImagekitError(f"Model {source} does not exist.", hint)
    destination.mkdir(parents=True, exist_ok=True)
    if source.is_dir():
        shutil.copytree(source, destination, dirs_exist_ok=True)
        return
    try:
        with tarfile.open(source, "r:*") as archive:
            extract_inside(archive, destination)
    except Escape as error:
        raise ImagekitError(f"Model {source} is refused: {error}.", hint) from None
    except (tarfile.TarError, OSError, EOFError) as error:
        reason = "not a tar archive (plain, gzip, bzip2 or xz)" if isinstance(error, tarfile.ReadError) else error
        raise ImagekitError(f"Model {source} is not a readable model.tar.gz: {reason}.", hint) from None
