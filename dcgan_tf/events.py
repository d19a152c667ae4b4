"""TensorBoard event files of a run, written with TensorBoard's own pure-Python
writer (no TensorFlow ops, so the three backends log alike): scalars, text and
images; cut back to a resumed run's step, damaged files set aside."""

import io
import time
import warnings

from dcgan_tf import files


def cut_events(folder, last_step: int) -> None:
    """Drops the TensorBoard events after `last_step` from every event file in
    `folder` (a resumed run writes them again), rewriting each atomically; a
    record cut short by a kill ends its file."""
    from tensorboard.backend.event_processing.event_file_loader import (
        RawEventFileLoader,
    )
    from tensorboard.compat.proto.event_pb2 import Event
    from tensorboard.summary.writer.record_writer import RecordWriter

    for path in sorted(folder.glob("*tfevents*")) if folder.is_dir() else []:
        kept, dropped = [], 0
        for record in RawEventFileLoader(str(path)).Load():
            event = Event.FromString(record)
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
        if not path.name.endswith(".damaged"):
            path.rename(path.with_name(path.name + ".damaged"))
    warnings.warn(
        f"{folder} has damaged event files ({type(error).__name__}); set aside as "
        "*.damaged, and TensorBoard's curves start again here.",
        stacklevel=3,
    )


class EventLog:
    """An open event file in `folder`, whose older events after `first_step`
    were cut (a resumed run writes them again).

    A damaged event file never costs training: it is set aside as
    `*.damaged`, with a warning, and the curves start again from here.
    """

    def __init__(self, folder, first_step: int):
        from tensorboard.summary.writer.event_file_writer import EventFileWriter

        try:
            cut_events(folder, first_step)
        except files.WriteError:
            raise
        except Exception as error:  # damaged events must not cost training
            set_aside(folder, error)
        folder.mkdir(parents=True, exist_ok=True)
        self.writer = EventFileWriter(str(folder), flush_secs=10)

    def scalars(self, values: dict, step: int) -> None:
        """One scalar event per `tag: value` at `step`."""
        from tensorboard.compat.proto.event_pb2 import Event
        from tensorboard.plugins.scalar.summary_v2 import scalar_pb

        for tag, value in values.items():
            summary = scalar_pb(tag, float(value))
            self.writer.add_event(
                Event(wall_time=time.time(), step=step, summary=summary)
            )

    def text(self, tag: str, text: str, step: int) -> None:
        """A text event (Markdown in TensorBoard's Text tab)."""
        from tensorboard.compat.proto.event_pb2 import Event
        from tensorboard.plugins.text.summary_v2 import text_pb

        summary = text_pb(tag, text)
        self.writer.add_event(Event(wall_time=time.time(), step=step, summary=summary))

    def image(self, tag: str, path, step: int) -> None:
        """An image event of the PNG file `path`, as it is encoded."""
        from PIL import Image
        from tensorboard.compat.proto.event_pb2 import Event
        from tensorboard.compat.proto.summary_pb2 import Summary

        data = path.read_bytes()
        with Image.open(io.BytesIO(data)) as image:
            width, height = image.size
            channels = len(image.getbands())
        picture = Summary.Image(
            height=height, width=width, colorspace=channels, encoded_image_string=data
        )
        summary = Summary(value=[Summary.Value(tag=tag, image=picture)])
        self.writer.add_event(Event(wall_time=time.time(), step=step, summary=summary))

    def flush(self) -> None:
        self.writer.flush()

    def close(self) -> None:
        self.writer.close()
