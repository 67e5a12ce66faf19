"""Development: the embedded default with DEBUG on unless the environment says otherwise."""

from .base import *  # noqa: F403
from .base import env

DEBUG = env.bool("DEBUG", default=True)
# A method a Jinja2 template reads and forgets to call is an error (config/jinja2.py).
TEMPLATE_STRICT_CALLS = DEBUG
# No collectstatic in development, even with DEBUG=0: serve straight from the static folders.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
