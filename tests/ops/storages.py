"""A storage without local paths, as a bucket (S3) is: tests point STORAGES["default"] at it to
show that nothing reaches for a file's path on disk."""

import os

from django.core.files.storage import InMemoryStorage
from django.utils._os import safe_join

BACKEND = "tests.ops.storages.PathlessStorage"


class PathlessStorage(InMemoryStorage):
    """In memory, and like django-storages' S3Storage it has no ``path()``: any caller that
    asks for one fails. (InMemoryStorage itself resolves names through ``path()``; here it
    does so privately.)"""

    def path(self, name):
        raise NotImplementedError("This backend doesn't support absolute paths.")

    def _relative_path(self, name):
        return os.path.relpath(safe_join(self.location, name), self.location)
