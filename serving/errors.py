"""Errors that carry the gRPC status TensorFlow Serving answers with.

Handlers raise `ServingError` wherever a request is found wrong; the servicer turns it into
`context.abort(code, message)`. Messages follow TF Serving's wording where it has one, so clients
written against TF Serving see the same text (e.g. "Servable not found for request: Latest(m)").

A message may quote request data (TensorFlow's parse errors do), so it is made printable ASCII
(`printable`: other characters escaped) and cut to `MAX_MESSAGE_CHARS`; `log_line` is the one
log line a failed request writes, its reason cut to `MAX_LOG_REASON_CHARS`.
"""

from __future__ import annotations

import grpc
import tensorflow as tf

# The longest message a client gets back, and the longest reason a failed request's log line holds.
MAX_MESSAGE_CHARS = 1000
MAX_LOG_REASON_CHARS = 200


def printable(text: str, limit: int) -> str:
    """`text` as printable ASCII (anything else escaped: `\\n`, `\\x00`, `\\u00e9`), cut to `limit` characters.

    >>> printable("bad\\nvalue: \\x00\\xff", 100)
    'bad\\\\nvalue: \\\\x00\\\\xff'
    >>> printable("x" * 10, 6)
    'xxx...'
    """
    escaped = "".join(c if " " <= c <= "~" else c.encode("unicode_escape").decode("ascii") for c in text)
    return escaped if len(escaped) <= limit else escaped[:max(0, limit - 3)] + "..."


class ServingError(Exception):
    """A request failure with the gRPC status code to answer with.

    Args:
        code: the `grpc.StatusCode`.
        message: names the problem (which model, input, feature...).

    Example:

    >>> raise ServingError(grpc.StatusCode.NOT_FOUND, "Servable not found for request: Latest(m)")
    Traceback (most recent call last):
    ...
    serving.errors.ServingError: NOT_FOUND: Servable not found for request: Latest(m)
    """

    def __init__(self, code: grpc.StatusCode, message: str):
        message = printable(message, MAX_MESSAGE_CHARS)
        super().__init__(f"{code.name}: {message}")
        self.code = code
        self.message = message


def log_line(method: str, target: str, error: ServingError) -> str:
    """The one log line of a failed request: method, model/version/signature, status, a short reason.

    >>> log_line("Predict", "toy/latest/serving_default", invalid_argument("Feature: item is required"))
    'Predict toy/latest/serving_default -> INVALID_ARGUMENT: Feature: item is required'
    """
    return (f"{printable(method, 40)} {printable(target, 200)} -> {error.code.name}: "
            f"{printable(error.message, MAX_LOG_REASON_CHARS)}")


def invalid_argument(message: str) -> ServingError:
    return ServingError(grpc.StatusCode.INVALID_ARGUMENT, message)


def not_found(message: str) -> ServingError:
    return ServingError(grpc.StatusCode.NOT_FOUND, message)


def failed_precondition(message: str) -> ServingError:
    return ServingError(grpc.StatusCode.FAILED_PRECONDITION, message)


# tf.errors codes are the canonical (gRPC) codes: map by value, not by a hand-written table.
_CODES_BY_VALUE = {code.value[0]: code for code in grpc.StatusCode}


def from_tf_error(error: tf.errors.OpError) -> ServingError:
    """The `ServingError` for a TensorFlow runtime error (e.g. bad example bytes -> INVALID_ARGUMENT)."""
    code = _CODES_BY_VALUE.get(error.error_code, grpc.StatusCode.INTERNAL)
    return ServingError(code, op_error_summary(error.message))


def from_undecodable_tf_error(error: UnicodeDecodeError) -> ServingError:
    """A TensorFlow error whose message echoed non-UTF-8 request bytes, so Python could not raise it.

    TensorFlow fails building the `OpError` (its code is lost) while decoding the message; the raw
    message is in `error.object`. Only request data parsing echoes raw bytes: INVALID_ARGUMENT.
    """
    raw = error.object.decode("utf-8", errors="replace") if isinstance(error.object, bytes) else str(error)
    return invalid_argument(op_error_summary(raw))


_BOILERPLATE = ("Graph execution error", "Detected at node", "<stack traces unavailable>")


def op_error_summary(message: str) -> str:
    """The lines of a TensorFlow op error that name the problem, without graph and stack boilerplate."""
    lines = [line.strip() for line in message.splitlines()
             if line.strip() and not line.startswith((" ", "\t")) and not line.startswith(_BOILERPLATE)]
    summary = " ".join(lines) or message.strip()
    return summary.split(" [Op:")[0].strip()
