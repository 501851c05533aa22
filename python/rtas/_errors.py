"""rtas's errors in Python: bad input is a ValueError (and an RtasError); everything else an RtasError."""

from __future__ import annotations

from typing import NoReturn


class RtasError(Exception):
    """Every error rtas raises (its message is the CLI's one line)."""


class InvalidInput(RtasError, ValueError):
    """An argument or an array is wrong: an unknown option, zero, NaN, a size that does not fit."""


class DataError(RtasError, ValueError):
    """A file could not be read or is not valid (IDX, CSV, NPY, TOML, ONNX)."""


class NumericalError(RtasError):
    """A numerical routine failed (no convergence, a singular system)."""


class ProtocolError(RtasError):
    """A protocol run failed (a party, a peer, the network), or rtas itself did."""


_KINDS = {"usage": InvalidInput, "data": DataError, "numerical": NumericalError, "protocol": ProtocolError}


def raise_from_engine(e: Exception) -> NoReturn:
    kind, message = e.args
    if kind == "cancelled":
        raise KeyboardInterrupt(message) from None
    raise _KINDS.get(kind, RtasError)(message) from None
