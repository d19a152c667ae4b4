"""TensorBoard event files of a run, written with TensorBoard's own pure-Python
writer (no TensorFlow ops, so the three backends log alike): scalars, text and
images; cut back to a resumed run's step, damaged files set aside. Events are
optional: a folder that cannot be written is one warning, and the run goes on
without them."""

import io
import struct
import time
import warnings

from dcgan_tf import files


class DamagedEvents(ValueError):
    """An event file holds bytes that are not TensorBoard's records."""


def read_records(path) -> list[bytes]:
    """The records of an event file, each checked against its CRCs.

    A record cut short at the end (a kill while it was written) ends the
    file; anything else that is not a record is damage.

    Raises:
        DamagedEvents: naming the file.
    """
    from tensorboard.compat.tensorflow_stub.pywrap_tensorflow import masked_crc32c

    data = path.read_bytes()
    records, at = [], 0
    while at + 12 <= len(data):
        header = data[at : at + 8]
        (length,) = struct.unpack("<Q", header)
        (header_crc,) = struct.unpack("<I", data[at + 8 : at + 12])
        if header_crc != masked_crc32c(header):
            raise DamagedEvents(f"{path}: a record's length fails its CRC")
        end = at + 12 + length
        if end + 4 > len(data):
            break  # cut short by a kill
        record = data[at + 12 : end]
        (crc,) = struct.unpack("<I", data[end : end + 4])
        if crc != masked_crc32c(record):
            raise DamagedEvents(f"{path}: a record fails its CRC")
        records.append(record)
        at = end + 4
    return records


def cut_events(folder, last_step: int) -> None:
    """Drops the TensorBoard events after `last_step` from every event file in
    `folder` (a resumed run writes them again), rewriting each atomically; a
    record cut short by a kill ends its file.

    Raises:
        DamagedEvents: for a file that is not TensorBoard's records.
    """
    from google.protobuf.message import DecodeError
    from tensorboard.compat.proto.event_pb2 import Event
    from tensorboard.summary.writer.record_writer import RecordWriter

    for path in sorted(folder.glob("*tfevents*")) if folder.is_dir() else []:
        if path.name.endswith(".damaged") or path.is_symlink():
            continue
        kept, dropped = [], 0
        for record in read_records(path):
            try:
                event = Event.FromString(record)
            except DecodeError:
                raise DamagedEvents(f"{path}: a record is not an event") from None
            if event.HasField("summary") and event.step > last_step:
                dropped += 1
            else:
                kept.append(record)
        if not dropped:
            continue

        def write(tmp, kept=kept):
            with open(tmp, "wb") as file:
                writer = RecordWriter(file)
                for record in kept:
                    writer.write(record)

        files.write_atomically(path, write)


def set_aside(folder, error) -> None:
    """Renames the damaged event files of `folder` to `*.damaged`, with a
    warning: TensorBoard's curves start again from this point."""
    for path in sorted(folder.glob("*tfevents*")):
        if not path.name.endswith(".damaged") and not path.is_symlink():
            path.rename(path.with_name(path.name + ".damaged"))
    warnings.warn(
        f"{folder} has damaged event files ({type(error).__name__}); set aside as "
        "*.damaged, and TensorBoard's curves start again here.",
        stacklevel=3,
    )


class EventLog:
    """An open event file in `folder`, whose older events after `first_step`
    were cut (a resumed run writes them again).

    Events never cost training: a damaged event file is set aside as
    `*.damaged`, with a warning, and the curves start again from here; a
    folder that cannot be written (read-only, a file in its place) is one
    warning, and the run goes on without events.
    """

    def __init__(self, folder, first_step: int):
        from tensorboard.summary.writer.event_file_writer import EventFileWriter

        self.folder = folder
        self.writer = None
        try:
            try:
                cut_events(folder, first_step)
            except DamagedEvents as error:
                set_aside(folder, error)
            folder.mkdir(parents=True, exist_ok=True)
            self.writer = EventFileWriter(str(folder), flush_secs=10)
        except (OSError, files.WriteError) as error:
            self._give_up(error)

    def _give_up(self, error) -> None:
        """Stops writing events, with one warning: they are optional."""
        self.writer = None
        reason = getattr(error, "strerror", None) or str(error) or type(error)
        warnings.warn(
            f"Cannot write TensorBoard events in {self.folder} ({reason}); the run "
            "goes on without them (resume with --no-tensorboard to silence this).",
            stacklevel=3,
        )

    def _add(self, event) -> None:
        if self.writer is None:
            return
        try:
            self.writer.add_event(event)
        except Exception as error:  # the writer's thread failed: events only
            self._give_up(error)

    def scalars(self, values: dict, step: int) -> None:
        """One scalar event per `tag: value` at `step`."""
        from tensorboard.compat.proto.event_pb2 import Event
        from tensorboard.plugins.scalar.summary_v2 import scalar_pb

        for tag, value in values.items():
            summary = scalar_pb(tag, float(value))
            self._add(Event(wall_time=time.time(), step=step, summary=summary))

    def text(self, tag: str, text: str, step: int) -> None:
        """A text event (Markdown in TensorBoard's Text tab)."""
        from tensorboard.compat.proto.event_pb2 import Event
        from tensorboard.plugins.text.summary_v2 import text_pb

        summary = text_pb(tag, text)
        self._add(Event(wall_time=time.time(), step=step, summary=summary))

    def image(self, tag: str, path, step: int) -> None:
        """An image event of the PNG file `path`, as it is encoded."""
        from PIL import Image
        from tensorboard.compat.proto.event_pb2 import Event
        from tensorboard.compat.proto.summary_pb2 import Summary

        if self.writer is None:
            return
        try:
            data = path.read_bytes()
            with Image.open(io.BytesIO(data)) as image:
                width, height = image.size
                channels = len(image.getbands())
        except (OSError, ValueError, SyntaxError):
            return  # a grid that cannot be read is shown by no event
        picture = Summary.Image(
            height=height, width=width, colorspace=channels, encoded_image_string=data
        )
        summary = Summary(value=[Summary.Value(tag=tag, image=picture)])
        self._add(Event(wall_time=time.time(), step=step, summary=summary))

    def flush(self) -> None:
        if self.writer is not None:
            try:
                self.writer.flush()
            except Exception as error:  # the writer's thread failed: events only
                self._give_up(error)

    def close(self) -> None:
        if self.writer is not None:
            try:
                self.writer.close()
            except Exception as error:  # the writer's thread failed: events only
                self._give_up(error)
