"""Errors that stop a run. The marker lets the driver recover an executor's message from Spark's wrapped traceback."""

MARKER = "LAKESYNC_INPUT_ERROR:"


class LakesyncError(Exception):
    """A run or input error: the message names the file, line and column where known."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


class InputError(LakesyncError):
    pass


class StateError(LakesyncError):
    pass


def executor_error(code: str, message: str) -> Exception:
    """An error raised inside a Spark task: one line, recoverable by `from_spark`."""
    return RuntimeError(f"{MARKER}{code}:{message.replace(chr(10), ' ')}")


def from_spark(e: BaseException) -> LakesyncError | None:
    """The InputError a failed Spark job carried from an executor, if any."""
    text = str(e)
    i = text.find(MARKER)
    if i < 0:
        return None
    rest = text[i + len(MARKER):].split("\n", 1)[0]
    code, _, message = rest.partition(":")
    return InputError(code, message.strip())
