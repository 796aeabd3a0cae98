"""The embedded broker (kombu's filesystem transport), with messages that appear whole.

kombu writes a message straight into the queue folder under its final name. A worker that
lists the folder while the file is still being written moves it away and reads it empty or
cut short: the message is lost and the worker logs a JSONDecodeError. In the embedded mode
this happens whenever the web process, beat or the dispatcher publishes while the worker polls.
Here a message is written under a name no worker takes, then renamed into place: a rename
within one folder is atomic, so a worker sees a message whole or not at all. Two workers that
race for one message still get it once (the first rename out of the folder wins).

config/celery.py makes `filesystem://` URLs use this transport.
"""

from __future__ import annotations

import os
import uuid
from time import monotonic

from kombu.exceptions import ChannelError
from kombu.transport import filesystem
from kombu.utils.encoding import str_to_bytes
from kombu.utils.json import dumps


class Channel(filesystem.Channel):
    def _put(self, queue, payload, **kwargs):
        """Put a message onto `queue`, visible to workers only once it is complete."""
        # kombu's name: workers take the files of a queue in the order of these names.
        name = f"{int(round(monotonic() * 1000))}_{uuid.uuid4()}.{queue}.msg"
        final = os.path.join(self.data_folder_out, name)
        partial = os.path.join(self.data_folder_out, f".{name}.partial")  # not `<queue>.msg`: never taken
        try:
            with open(partial, "wb") as f:
                f.write(str_to_bytes(dumps(payload)))
            os.rename(partial, final)
        except OSError as exc:
            try:
                os.remove(partial)
            except OSError:
                pass
            raise ChannelError(f"Cannot add file {final!r} to directory") from exc


class Transport(filesystem.Transport):
    Channel = Channel
