"""A run killed in the middle of its work, for the tests of commands that must lose nothing to it."""

from contextlib import contextmanager


class Killed(BaseException):
    """The operator's Ctrl-C or the machine going down: a BaseException, like KeyboardInterrupt, so that
    no `except Exception` of the code under test swallows it."""


@contextmanager
def killed_at_call(monkeypatch, owner, name: str, *, calls: int):
    """Within the block, `owner.name` does its work `calls` times, then the run is killed (Killed) at the
    next call; after the block it is the real one again."""
    real = getattr(owner, name)
    done = []

    def then_killed(*args, **kwargs):
        if len(done) == calls:
            raise Killed
        done.append(args)
        return real(*args, **kwargs)

    with monkeypatch.context() as patch:
        patch.setattr(owner, name, then_killed)
        yield
