"""What the fork server of the extraction workers loads before it forks any (see ``extract_all``):
every format handler and the language detector (and, named by the scorer, what scoring needs).
Each worker starts with them loaded, and with none of the scanning process's memory."""

import importlib

from gapscan.scanner.extract import HANDLER_MODULES
from gapscan.scanner.extract.language import load_detector

for _module in HANDLER_MODULES:
    importlib.import_module(_module)
load_detector()
