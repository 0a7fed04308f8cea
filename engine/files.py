"""Crash-safe file writing.

Every file the project writes (cached datasets, model files) goes through
`atomic_write`: the bytes go to a temporary file in the same folder, are flushed
to disk, and only then renamed over the target. A process killed mid-write
leaves the old file (or no file) behind, never a half-written one.
"""
import os
import tempfile
from pathlib import Path


def atomic_write(path, write):
    """Call `write(f)` on a temporary binary file, then rename it to `path`.

    path:  target file (str or Path); its folder must exist.
    write: function taking an open binary file object.
    Returns the Path written. On any error the temporary file is removed and
    the target is left as it was.
    """
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    try:
        # mkstemp makes the file private (0600); give it the usual permissions.
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)  # atomic on POSIX and Windows
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    return path


def atomic_write_bytes(path, data):
    """Write `data` (bytes) to `path` atomically. Returns the Path."""
    return atomic_write(path, lambda f: f.write(data))
