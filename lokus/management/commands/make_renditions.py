"""Make the missing renditions of field photos (once, after upgrading): the print
rendition and the thumbnail.

Photos uploaded since renditions exist get theirs at upload (lokus/uploads.py). Older ones
have none: official documents scale them on every download instead (core/pdf.py
``photo_data_uri``, which never writes: a download is a read), and pages show the photo
itself where a thumbnail would do (templates/lokus/_photo.html). This makes them, once."""

import warnings

from django.core.management.base import BaseCommand
from django.db import transaction
from django.db.models import Q

from core.images import PRINT_MAX_SIDE, THUMB_MAX_SIDE, print_rendition, thumbnail_rendition
from lokus.enums import MediaKind
from lokus.models import FieldMedia


class Command(BaseCommand):
    help = "Make the print rendition and the thumbnail of every field photo stored without them. Safe to run again."

    def handle(self, *args, **options):
        missing = FieldMedia.objects.filter(Q(print_file="") | Q(thumb_file=""), kind=MediaKind.PHOTO).order_by("pk")
        made, unreadable = {"print_file": 0, "thumb_file": 0}, []
        for pk in missing.values_list("pk", flat=True):
            outcome = _make_renditions(pk)
            if outcome is None:
                unreadable.append(pk)
            for field in outcome or ():
                made[field] += 1
        self.stdout.write(f"Made {made['print_file']} print rendition(s).")
        self.stdout.write(f"Made {made['thumb_file']} thumbnail(s).")
        if unreadable:
            self.stderr.write(
                f"Could not read {len(unreadable)} photo(s); their documents and pages keep using the original: "
                + ", ".join(f"#{pk}" for pk in unreadable)
            )


# Each rendition: its field, how large it is at most, how it is made.
RENDITIONS = [("print_file", PRINT_MAX_SIDE, print_rendition), ("thumb_file", THUMB_MAX_SIDE, thumbnail_rendition)]


@transaction.atomic
def _make_renditions(pk: int) -> list[str] | None:
    """The fields of the renditions made (none if it had them: another run was faster), or
    None if the stored photo cannot be read."""
    from PIL import Image, ImageOps

    media = FieldMedia.objects.select_for_update().get(pk=pk)
    todo = [(field, side, make) for field, side, make in RENDITIONS if not getattr(media, field)]
    if not todo:
        return []
    largest = max(side for _field, side, _make in todo)
    try:
        with media.file.open("rb") as fh, warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(fh) as image:
                image.draft("RGB", (largest, largest))  # decode a JPEG at the size needed
                upright = ImageOps.exif_transpose(image)
                renditions = {field: make(upright) for field, _side, make in todo}
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError, Image.DecompressionBombWarning):
        return None
    for field, rendition in renditions.items():
        getattr(media, field).save(rendition.name, rendition, save=False)  # a thumbnail sets its size too
    media.save(update_fields=[*renditions, *(["thumb_width", "thumb_height"] if "thumb_file" in renditions else [])])
    return list(renditions)
