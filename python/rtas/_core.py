"""How every call reaches the engine: keyword arguments become the CLI's flags, the engine runs the command
in this process (the same code as ``rtas ARGS --json``) and the JSON comes back as a :class:`Result`."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Mapping, Sequence
from typing import Any, Optional

import numpy as np

from . import _engine
from ._errors import raise_from_engine


def flags(**options: Any) -> list[str]:
    """``name=value`` -> ``--name value`` (underscores become dashes); True -> a bare flag; False or None ->
    nothing; a list or tuple -> its items comma-separated; a path -> its string."""
    out: list[str] = []
    for name, value in options.items():
        if value is None or value is False:
            continue
        flag = "--" + name.rstrip("_").replace("_", "-")
        if value is True:
            out.append(flag)
        elif isinstance(value, (list, tuple, np.ndarray)):
            out += [flag, ",".join(_text(v) for v in value)]
        else:
            out += [flag, _text(value)]
    return out


def _text(v: Any) -> str:
    if isinstance(v, bool):
        raise ValueError("a list of flags cannot hold booleans")
    if isinstance(v, (float, np.floating)):
        return repr(float(v))
    if isinstance(v, os.PathLike):
        return os.fspath(v)
    return str(v)


# Progress bars: "auto" draws a tqdm bar when tqdm is installed and stderr is a terminal; True always (tqdm
# needed), False never; or any callable(position, length, message). Set by rtas.set_progress.
_progress: Any = "auto"


def set_progress(how: Any) -> None:
    """How long runs show progress: "auto" (a tqdm bar when tqdm is installed and stderr is a terminal, the
    default), True (a tqdm bar), False (none), or a callable ``f(position, length, message)``."""
    global _progress
    if how not in ("auto", True, False) and not callable(how):
        raise ValueError(f"progress must be 'auto', True, False or a callable, got {how!r}")
    _progress = how


class _Tqdm:
    """A tqdm bar fed by the engine's progress (position, length, message); closed by close()."""

    def __init__(self) -> None:
        from tqdm.auto import tqdm

        self._tqdm = tqdm
        self.bar = None

    def __call__(self, position: int, length: Optional[int], message: str) -> None:
        if self.bar is None:
            self.bar = self._tqdm(total=length, desc=message, leave=False)
        if length is not None and self.bar.total != length:
            self.bar.total = length
        self.bar.set_description(message, refresh=False)
        self.bar.update(position - self.bar.n)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def _reporter() -> Any:
    if callable(_progress) and _progress is not True:
        return _progress
    if _progress is False:
        return None
    try:
        import tqdm  # noqa: F401
    except ImportError:
        if _progress is True:
            raise ImportError("progress bars need tqdm: pip install tqdm") from None
        return None
    if _progress == "auto" and not sys.stderr.isatty():
        return None
    return _Tqdm()


def _call(engine_call: Any) -> tuple:
    report = _reporter()
    try:
        return engine_call(report)
    except _engine.EngineError as e:
        raise_from_engine(e)
    finally:
        if isinstance(report, _Tqdm):
            report.close()


def run(command: Sequence[str], table_key: Optional[str] = None, views: bool = False, **options: Any) -> "Result":
    """Runs ``rtas COMMAND --flags --json`` in this process and wraps its JSON (and the roles' views)."""
    args = list(command) + flags(**options)
    text, table, seen = _call(lambda report: _engine.run(args, views, report))
    return Result(" ".join(command), json.loads(text), table, table_key, seen)


def run_arrays(
    command: Sequence[str], arrays: tuple, table_key: Optional[str] = None, views: bool = False, **options: Any
) -> "Result":
    """:func:`run` with NumPy arrays in place of ``--data-file`` (``simulate`` and the attacks on a user's
    rows): ``arrays`` is ``(x,)``, ``(x, y)`` or ``(x, y, x_test, y_test)``."""
    args = list(command) + flags(**options)
    text, table, seen = _call(lambda report: _engine.run_arrays(args, *arrays, views=views, progress=report))
    return Result(" ".join(command), json.loads(text), table, table_key, seen)


