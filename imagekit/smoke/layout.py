"""The /opt/ml tree a SageMaker training host sees, built in a temp dir with the platform's file shapes."""

from __future__ import annotations

import filecmp
import json
import os
import shutil
import tarfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

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


@dataclass
class MergedModel:
    """Every host's /opt/ml/model as one tree, the way SageMaker uploads a multi-host job's model.tar.gz."""

    entries: dict[str, Path] = field(default_factory=dict)  # relative path -> the file, link or dir that is kept
    clashes: dict[str, list[str]] = field(default_factory=dict)  # relative path -> hosts that wrote different bytes

    @property
    def files(self) -> int:
        return sum(1 for path in self.entries.values() if path.is_symlink() or not path.is_dir())


def merge_models(models: dict[str, Path]) -> MergedModel:
    """Merge *models* (host -> its model dir) in host order, a later host's file over an earlier one's, as SDK local
    mode's recursive copy does; a path two hosts wrote with different bytes is a clash (on SageMaker one silently
    overwrites the other: "names must not clash")."""
    merged, writers = MergedModel(), {}
    for host, root in models.items():
        for path in sorted(root.rglob("*")):  # a parent before its children
            relative = path.relative_to(root).as_posix()
            kept = merged.entries.get(relative)
            if kept is not None and _differs(kept, path):
                merged.clashes[relative] = writers[relative]
                if _is_dir(kept) != _is_dir(path):  # a file where a dir was (or the reverse): the later one wins
                    merged.entries = {name: entry for name, entry in merged.entries.items()
                                      if not name.startswith(relative + "/")}
            writers.setdefault(relative, []).append(host)
            merged.entries[relative] = path
    return merged


def _is_dir(path: Path) -> bool:
    return path.is_dir() and not path.is_symlink()


def _differs(kept: Path, new: Path) -> bool:
    if _is_dir(kept) or _is_dir(new):
        return _is_dir(kept) != _is_dir(new)
    if kept.is_symlink() or new.is_symlink():
        return not (kept.is_symlink() and new.is_symlink() and os.readlink(kept) == os.readlink(new))
    try:
        return not filecmp.cmp(kept, new, shallow=False)
    except OSError:  # unreadable: not known to be the same (packing it then fails with a clear error)
        return True


LINK_HOPS = 40  # links followed to resolve one path, as the kernel's ELOOP limit


def resolve_link(root: Path, relative: str) -> tuple[Path | None, str]:
    """Where *relative* (a path in the model dir *root*) ends up as the container sees the model at MODEL_DIR: an
    absolute link under MODEL_DIR points into *root*. (the host path, "") or (None, why it resolves nowhere)."""
    parts, resolved, hops = list(PurePosixPath(relative).parts), [], 0
    while parts:
        part = parts.pop(0)
        if part == "..":
            if not resolved:
                return None, f"leaves {contract.MODEL_DIR}"
            resolved.pop()
            continue
        candidate = root.joinpath(*resolved, part)
        if not candidate.is_symlink():
            if part != ".":
                resolved.append(part)
            continue
        hops += 1
        if hops > LINK_HOPS:
            return None, "is a symlink loop"
        text = PurePosixPath(os.readlink(candidate))
        if text.is_absolute():
            if not text.is_relative_to(contract.MODEL_DIR):
                return None, f"points to {text}, outside {contract.MODEL_DIR}"
            resolved, text = [], text.relative_to(contract.MODEL_DIR)
        parts = [*text.parts, *parts]
    path = root.joinpath(*resolved)
    return (path, "") if path.exists() else (None, f"points to {contract.MODEL_DIR.joinpath(*resolved)}, which does "
                                                   "not exist")


def _followed(root: Path, relative: str) -> tuple[Path | None, str]:
    """resolve_link, also refusing a link to a directory that holds the link (`loop -> .`): followed, it never ends."""
    target, why = resolve_link(root, relative)
    if target is not None and _is_dir(target) and _holds(target, root / relative):
        return None, "loops back to a directory that holds it"
    return target, why


def _holds(directory: Path, path: Path) -> bool:
    return path.parent.resolve().is_relative_to(directory.resolve())


def unpackable_links(model: MergedModel) -> dict[str, str]:
    """The model's links that resolve nowhere in it (relative path -> what it points to and why): left out of
    model.tar.gz."""
    found = {}
    for relative, path in model.entries.items():
        if path.is_symlink():
            why = _followed(path.parents[relative.count("/")], relative)[1]
            if why:
                found[relative] = f"{os.readlink(path)} ({why})"
    return found


