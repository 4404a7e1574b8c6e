"""gapscan.scanner: discovery, extraction, the index, the pipeline and the CLI."""
