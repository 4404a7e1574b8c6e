"""gapscan.reports: gap assessment and the renderers that turn it into reports."""
