"""Images named by a URI (``s3://bucket/a.png``, ``gs://...``, ``file:///data/a.png``) instead of
a path: read through fsspec, which knows each object store once its package is installed
(s3fs, gcsfs, adlfs). Manifests keep such a value as it is (it is not joined to the manifest's
folder), the judge reads its bytes like a file's, and a ``ray-vllm:`` worker reads it itself.

    >>> is_uri("s3://bucket/a.png"), is_uri("images/a.png"), is_uri("C:/data/a.png")
    (True, False, False)
"""

from __future__ import annotations

import re

from .errors import MissingDependencyError, SampleError

# scheme://... with a scheme of two or more characters (one letter is a Windows drive: C:/...).
_URI = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]+://")


def is_uri(value: object) -> bool:
    return isinstance(value, str) and _URI.match(value) is not None


def read_uri(uri: str) -> bytes:
    """The bytes at ``uri``; a missing object or store is this sample's failure, with the reason."""
    try:
        import fsspec
    except ImportError as e:
        raise MissingDependencyError("fsspec", "uris") from e
    try:
        with fsspec.open(uri, "rb") as fh:
            return bytes(fh.read())
    except FileNotFoundError:
        raise SampleError(f"image {uri} does not exist") from None
    except (ImportError, OSError, ValueError) as exc:  # ImportError: the store's package (s3fs, ...) is missing
        raise SampleError(f"image {uri} cannot be read: {exc}") from None
