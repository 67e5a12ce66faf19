"""The embedded broker (no REDIS_URL): kombu's filesystem transport, with each message written whole
before it appears in the queue folder.

kombu's own transport creates the message file under its final name and then writes it, while a
consumer takes any file with a matching name without waiting for the writer's lock. A consumer that
polls between the two reads an empty or half-written file: the message is lost (an error in the
worker, nothing delivered), more often the busier the machine. Here the message is written under a
name no consumer matches and renamed into place (os.replace is atomic within the folder).
"""

import contextlib
import os
import uuid
from time import monotonic

from kombu.transport import filesystem
from kombu.utils.encoding import str_to_bytes
from kombu.utils.json import dumps


class Channel(filesystem.Channel):
    def _put(self, queue, payload, **kwargs):
        """Put `payload` onto `queue`: write a temporary file, then rename it to kombu's message name."""
        name = f"{int(round(monotonic() * 1000))}_{uuid.uuid4()}.{queue}.msg"
        # No "." before the queue's name: _get and _size never match a file being written.
        partial = os.path.join(self.data_folder_out, f"writing-{uuid.uuid4().hex}")
        try:
            with open(partial, "wb", buffering=0) as handle:
                handle.write(str_to_bytes(dumps(payload)))
            os.replace(partial, os.path.join(self.data_folder_out, name))
        except OSError as exc:
            with contextlib.suppress(OSError):
                os.remove(partial)
            raise filesystem.ChannelError(f"Cannot add file {name!r} to directory") from exc



class Transport(filesystem.Transport):
    Channel = Channel