def pack_model(model: MergedModel | Path, destination: Path) -> Path:
    """A model dir (or hosts' merged model dirs) as SageMaker uploads it: one gzip tar with its contents at the
    root, links followed as SDK local mode's copy and tar do (a link to a directory brings its files); links that
    resolve nowhere in the model (unpackable_links) are left out. Written beside *destination*, then renamed, so a
    failed run never leaves a half archive."""
    if isinstance(model, Path):
        model = merge_models({"": model})
    destination.parent.mkdir(parents=True, exist_ok=True)
    partial = destination.with_name(f".{destination.name}.partial")
    try:
        with tarfile.open(partial, "w:gz") as archive:
            for relative, path in sorted(model.entries.items()):
                root = path.parents[relative.count("/")]
                target = _followed(root, relative)[0] if path.is_symlink() else path
                if target is None:
                    continue
                if path.is_symlink() and _is_dir(target):
                    _add_linked_dir(archive, root, target, relative, {target.resolve()})
                else:
                    archive.add(target, arcname=relative, recursive=False)
        os.replace(partial, destination)
    finally:
        partial.unlink(missing_ok=True)
    return destination


def _add_linked_dir(archive: tarfile.TarFile, root: Path, directory: Path, name: str, chain: set[Path]) -> None:
    """The tree of *directory*, reached through a link, as *name*; links in it followed too, except back into a
    directory on *chain* (the ones being added)."""
    archive.add(directory, arcname=name, recursive=False)
    for child in sorted(directory.iterdir()):
        target = resolve_link(root, child.relative_to(root).as_posix())[0] if child.is_symlink() else child
        if target is None or target.resolve() in chain:
            continue
        if _is_dir(target):
            _add_linked_dir(archive, root, target, f"{name}/{child.name}", chain | {target.resolve()})
        else:
            archive.add(target, arcname=f"{name}/{child.name}", recursive=False)


def unpack_model(source: Path, destination: Path) -> None:
    """A model dir or model.tar.gz into *destination*, the way hosting extracts ModelDataUrl."""
    hint = "Pass --model with a model directory or the model.tar.gz a training job wrote."
    if not source.exists():
        raise ImagekitError(f"Model {source} does not exist.", hint)
    destination.mkdir(parents=True, exist_ok=True)
    if source.is_dir():
        _copy_model_dir(source, destination, hint)
        return
    try:
        with tarfile.open(source, "r:*") as archive:
            extract_inside(archive, destination, mounted_at=str(contract.MODEL_DIR))
    except Escape as error:
        raise ImagekitError(f"Model {source} is refused: {error}.", hint) from None
    except (tarfile.TarError, OSError, EOFError) as error:
        reason = "not a tar archive (plain, gzip, bzip2 or xz)" if isinstance(error, tarfile.ReadError) else error
        raise ImagekitError(f"Model {source} is not a readable model.tar.gz: {reason}.", hint) from None


def _copy_model_dir(source: Path, destination: Path, hint: str) -> None:
    """A model directory as extracting its model.tar.gz would leave it: links kept as links (an absolute one into
    MODEL_DIR made relative), never followed out of it; a link resolving nowhere or a special file is refused."""
    for folder, dirs, files in os.walk(source):  # links to directories are listed in dirs, not entered
        here = Path(folder)
        for name in sorted(dirs + files):
            path, relative = here / name, (here / name).relative_to(source)
            copy = destination / relative
            try:
                if path.is_symlink():
                    target, why = resolve_link(source, relative.as_posix())
                    if target is None:
                        raise ImagekitError(f"Model link {path} -> {os.readlink(path)} resolves nowhere in the "
                                            f"model: it {why}.", "A model may hold links only to its own files: "
                                            "replace the link with the file itself, or remove it.")
                    text = os.readlink(path)
                    copy.symlink_to(os.path.relpath(target, path.parent) if os.path.isabs(text) else text)
                elif path.is_dir():
                    copy.mkdir()
                elif path.is_file():
                    shutil.copy2(path, copy)
                else:
                    raise ImagekitError(f"Model {path} is a named pipe, socket or device, not a file.",
                                        "A model holds only files, directories and links: remove it.")
            except OSError as error:
                raise ImagekitError(f"Cannot copy model file {path}: {error.strerror or error}.", hint) from None
