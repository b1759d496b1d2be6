"""Telling a full or read-only disk apart from a broken file (stdlib only).

SQLite reports a full disk as "disk I/O error" and a read-only one as "unable to open database
file"; the right advice is then to free space or make the folder writable, never to recreate
anything, so every writer (registry, metadata store, artifact store) asks here first.
"""

from __future__ import annotations

import errno
import os
from pathlib import Path

_SQLITE_READONLY, _SQLITE_IOERR, _SQLITE_FULL, _SQLITE_CANTOPEN = 8, 10, 13, 14
_DISK_ERRNOS = (errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EPERM)
LOW_SPACE = 1 << 20  # below 1 MiB free, an I/O error is taken for a full disk


def disk_problem(folder: str | Path, exc: BaseException | None = None) -> str | None:
    """Why ``folder`` cannot be written (read-only, full, not writable), or None.

    With ``exc``, only errors a disk can cause are considered (SQLite's READONLY, IOERR, FULL,
    CANTOPEN; ENOSPC, EDQUOT, EROFS, EACCES, EPERM); anything else returns None at once."""
    os_errno = getattr(exc, "errno", None)
    if exc is not None:
        code = getattr(exc, "sqlite_errorcode", None)
        primary = code & 0xFF if isinstance(code, int) else None
        if primary not in (_SQLITE_READONLY, _SQLITE_IOERR, _SQLITE_FULL, _SQLITE_CANTOPEN) and os_errno not in _DISK_ERRNOS:
            return None
        full = primary == _SQLITE_FULL or os_errno in (errno.ENOSPC, errno.EDQUOT)
    else:
        full = False
    probe = Path(folder)
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    try:
        st = os.statvfs(probe)
    except OSError:
        return None
    if st.f_flag & os.ST_RDONLY or os_errno == errno.EROFS:
        return f"{probe} is on a read-only file system; remount it read-write or work from a writable copy"
    free = st.f_bavail * st.f_frsize
    if full or free < LOW_SPACE:
        return f"the disk holding {probe} is full ({free // 1024} KiB free); free some space and try again"
    if not os.access(probe, os.W_OK):
        return f"{probe} is not writable by this user; make it writable or work from a writable copy"
    return None
