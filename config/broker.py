"""Publishing to the broker from a request or a worker without waiting on it: a connection with bounded
sockets, kept per thread between publishes (issue 15: a new one per publish cost a connect, a PING and
a queue declaration). Used by the outbox relay (notifications.delivery) and the audit chain's
chain-now task (audit.services)."""

import logging
import threading

logger = logging.getLogger(__name__)


def bounded_connection(app, *, timeout: float):
    """A connection for writing to `app`'s broker that costs at most `timeout` seconds when the broker
    does not answer: max_retries=0 (kombu's default reconnects for seconds before giving up) and
    bounded sockets (redis-py's would wait for ever on a server that accepts and never answers)."""
    return app.connection_for_write(
        connect_timeout=timeout,
        transport_options={
            "max_retries": 0, "connect_retries_timeout": timeout,
            "socket_connect_timeout": timeout, "socket_timeout": timeout,
        },
    )


class KeptConnection(threading.local):
    """This thread's publishing connection, kept between publishes, with the key (broker URL and
    timeout) it was made for: a changed broker_url (a drill, a test) gets a new one."""

    key: tuple | None = None
    connection = None

    def take(self, key: tuple):
        """The kept connection for `key`, or None (any other is closed)."""
        if self.key != key:
            self.drop()
        return self.connection

    def keep(self, key: tuple, connection) -> None:
        self.key, self.connection = key, connection

    def drop(self) -> None:
        connection, self.key, self.connection = self.connection, None, None
        if connection is not None:
            release(connection)


def release(connection) -> None:
    """Close a publishing connection that is being thrown away (it may be broken: never raises)."""
    try:
        connection.release()
    except Exception:  # noqa: BLE001 - a broken connection is being thrown away
        logger.debug("Closing a publishing connection failed", exc_info=True)
