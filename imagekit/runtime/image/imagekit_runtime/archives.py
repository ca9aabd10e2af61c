"""Tar extraction that stays inside its directory, on any Python (Debian 12's 3.11.2 and the older Pythons of
many images have no tarfile extraction filters). Standard library only and no runtime.json, so the host's
model-archive reader (imagekit.smoke.layout) uses this same code."""

import os


class Escape(Exception):
    """A member that would land, or point, outside the directory, or is not a file, directory or link."""


def extract_inside(tar, destination, mounted_at=None):
    """Extract *tar* (an open TarFile) member by member, each checked against the disk as the members before it
    left it: a link one member makes (q -> ., then p -> q/..) is followed when a later member is checked.

    *mounted_at* is where the directory is seen when it is used (hosting extracts model.tar.gz into /opt/ml/model):
    an absolute link under it points inside, so it is kept, made relative; messages name that path.
    """
    root = os.path.realpath(destination)
    shown = mounted_at or destination

    def inside(path):
        return os.path.commonpath([root, path]) == root

    for member in tar:
        target = os.path.realpath(os.path.join(root, member.name))
        if os.path.isabs(member.name) or not inside(target):
            raise Escape(f"{member.name!r} would be written outside {shown}")
        if member.issym() and mounted_at and os.path.isabs(member.linkname):
            within = os.path.relpath(os.path.normpath(member.linkname), mounted_at)
            if within != ".." and not within.startswith("../"):
                parent = os.path.realpath(os.path.dirname(os.path.join(root, member.name)))
                member.linkname = os.path.relpath(os.path.join(root, within), parent)
        if member.issym() or member.islnk():
            base = os.path.dirname(target) if member.issym() else root
            if os.path.isabs(member.linkname) or not inside(os.path.realpath(os.path.join(base, member.linkname))):
                raise Escape(f"{member.name!r} links to {member.linkname!r}, outside {shown}")
        elif not (member.isfile() or member.isdir()):
            raise Escape(f"{member.name!r} is a device, FIFO or other special file")
        member.mode &= 0o755  # no setuid/setgid/sticky, no group/other write, as the 'data' filter does
        if member.isdir():
            member.mode |= 0o700  # extracted one by one, a read-only directory would refuse the files inside it
        member.uid = member.gid = 0
        member.uname = member.gname = ""
        tar.extract(member, root, set_attrs=not member.issym(), numeric_owner=True)
