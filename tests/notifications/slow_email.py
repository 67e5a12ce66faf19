"""A test-only email backend: files like Django's filebased backend, but slowly, and says when it starts,
so that a test can kill the worker in the middle of a delivery."""

import os
import time
import uuid
from pathlib import Path

from django.core.mail.backends.filebased import EmailBackend


class SlowFileEmailBackend(EmailBackend):
    def send_messages(self, email_messages):
        marker_dir = Path(os.environ["HOPLUC_TEST_MARKER_DIR"])
        (marker_dir / f"started-{os.getpid()}-{uuid.uuid4().hex}").touch()
        time.sleep(float(os.environ.get("HOPLUC_TEST_EMAIL_DELAY", "0")))
        return super().send_messages(email_messages)