def _wrap(value: Any) -> Any:
    """JSON values as Python reads them best: objects as Results, lists of numbers (or of equal-length
    lists of numbers) as read-only NumPy arrays, other lists as tuples."""
    if isinstance(value, Mapping):
        return Result("", dict(value), None, None, None)
    if isinstance(value, list):
        if value and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value):
            a = np.asarray(value, dtype=float if any(isinstance(v, float) for v in value) else np.int64)
            a.setflags(write=False)
            return a
        if value and all(isinstance(v, list) and v and all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in v) for v in value):
            if len({len(v) for v in value}) == 1:
                a = np.asarray(value, dtype=float)
                a.setflags(write=False)
                return a
        return tuple(_wrap(v) for v in value)
    return value


class Result:
    """One command's result: its JSON's keys as attributes (numbers lists as NumPy arrays), read-only.

    ``to_dict()`` gives the JSON object exactly as ``rtas ... --json`` prints it; ``to_pandas()`` the rows of
    its main table as a DataFrame (pandas needed); ``str()`` the table the CLI prints."""

    __slots__ = ("_command", "_data", "_table", "_table_key", "_views")

    def __init__(
        self, command: str, data: dict, table: Optional[str], table_key: Optional[str], views: Optional[dict] = None
    ):
        object.__setattr__(self, "_views", views)
        object.__setattr__(self, "_command", command)
        object.__setattr__(self, "_data", data)
        object.__setattr__(self, "_table", table)
        object.__setattr__(self, "_table_key", table_key)

    @property
    def views(self) -> dict:
        """Every role's view of a secure run (``simulate(..., views=True)``): role -> {"received": [{"from",
        "label", "phase", "kind", "value"}], "inputs": {name: value}, "seeds": [(shared with, 16 bytes)]}; ring
        elements are uint64 arrays (Z_2^64, fixed point at --frac-bits), floats float64 arrays. Not part of
        ``to_dict()`` (the CLI's JSON has no views)."""
        seen = object.__getattribute__(self, "_views")
        if seen is None:
            raise AttributeError("this result has no views: pass views=True to simulate")
        return seen

    def __getattr__(self, name: str) -> Any:
        data = object.__getattribute__(self, "_data")
        if name in data:
            return _wrap(data[name])
        if name == "views":
            raise AttributeError("this result has no views: pass views=True to simulate")
        raise AttributeError(f"{name!r} is not in this result; its keys: {', '.join(data)}")

    def __getitem__(self, key: str) -> Any:
        return _wrap(self._data[key])

    def __contains__(self, key: object) -> bool:
        return key in self._data

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("results are read-only; to_dict() gives a copy to change")

    def __delattr__(self, name: str) -> None:
        raise AttributeError("results are read-only")

    def __dir__(self) -> list[str]:
        return sorted(set(self._data) | {"to_dict", "to_pandas", "keys"})

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Result) and self._data == other._data

    __hash__ = None  # type: ignore[assignment]

    def keys(self) -> list[str]:
        """The JSON object's keys, in order."""
        return list(self._data)

    def to_dict(self) -> dict:
        """The JSON object, as ``rtas ... --json`` prints it (a deep copy)."""
        return json.loads(json.dumps(self._data))

    def to_pandas(self, key: Optional[str] = None):
        """The rows of ``key`` (default: this result's main table) as a pandas DataFrame."""
        try:
            import pandas as pd
        except ImportError as e:  # pragma: no cover - depends on the environment
            raise ImportError("to_pandas() needs pandas: pip install pandas") from e
        key = key or self._table_key
        if key is None:
            return pd.DataFrame([self.to_dict()])
        rows = self.to_dict()
        for part in key.split("."):
            rows = rows[part]
        if isinstance(rows, Mapping):
            return pd.DataFrame([rows])
        return pd.DataFrame(rows)

    def __repr__(self) -> str:
        keys = ", ".join(list(self._data)[:8]) + (", ..." if len(self._data) > 8 else "")
        return f"<rtas.Result of '{self._command}': {keys}>" if self._command else f"<rtas.Result: {keys}>"

    def __str__(self) -> str:
        if self._table is not None:
            return self._table
        return json.dumps(self._data, indent=2)
