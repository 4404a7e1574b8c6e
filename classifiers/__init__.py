"""gapscan.classifiers: tag documents with the requirements they are evidence for."""
