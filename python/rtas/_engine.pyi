"""Type stubs of rtas's native part (python/src/lib.rs)."""

from typing import Any, Callable, Dict, Optional, Sequence, Tuple

import numpy as np
import numpy.typing as npt

__version__: str

class EngineError(Exception):
    """args: (kind, message); kind is usage, data, numerical, protocol or cancelled."""

Views = Dict[str, Dict[str, Any]]

Progress = Optional[Callable[[int, Optional[int], str], None]]

def run(args: Sequence[str], views: bool = False, progress: Progress = None) -> Tuple[str, Optional[str], Optional[Views]]:
    """Runs `rtas ARGS --json` in this process: (its JSON object, the table the CLI prints, the roles' views
    when asked for)."""

def run_arrays(
    args: Sequence[str],
    x: npt.NDArray[np.float64],
    y: Optional[npt.NDArray[np.float64]] = None,
    x_test: Optional[npt.NDArray[np.float64]] = None,
    y_test: Optional[npt.NDArray[np.float64]] = None,
    views: bool = False,
    progress: Progress = None,
) -> Tuple[str, Optional[str], Optional[Views]]:
    """Runs `rtas ARGS --json` (simulate, or an attack that reads rows) with the arrays in place of
    --data-file (--images-file for pixel-permutation)."""
