# pyarrow.compute generates its functions (pc.equal, pc.is_in, ...) at import time, so a checker cannot
# see them; this stub lets every attribute through as Any. The rest of pyarrow is checked as usual.
from typing import Any

def __getattr__(name: str) -> Any: ...
